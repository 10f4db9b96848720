"""Each Studio user's two service roles, made by ``admin bootstrap`` next to the user.

``smops-expiry-<tag>``: assumed by EventBridge Scheduler, may only DeleteEndpoint on endpoints
tagged ``<tag key>=<tag>`` (the expiry schedules of ``deploy --expires-in`` run as it).
``smops-front-<tag>``: assumed by API Gateway, may only InvokeEndpoint on the same endpoints
(the integration of ``expose`` runs as it). One pair per user, because a schedule or an
integration carries no caller identity: a shared role could delete or call anyone's endpoint,
and the ABAC user policy lets each user pass only their own pair. Both are tagged as bootstrap's
resources and with the user's owner tag.
"""
from __future__ import annotations

from . import policies

ROLE_POLICY_NAME = "smops-owner-endpoints"
ROLE_KINDS = (("expiry role", policies.EXPIRY_ROLE_PREFIX), ("front role", policies.FRONT_ROLE_PREFIX))


def ensure_owner_roles(bootstrap, user) -> None:
    """Create (or on ``status``, look for) the user's expiry and front roles; an existing role
    whose inline policy differs gets it written again (a second run changes nothing)."""
    spec, account = bootstrap.spec, bootstrap.s.account
    for kind, prefix, trust, policy in (
            ("expiry role", policies.EXPIRY_ROLE_PREFIX, policies.expiry_role_trust, policies.expiry_role_policy),
            ("front role", policies.FRONT_ROLE_PREFIX, policies.front_role_trust, policies.front_role_policy)):
        name = f"{prefix}{user.tag}"
        found = bootstrap.caller.find("iam", "GetRole", RoleName=name)
        if not bootstrap.apply:
            bootstrap.report.add(kind, name, "exists" if found else "missing")
            continue
        if found is None:
            bootstrap.caller.call("iam", "CreateRole", RoleName=name,
                                  Tags=[{"Key": spec.tag_key, "Value": user.tag}] + spec.tags(),
                                  AssumeRolePolicyDocument=policies.to_json(trust(account), compact=True),
                                  Description=f"jupyter_smops {kind} of {user.tag} (admin bootstrap)")
        document = policy(user.tag, account=account, region=spec.region, tag_key=spec.tag_key)
        current = found and bootstrap.caller.find("iam", "GetRolePolicy", RoleName=name, PolicyName=ROLE_POLICY_NAME)
        same = bool(current) and policies.same_document(current.get("PolicyDocument", "{}"), document)
        if not same:
            bootstrap.caller.call("iam", "PutRolePolicy", RoleName=name, PolicyName=ROLE_POLICY_NAME,
                                  PolicyDocument=policies.to_json(document, compact=True))
        state = "created" if found is None else "exists" if same else "updated"
        bootstrap.report.add(kind, name, state, f"only endpoints tagged {spec.tag_key}={user.tag}")
