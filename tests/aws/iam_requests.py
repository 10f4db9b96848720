"""What IAM authorizes for one AWS API call: its action(s), resource ARN(s) and request context.

``authorizations(service, operation, params, world)`` -> ``[Request]``; the call is allowed when
every one of them is. Facts that decide it (from the Service Authorization Reference, as shipped
in parliament's iam_definition.json, and the S3/SageMaker docs):

- S3: HeadBucket and ListObjects(V2) are ``s3:ListBucket`` (HeadBucket carries no ``s3:prefix``);
  every multipart step is ``s3:PutObject`` on the object, and only CreateMultipartUpload carries
  the ``Tagging`` header (UploadPart/CompleteMultipartUpload have no ``s3:RequestObjectTag``);
  ListMultipartUploads is ``s3:ListBucketMultipartUploads`` (no ``s3:prefix`` key); a PutObject
  with ``Tagging`` also needs ``s3:PutObjectTagging``; DeleteObjects is ``s3:DeleteObject`` per key.
- SageMaker: a create with ``Tags`` also needs ``sagemaker:AddTags`` (``sagemaker:TaggingAction``
  = the create's name); CreateEndpoint is authorized on the endpoint *and* on its endpoint config;
  CreateEndpointConfig carries ``sagemaker:ModelArn``; CreateModel passes its role
  (``iam:PassRole``, ``iam:PassedToService=sagemaker.amazonaws.com``); ARNs use lowercase names.
- Application Auto Scaling validates that the caller may DescribeEndpoint and
  UpdateEndpointWeightsAndCapacities on the endpoint it scales.
- ``sts:GetCallerIdentity`` needs no permission.

``World`` knows the tags of what exists: what the recorded calls created in this test, else
what the moto server says (``lookup``).
"""
from __future__ import annotations

import urllib.parse
from typing import Callable, Optional

from iam_eval import Request

ACCOUNT = "123456789012"
NO_PERMISSION = {("sts", "GetCallerIdentity")}
_S3_BUCKET_ACTIONS = {
    "HeadBucket": "s3:ListBucket", "CreateBucket": "s3:CreateBucket", "DeleteBucket": "s3:DeleteBucket",
    "GetBucketLocation": "s3:GetBucketLocation", "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration", "ListMultipartUploads":
    "s3:ListBucketMultipartUploads", "GetBucketTagging": "s3:GetBucketTagging", "PutBucketTagging": "s3:PutBucketTagging",
}
_S3_OBJECT_ACTIONS = {
    "GetObject": "s3:GetObject", "HeadObject": "s3:GetObject", "DeleteObject": "s3:DeleteObject",
    "UploadPart": "s3:PutObject", "CompleteMultipartUpload": "s3:PutObject", "UploadPartCopy": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload", "ListParts": "s3:ListMultipartUploadParts",
    "GetObjectTagging": "s3:GetObjectTagging",
}
# SageMaker request member -> resource kind of the ARN it names.
_SM_NAMES = {"ModelName": "model", "EndpointConfigName": "endpoint-config", "EndpointName": "endpoint",
             "ModelPackageGroupName": "model-package-group"}
_SM_CREATES = {"CreateModel": "ModelName", "CreateEndpointConfig": "EndpointConfigName", "CreateEndpoint": "EndpointName",
               "CreateModelPackageGroup": "ModelPackageGroupName"}


def sm_arn(kind: str, name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:sagemaker:{region}:{ACCOUNT}:{kind}/{name.lower()}"


class World:
    """Tags of existing resources: ``tags[arn]`` (SageMaker ARNs, ``s3://bucket/key``, scalable
    targets by ``aas:<ResourceId>``), filled by the recorded creates; ``lookup(arn)`` asks moto."""

    def __init__(self, lookup: Optional[Callable[[str], Optional[dict]]] = None, region: str = "us-east-1"):
        self.tags: dict[str, dict] = {}
        self.lookup = lookup or (lambda arn: None)
        self.region = region
        self.unknown: list[str] = []

    def tags_of(self, arn: str) -> dict:
        if arn not in self.tags:
            found = self.lookup(arn)
            if found is None:
                self.unknown.append(arn)
                return {}
            self.tags[arn] = found
        return self.tags[arn]


def _tag_context(prefix: str, tags: dict) -> dict:
    return {f"{prefix}/{k}": v for k, v in tags.items()}


def _request_tags(tags) -> dict:
    return {t["Key"]: t["Value"] for t in tags or []} if isinstance(tags, list) else dict(tags or {})


def authorizations(service: str, operation: str, params: dict, world: World, principal: dict) -> list[Request]:
    """The requests IAM evaluates for one call (module docstring); ``principal`` is its context
    (``aws:PrincipalTag/...``) and is merged into every request."""
    if (service, operation) in NO_PERMISSION:
        return []
    out = _s3(operation, params, world) if service == "s3" else \
        _sagemaker(operation, params, world) if service in ("sagemaker", "sagemaker-runtime") else \
        _autoscaling(operation, params, world) if service == "application-autoscaling" else \
        _logs(operation, params, world) if service == "logs" else \
        _scheduler(operation, params, world) if service == "scheduler" else \
        _apigateway(operation, params, world) if service == "apigateway" else \
        [Request(f"{service}:{operation}", "*")]
    for r in out:
        r.context = {**principal, **r.context}
    return out


def _s3(op: str, p: dict, world: World) -> list[Request]:
    bucket = f"arn:aws:s3:::{p.get('Bucket', '')}"
    if op in ("ListObjectsV2", "ListObjects"):
        ctx = {k: str(p[m]) for k, m in (("s3:prefix", "Prefix"), ("s3:delimiter", "Delimiter"),
                                         ("s3:max-keys", "MaxKeys")) if m in p}
        return [Request("s3:ListBucket", bucket, ctx)]
    if op in _S3_BUCKET_ACTIONS:
        if op == "CreateBucket":
            world.tags.setdefault(f"s3://{p['Bucket']}", {})
        return [Request(_S3_BUCKET_ACTIONS[op], bucket)]
    if op == "DeleteObjects":
        return [_object_request("s3:DeleteObject", p["Bucket"], o["Key"], world) for o in p["Delete"]["Objects"]]
    key = p.get("Key", "")
    if op in ("PutObject", "CreateMultipartUpload", "PutObjectTagging", "CopyObject"):
        if op == "CopyObject":  # reads the source; writes (and tags) the target as a PutObject does
            source = p["CopySource"]
            if isinstance(source, str):
                source = dict(zip(("Bucket", "Key"), urllib.parse.unquote(source.split("?")[0]).lstrip("/").split("/", 1)))
            source_request = _object_request("s3:GetObject", source["Bucket"], source["Key"], world)
        if op == "PutObjectTagging":
            tags = {t["Key"]: t["Value"] for t in p["Tagging"]["TagSet"]}
        else:
            tags = dict(urllib.parse.parse_qsl(p.get("Tagging") or "", keep_blank_values=True))
        ctx = {**_tag_context("s3:RequestObjectTag", tags), **({"s3:RequestObjectTagKeys": sorted(tags)} if tags else {})}
        out = []
        if op != "PutObjectTagging":
            out.append(_object_request("s3:PutObject", p["Bucket"], key, world, ctx, existing=False))
        if tags or op == "PutObjectTagging":
            out.append(_object_request("s3:PutObjectTagging", p["Bucket"], key, world, ctx))
        world.tags[f"s3://{p['Bucket']}/{key}"] = tags
        return [source_request] + out if op == "CopyObject" else out
    if op in _S3_OBJECT_ACTIONS:
        return [_object_request(_S3_OBJECT_ACTIONS[op], p["Bucket"], key, world,
                                existing=op in ("GetObject", "HeadObject", "GetObjectTagging"))]
    raise KeyError(f"s3.{op}: no IAM mapping known; add it to tests/aws/iam_requests.py")


def _object_request(action: str, bucket: str, key: str, world: World, ctx: Optional[dict] = None,
                    existing: bool = True) -> Request:
    ctx = dict(ctx or {})
    if existing:  # only reads and tag changes carry s3:ExistingObjectTag
        ctx.update(_tag_context("s3:ExistingObjectTag", world.tags_of(f"s3://{bucket}/{key}")))
    return Request(action, f"arn:aws:s3:::{bucket}/{key}", ctx)


def _sagemaker(op: str, p: dict, world: World) -> list[Request]:
    region = world.region
    if op.startswith("List") and op != "ListTags":
        return [Request(f"sagemaker:{op}", "*")]
    if op in ("DescribeDomain",):
        return [Request(f"sagemaker:{op}", f"arn:aws:sagemaker:{region}:{ACCOUNT}:domain/{p['DomainId']}")]
    if op in ("DescribeUserProfile", "CreatePresignedDomainUrl"):
        arn = f"arn:aws:sagemaker:{region}:{ACCOUNT}:user-profile/{p['DomainId']}/{p['UserProfileName'].lower()}"
        return [Request(f"sagemaker:{op}", arn, _tag_context("aws:ResourceTag", world.tags_of(arn)))]
    if op in _SM_CREATES or op == "CreateModelPackage":
        return _sm_create(op, p, world)
    if op in ("ListTags", "AddTags", "DeleteTags"):
        arn = p["ResourceArn"]
        ctx = _tag_context("aws:ResourceTag", world.tags_of(arn))
        if op == "DeleteTags":
            ctx["aws:TagKeys"] = sorted(p["TagKeys"])
            world.tags[arn] = {k: v for k, v in world.tags_of(arn).items() if k not in p["TagKeys"]}
        if op == "AddTags":
            tags = _request_tags(p["Tags"])
            ctx.update({**_tag_context("aws:RequestTag", tags), "aws:TagKeys": sorted(tags)})
            world.tags[arn] = {**world.tags_of(arn), **tags}
        return [Request(f"sagemaker:{op}", arn, ctx)]
    arn = _sm_target(op, p, region)
    out = [Request(f"sagemaker:{op}", arn, _tag_context("aws:ResourceTag", world.tags_of(arn)))]
    if op == "UpdateEndpoint":
        config = sm_arn("endpoint-config", p["EndpointConfigName"], region)
        out.append(Request("sagemaker:UpdateEndpoint", config, _tag_context("aws:ResourceTag", world.tags_of(config))))
    return out


def _sm_target(op: str, p: dict, region: str) -> str:
    for member in ("ModelPackageArn", "ModelPackageName"):
        if member in p:
            name = p[member]
            return name if name.startswith("arn:") else sm_arn("model-package", name, region)
    for member, kind in _SM_NAMES.items():
        if member in p:
            return sm_arn(kind, p[member], region)
    raise KeyError(f"sagemaker.{op}: no IAM mapping known; add it to tests/aws/iam_requests.py")


def _sm_create(op: str, p: dict, world: World) -> list[Request]:
    region = world.region
    tags = _request_tags(p.get("Tags"))
    ctx = {**_tag_context("aws:RequestTag", tags), **({"aws:TagKeys": sorted(tags)} if tags else {})}
    if op == "CreateModelPackage":
        group = sm_arn("model-package-group", p["ModelPackageGroupName"], region)
        out = [Request("sagemaker:CreateModelPackage", group,
                       {**ctx, **_tag_context("aws:ResourceTag", world.tags_of(group))})]
        if "ModelApprovalStatus" in p:
            out[0].context["sagemaker:ModelApprovalStatus"] = p["ModelApprovalStatus"]
        target = f"{group.replace('model-package-group/', 'model-package/')}/*"
    else:
        target = sm_arn(_SM_NAMES[_SM_CREATES[op]], p[_SM_CREATES[op]], region)
        extra: dict = {}
        if op == "CreateEndpointConfig":
            models = [sm_arn("model", v["ModelName"], region) for v in p.get("ProductionVariants", []) if v.get("ModelName")]
            extra["sagemaker:ModelArn"] = models[0] if len(models) == 1 else models
            types = [v["InstanceType"] for v in p.get("ProductionVariants", []) if v.get("InstanceType")]
            if types:
                extra["sagemaker:InstanceTypes"] = types
        out = [Request(f"sagemaker:{op}", target, {**ctx, **extra})]
        if op == "CreateEndpoint":
            config = sm_arn("endpoint-config", p["EndpointConfigName"], region)
            out.append(Request("sagemaker:CreateEndpoint", config,
                               {**ctx, **_tag_context("aws:ResourceTag", world.tags_of(config))}))
        if op == "CreateModel" and p.get("ExecutionRoleArn"):
            out.append(Request("iam:PassRole", p["ExecutionRoleArn"],
                               {"iam:PassedToService": "sagemaker.amazonaws.com", "iam:AssociatedResourceArn": target}))
        world.tags[target] = tags
    if tags:
        out.append(Request("sagemaker:AddTags", target, {**ctx, "sagemaker:TaggingAction": op}))
    return out


def _autoscaling(op: str, p: dict, world: World) -> list[Request]:
    region = world.region
    if op.startswith("Describe"):
        return [Request(f"application-autoscaling:{op}", "*")]
    target_key = f"aas:{p['ResourceId']}"
    target = f"arn:aws:application-autoscaling:{region}:{ACCOUNT}:scalable-target/{p['ResourceId']}"
    ctx = {"application-autoscaling:service-namespace": p.get("ServiceNamespace", ""),
           "application-autoscaling:scalable-dimension": p.get("ScalableDimension", "")}
    if op == "RegisterScalableTarget":
        tags = dict(p.get("Tags") or {})
        ctx.update({**_tag_context("aws:RequestTag", tags), **({"aws:TagKeys": sorted(tags)} if tags else {})})
        out = [Request(f"application-autoscaling:{op}", target, ctx)]
        if tags:
            out.append(Request("application-autoscaling:TagResource", target, dict(ctx)))
        world.tags[target_key] = tags
    else:
        ctx.update(_tag_context("aws:ResourceTag", world.tags.get(target_key, {})))
        out = [Request(f"application-autoscaling:{op}", target, ctx)]
    if p.get("ServiceNamespace") == "sagemaker":  # the target service's permissions are validated too
        endpoint = sm_arn("endpoint", p["ResourceId"].split("/")[1], region)
        etags = _tag_context("aws:ResourceTag", world.tags_of(endpoint))
        out += [Request(a, endpoint, dict(etags)) for a in
                ("sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities")]
    return out


def _logs(op: str, p: dict, world: World) -> list[Request]:
    group = f"arn:aws:logs:{world.region}:{ACCOUNT}:log-group:{p['logGroupName']}"
    if op == "DescribeLogStreams":
        return [Request("logs:DescribeLogStreams", group)]
    if op == "GetLogEvents":
        return [Request("logs:GetLogEvents", f"{group}:log-stream:{p['logStreamName']}")]
    raise KeyError(f"logs.{op}: no IAM mapping known; add it to tests/aws/iam_requests.py")


# -- EventBridge Scheduler: schedules are named resources (no tags) under their group, which is tagged.
def _scheduler(op: str, p: dict, world: World) -> list[Request]:
    base = f"arn:aws:scheduler:{world.region}:{ACCOUNT}"
    if op == "ListSchedules":
        return [Request("scheduler:ListSchedules", "*")]
    if op in ("CreateScheduleGroup", "GetScheduleGroup"):
        arn = f"{base}:schedule-group/{p['Name']}"
        if op == "GetScheduleGroup":
            return [Request("scheduler:GetScheduleGroup", arn, _tag_context("aws:ResourceTag", world.tags_of(arn)))]
        tags = _request_tags(p.get("Tags"))
        ctx = {**_tag_context("aws:RequestTag", tags), **({"aws:TagKeys": sorted(tags)} if tags else {})}
        world.tags[arn] = tags
        return [Request("scheduler:CreateScheduleGroup", arn, ctx)] + \
            ([Request("scheduler:TagResource", arn, dict(ctx))] if tags else [])
    if op in ("CreateSchedule", "UpdateSchedule", "DeleteSchedule", "GetSchedule"):
        arn = f"{base}:schedule/{p.get('GroupName') or 'default'}/{p['Name']}"
        out = [Request(f"scheduler:{op}", arn)]
        role = (p.get("Target") or {}).get("RoleArn")
        if role:  # the schedule runs as this role: passing it is authorized apart
            out.append(Request("iam:PassRole", role, {"iam:PassedToService": "scheduler.amazonaws.com"}))
        return out
    raise KeyError(f"scheduler.{op}: no IAM mapping known; add it to tests/aws/iam_requests.py")


# -- API Gateway (REST, V1): the action is the HTTP method, the resource the request's path; a
#    REST API's children inherit its tags for ABAC, and a usage plan's keys the plan's.
_APIGW_PATHS = {
    "CreateRestApi": ("POST", "/restapis"), "GetRestApis": ("GET", "/restapis"),
    "GetRestApi": ("GET", "/restapis/{restApiId}"), "DeleteRestApi": ("DELETE", "/restapis/{restApiId}"),
    "GetResources": ("GET", "/restapis/{restApiId}/resources"),
    "CreateResource": ("POST", "/restapis/{restApiId}/resources/{parentId}"),
    "PutMethod": ("PUT", "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"),
    "PutIntegration": ("PUT", "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/integration"),
    "PutMethodResponse": ("PUT", "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/responses/{statusCode}"),
    "PutIntegrationResponse": ("PUT", "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/integration/"
                                      "responses/{statusCode}"),
    "CreateDeployment": ("POST", "/restapis/{restApiId}/deployments"),
    "CreateApiKey": ("POST", "/apikeys"), "GetApiKey": ("GET", "/apikeys/{apiKey}"),
    "DeleteApiKey": ("DELETE", "/apikeys/{apiKey}"), "GetApiKeys": ("GET", "/apikeys"),
    "CreateUsagePlan": ("POST", "/usageplans"), "GetUsagePlans": ("GET", "/usageplans"),
    "UpdateUsagePlan": ("PATCH", "/usageplans/{usagePlanId}"), "DeleteUsagePlan": ("DELETE", "/usageplans/{usagePlanId}"),
    "GetUsagePlanKeys": ("GET", "/usageplans/{usagePlanId}/keys"),
    "CreateUsagePlanKey": ("POST", "/usageplans/{usagePlanId}/keys"),
    "DeleteUsagePlanKey": ("DELETE", "/usageplans/{usagePlanId}/keys/{keyId}"),
}


def apigw_arn(path: str, region: str = "us-east-1") -> str:
    return f"arn:aws:apigateway:{region}::{path}"


def _apigateway(op: str, p: dict, world: World) -> list[Request]:
    if op not in _APIGW_PATHS:
        raise KeyError(f"apigateway.{op}: no IAM mapping known; add it to tests/aws/iam_requests.py")
    method, template = _APIGW_PATHS[op]
    path = template.format(**p)
    arn = apigw_arn(path, world.region)
    parts = path.split("/")
    if len(parts) == 2:  # a collection: creates carry request tags, listings nothing
        tags = _request_tags(p.get("tags"))
        ctx = {**_tag_context("aws:RequestTag", tags), **({"aws:TagKeys": sorted(tags)} if tags else {})}
        out = [Request(f"apigateway:{method}", arn, ctx)]
    else:  # the tags of the top resource (the REST API, key or plan), inherited by its children
        owner = apigw_arn("/".join(parts[:3]), world.region)
        out = [Request(f"apigateway:{method}", arn, _tag_context("aws:ResourceTag", world.tags_of(owner)))]
    if op == "PutIntegration" and p.get("credentials"):
        out.append(Request("iam:PassRole", p["credentials"], {"iam:PassedToService": "apigateway.amazonaws.com"}))
    return out
