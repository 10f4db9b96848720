"""A public front for an endpoint: API Gateway REST API -> SageMaker Runtime InvokeEndpoint.

What ``expose`` creates, all tagged with the owner and ``smops:endpoint`` (API Gateway's ABAC:
a REST API's methods, integrations, deployments and stages inherit its tags, a usage plan's keys
inherit the plan's): a regional REST API ``smops-<endpoint>`` with ``POST /invocations``
(API key required) integrated directly (type AWS, no Lambda) with
``arn:aws:apigateway:<region>:runtime.sagemaker:path//endpoints/<endpoint>/invocations``, run as
the owner's front role (``smops-front-<owner>``: sagemaker:InvokeEndpoint on that owner's
endpoints only); a ``prod`` stage; an API key; a usage plan with throttling and a daily quota.
Content-Type and Accept pass through; SageMaker's 4xx/5xx come back as 400/500 with its body.

The key's value is returned once by ``expose`` and never written to a state file or a log. Its
owner can read it again from API Gateway (GetApiKey with includeValue), which the ABAC policy
allows only on keys tagged with that owner. The endpoint carries ``smops:public-url``.
"""
from __future__ import annotations

import logging
from typing import Optional

from ...aws import aws_errors
from ...errors import NotFound, SmopsError
from ...types import PublicFront
from .account import Account

log = logging.getLogger("jupyter_smops")
STAGE = "prod"
URL_TAG = "smops:public-url"
ROLE_PREFIX = "smops-front-"


def api_name(endpoint: str) -> str:
    return f"smops-{endpoint}"


def role_arn(account: Account, owner: str) -> str:
    """The role API Gateway invokes as: ``apigateway_role_arn`` ({owner} replaced), else the
    owner's front role from ``admin bootstrap``."""
    configured = (account.config.apigateway_role_arn or "").strip()
    if configured:
        return configured.replace("{owner}", owner)
    return f"arn:aws:iam::{account.clients.account()}:role/{ROLE_PREFIX}{owner}"


def invoke_uri(region: str, endpoint: str) -> str:
    return f"arn:aws:apigateway:{region}:runtime.sagemaker:path//endpoints/{endpoint}/invocations"


def public_url(rest_api_id: str, region: str) -> str:
    return f"https://{rest_api_id}.execute-api.{region}.amazonaws.com/{STAGE}/invocations"


def create(account: Account, endpoint: str, owner: str, *, rate_limit: float, burst_limit: int,
           quota_per_day: int) -> PublicFront:
    """Create the front (module docstring); on any failure what was created is deleted again."""
    if find(account, endpoint, owner):
        from ...errors import Conflict

        raise Conflict(f"{endpoint} is already exposed. Run %smops unexpose {endpoint} first to get a new URL "
                       f"and key; its owner can read the current key in the API Gateway console.")
    api = account.clients.client("apigateway")
    tags = {account.owner_key: owner, "smops:endpoint": endpoint, "smops:managed-by": "jupyter-smops"}
    made: dict = {}
    try:
        with aws_errors(f"creating the REST API of {endpoint} (CreateRestApi)", "apigateway"):
            rest = api.create_rest_api(name=api_name(endpoint), tags=tags, endpointConfiguration={"types": ["REGIONAL"]},
                                       description=f"jupyter_smops public front of SageMaker endpoint {endpoint}")
        made["rest_api"] = rest["id"]
        _build(account, rest, endpoint, owner)
        with aws_errors(f"creating the API key of {endpoint}", "apigateway"):
            key = api.create_api_key(name=api_name(endpoint), enabled=True, tags=tags,
                                     description=f"jupyter_smops key for {endpoint}")
        made["api_key"] = key["id"]
        with aws_errors(f"creating the usage plan of {endpoint}", "apigateway"):
            plan = api.create_usage_plan(name=api_name(endpoint), tags=tags,
                                         apiStages=[{"apiId": rest["id"], "stage": STAGE}],
                                         throttle={"rateLimit": rate_limit, "burstLimit": burst_limit},
                                         quota={"limit": quota_per_day, "period": "DAY"})
        made["usage_plan"] = plan["id"]
        with aws_errors(f"adding the key to the usage plan of {endpoint}", "apigateway"):
            api.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
        url = public_url(rest["id"], account.region)
        with aws_errors("recording the public URL on the endpoint", "sagemaker"):
            arn = account.sm.describe_endpoint(EndpointName=endpoint)["EndpointArn"]
            account.sm.add_tags(ResourceArn=arn, Tags=[{"Key": account.owner_key, "Value": owner},
                                                       {"Key": URL_TAG, "Value": url}])
    except BaseException:
        _undo(account, made)
        raise
    return PublicFront(endpoint=endpoint, created=True, url=url, api_key=key.get("value"), api_key_id=key["id"],
                       rest_api_id=rest["id"], usage_plan_id=plan["id"], rate_limit=rate_limit,
                       burst_limit=burst_limit, quota_per_day=quota_per_day,
                       message=f"{endpoint} is public at {url} (API key required; the key is shown this once).")


def _build(account: Account, rest: dict, endpoint: str, owner: str) -> None:
    """POST /invocations -> InvokeEndpoint, responses, and the prod stage."""
    api, rid = account.clients.client("apigateway"), rest["id"]
    with aws_errors(f"building the REST API of {endpoint}", "apigateway"):
        root = rest.get("rootResourceId") or next(
            r["id"] for r in api.get_resources(restApiId=rid)["items"] if r.get("path") == "/")
        res = api.create_resource(restApiId=rid, parentId=root, pathPart="invocations")["id"]
        api.put_method(restApiId=rid, resourceId=res, httpMethod="POST", authorizationType="NONE",
                       apiKeyRequired=True, requestParameters={"method.request.header.Content-Type": False,
                                                               "method.request.header.Accept": False})
        api.put_integration(restApiId=rid, resourceId=res, httpMethod="POST", type="AWS",
                            integrationHttpMethod="POST", uri=invoke_uri(account.region, endpoint),
                            credentials=role_arn(account, owner), passthroughBehavior="WHEN_NO_MATCH",
                            requestParameters={
                                "integration.request.header.Content-Type": "method.request.header.Content-Type",
                                "integration.request.header.Accept": "method.request.header.Accept"})
        for status, pattern in (("200", ""), ("400", r"4\d{2}"), ("500", r"5\d{2}")):
            api.put_method_response(restApiId=rid, resourceId=res, httpMethod="POST", statusCode=status)
            api.put_integration_response(restApiId=rid, resourceId=res, httpMethod="POST", statusCode=status,
                                         selectionPattern=pattern)
        api.create_deployment(restApiId=rid, stageName=STAGE, description="jupyter_smops expose")


def find(account: Account, endpoint: str, owner: Optional[str]) -> dict:
    """The front's ids (``rest_api``, ``usage_plan``, ``api_keys``) for ``endpoint``; {} when none."""
    found: dict = {}
    for api_id in _tagged(account, "get_rest_apis", owner, endpoint):
        found["rest_api"] = api_id
    for plan_id in _tagged(account, "get_usage_plans", owner, endpoint):
        found["usage_plan"] = plan_id
        found["api_keys"] = _plan_keys(account, plan_id)
    return found


def list_fronts(account: Account, owner: str) -> list[str]:
    """The endpoint names the owner's fronts serve (their endpoint may be gone: expired)."""
    names = set()
    for op in ("get_rest_apis", "get_usage_plans"):
        for item in _items(account, op):
            tags = item.get("tags") or {}
            if tags.get("smops:endpoint") and tags.get(account.owner_key) == owner:
                names.add(tags["smops:endpoint"])
    return sorted(names)


def _items(account: Account, op: str) -> list[dict]:
    api = account.clients.client("apigateway")
    items: list[dict] = []
    with aws_errors("listing public fronts", "apigateway"):
        for page in api.get_paginator(op).paginate():
            items += page.get("items", [])
    return items


def _tagged(account: Account, op: str, owner: Optional[str], endpoint: str) -> list[str]:
    return [i["id"] for i in _items(account, op) if (i.get("tags") or {}).get("smops:endpoint") == endpoint
            and (owner is None or (i.get("tags") or {}).get(account.owner_key) == owner)]


def _plan_keys(account: Account, plan_id: str) -> list[str]:
    api = account.clients.client("apigateway")
    try:
        with aws_errors("reading the usage plan's keys", "apigateway"):
            return [k["id"] for k in api.get_usage_plan_keys(usagePlanId=plan_id).get("items", [])]
    except NotFound:
        return []


def delete(account: Account, endpoint: str, owner: Optional[str]) -> bool:
    """Delete the front of ``endpoint``: keys out of the plan, the plan, the keys, the REST API
    (in that order: a plan still naming a stage or a key keeps them in use). False when none."""
    found = find(account, endpoint, owner)
    if not found:
        return False
    _undo(account, found)
    return True


def _undo(account: Account, made: dict) -> None:
    """Delete what ``made`` names, dependents first; gone is fine, other errors are raised after
    the rest was tried."""
    api = account.clients.client("apigateway")
    keys = list(made.get("api_keys") or []) + ([made["api_key"]] if made.get("api_key") else [])
    plan, rest = made.get("usage_plan"), made.get("rest_api")
    steps = []
    if plan:
        steps += [(f"removing key {k} from usage plan {plan}", lambda k=k: api.delete_usage_plan_key(
            usagePlanId=plan, keyId=k)) for k in keys]
        if rest:
            steps.append((f"detaching usage plan {plan}", lambda: api.update_usage_plan(
                usagePlanId=plan, patchOperations=[{"op": "remove", "path": "/apiStages", "value": f"{rest}:{STAGE}"}])))
        steps.append((f"deleting usage plan {plan}", lambda: api.delete_usage_plan(usagePlanId=plan)))
    steps += [(f"deleting API key {k}", lambda k=k: api.delete_api_key(apiKey=k)) for k in keys]
    if rest:
        steps.append((f"deleting REST API {rest}", lambda: api.delete_rest_api(restApiId=rest)))
    failed: Optional[SmopsError] = None
    for step, call in steps:
        try:
            with aws_errors(step, "apigateway"):
                call()
        except NotFound:
            continue
        except SmopsError as exc:
            log.warning("jupyter_smops: %s failed: %s", step, exc)
            failed = failed or exc
    if failed:
        raise failed
