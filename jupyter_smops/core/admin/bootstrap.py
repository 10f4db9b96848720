"""``admin bootstrap`` and ``admin status``: the seed's eight manual steps as one repeatable command.

Order: execution role (trust policy + the seed's managed policies) -> registry bucket -> default
VPC and subnets -> domain (IAM auth), waited until InService -> ABAC policy -> for each user: the
user profile tagged ``studiouserid=TAG`` and the IAM user tagged the same with the ABAC policy
attached. Each step looks first and is skipped when its resource already exists, so a second run
changes nothing. ``status`` runs the same looks without changing anything.

What bootstrap creates is tagged ``smops:managed-by=jupyter-smops`` and ``smops:domain=NAME``
(IAM users also live under the path ``/smops/NAME/``): teardown deletes only what carries them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from ..errors import BadRequest, Conflict, NotFound, SmopsError
from . import policies
from .calls import Caller, state_of, with_steps_done
from .report import Report

MANAGED_BY = ("smops:managed-by", "jupyter-smops")
DOMAIN_TAG = "smops:domain"
_PROFILE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
# The owner tag names the user's S3 folder and starts their SageMaker model names, which the ABAC
# policy matches ("model/${aws:PrincipalTag/studiouserid}-*"); SageMaker ARNs are lowercase.
_TAG_VALUE = re.compile(r"^[a-z0-9](-?[a-z0-9]){0,31}$")
_FAILED = {"Failed", "Delete_Failed", "Update_Failed"}


@dataclass(frozen=True)
class UserSpec:
    """One Studio user: profile name, owner tag value, IAM user name."""

    profile: str
    tag: str
    iam_user: str


def parse_user(text: str) -> UserSpec:
    """``NAME:TAG`` (``--user alice:alice123``) -> profile NAME and IAM user NAME, tagged TAG."""
    name, sep, tag = (text or "").partition(":")
    if not sep or not name or not tag:
        raise BadRequest(f"Invalid --user {text!r}: use NAME:TAG, e.g. --user alice:alice123 (profile and IAM "
                         f"user 'alice', tagged studiouserid=alice123).")
    if not _PROFILE.match(name):
        raise BadRequest(f"Invalid user name {name!r}: 1-63 letters, digits and hyphens (a user profile name).")
    if not _TAG_VALUE.match(tag):
        raise BadRequest(f"Invalid tag value {tag!r}: 1-32 lowercase letters, digits and single hyphens (it names "
                         f"the user's registry folder and starts their SageMaker model names), e.g. alice123.")
    return UserSpec(profile=name, tag=tag, iam_user=name)


@dataclass(frozen=True)
class Spec:
    """What bootstrap sets up (defaults follow the seed)."""

    domain: str
    users: tuple = ()
    region: str = "us-east-1"
    role_name: str = "SageMakerDomainExecutionRole"
    policy_name: str = "SageMaker-Studio-ABAC"
    bucket: Optional[str] = None
    prefix: str = "model-artifacts"
    vpc_id: Optional[str] = None
    subnet_ids: tuple = ()
    vpc_only: bool = False
    security_group_ids: tuple = ()
    tag_key: str = policies.DEFAULT_TAG_KEY

    def tags(self) -> list[dict]:
        return [{"Key": MANAGED_BY[0], "Value": MANAGED_BY[1]}, {"Key": DOMAIN_TAG, "Value": self.domain}]

    @property
    def user_path(self) -> str:
        return f"/smops/{self.domain}/"


@dataclass
class _State:
    account: str = ""
    role_arn: str = ""
    bucket: str = ""
    domain_id: str = ""
    domain: dict = field(default_factory=dict)
    policy_arns: list = field(default_factory=list)


class Bootstrap:
    """Runs the steps; ``apply=False`` only looks (``status``)."""

    def __init__(self, caller: Caller, spec: Spec, apply: bool = True):
        if not _PROFILE.match(spec.domain or ""):
            raise BadRequest(f"Invalid domain name {spec.domain!r}: 1-63 letters, digits and hyphens.")
        if apply and spec.vpc_only and not spec.security_group_ids:
            # SageMaker refuses a VpcOnly domain without them; say so before anything is created.
            raise BadRequest("A VpcOnly domain needs security groups for its apps: pass --security-group-ids sg-... "
                             "(allowing NFS, TCP 2049, between the apps and the domain's EFS, and HTTPS out to the "
                             "VPC endpoints), or drop --vpc-only.")
        self.caller, self.spec, self.apply = caller, spec, apply
        title = f"Bootstrap of domain {spec.domain}" if apply else f"Status of domain {spec.domain}"
        self.report = Report(title, dry_run=caller.dry_run)
        self.s = _State()

    def run(self) -> Report:
        """Every step in order; returns the report (also for a dry run, with the plan)."""
        self.s.account = self.caller.call("sts", "GetCallerIdentity")["Account"]
        self.role()
        self.bucket()
        self.domain()
        self.abac_policy()
        for user in self.users():
            self.profile(user)
            self.iam_user(user)
            if user.tag:  # expiry and public-front roles of this owner (owner_roles.py)
                from .owner_roles import ensure_owner_roles

                ensure_owner_roles(self, user)
        self.report.data.update({"domain_id": self.s.domain_id, "role_arn": self.s.role_arn,
                                 "bucket": self.s.bucket, "policy_arns": self.s.policy_arns})
        if self.caller.dry_run:
            self.report.plan = list(getattr(self.caller, "lines", []))
        if self.spec.vpc_only and self.apply:
            self.report.footer = ("VpcOnly: apps reach PyPI only through a NAT gateway. Install the extension from S3 "
                                  "(lifecycle-config create --wheel s3://...) and add an S3 gateway endpoint to the VPC.")
        return self.report

    # -- execution role ------------------------------------------------------------------
    def role(self) -> None:
        name = self.spec.role_name
        found = self.caller.find("iam", "GetRole", RoleName=name)
        if found is None:
            self.s.role_arn = f"arn:aws:iam::{self.s.account}:role/{name}"
            if not self.apply:
                self.report.add("execution role", name, "missing")
                return
            made = self.caller.call("iam", "CreateRole", RoleName=name, Tags=self.spec.tags(),
                                    AssumeRolePolicyDocument=policies.to_json(policies.trust_policy(), compact=True),
                                    Description="SageMaker Studio execution role (jupyter smops admin bootstrap)")
            self.s.role_arn = made["Role"]["Arn"]
            self.report.add("execution role", name, "created", "trusted by sagemaker.amazonaws.com")
        else:
            self.s.role_arn = found["Role"]["Arn"]
            if not policies.trusts_sagemaker(found["Role"].get("AssumeRolePolicyDocument", {})):
                raise Conflict(f"Role {name} exists but SageMaker may not assume it. Add the trust policy "
                               f"(jupyter smops admin policy trust) to it, or pass --role-name with another name.")
            self.report.add("execution role", name, "exists")
        attached = set()
        if found is not None:
            attached = {p["PolicyArn"] for p in self.caller.pages("iam", "ListAttachedRolePolicies", "AttachedPolicies",
                                                                   RoleName=name)}
        for arn in policies.MANAGED_POLICIES:
            self._attach_role_policy(name, arn, arn in attached)

    def _attach_role_policy(self, role: str, arn: str, attached: bool) -> None:
        short = arn.rsplit("/", 1)[-1]
        if attached:
            self.report.add("role policy", short, "exists")
        elif not self.apply:
            self.report.add("role policy", short, "missing", f"not attached to {role}")
        else:
            self.caller.call("iam", "AttachRolePolicy", RoleName=role, PolicyArn=arn)
            self.report.add("role policy", short, "attached", f"to {role}")

    # -- registry bucket -------------------------------------------------------------------
    def bucket(self) -> None:
        name = self.spec.bucket or f"sagemaker-{self.spec.region}-{self.s.account}"
        self.s.bucket = name
        try:
            self.caller.call("s3", "HeadBucket", Bucket=name)
            self.report.add("registry bucket", name, "exists")
            return
        except NotFound:
            pass
        except SmopsError as exc:
            if exc.status == 403:
                raise Conflict(f"Bucket {name} exists but belongs to another account or denies you: choose "
                               f"another with --bucket.") from exc
            raise
        if not self.apply:
            self.report.add("registry bucket", name, "missing")
            return
        params = {"Bucket": name}
        if self.spec.region != "us-east-1":  # us-east-1 refuses an explicit LocationConstraint
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.spec.region}
        self.caller.call("s3", "CreateBucket", **params)
        self.caller.call("s3", "PutPublicAccessBlock", Bucket=name, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        # Users may not set this (it could expire everyone's artifacts): interrupted uploads go after a day.
        self.caller.call("s3", "PutBucketLifecycleConfiguration", Bucket=name, LifecycleConfiguration={"Rules": [{
            "ID": "smops-abort-incomplete-uploads", "Status": "Enabled", "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]})
        self.caller.call("s3", "PutBucketTagging", Bucket=name, Tagging={"TagSet": self.spec.tags()})
        self.report.add("registry bucket", name, "created", "public access blocked, interrupted uploads expire")

    # -- network and domain ----------------------------------------------------------------
    def network(self) -> tuple[str, list[str]]:
        """The VPC and subnets given, else the default VPC and its subnets."""
        vpc = self.spec.vpc_id
        if not vpc:
            vpcs = self.caller.call("ec2", "DescribeVpcs", Filters=[{"Name": "isDefault", "Values": ["true"]}])
            if not vpcs.get("Vpcs"):
                raise NotFound(f"There is no default VPC in {self.spec.region}. Create one (aws ec2 create-default-vpc) "
                               f"or pass --vpc-id and --subnet-ids.")
            vpc = vpcs["Vpcs"][0]["VpcId"]
        subnets = list(self.spec.subnet_ids)
        if not subnets:
            found = self.caller.call("ec2", "DescribeSubnets", Filters=[{"Name": "vpc-id", "Values": [vpc]}])
            subnets = sorted(s["SubnetId"] for s in found.get("Subnets", []))
            if not subnets:
                raise NotFound(f"VPC {vpc} has no subnets: pass --subnet-ids.")
        return vpc, subnets

    def find_domain(self) -> Optional[dict]:
        """The domain named ``spec.domain`` (its DescribeDomain), or None."""
        for item in self.caller.pages("sagemaker", "ListDomains", "Domains"):
            if item.get("DomainName") == self.spec.domain:
                return self.caller.call("sagemaker", "DescribeDomain", DomainId=item["DomainId"])
        return None

    def domain(self) -> None:
        found = self.find_domain()
        if found is not None:
            self.s.domain_id = found["DomainId"]
            status = found.get("Status", "")
            if found.get("AuthMode", "IAM") != "IAM":  # presigned URLs and the IAM users need IAM auth
                status += f", AuthMode {found['AuthMode']}: IAM users and presigned URLs do not apply"
            self.report.add("domain", f"{self.spec.domain} ({self.s.domain_id})", "exists", status)
            if self.apply and status != "InService":
                self._wait_domain()
            self.s.domain = found
            return
        if not self.apply:
            self.report.add("domain", self.spec.domain, "missing")
            return
        vpc, subnets = self.network()
        made = self.caller.call(
            "sagemaker", "CreateDomain", DomainName=self.spec.domain, AuthMode="IAM", VpcId=vpc, SubnetIds=subnets,
            AppNetworkAccessType="VpcOnly" if self.spec.vpc_only else "PublicInternetOnly",
            DefaultUserSettings={"ExecutionRole": self.s.role_arn,
                                 **({"SecurityGroups": list(self.spec.security_group_ids)}
                                    if self.spec.security_group_ids else {})},
            Tags=self.spec.tags())
        # moto's CreateDomain answers without DomainId; the ARN ends with it either way.
        self.s.domain_id = made.get("DomainId") or made["DomainArn"].rsplit("/", 1)[-1]
        self.report.add("domain", f"{self.spec.domain} ({self.s.domain_id})", "created",
                        f"IAM auth, {vpc}, {len(subnets)} subnet(s)")
        self._wait_domain()

    def _wait_domain(self) -> None:
        self.caller.wait(f"Domain {self.spec.domain}", "sagemaker", "DescribeDomain", {"DomainId": self.s.domain_id},
                         state=state_of(), done={"InService"}, failed=_FAILED, timeout=1800, interval=15)

    # -- ABAC policies ---------------------------------------------------------------------
    def abac_policy(self) -> None:
        """The ABAC policy, as the managed policies IAM's size limit allows (policies.abac_policies)."""
        documents = policies.abac_policies(self.spec.policy_name, account=self.s.account, bucket=self.s.bucket,
                                           prefix=self.spec.prefix, role_arn=self.s.role_arn, tag_key=self.spec.tag_key)
        for name, document in documents.items():
            arn = f"arn:aws:iam::{self.s.account}:policy/{name}"
            self.s.policy_arns.append(arn)
            self._managed_policy(name, arn, document)

    def _managed_policy(self, name: str, arn: str, document: dict) -> None:
        found = self.caller.find("iam", "GetPolicy", PolicyArn=arn)
        if found is None:
            if not self.apply:
                self.report.add("ABAC policy", name, "missing")
                return
            self.caller.call("iam", "CreatePolicy", PolicyName=name, PolicyDocument=policies.to_json(document, compact=True),
                             Description="Studio ABAC: each user reaches only resources tagged with their id",
                             Tags=self.spec.tags())
            self.report.add("ABAC policy", name, "created")
            return
        version = self.caller.call("iam", "GetPolicyVersion", PolicyArn=arn,
                                   VersionId=found["Policy"]["DefaultVersionId"])["PolicyVersion"]
        if policies.same_document(version.get("Document", "{}"), document):
            self.report.add("ABAC policy", name, "exists")
        elif not self.apply:
            self.report.add("ABAC policy", name, "outdated", "differs from this version's document")
        else:
            self._new_policy_version(arn, document)
            self.report.add("ABAC policy", name, "updated", "new default version")

    def _new_policy_version(self, arn: str, document: dict) -> None:
        versions = list(self.caller.pages("iam", "ListPolicyVersions", "Versions", PolicyArn=arn))
        if len(versions) >= 5:  # IAM keeps at most five versions: drop the oldest non-default one
            old = sorted((v for v in versions if not v.get("IsDefaultVersion")), key=lambda v: str(v.get("CreateDate")))
            self.caller.call("iam", "DeletePolicyVersion", PolicyArn=arn, VersionId=old[0]["VersionId"])
        self.caller.call("iam", "CreatePolicyVersion", PolicyArn=arn,
                         PolicyDocument=policies.to_json(document, compact=True), SetAsDefault=True)

    # -- users -----------------------------------------------------------------------------
    def users(self) -> list[UserSpec]:
        """The users asked for; for ``status`` without --user, the domain's profiles."""
        if self.spec.users or self.apply or not self.s.domain_id:
            return list(self.spec.users)
        found = []
        for item in self.caller.pages("sagemaker", "ListUserProfiles", "UserProfiles", DomainIdEquals=self.s.domain_id):
            name = item["UserProfileName"]
            found.append(UserSpec(profile=name, tag=self._profile_tag(name) or "", iam_user=name))
        return found

    def _profile_tag(self, name: str, arn: Optional[str] = None) -> Optional[str]:
        if arn is None:
            return profile_tag(self.caller, self.s.domain_id, name, self.spec.tag_key)
        tags = self.caller.call("sagemaker", "ListTags", ResourceArn=arn).get("Tags", [])
        return {t["Key"]: t["Value"] for t in tags}.get(self.spec.tag_key)

    def profile(self, user: UserSpec) -> None:
        what = "user profile"
        if not self.s.domain_id:
            self.report.add(what, user.profile, "missing", "no domain")
            return
        found = self.caller.find("sagemaker", "DescribeUserProfile", DomainId=self.s.domain_id,
                                 UserProfileName=user.profile)
        if found is None:
            if not self.apply:
                self.report.add(what, user.profile, "missing")
                return
            self.caller.call("sagemaker", "CreateUserProfile", DomainId=self.s.domain_id, UserProfileName=user.profile,
                             Tags=[{"Key": self.spec.tag_key, "Value": user.tag}] + self.spec.tags())
            self.report.add(what, user.profile, "created", f"{self.spec.tag_key}={user.tag}")
            self.caller.wait(f"User profile {user.profile}", "sagemaker", "DescribeUserProfile",
                             {"DomainId": self.s.domain_id, "UserProfileName": user.profile},
                             state=state_of(), done={"InService"}, failed=_FAILED, timeout=600, interval=5)
            return
        current = self._profile_tag(user.profile, found.get("UserProfileArn"))
        if current == user.tag or (not self.apply and not self.spec.users):
            self.report.add(what, user.profile, "exists", f"{self.spec.tag_key}={current}")
        elif not self.apply:
            self.report.add(what, user.profile, "mismatch", f"{self.spec.tag_key}={current}, expected {user.tag}")
        else:
            self.caller.call("sagemaker", "AddTags", ResourceArn=found["UserProfileArn"],
                             Tags=[{"Key": self.spec.tag_key, "Value": user.tag}])
            self.report.add(what, user.profile, "tagged", f"{self.spec.tag_key}: {current} -> {user.tag}")

    def iam_user(self, user: UserSpec) -> None:
        what = "IAM user"
        found = self.caller.find("iam", "GetUser", UserName=user.iam_user)
        if found is None:
            if not self.apply:
                self.report.add(what, user.iam_user, "missing")
                return
            self.caller.call("iam", "CreateUser", UserName=user.iam_user, Path=self.spec.user_path,
                             Tags=[{"Key": self.spec.tag_key, "Value": user.tag}] + self.spec.tags())
            self.report.add(what, user.iam_user, "created", f"{self.spec.tag_key}={user.tag}")
        else:
            tags = {t["Key"]: t["Value"] for t in
                    self.caller.pages("iam", "ListUserTags", "Tags", UserName=user.iam_user)}
            current = tags.get(self.spec.tag_key)
            if current == user.tag:
                self.report.add(what, user.iam_user, "exists", f"{self.spec.tag_key}={current}")
            elif not self.apply:
                self.report.add(what, user.iam_user, "mismatch", f"{self.spec.tag_key}={current}, expected {user.tag}")
            else:
                self.caller.call("iam", "TagUser", UserName=user.iam_user,
                                 Tags=[{"Key": self.spec.tag_key, "Value": user.tag}])
                self.report.add(what, user.iam_user, "tagged", f"{self.spec.tag_key}: {current} -> {user.tag}")
        attached = set() if found is None else {
            p["PolicyArn"] for p in self.caller.pages("iam", "ListAttachedUserPolicies", "AttachedPolicies",
                                                      UserName=user.iam_user)}
        self._attach_user_policies(user.iam_user, attached)

    def _attach_user_policies(self, user: str, attached: set) -> None:
        missing = [arn for arn in self.s.policy_arns if arn not in attached]
        # Releases before the split attached one policy named --policy-name: the parts replace it.
        legacy = f"arn:aws:iam::{self.s.account}:policy/{self.spec.policy_name}"
        replaced = legacy in attached and legacy not in self.s.policy_arns
        if self.apply and len(attached) - replaced + len(missing) > policies.USER_MANAGED_POLICY_LIMIT:
            # Checked before attaching any, so the user is never left with only part of the policy.
            raise BadRequest(f"IAM user {user} has {len(attached)} managed policies attached; the "
                             f"{len(missing)} ABAC policies would pass IAM's limit of "
                             f"{policies.USER_MANAGED_POLICY_LIMIT} per user. Detach some of its policies (or raise "
                             f"the quota 'Managed policies per user') and run bootstrap again.")
        # The old policy goes after the parts are on, so access never lapses; first only when the
        # parts cannot fit beside it (they replace it a moment later).
        first = replaced and len(attached) + len(missing) > policies.USER_MANAGED_POLICY_LIMIT
        if first:
            self._detach_legacy(user, legacy)
        for arn in self.s.policy_arns:
            name = arn.rsplit("/", 1)[-1]
            if arn in attached:
                self.report.add("user policy", name, "exists", f"attached to {user}")
            elif not self.apply:
                self.report.add("user policy", name, "missing", f"not attached to {user}")
            else:
                self.caller.call("iam", "AttachUserPolicy", UserName=user, PolicyArn=arn)
                self.report.add("user policy", name, "attached", f"to {user}")
        if replaced and not first:
            self._detach_legacy(user, legacy)

    def _detach_legacy(self, user: str, legacy: str) -> None:
        """Detach the single pre-split ABAC policy (admin teardown deletes it once unused)."""
        name = legacy.rsplit("/", 1)[-1]
        if self.apply:
            self.caller.call("iam", "DetachUserPolicy", UserName=user, PolicyArn=legacy)
            self.report.add("user policy", name, "detached", f"from {user}: replaced by its parts")
        else:
            self.report.add("user policy", name, "outdated", f"attached to {user}: bootstrap replaces it by its parts")


def profile_tag(caller: Caller, domain_id: str, name: str, tag_key: str) -> Optional[str]:
    """The owner tag of user profile ``name`` (None when it has none or is gone)."""
    found = caller.find("sagemaker", "DescribeUserProfile", DomainId=domain_id, UserProfileName=name)
    if not found or not found.get("UserProfileArn"):
        return None
    tags = caller.call("sagemaker", "ListTags", ResourceArn=found["UserProfileArn"]).get("Tags", [])
    return {t["Key"]: t["Value"] for t in tags}.get(tag_key)


def bootstrap(caller: Caller, spec: Spec) -> Report:
    """Set up (or complete) the domain described by ``spec``; see the module docstring."""
    run = Bootstrap(caller, spec, apply=True)
    try:
        return run.run()
    except SmopsError as exc:
        raise with_steps_done(exc, run.report) from exc


def status(caller: Caller, spec: Spec) -> Report:
    """What exists and what is missing, without changing anything."""
    run = Bootstrap(caller, spec, apply=False)
    try:
        report = run.run()
    except SmopsError as exc:
        raise with_steps_done(exc, run.report) from exc
    settings = ((report.data.get("domain_id") and _domain_settings(caller, report.data["domain_id"])) or {})
    arns = settings.get("LifecycleConfigArns") or []
    default = (settings.get("DefaultResourceSpec") or {}).get("LifecycleConfigArn")
    for arn in arns:
        report.add("lifecycle config", arn.rsplit("/", 1)[-1], "attached", "default" if arn == default else "")
    if report.data.get("domain_id") and not arns:
        report.add("lifecycle config", "-", "missing", "none attached to the domain (lifecycle-config attach)")
    if report.data.get("domain_id"):
        _user_resources(caller, spec, report)
    if caller.dry_run:
        report.plan = list(getattr(caller, "lines", []))
    return report


def _user_resources(caller: Caller, spec: Spec, report: Report) -> None:
    """What the users created with jupyter_smops, with the hourly cost (teardown refuses while it remains)."""
    from . import user_resources as ur

    owners = {d.split("=", 1)[1] for d in (s.detail for s in report.steps if s.what == "user profile")
              if d.startswith(f"{spec.tag_key}=")} | {u.tag for u in spec.users}
    owners.discard("None")
    if not owners:
        return
    found = ur.find(caller, owners, tag_key=spec.tag_key, bucket=report.data.get("bucket"), prefix=spec.prefix)
    for r in found:
        report.add(r.kind, r.name, "billed" if r.billed else "exists", r.describe())
    report.data["user_resources"] = [{"kind": r.kind, "name": r.name, "owner": r.owner, "usd_per_hour": r.usd_per_hour}
                                     for r in found]
    report.footer = (f"Users' resources: {ur.summary(found)}." if found else "Users' resources: none.") + \
        (f"\n{report.footer}" if report.footer else "")


def _domain_settings(caller: Caller, domain_id: str) -> dict:
    found = caller.find("sagemaker", "DescribeDomain", DomainId=domain_id) or {}
    return (found.get("DefaultUserSettings") or {}).get("JupyterLabAppSettings") or {}
