"""Expiry that AWS enforces: an EventBridge Scheduler one-time schedule per endpoint.

The schedule's universal target calls SageMaker's DeleteEndpoint itself, so the endpoint goes
away at its time even when no Jupyter, kernel or Studio space runs. One schedule group per owner
(``smops-<owner>``, tagged with the owner) holds that owner's schedules, each named after its
endpoint, so the ABAC policy scopes scheduler calls by name (``schedule/smops-${owner-tag}/*``).
The schedule runs as the owner's expiry role (``smops-expiry-<owner>``, made by ``admin
bootstrap``), which may only DeleteEndpoint on endpoints tagged with that owner. The endpoint
carries its expiry time in the tag ``smops:expires-at`` too, so listings need no scheduler call.
The schedule deletes only the endpoint; its config and model are left for the next cleanup.
"""
from __future__ import annotations

import json
import re
from typing import Optional

from ...aws import aws_errors
from ...durations import iso_utc
from ...errors import BadRequest, Conflict, NotFound
from .account import Account

TARGET_ARN = "arn:aws:scheduler:::aws-sdk:sagemaker:deleteEndpoint"
EXPIRES_TAG = "smops:expires-at"
GROUP_PREFIX = "smops-"
ROLE_PREFIX = "smops-expiry-"


def group_name(owner: str) -> str:
    """The owner's schedule group (Scheduler names: letters, digits, ``-_.``, at most 64)."""
    return GROUP_PREFIX + re.sub(r"[^0-9A-Za-z_.-]", "-", owner)[:64 - len(GROUP_PREFIX)]


def role_arn(account: Account, owner: str) -> str:
    """The role the schedule runs as: ``scheduler_role_arn`` ({owner} replaced), else the owner's
    expiry role from ``admin bootstrap`` in this account."""
    configured = (account.config.scheduler_role_arn or "").strip()
    if configured:
        return configured.replace("{owner}", owner)
    return f"arn:aws:iam::{account.clients.account()}:role/{ROLE_PREFIX}{owner}"


def _request(account: Account, name: str, owner: str, expires_at: float) -> dict:
    # at() takes a local time in ScheduleExpressionTimezone: UTC, to the second.
    return {"Name": name, "GroupName": group_name(owner), "ScheduleExpressionTimezone": "UTC",
            "ScheduleExpression": f"at({iso_utc(expires_at)[:-1]})", "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE", "State": "ENABLED",
            "Description": f"jupyter_smops: delete endpoint {name} at {iso_utc(expires_at)}",
            "Target": {"Arn": TARGET_ARN, "RoleArn": role_arn(account, owner),
                       "Input": json.dumps({"EndpointName": name})}}


def _ensure_group(account: Account, owner: str) -> None:
    scheduler = account.clients.client("scheduler")
    try:  # looked up first: a create is refused once it exists (and moto would replace it)
        with aws_errors(f"looking up the schedule group {group_name(owner)}", "scheduler"):
            scheduler.get_schedule_group(Name=group_name(owner))
        return
    except NotFound:
        pass
    try:
        with aws_errors(f"creating the schedule group {group_name(owner)}", "scheduler"):
            scheduler.create_schedule_group(Name=group_name(owner), Tags=[
                {"Key": account.owner_key, "Value": owner}, {"Key": "smops:managed-by", "Value": "jupyter-smops"}])
    except Conflict:
        pass  # made by an earlier deploy (or by the admin)


def create(account: Account, name: str, owner: str, expires_at: float) -> None:
    """The one-time schedule deleting endpoint ``name`` at ``expires_at`` (epoch seconds)."""
    _ensure_group(account, owner)
    with aws_errors(f"creating the expiry schedule of {name} (CreateSchedule)", "scheduler"):
        try:
            account.clients.client("scheduler").create_schedule(**_request(account, name, owner, expires_at))
        except Exception as exc:
            raise _role_hint(exc, account, owner)


def update(account: Account, name: str, owner: str, expires_at: float) -> None:
    """Move the schedule to ``expires_at``; an endpoint deployed without expiry gets one."""
    try:
        with aws_errors(f"moving the expiry schedule of {name} (UpdateSchedule)", "scheduler"):
            account.clients.client("scheduler").update_schedule(**_request(account, name, owner, expires_at))
    except NotFound:
        create(account, name, owner, expires_at)


def delete(account: Account, name: str, owner: str) -> bool:
    """Delete the endpoint's schedule; False when there is none (no expiry, or it already fired)."""
    try:
        with aws_errors(f"deleting the expiry schedule of {name}", "scheduler"):
            account.clients.client("scheduler").delete_schedule(Name=name, GroupName=group_name(owner))
    except NotFound:
        return False
    return True


def list_names(account: Account, owner: str) -> list[str]:
    """The names of the owner's pending schedules (= the endpoints they delete)."""
    scheduler = account.clients.client("scheduler")
    names: list[str] = []
    try:
        with aws_errors("listing expiry schedules", "scheduler"):
            for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group_name(owner)):
                names += [s["Name"] for s in page.get("Schedules", [])]
    except NotFound:
        return []  # no group yet: this owner never deployed with an expiry
    return sorted(names)


def set_tag(account: Account, arn: str, expires_at: Optional[float], owner: str) -> None:
    """Record the expiry on the endpoint (``smops:expires-at``), or remove it (never expires).
    The owner tag goes along unchanged: the ABAC policy lets an owner tag only as themselves."""
    sm = account.sm
    with aws_errors("recording the expiry on the endpoint", "sagemaker"):
        if expires_at:
            sm.add_tags(ResourceArn=arn, Tags=[{"Key": account.owner_key, "Value": owner},
                                               {"Key": EXPIRES_TAG, "Value": iso_utc(expires_at)}])
        else:
            sm.delete_tags(ResourceArn=arn, TagKeys=[EXPIRES_TAG])


def _role_hint(exc: Exception, account: Account, owner: str) -> Exception:
    """A schedule whose role does not exist or cannot be assumed: say how to get one."""
    from ...aws import error_code

    if error_code(exc) == "ValidationException" and "role" in str(exc).lower():
        return BadRequest(f"EventBridge Scheduler cannot use the expiry role {role_arn(account, owner)}: {exc}. "
                          f"Ask your administrator to run `jupyter smops admin bootstrap` (it creates "
                          f"smops-expiry-<owner> roles), or set SMOPS_SCHEDULER_ROLE_ARN; or deploy with "
                          f"--no-expiry where that is allowed.")
    return exc
