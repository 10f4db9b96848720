"""Deleting what ``admin bootstrap`` / ``lifecycle-config create`` made, and nothing else.

Each resource is checked before it goes: IAM users by their path ``/smops/DOMAIN/``; the ABAC
policy, the execution role, the bucket and lifecycle configurations by the
``smops:managed-by=jupyter-smops`` tag. A resource still in use (a policy attached elsewhere, a
role another domain runs as, a bucket with objects, an LCC attached elsewhere) is kept, and the
report says why.
"""
from __future__ import annotations

from typing import Optional

from ..errors import Conflict, NotFound, SmopsError
from .bootstrap import MANAGED_BY
from .calls import Caller
from .policies import policy_names
from .report import Report


def _ours(tags: list) -> bool:
    return any(t.get("Key") == MANAGED_BY[0] and t.get("Value") == MANAGED_BY[1] for t in tags or [])


def delete_owned(caller: Caller, report: Report, *, domain_name: str, role_arn: Optional[str], policy_name: str,
                 bucket: Optional[str], region: str, lcc_arns: list) -> None:
    """Delete the domain's IAM users, then the ABAC policies, role, bucket and LCCs when unused."""
    account = caller.call("sts", "GetCallerIdentity")["Account"]
    for user in list(caller.pages("iam", "ListUsers", "Users", PathPrefix=f"/smops/{domain_name}/")):
        tags = list(caller.pages("iam", "ListUserTags", "Tags", UserName=user["UserName"]))
        _delete_user(caller, report, user["UserName"])
        _delete_owner_roles(caller, report, tags, domain_name)
    for name in policy_names(policy_name):
        _delete_policy(caller, report, f"arn:aws:iam::{account}:policy/{name}")
    # Releases before the split made one policy named ``policy_name``: gone too, if there is one.
    _delete_policy(caller, report, f"arn:aws:iam::{account}:policy/{policy_name}", quiet_absent=True)
    if role_arn:
        _delete_role(caller, report, role_arn)
    _delete_bucket(caller, report, bucket or f"sagemaker-{region}-{account}")
    for arn in lcc_arns:
        _delete_lcc(caller, report, arn)


def _delete_user(caller: Caller, report: Report, name: str) -> None:
    for policy in list(caller.pages("iam", "ListAttachedUserPolicies", "AttachedPolicies", UserName=name)):
        caller.call("iam", "DetachUserPolicy", UserName=name, PolicyArn=policy["PolicyArn"])
    try:  # a console password or access keys given since would block DeleteUser
        caller.call("iam", "DeleteLoginProfile", UserName=name)
    except NotFound:
        pass
    for key in list(caller.pages("iam", "ListAccessKeys", "AccessKeyMetadata", UserName=name)):
        caller.call("iam", "DeleteAccessKey", UserName=name, AccessKeyId=key["AccessKeyId"])
    try:
        caller.call("iam", "DeleteUser", UserName=name)
    except Conflict as exc:
        report.add("IAM user", name, "kept", f"IAM refused: {exc.message} Remove its MFA devices, keys and groups.")
        return
    report.add("IAM user", name, "deleted")


def _delete_owner_roles(caller: Caller, report: Report, user_tags: list, domain_name: str) -> None:
    """The user's expiry and front roles (owner_roles.py), when bootstrap made them for this domain."""
    from .owner_roles import ROLE_KINDS

    domain_tag = {"Key": "smops:domain", "Value": domain_name}
    for tag in user_tags:
        for kind, prefix in ROLE_KINDS:
            name = f"{prefix}{tag['Value']}"
            if tag["Key"].startswith("smops:") or caller.find("iam", "GetRole", RoleName=name) is None:
                continue
            role_tags = list(caller.pages("iam", "ListRoleTags", "Tags", RoleName=name))
            if not _ours(role_tags) or domain_tag not in role_tags:
                report.add(kind, name, "kept", "not created by jupyter smops for this domain")
                continue
            for inline in list(caller.pages("iam", "ListRolePolicies", "PolicyNames", RoleName=name)):
                caller.call("iam", "DeleteRolePolicy", RoleName=name, PolicyName=inline)
            caller.call("iam", "DeleteRole", RoleName=name)
            report.add(kind, name, "deleted")


def _delete_policy(caller: Caller, report: Report, arn: str, quiet_absent: bool = False) -> None:
    name = arn.rsplit("/", 1)[-1]
    if caller.find("iam", "GetPolicy", PolicyArn=arn) is None:
        if not quiet_absent:
            report.add("ABAC policy", name, "absent")
        return
    if not _ours(list(caller.pages("iam", "ListPolicyTags", "Tags", PolicyArn=arn))):
        report.add("ABAC policy", name, "kept", "not created by jupyter smops")
        return
    entities = caller.call("iam", "ListEntitiesForPolicy", PolicyArn=arn)
    users = [u["UserName"] for u in entities.get("PolicyUsers", [])] + [r["RoleName"] for r in entities.get("PolicyRoles", [])]
    users += [g["GroupName"] for g in entities.get("PolicyGroups", [])]
    if users:
        report.add("ABAC policy", name, "kept", f"still attached to {', '.join(users)}")
        return
    for version in list(caller.pages("iam", "ListPolicyVersions", "Versions", PolicyArn=arn)):
        if not version.get("IsDefaultVersion"):
            caller.call("iam", "DeletePolicyVersion", PolicyArn=arn, VersionId=version["VersionId"])
    caller.call("iam", "DeletePolicy", PolicyArn=arn)
    report.add("ABAC policy", name, "deleted")


def _delete_role(caller: Caller, report: Report, arn: str) -> None:
    name = arn.rsplit("/", 1)[-1]
    if caller.find("iam", "GetRole", RoleName=name) is None:
        report.add("execution role", name, "absent")
        return
    if not _ours(list(caller.pages("iam", "ListRoleTags", "Tags", RoleName=name))):
        report.add("execution role", name, "kept", "not created by jupyter smops")
        return
    for item in caller.pages("sagemaker", "ListDomains", "Domains"):
        other = caller.find("sagemaker", "DescribeDomain", DomainId=item["DomainId"]) or {}
        if (other.get("DefaultUserSettings") or {}).get("ExecutionRole") == arn:
            report.add("execution role", name, "kept", f"domain {item.get('DomainName')} still uses it")
            return
    for policy in list(caller.pages("iam", "ListAttachedRolePolicies", "AttachedPolicies", RoleName=name)):
        caller.call("iam", "DetachRolePolicy", RoleName=name, PolicyArn=policy["PolicyArn"])
    for inline in list(caller.pages("iam", "ListRolePolicies", "PolicyNames", RoleName=name)):
        caller.call("iam", "DeleteRolePolicy", RoleName=name, PolicyName=inline)
    caller.call("iam", "DeleteRole", RoleName=name)
    report.add("execution role", name, "deleted")


def _delete_bucket(caller: Caller, report: Report, name: str) -> None:
    try:
        tags = caller.call("s3", "GetBucketTagging", Bucket=name).get("TagSet", [])
    except NotFound:
        tags = None
    except SmopsError as exc:
        report.add("registry bucket", name, "kept", f"cannot read its tags: {exc.message}")
        return
    if tags is None and caller.find("s3", "HeadBucket", Bucket=name) is None:
        report.add("registry bucket", name, "absent")
        return
    if not _ours(tags or []):
        report.add("registry bucket", name, "kept", "not created by jupyter smops")
        return
    if caller.call("s3", "ListObjectsV2", Bucket=name, MaxKeys=1).get("KeyCount", 0):
        report.add("registry bucket", name, "kept", "it holds objects (models): empty it first if they can go "
                                                     "(jupyter smops cleanup --include-registry)")
        return
    try:
        caller.call("s3", "DeleteBucket", Bucket=name)
    except SmopsError as exc:  # e.g. old object versions left in a versioned bucket
        report.add("registry bucket", name, "kept", exc.message)
        return
    report.add("registry bucket", name, "deleted")


def _delete_lcc(caller: Caller, report: Report, arn: str) -> None:
    name = arn.rsplit("/", 1)[-1]
    try:
        tags = caller.call("sagemaker", "ListTags", ResourceArn=arn).get("Tags", [])
    except NotFound:
        report.add("lifecycle config", name, "absent")
        return
    if not _ours(tags):
        report.add("lifecycle config", name, "kept", "not created by jupyter smops")
        return
    try:
        caller.call("sagemaker", "DeleteStudioLifecycleConfig", StudioLifecycleConfigName=name)
    except Conflict:
        report.add("lifecycle config", name, "kept", "still attached to another domain or profile")
        return
    except NotFound:
        report.add("lifecycle config", name, "absent")
        return
    report.add("lifecycle config", name, "deleted")
