"""Create, attach, detach and delete the Studio lifecycle configuration (app type JupyterLab).

Attaching reads the current settings first and keeps every LCC already attached: the new ARN
is added to ``JupyterLabAppSettings.LifecycleConfigArns`` and (unless asked not to) becomes
``DefaultResourceSpec.LifecycleConfigArn``, the one that runs on every start.
"""
from __future__ import annotations

import copy
from typing import Optional

from ..errors import Conflict, NotFound
from .calls import Caller
from .lcc_script import encode
from .report import Report

APP_TYPE = "JupyterLab"
MANAGED_TAG = {"Key": "smops:managed-by", "Value": "jupyter-smops"}


def describe(caller: Caller, name: str) -> Optional[dict]:
    """The LCC called ``name`` (None when absent)."""
    return caller.find("sagemaker", "DescribeStudioLifecycleConfig", StudioLifecycleConfigName=name)


def resolve_arn(caller: Caller, name_or_arn: str) -> str:
    """An LCC ARN from its name (an ARN is returned as is)."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    if caller.dry_run:
        caller.assume({("sagemaker", "DescribeStudioLifecycleConfig"): lambda p: {
            "StudioLifecycleConfigArn": f"arn:aws:sagemaker:<region>:<account-id>:studio-lifecycle-config/"
                                        f"{p['StudioLifecycleConfigName']}"}})
    found = describe(caller, name_or_arn)
    if found is None:
        raise NotFound(f"No lifecycle configuration named {name_or_arn!r}. Create it first: "
                       f"jupyter smops lifecycle-config create --name {name_or_arn}")
    return found["StudioLifecycleConfigArn"]


def create(caller: Caller, name: str, script: str, tags: tuple = ()) -> Report:
    """``CreateStudioLifecycleConfig`` (app type JupyterLab, tagged); skipped when the same
    script already exists under ``name``; a different one there is a conflict (LCCs are immutable)."""
    content = encode(script)
    report = Report(f"Lifecycle configuration {name}", dry_run=caller.dry_run)
    existing = describe(caller, name)
    if existing is not None:
        if existing.get("StudioLifecycleConfigContent") == content and \
                existing.get("StudioLifecycleConfigAppType") == APP_TYPE:
            report.add("lifecycle config", name, "exists", "same script")
            report.data["arn"] = existing["StudioLifecycleConfigArn"]
            return report
        raise Conflict(f"A lifecycle configuration named {name!r} exists with a different script, and lifecycle "
                       f"configurations cannot be changed. Create this one under a new name (--name {name}-2), "
                       f"attach it, then detach and delete the old one.")
    all_tags = [MANAGED_TAG] + [{"Key": k, "Value": v} for k, v in tags]
    made = caller.call("sagemaker", "CreateStudioLifecycleConfig", StudioLifecycleConfigName=name,
                       StudioLifecycleConfigContent=content, StudioLifecycleConfigAppType=APP_TYPE, Tags=all_tags)
    report.add("lifecycle config", name, "created", f"{len(content):,} of 16,384 base64 characters")
    report.data["arn"] = made["StudioLifecycleConfigArn"]
    return report


def with_lcc(settings: dict, arn: str, make_default: bool = True) -> dict:
    """JupyterLabAppSettings with ``arn`` added (others kept) and, optionally, made the default."""
    new = copy.deepcopy(settings or {})
    arns = list(new.get("LifecycleConfigArns") or [])
    if arn not in arns:
        arns.append(arn)
    new["LifecycleConfigArns"] = arns
    if make_default:
        spec = dict(new.get("DefaultResourceSpec") or {})
        spec["LifecycleConfigArn"] = arn
        new["DefaultResourceSpec"] = spec
    return new


def without_lcc(settings: dict, arn: str) -> dict:
    """JupyterLabAppSettings with ``arn`` removed from the list and from the default."""
    new = copy.deepcopy(settings or {})
    new["LifecycleConfigArns"] = [a for a in new.get("LifecycleConfigArns") or [] if a != arn]
    spec = dict(new.get("DefaultResourceSpec") or {})
    if spec.get("LifecycleConfigArn") == arn:
        del spec["LifecycleConfigArn"]
        new["DefaultResourceSpec"] = spec
    return new


def _target(caller: Caller, domain_id: str, user_profile: Optional[str]) -> tuple[str, dict]:
    """(label, current JupyterLabAppSettings) of a domain's defaults or of one user profile."""
    if caller.dry_run:
        caller.assume({("sagemaker", "DescribeDomain"): {"DomainId": domain_id, "DefaultUserSettings": {}},
                       ("sagemaker", "DescribeUserProfile"): {"UserSettings": {}}})
    if user_profile:
        found = caller.find("sagemaker", "DescribeUserProfile", DomainId=domain_id, UserProfileName=user_profile)
        if found is None:
            raise NotFound(f"No user profile {user_profile!r} in domain {domain_id}: check the name with "
                           f"jupyter smops admin status --domain-id {domain_id}")
        return f"user profile {user_profile}", (found.get("UserSettings") or {}).get("JupyterLabAppSettings") or {}
    found = caller.find("sagemaker", "DescribeDomain", DomainId=domain_id)
    if found is None:
        raise NotFound(f"No domain {domain_id!r}: list them with `aws sagemaker list-domains`.")
    return f"domain {domain_id}", (found.get("DefaultUserSettings") or {}).get("JupyterLabAppSettings") or {}


def _update(caller: Caller, domain_id: str, user_profile: Optional[str], settings: dict) -> None:
    if user_profile:
        caller.call("sagemaker", "UpdateUserProfile", DomainId=domain_id, UserProfileName=user_profile,
                    UserSettings={"JupyterLabAppSettings": settings})
    else:
        caller.call("sagemaker", "UpdateDomain", DomainId=domain_id,
                    DefaultUserSettings={"JupyterLabAppSettings": settings})


def attach(caller: Caller, name_or_arn: str, domain_id: str, user_profile: Optional[str] = None,
           make_default: bool = True) -> Report:
    """Attach to a domain (every user's JupyterLab) or to one user profile, keeping others."""
    arn = resolve_arn(caller, name_or_arn)
    label, current = _target(caller, domain_id, user_profile)
    report = Report(f"Attach {arn.rsplit('/', 1)[-1]} to {label}", dry_run=caller.dry_run, data={"arn": arn})
    new = with_lcc(current, arn, make_default)
    if new == current:
        report.add("lifecycle config", arn, "exists", f"already attached to {label}")
        return report
    previous = (current.get("DefaultResourceSpec") or {}).get("LifecycleConfigArn")
    _update(caller, domain_id, user_profile, new)
    kept = [a for a in new["LifecycleConfigArns"] if a != arn]
    detail = f"{len(kept)} other LCC(s) kept" + (", runs on every JupyterLab start" if make_default else "")
    if make_default and previous and previous != arn:
        detail += f"; the previous default {previous} stays attached but no longer runs by default"
    report.add("lifecycle config", arn, "attached", detail)
    return report


def detach(caller: Caller, name_or_arn: str, domain_id: str, user_profile: Optional[str] = None) -> Report:
    """Remove the LCC from a domain's or a user profile's JupyterLab settings (others kept)."""
    arn = resolve_arn(caller, name_or_arn)
    if caller.dry_run:  # a dry run cannot read the settings: assume it is attached
        caller.assume({("sagemaker", "DescribeDomain"): {"DefaultUserSettings": {"JupyterLabAppSettings": {
            "LifecycleConfigArns": [arn], "DefaultResourceSpec": {"LifecycleConfigArn": arn}}}},
            ("sagemaker", "DescribeUserProfile"): {"UserSettings": {"JupyterLabAppSettings": {
                "LifecycleConfigArns": [arn], "DefaultResourceSpec": {"LifecycleConfigArn": arn}}}}})
    label, current = _target(caller, domain_id, user_profile)
    report = Report(f"Detach {arn.rsplit('/', 1)[-1]} from {label}", dry_run=caller.dry_run, data={"arn": arn})
    attached = arn in (current.get("LifecycleConfigArns") or []) or \
        (current.get("DefaultResourceSpec") or {}).get("LifecycleConfigArn") == arn
    if not attached:
        report.add("lifecycle config", arn, "absent", f"not attached to {label}")
        return report
    new = without_lcc(current, arn)
    _update(caller, domain_id, user_profile, new)
    report.add("lifecycle config", arn, "detached", f"{len(new['LifecycleConfigArns'])} other LCC(s) kept")
    return report


def delete(caller: Caller, name: str) -> Report:
    """``DeleteStudioLifecycleConfig``; absent is fine, attached is a conflict that says what to do."""
    report = Report(f"Delete lifecycle configuration {name}", dry_run=caller.dry_run)
    try:
        caller.call("sagemaker", "DeleteStudioLifecycleConfig", StudioLifecycleConfigName=name)
    except NotFound:
        report.add("lifecycle config", name, "absent", "nothing to delete")
        return report
    except Conflict as exc:
        raise Conflict(f"Lifecycle configuration {name!r} is still attached: detach it first "
                       f"(jupyter smops lifecycle-config detach --name {name} --domain-id ID). {exc}") from exc
    report.add("lifecycle config", name, "deleted")
    return report
