"""``admin teardown``: delete a Studio domain in the only order AWS accepts, waiting at each step.

apps (deleted, waited until Deleted) -> spaces (waited until gone) -> user profiles (waited) ->
the domain (waited). Before any of it, what the domain's users created with jupyter_smops
(endpoints, endpoint configs, models, model packages, registry objects: ``user_resources``) is
found: while any remains, teardown refuses and lists it with its hourly cost (deleting the
domain would leave it billed and ownerless), unless ``include_user_resources`` deletes it first. SageMaker refuses to delete a space or a profile with a running app, and a
domain with spaces or profiles, so each stage waits for the previous one instead of failing.

With ``everything`` it then removes what ``admin bootstrap`` created for that domain, and only
that: the IAM users under ``/smops/DOMAIN/``, the ABAC policies and the execution role when tagged
``smops:managed-by`` and no longer used, the registry bucket when tagged and empty, and the
lifecycle configurations attached to the domain that ``lifecycle-config create`` made.
"""
from __future__ import annotations

from typing import Optional

from ..errors import BadRequest, Conflict, NotFound, SmopsError
from .bootstrap import MANAGED_BY
from .calls import Caller, state_of, with_steps_done
from .policies import MANAGED_POLICIES, policy_names
from .report import Report

_GONE = {"Deleted"}  # what state_of says of a resource that no longer exists, too


def _plan_assumptions(caller: Caller, domain_id: str, domain_name: str) -> None:
    """A dry run cannot list: show the calls for one app, space and profile of each kind."""
    role = "arn:aws:iam::<account-id>:role/SageMakerDomainExecutionRole"
    ours = [{"Key": MANAGED_BY[0], "Value": MANAGED_BY[1]}]

    def domains(params: dict) -> dict:  # the domain is listed until its DeleteDomain is planned
        deleted = any(op == "DeleteDomain" for _, op, _ in caller.calls)
        return {"Domains": [] if deleted else [{"DomainId": domain_id, "DomainName": domain_name}]}

    caller.assume({
        ("sagemaker", "ListDomains"): domains,
        ("sagemaker", "DescribeDomain"): {"DomainId": domain_id, "DomainName": domain_name, "Status": "InService",
                                          "DefaultUserSettings": {"ExecutionRole": role, "JupyterLabAppSettings": {
                                              "LifecycleConfigArns": [
                                              "arn:aws:sagemaker:<region>:<account-id>:studio-lifecycle-config/<lcc-name>"]}}},
        ("sagemaker", "ListApps"): {"Apps": [{"DomainId": domain_id, "SpaceName": "<space-name>", "AppType": "JupyterLab",
                                              "AppName": "default", "Status": "InService"}]},
        ("sagemaker", "ListSpaces"): {"Spaces": [{"DomainId": domain_id, "SpaceName": "<space-name>"}]},
        ("sagemaker", "ListUserProfiles"): {"UserProfiles": [{"DomainId": domain_id, "UserProfileName": "<user-profile>"}]},
        ("sagemaker", "ListTags"): {"Tags": ours + [{"Key": "studiouserid", "Value": "<user-tag>"}]},
        ("sagemaker", "DescribeUserProfile"): {"UserProfileArn": f"arn:aws:sagemaker:<region>:<account-id>:user-profile/"
                                                                  f"{domain_id}/<user-profile>"},
        ("iam", "ListUsers"): {"Users": [{"UserName": "<iam-user>"}]},
        ("iam", "ListAttachedUserPolicies"): {"AttachedPolicies": [{"PolicyArn": f"arn:aws:iam::<account-id>:policy/{name}"}
                                                                   for name in policy_names("SageMaker-Studio-ABAC")]},
        ("iam", "GetRole"): {"Role": {"RoleName": "SageMakerDomainExecutionRole", "Arn": role}},
        ("iam", "ListRoleTags"): {"Tags": ours},
        ("iam", "ListAttachedRolePolicies"): {"AttachedPolicies": [{"PolicyArn": a} for a in MANAGED_POLICIES]},
        ("iam", "ListPolicyTags"): {"Tags": ours},
        ("iam", "GetPolicy"): {"Policy": {"Arn": "arn:aws:iam::<account-id>:policy/SageMaker-Studio-ABAC", "DefaultVersionId": "v1"}},
        ("s3", "GetBucketTagging"): {"TagSet": ours},
        ("s3", "ListObjectsV2"): {"KeyCount": 0},
    })


class Teardown:
    """Runs the stages; see the module docstring."""

    def __init__(self, caller: Caller, *, domain_id: Optional[str] = None, domain_name: Optional[str] = None,
                 delete_home: bool = False, everything: bool = False, policy_name: str = "SageMaker-Studio-ABAC",
                 bucket: Optional[str] = None, region: str = "us-east-1", include_user_resources: bool = False,
                 prefix: str = "model-artifacts", tag_key: str = "studiouserid"):
        if not domain_id and not domain_name:
            raise BadRequest("Say which domain: --domain-id d-xxxxxxxxxxxx or --domain NAME.")
        self.caller, self.domain_id, self.domain_name = caller, domain_id, domain_name
        self.delete_home, self.everything = delete_home, everything
        self.policy_name, self.bucket, self.region = policy_name, bucket, region
        self.include_user_resources, self.prefix, self.tag_key = include_user_resources, prefix, tag_key
        self.report = Report(f"Teardown of domain {domain_id or domain_name}", dry_run=caller.dry_run)
        if caller.dry_run:
            _plan_assumptions(caller, domain_id or "<domain-id>", domain_name or "<domain-name>")

    def run(self) -> Report:
        """Every stage in order; returns the report."""
        domain = self._find_domain()
        if domain is not None:
            self.domain_id, self.domain_name = domain["DomainId"], domain.get("DomainName", self.domain_name)
            settings = domain.get("DefaultUserSettings") or {}
            self.role_arn = settings.get("ExecutionRole")
            self.lcc_arns = list((settings.get("JupyterLabAppSettings") or {}).get("LifecycleConfigArns") or [])
            self.user_resources()
            self.apps()
            self.spaces()
            self.profiles()
            self.domain()
        else:
            self.role_arn, self.lcc_arns = None, []
            self.report.add("domain", self.domain_id or self.domain_name, "absent")
        if self.everything:
            self.created_resources()
        if self.caller.dry_run:
            self.report.plan = list(getattr(self.caller, "lines", []))
        return self.report

    def _find_domain(self) -> Optional[dict]:
        if self.domain_id:
            return self.caller.find("sagemaker", "DescribeDomain", DomainId=self.domain_id)
        for item in self.caller.pages("sagemaker", "ListDomains", "Domains"):
            if item.get("DomainName") == self.domain_name:
                return self.caller.call("sagemaker", "DescribeDomain", DomainId=item["DomainId"])
        return None

    def owners(self) -> set:
        """The owner tags of the domain's user profiles."""
        from .bootstrap import profile_tag

        names = [p["UserProfileName"] for p in self.caller.pages("sagemaker", "ListUserProfiles", "UserProfiles",
                                                                  DomainIdEquals=self.domain_id)]
        return {t for t in (profile_tag(self.caller, self.domain_id, n, self.tag_key) for n in names) if t}

    def user_resources(self) -> None:
        """Refuse while the users' resources remain (module docstring), or delete them first."""
        from . import user_resources as ur

        owners = self.owners()
        if not owners:
            return
        account = self.caller.call("sts", "GetCallerIdentity")["Account"]
        found = ur.find(self.caller, owners, tag_key=self.tag_key, prefix=self.prefix,
                        bucket=self.bucket or f"sagemaker-{self.region}-{account}")
        if not found or self.caller.dry_run and not self.include_user_resources:
            return
        if not self.include_user_resources:
            lines = "\n".join(f"  {r.kind} {r.name}: {r.describe()}" for r in found)
            raise Conflict(f"The domain's users still have {ur.summary(found)}:\n{lines}\nDeleting the domain "
                           f"would leave them running and billed. Delete them with --include-user-resources "
                           f"(see --dry-run first), or let each user run `jupyter smops cleanup`.")
        ur.delete(self.caller, found, self.report)

    def apps(self) -> None:
        keys = []
        for app in self.caller.pages("sagemaker", "ListApps", "Apps", DomainIdEquals=self.domain_id):
            key = {"DomainId": self.domain_id, "AppType": app["AppType"], "AppName": app["AppName"]}
            owner = {"SpaceName": app["SpaceName"]} if app.get("SpaceName") else {"UserProfileName": app["UserProfileName"]}
            key.update(owner)
            label = f"{app['AppType']}/{app['AppName']} of {next(iter(owner.values()))}"
            if app.get("Status") == "Deleted":
                continue
            if app.get("Status") != "Deleting":
                self.caller.call("sagemaker", "DeleteApp", **key)
            # An app that had already failed still reads Failed until its deletion starts.
            keys.append((label, key, set() if app.get("Status") == "Failed" else {"Failed"}))
        for label, key, failed in keys:  # all deletes first, then wait: they proceed in parallel
            self.caller.wait(f"App {label}", "sagemaker", "DescribeApp", key, state=state_of(), done=_GONE,
                             failed=failed, timeout=1200, interval=10)
            self.report.add("app", label, "deleted")

    def spaces(self) -> None:
        names = [s["SpaceName"] for s in self.caller.pages("sagemaker", "ListSpaces", "Spaces",
                                                            DomainIdEquals=self.domain_id)]
        self._delete_all("space", names, "DeleteSpace", "DescribeSpace", "SpaceName")

    def profiles(self) -> None:
        names = [p["UserProfileName"] for p in self.caller.pages("sagemaker", "ListUserProfiles", "UserProfiles",
                                                                  DomainIdEquals=self.domain_id)]
        self._delete_all("user profile", names, "DeleteUserProfile", "DescribeUserProfile", "UserProfileName")

    def _delete_all(self, what: str, names: list, delete_op: str, describe_op: str, key: str) -> None:
        for name in names:
            try:
                self.caller.call("sagemaker", delete_op, DomainId=self.domain_id, **{key: name})
            except NotFound:
                pass  # deleted meanwhile: the wait below confirms
        for name in names:
            self.caller.wait(f"{what.capitalize()} {name}", "sagemaker", describe_op,
                             {"DomainId": self.domain_id, key: name}, state=state_of(), done=_GONE,
                             failed={"Delete_Failed", "Failed"}, timeout=1200, interval=10)
            self.report.add(what, name, "deleted")

    def domain(self) -> None:
        retention = "Delete" if self.delete_home else "Retain"
        self.caller.call("sagemaker", "DeleteDomain", DomainId=self.domain_id,
                         RetentionPolicy={"HomeEfsFileSystem": retention})
        self.caller.wait(f"Domain {self.domain_name}", "sagemaker", "DescribeDomain", {"DomainId": self.domain_id},
                         state=state_of(), done=_GONE, failed={"Delete_Failed", "Failed"}, timeout=1800, interval=15)
        kept = "home EFS volume deleted" if self.delete_home else "home EFS volume kept (--delete-home to remove it)"
        self.report.add("domain", f"{self.domain_name} ({self.domain_id})", "deleted", kept)

    def created_resources(self) -> None:
        """What bootstrap and lifecycle-config create made for this domain (module docstring)."""
        from .owned import delete_owned

        if not self.domain_name:
            raise BadRequest("The domain is gone and its name is unknown: run again with --domain NAME --all.")
        delete_owned(self.caller, self.report, domain_name=self.domain_name, role_arn=self.role_arn,
                     policy_name=self.policy_name, bucket=self.bucket, region=self.region, lcc_arns=self.lcc_arns)


def teardown(caller: Caller, **options) -> Report:
    """Delete a domain (apps, spaces, user profiles, domain, in order); see ``Teardown``."""
    run = Teardown(caller, **options)
    try:
        return run.run()
    except SmopsError as exc:
        if isinstance(exc, Conflict):
            exc.message += " Something still uses it: see `jupyter smops admin status`, then run teardown again."
        raise with_steps_done(exc, run.report) from exc
