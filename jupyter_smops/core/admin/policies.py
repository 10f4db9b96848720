"""The IAM documents of the admin set-up: the execution role's trust policy and the ABAC policy.

The ABAC policy starts from the seed's (list/describe allowed, ``CreatePresignedDomainUrl``
only on a user profile whose ``studiouserid`` tag matches the caller's) and extends the same
rule to what this package creates: models, endpoint configs, endpoints, model packages and
their groups must be created tagged ``studiouserid=<caller>`` and are reached only by that
owner; the registry's S3 objects live under ``<prefix>/<owner>/`` and each user reaches only
their own folder (object tags cannot protect an overwrite: PutObject has no existing-tag key).
Every decision is evaluated, not linted: tests/aws/test_iam_policy.py runs the policy through
an IAM evaluator over every call the aws test suite makes and over a cross-owner matrix.

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
    "application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies",
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
# What each create may name, and under which ARN kinds. CreateEndpoint is also authorized on the
# endpoint config it uses, and CreateModelPackage on its group: those are owner-checked apart.
_CREATES = {
    "sagemaker:CreateModel": ("model",),
    "sagemaker:CreateEndpointConfig": ("endpoint-config",),
    "sagemaker:CreateEndpoint": ("endpoint",),
    "sagemaker:CreateModelPackageGroup": ("model-package-group",),
    "sagemaker:CreateModelPackage": ("model-package", "model-package-group"),
}
_RESOURCE_TYPES = ("model", "endpoint-config", "endpoint", "model-package", "model-package-group")
# Application Auto Scaling creates this service-linked role the first time an endpoint is registered.
AUTOSCALING_SERVICE = "sagemaker.application-autoscaling.amazonaws.com"
_AUTOSCALING_ROLE = (f"role/aws-service-role/{AUTOSCALING_SERVICE}/"
                     f"AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint")


def owner_prefix(prefix: str, owner: str) -> str:
    """Where an owner's registry objects live: ``<prefix>/<owner>/`` (each owner has a folder of
    their own, so two owners' "iris" never share a key and IAM can scope S3 by path)."""
    prefix = prefix.strip("/")
    return f"{prefix}/{owner}/" if prefix else f"{owner}/"


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
    """The whole ABAC policy of each Studio IAM user (see the module docstring and the IAM
    matrix in docs/admin.md, which tests/aws/test_iam_policy.py evaluates). Too long for one
    managed policy: bootstrap attaches it as ``abac_policies``, whose union this is.

    ``bucket``/``prefix`` scope the S3 statements to the registry (any ``sagemaker-*`` bucket when
    no bucket is given); each user reaches only ``<prefix>/<their tag>/``. ``role_arn`` is the
    execution role users may pass to SageMaker.
    """
    principal = f"${{aws:PrincipalTag/{tag_key}}}"
    owner_is_caller = {"StringEquals": {f"aws:ResourceTag/{tag_key}": principal}}
    tagged_by_caller = {"StringEquals": {f"aws:RequestTag/{tag_key}": principal}}
    sm = f"arn:aws:sagemaker:{region}:{account}"
    bucket_arn = f"arn:aws:s3:::{bucket or 'sagemaker-*'}"
    own = owner_prefix(prefix, principal)
    role = role_arn or f"arn:aws:iam::{account}:role/*"
    statements = [
        {"Sid": "AllowConsoleListAndDescribe", "Effect": "Allow", "Action": _LIST_AND_DESCRIBE, "Resource": "*"},
        {"Sid": "AllowDescribingTheDomainAndProfiles", "Effect": "Allow",
         "Action": ["sagemaker:DescribeDomain", "sagemaker:DescribeUserProfile"],
         "Resource": [f"{sm}:domain/*", f"{sm}:user-profile/*/*"]},
        {"Sid": "AllowPresignedUrlWhenTagMatches", "Effect": "Allow",
         "Action": ["sagemaker:CreatePresignedDomainUrl"], "Resource": f"{sm}:user-profile/*/*",
         "Condition": owner_is_caller},
        {"Sid": "AllowOwnModelsAndEndpoints", "Effect": "Allow", "Action": _ON_OWN_RESOURCES,
         "Resource": [f"{sm}:{kind}/*" for kind in _RESOURCE_TYPES], "Condition": owner_is_caller},
    ]
    # CreateEndpointConfig carries only the ARN of the model it serves, so models are named after
    # their owner (<owner>-...) and a config may only serve the caller's.
    extra = {"sagemaker:CreateEndpointConfig": {"ArnLike": {"sagemaker:ModelArn": f"{sm}:model/{principal}-*"}}}
    for action, kinds in _CREATES.items():  # a new resource must carry the caller's owner tag
        statements.append({"Sid": f"Allow{action.split(':')[1]}TaggedWithOwner", "Effect": "Allow",
                           "Action": [action], "Resource": [f"{sm}:{kind}/*" for kind in kinds],
                           "Condition": {**tagged_by_caller, **extra.get(action, {})}})
    statements += [
        # CreateEndpoint is authorized on the endpoint config it uses too: only the caller's own.
        {"Sid": "AllowCreateEndpointOnOwnConfig", "Effect": "Allow", "Action": ["sagemaker:CreateEndpoint"],
         "Resource": f"{sm}:endpoint-config/*", "Condition": owner_is_caller},
        {"Sid": "DenyAddingPackagesToOthersGroups", "Effect": "Deny", "Action": ["sagemaker:CreateModelPackage"],
         "Resource": f"{sm}:model-package-group/*",
         "Condition": {"Null": {f"aws:ResourceTag/{tag_key}": "false"},
                       "StringNotEquals": {f"aws:ResourceTag/{tag_key}": principal}}},
        # Tags at creation need AddTags; nothing can be claimed: an existing resource must already be
        # the caller's (no IfExists), and the owner tag can only ever be set to the caller.
        {"Sid": "AllowTaggingAtCreation", "Effect": "Allow", "Action": ["sagemaker:AddTags"],
         "Resource": [f"{sm}:{kind}/*" for kind in _RESOURCE_TYPES],
         "Condition": {**tagged_by_caller, "StringLike": {"sagemaker:TaggingAction": "Create*"}}},
        {"Sid": "AllowTaggingOwnResources", "Effect": "Allow", "Action": ["sagemaker:AddTags"],
         "Resource": [f"{sm}:{kind}/*" for kind in _RESOURCE_TYPES],
         "Condition": {"StringEquals": {f"aws:RequestTag/{tag_key}": principal,
                                        f"aws:ResourceTag/{tag_key}": principal}}},
        {"Sid": "AllowPassingTheExecutionRoleToSageMaker", "Effect": "Allow", "Action": ["iam:PassRole"],
         "Resource": role, "Condition": {"StringEquals": {"iam:PassedToService": TRUST_SERVICE}}},
        {"Sid": "AllowRegisteringOwnScalableTargets", "Effect": "Allow",
         "Action": ["application-autoscaling:RegisterScalableTarget", "application-autoscaling:TagResource"],
         "Resource": f"arn:aws:application-autoscaling:{region}:{account}:scalable-target/*",
         "Condition": tagged_by_caller},
        {"Sid": "AllowScalingOwnTargets", "Effect": "Allow",
         "Action": ["application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy",
                    "application-autoscaling:DeregisterScalableTarget"],
         "Resource": f"arn:aws:application-autoscaling:{region}:{account}:scalable-target/*",
         "Condition": owner_is_caller},
        {"Sid": "AllowTheAutoscalingServiceLinkedRole", "Effect": "Allow", "Action": ["iam:CreateServiceLinkedRole"],
         "Resource": f"arn:aws:iam::{account}:{_AUTOSCALING_ROLE}",
         "Condition": {"StringEquals": {"iam:AWSServiceName": AUTOSCALING_SERVICE}}},
        *_expiry_and_front_statements(account, region, tag_key),
        {"Sid": "AllowReadingEndpointLogs", "Effect": "Allow",
         "Action": ["logs:DescribeLogStreams", "logs:GetLogEvents"],
         "Resource": [f"arn:aws:logs:{region}:{account}:log-group:/aws/sagemaker/Endpoints/*",
                      f"arn:aws:logs:{region}:{account}:log-group:/aws/sagemaker/Endpoints/*:log-stream:*"]},
        # The registry bucket: find it, create it on a first push; its public-access block and
        # lifecycle rule are set by `admin bootstrap` (letting users set them would let anyone
        # expire everyone's artifacts).
        {"Sid": "AllowFindingAndCreatingTheRegistryBucket", "Effect": "Allow",
         "Action": ["s3:GetBucketLocation", "s3:CreateBucket", "s3:ListBucketMultipartUploads"],
         "Resource": bucket_arn},
        {"Sid": "AllowListingOwnRegistryFolder", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket_arn,
         "Condition": {"StringLike": {"s3:prefix": [f"{own}*"]}}},
        {"Sid": "AllowOwnRegistryObjects", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectTagging", "s3:PutObjectTagging",
                    "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
         "Resource": f"{bucket_arn}/{own}*"},
    ]
    return {"Version": "2012-10-17", "Statement": statements}


# IAM caps a customer managed policy at 6,144 characters (whitespace not counted) and a user at 10
# attached managed policies; the whole ABAC policy is ~10,000, so it goes out as these parts, split
# by concern. Each statement belongs to exactly one part; the union is ``abac_policy()``.
POLICY_SIZE_LIMIT = 6144
USER_MANAGED_POLICY_LIMIT = 10
_PARTS = {
    "Studio": ("AllowConsoleListAndDescribe", "AllowDescribingTheDomainAndProfiles", "AllowPresignedUrlWhenTagMatches",
               "AllowOwnModelsAndEndpoints", "AllowTaggingAtCreation", "AllowTaggingOwnResources"),
    "Registry": ("AllowCreateModelPackageGroupTaggedWithOwner", "AllowCreateModelPackageTaggedWithOwner",
                 "DenyAddingPackagesToOthersGroups", "AllowFindingAndCreatingTheRegistryBucket",
                 "AllowListingOwnRegistryFolder", "AllowOwnRegistryObjects"),
    "Endpoints": ("AllowCreateModelTaggedWithOwner", "AllowCreateEndpointConfigTaggedWithOwner",
                  "AllowCreateEndpointTaggedWithOwner", "AllowCreateEndpointOnOwnConfig",
                  "AllowPassingTheExecutionRoleToSageMaker", "AllowRegisteringOwnScalableTargets",
                  "AllowScalingOwnTargets", "AllowTheAutoscalingServiceLinkedRole", "AllowReadingEndpointLogs"),
    "ExpiryAndFronts": ("AllowRemovingExpiryAndFrontTagsOfOwnEndpoints", "AllowReadingOwnScheduleGroup",
               "AllowCreatingOwnScheduleGroupTagged", "AllowOwnExpirySchedules", "AllowListingSchedules",
               "AllowPassingOwnExpiryRoleToScheduler", "AllowPassingOwnFrontRoleToApiGateway",
               "AllowCreatingFrontsTaggedWithOwner", "AllowListingFronts", "AllowOwnFronts"),
}


def part_names() -> list[str]:
    """The parts' short names (``Studio``, ``Registry``, ...), in the order bootstrap attaches them."""
    return list(_PARTS)


def policy_names(base: str) -> list[str]:
    """The managed policies bootstrap creates for ``base`` (``--policy-name``): ``<base>-<part>``."""
    return [f"{base}-{part}" for part in _PARTS]


def abac_policies(base: str, **options) -> dict[str, dict]:
    """``abac_policy(**options)`` cut into managed policies each IAM accepts, by name
    (``policy_names(base)``); a statement that belongs to no part is an error, never dropped."""
    by_sid = {st["Sid"]: st for st in abac_policy(**options)["Statement"]}
    unplaced = set(by_sid) - {sid for sids in _PARTS.values() for sid in sids}
    if unplaced:
        raise ValueError(f"ABAC statements in no policy part: {sorted(unplaced)}")
    return {f"{base}-{part}": {"Version": "2012-10-17", "Statement": [by_sid[sid] for sid in sids if sid in by_sid]}
            for part, sids in _PARTS.items()}


SCHEDULER_SERVICE = "scheduler.amazonaws.com"
APIGATEWAY_SERVICE = "apigateway.amazonaws.com"
EXPIRY_ROLE_PREFIX = "smops-expiry-"  # + owner tag: the role a user's expiry schedules run as
FRONT_ROLE_PREFIX = "smops-front-"  # + owner tag: the role a user's API Gateway fronts invoke as
_MUTABLE_ENDPOINT_TAGS = ["smops:expires-at", "smops:public-url"]


def _expiry_and_front_statements(account: str, region: str, tag_key: str) -> list[dict]:
    """What ``deploy --expires-in``/``extend`` (EventBridge Scheduler) and ``expose`` (API Gateway)
    need, each scoped to the caller: schedules live in the group ``smops-<owner tag>`` (Scheduler
    schedules carry no tags, so their names scope them), each user passes only their own
    ``smops-expiry-``/``smops-front-`` role, and API Gateway resources must be created tagged with
    the caller and are reached only by them (a REST API's methods, integrations and stages, and a
    usage plan's keys, inherit its tags for ABAC)."""
    principal = f"${{aws:PrincipalTag/{tag_key}}}"
    owner_is_caller = {"StringEquals": {f"aws:ResourceTag/{tag_key}": principal}}
    tagged_by_caller = {"StringEquals": {f"aws:RequestTag/{tag_key}": principal}}
    sched, group = f"arn:aws:scheduler:{region}:{account}", f"smops-{principal}"
    apigw = f"arn:aws:apigateway:{region}::"
    return [
        {"Sid": "AllowRemovingExpiryAndFrontTagsOfOwnEndpoints", "Effect": "Allow", "Action": ["sagemaker:DeleteTags"],
         "Resource": f"arn:aws:sagemaker:{region}:{account}:endpoint/*",
         "Condition": {**owner_is_caller, "ForAllValues:StringEquals": {"aws:TagKeys": _MUTABLE_ENDPOINT_TAGS}}},
        {"Sid": "AllowReadingOwnScheduleGroup", "Effect": "Allow", "Action": ["scheduler:GetScheduleGroup"],
         "Resource": f"{sched}:schedule-group/{group}"},
        {"Sid": "AllowCreatingOwnScheduleGroupTagged", "Effect": "Allow",
         "Action": ["scheduler:CreateScheduleGroup", "scheduler:TagResource"],
         "Resource": f"{sched}:schedule-group/{group}", "Condition": tagged_by_caller},
        {"Sid": "AllowOwnExpirySchedules", "Effect": "Allow",
         "Action": ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule",
                    "scheduler:GetSchedule"], "Resource": f"{sched}:schedule/{group}/*"},
        {"Sid": "AllowListingSchedules", "Effect": "Allow", "Action": ["scheduler:ListSchedules"], "Resource": "*"},
        {"Sid": "AllowPassingOwnExpiryRoleToScheduler", "Effect": "Allow", "Action": ["iam:PassRole"],
         "Resource": f"arn:aws:iam::{account}:role/{EXPIRY_ROLE_PREFIX}{principal}",
         "Condition": {"StringEquals": {"iam:PassedToService": SCHEDULER_SERVICE}}},
        {"Sid": "AllowPassingOwnFrontRoleToApiGateway", "Effect": "Allow", "Action": ["iam:PassRole"],
         "Resource": f"arn:aws:iam::{account}:role/{FRONT_ROLE_PREFIX}{principal}",
         "Condition": {"StringEquals": {"iam:PassedToService": APIGATEWAY_SERVICE}}},
        {"Sid": "AllowCreatingFrontsTaggedWithOwner", "Effect": "Allow", "Action": ["apigateway:POST"],
         "Resource": [f"{apigw}/restapis", f"{apigw}/apikeys", f"{apigw}/usageplans"], "Condition": tagged_by_caller},
        # The listings expose names and tags, never key values (GET /apikeys is not allowed).
        {"Sid": "AllowListingFronts", "Effect": "Allow", "Action": ["apigateway:GET"],
         "Resource": [f"{apigw}/restapis", f"{apigw}/usageplans"]},
        {"Sid": "AllowOwnFronts", "Effect": "Allow",
         "Action": ["apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"],
         "Resource": [f"{apigw}/restapis/*", f"{apigw}/apikeys/*", f"{apigw}/usageplans/*"],
         "Condition": owner_is_caller},
    ]


def expiry_role_trust(account: str = "*") -> dict:
    """Trust of an owner's expiry role: EventBridge Scheduler, for schedules of this account."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": SCHEDULER_SERVICE}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account}}}]}


def expiry_role_policy(owner: str, *, account: str = "*", region: str = "*", tag_key: str = DEFAULT_TAG_KEY) -> dict:
    """An owner's expiry role may only delete endpoints tagged with that owner."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "DeleteOwnersEndpointsOnly", "Effect": "Allow", "Action": ["sagemaker:DeleteEndpoint"],
        "Resource": f"arn:aws:sagemaker:{region}:{account}:endpoint/*",
        "Condition": {"StringEquals": {f"aws:ResourceTag/{tag_key}": owner}}}]}


def front_role_trust(account: str = "*") -> dict:
    """Trust of an owner's front role: API Gateway, for APIs of this account."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": APIGATEWAY_SERVICE}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account}}}]}


def front_role_policy(owner: str, *, account: str = "*", region: str = "*", tag_key: str = DEFAULT_TAG_KEY) -> dict:
    """An owner's front role may only invoke endpoints tagged with that owner."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "InvokeOwnersEndpointsOnly", "Effect": "Allow", "Action": ["sagemaker:InvokeEndpoint"],
        "Resource": f"arn:aws:sagemaker:{region}:{account}:endpoint/*",
        "Condition": {"StringEquals": {f"aws:ResourceTag/{tag_key}": owner}}}]}


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
