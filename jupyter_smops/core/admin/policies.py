"""The IAM documents of the admin set-up: the execution role's trust policy and the ABAC policy.

The ABAC policy starts from the seed's (list/describe allowed, ``CreatePresignedDomainUrl``
only on a user profile whose ``studiouserid`` tag matches the caller's) and extends the same
rule to what this package creates: models, endpoint configs, endpoints, model packages and
their groups, and the registry's S3 objects, all tagged ``studiouserid=<owner>``.

The seed writes its condition key as ``sagemaker:ResourceTag/...``; SageMaker evaluates the global
``aws:ResourceTag/...`` the same way, and that is the form policy linters (parliament) know.
"""
from __future__ import annotations

import json
from typing import Optional

TRUST_SERVICE = "sagemaker.amazonaws.com"
MANAGED_POLICIES = (  # what the seed attaches to the execution role
    "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",
    "arn:aws:iam::aws:policy/AmazonS3FullAccess",
)
DEFAULT_TAG_KEY = "studiouserid"

_LIST_AND_DESCRIBE = [  # the seed's six, plus the listings the panel and the CLI use
    "sagemaker:ListDomains", "sagemaker:ListUserProfiles", "sagemaker:ListApps", "sagemaker:ListSpaces",
    "sagemaker:ListTags",
    "sagemaker:ListModels", "sagemaker:ListEndpointConfigs", "sagemaker:ListEndpoints",
    "sagemaker:ListModelPackageGroups", "sagemaker:ListModelPackages",
    "pricing:GetProducts",  # %smops prices --refresh: public price list, no resource
]
_ON_OWN_RESOURCES = [  # allowed only when the resource's owner tag is the caller's
    "sagemaker:DescribeModel", "sagemaker:DeleteModel",
    "sagemaker:DescribeEndpointConfig", "sagemaker:DeleteEndpointConfig",
    "sagemaker:DescribeEndpoint", "sagemaker:DeleteEndpoint", "sagemaker:UpdateEndpoint",
    "sagemaker:UpdateEndpointWeightsAndCapacities", "sagemaker:InvokeEndpoint",
    "sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage", "sagemaker:DeleteModelPackage",
    "sagemaker:DescribeModelPackageGroup", "sagemaker:DeleteModelPackageGroup",
]
_CREATE_TAGGED = [  # allowed only when the request tags the new resource with the caller's owner tag
    "sagemaker:CreateModel", "sagemaker:CreateEndpointConfig", "sagemaker:CreateEndpoint",
    "sagemaker:CreateModelPackage", "sagemaker:CreateModelPackageGroup",
]
_RESOURCE_TYPES = ("model", "endpoint-config", "endpoint", "model-package", "model-package-group")


def trust_policy() -> dict:
    """The execution role's trust policy: SageMaker may assume it (the seed's trust.json)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": TRUST_SERVICE}, "Action": "sts:AssumeRole"}],
    }


def trusts_sagemaker(document) -> bool:
    """Whether a role's trust policy (dict or JSON text) lets SageMaker assume the role."""
    if isinstance(document, str):
        from urllib.parse import unquote

        document = json.loads(unquote(document))
    statements = document.get("Statement", [])
    for st in statements if isinstance(statements, list) else [statements]:
        services = (st.get("Principal") or {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if st.get("Effect") == "Allow" and TRUST_SERVICE in services and "sts:AssumeRole" in actions:
            return True
    return False


def abac_policy(*, account: str = "*", region: str = "*", bucket: Optional[str] = None,
                prefix: str = "model-artifacts", role_arn: Optional[str] = None,
                tag_key: str = DEFAULT_TAG_KEY) -> dict:
    """The ABAC policy attached to each Studio IAM user (see the module docstring).

    ``bucket``/``prefix`` scope the S3 statements to the registry (any ``sagemaker-*`` bucket when
    no bucket is given); ``role_arn`` is the execution role users may pass to SageMaker.
    """
    principal = f"${{aws:PrincipalTag/{tag_key}}}"
    sm = f"arn:aws:sagemaker:{region}:{account}"
    bucket_arn = f"arn:aws:s3:::{bucket or 'sagemaker-*'}"
    prefix = prefix.strip("/")
    objects = f"{bucket_arn}/{prefix}/*" if prefix else f"{bucket_arn}/*"
    role = role_arn or f"arn:aws:iam::{account}:role/*"
    statements = [
        {"Sid": "AllowConsoleListAndDescribe", "Effect": "Allow", "Action": _LIST_AND_DESCRIBE, "Resource": "*"},
        {"Sid": "AllowDescribingTheDomainAndProfiles", "Effect": "Allow",
         "Action": ["sagemaker:DescribeDomain", "sagemaker:DescribeUserProfile"],
         "Resource": [f"{sm}:domain/*", f"{sm}:user-profile/*/*"]},
        {"Sid": "AllowPresignedUrlWhenTagMatches", "Effect": "Allow",
         "Action": ["sagemaker:CreatePresignedDomainUrl"], "Resource": f"{sm}:user-profile/*/*",
         "Condition": {"StringEquals": {f"aws:ResourceTag/{tag_key}": principal}}},
        {"Sid": "AllowOwnModelsAndEndpoints", "Effect": "Allow", "Action": _ON_OWN_RESOURCES,
         "Resource": [f"{sm}:{kind}/*" for kind in _RESOURCE_TYPES],
         "Condition": {"StringEquals": {f"aws:ResourceTag/{tag_key}": principal}}},
        {"Sid": "AllowCreateWhenTaggedWithOwner", "Effect": "Allow", "Action": _CREATE_TAGGED,
         "Resource": [f"{sm}:{kind}/*" for kind in _RESOURCE_TYPES],
         "Condition": {"StringEquals": {f"aws:RequestTag/{tag_key}": principal}}},
        # Tagging at create time needs AddTags; "IfExists" keeps others' tagged resources out of reach.
        {"Sid": "AllowTaggingOwnResources", "Effect": "Allow", "Action": ["sagemaker:AddTags"],
         "Resource": [f"{sm}:{kind}/*" for kind in _RESOURCE_TYPES],
         "Condition": {"StringEquals": {f"aws:RequestTag/{tag_key}": principal},
                       "StringEqualsIfExists": {f"aws:ResourceTag/{tag_key}": principal}}},
        {"Sid": "AllowPassingTheExecutionRole", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": role,
         "Condition": {"StringEquals": {"iam:PassedToService": TRUST_SERVICE}}},
        {"Sid": "AllowListingTheRegistry", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket_arn,
         "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/*", prefix] if prefix else ["*"]}}},
        {"Sid": "AllowReadingOwnRegistryObjects", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:GetObjectTagging"], "Resource": objects,
         "Condition": {"StringEquals": {f"s3:ExistingObjectTag/{tag_key}": principal}}},
        {"Sid": "AllowWritingRegistryObjectsTaggedWithOwner", "Effect": "Allow",
         "Action": ["s3:PutObject", "s3:PutObjectTagging"], "Resource": objects,
         "Condition": {"StringEquals": {f"s3:RequestObjectTag/{tag_key}": principal}}},
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def same_document(a, b) -> bool:
    """Policy documents compare equal whatever their key order or encoding (dict or JSON text)."""
    def norm(doc):
        if isinstance(doc, str):
            from urllib.parse import unquote

            doc = json.loads(unquote(doc))
        return json.dumps(doc, sort_keys=True)

    return norm(a) == norm(b)


def to_json(document: dict, compact: bool = False) -> str:
    """The document as text: indented to read, ``compact`` to send (IAM counts its characters)."""
    if compact:
        return json.dumps(document, separators=(",", ":"))
    return json.dumps(document, indent=2)
