"""Test support for the admin tests (no tests here): the SageMaker Studio calls moto lacks.

moto answers IAM, S3, EC2, STS and SageMaker domains; it fails with HTTP 500 on user profiles,
lifecycle configs, UpdateDomain, apps, spaces and presigned URLs. ``FakeStudio`` answers those on
a real boto3 client pointed at moto, the way botocore's Stubber does: a ``before-call`` handler
returns the response, so the request was first serialized *and validated against the real
service model* by the client itself; every fake response is validated against the output shape
too. Unlike a scripted Stubber it keeps state, and it enforces AWS's ordering rules (no deleting a
space or profile with live apps, no deleting a domain with spaces or profiles), so a teardown in
the wrong order fails here as it would on AWS.
"""
from __future__ import annotations

import copy
import datetime as dt
from typing import Any, Optional

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.validate import ParamValidator

REGION, ACCOUNT = "us-east-1", "123456789012"
MUTATING_PREFIXES = ("Create", "Delete", "Update", "Put", "Attach", "Detach", "Add", "Tag", "Untag")


def client(service: str, endpoint: str):
    """A boto3 client on the moto server, one attempt per call (moto's 500s are not retried).
    Every request is checked against the service model's limits botocore does not check (what
    AWS would refuse fails the call here, as in tests/aws)."""
    made = boto3.client(service, region_name=REGION, endpoint_url=endpoint, aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 1}))
    made.meta.events.register("before-parameter-build", _refuse_what_aws_would)
    return made


def _refuse_what_aws_would(params, model, **_):
    import sys
    from pathlib import Path

    here = str(Path(__file__).parent / "aws")
    if here not in sys.path:
        sys.path.insert(0, here)
    from recorder import violations

    found = violations(model.input_shape, params)
    if found:
        raise AssertionError(f"request AWS would refuse: {model.name}: " + "; ".join(found))


def _faked(arn: str) -> bool:
    """Whether the resource is one FakeStudio keeps (moto keeps the rest, with their tags)."""
    return any(kind in arn for kind in (":user-profile/", ":space/", ":app/", ":studio-lifecycle-config/"))


class _Error(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class FakeStudio:
    """State and handlers for the Studio operations moto does not implement (module docstring)."""

    HANDLED = ("CreateUserProfile", "DescribeUserProfile", "ListUserProfiles", "DeleteUserProfile",
               "UpdateUserProfile", "CreateStudioLifecycleConfig", "DescribeStudioLifecycleConfig",
               "DeleteStudioLifecycleConfig", "UpdateDomain", "CreateApp", "DescribeApp", "ListApps", "DeleteApp",
               "CreateSpace", "DescribeSpace", "ListSpaces", "DeleteSpace", "CreatePresignedDomainUrl",
               "ListTags", "AddTags", "DeleteDomain")

    def __init__(self, endpoint: str):
        self.moto = client("sagemaker", endpoint)  # no hooks: to check domains exist
        self.profiles: dict[tuple, dict] = {}
        self.lccs: dict[str, dict] = {}
        self.apps: dict[tuple, dict] = {}
        self.spaces: dict[tuple, dict] = {}
        self.domain_settings: dict[str, dict] = {}
        self.tags: dict[str, list] = {}
        self.polls_while_changing = 1  # describe calls that still show Pending/Deleting
        self.fail_next: dict[str, tuple] = {}  # operation -> (code, message): fail its next call

    # -- wiring ----------------------------------------------------------------------------
    def install(self, sm_client) -> Any:
        """Hook the handlers into ``sm_client`` (a sagemaker client on moto); returns it."""
        events = sm_client.meta.events
        for op in self.HANDLED:
            events.register(f"before-parameter-build.sagemaker.{op}", self._capture)
            events.register(f"before-call.sagemaker.{op}", self._answer)
        events.register("after-call.sagemaker.DescribeDomain", self._overlay_domain)
        return sm_client

    @staticmethod
    def _capture(params, context, **kwargs):
        context["fake_params"] = copy.deepcopy(params)

    def _answer(self, model, context, **kwargs):
        params = context.get("fake_params", {})
        handler = getattr(self, f"_{model.name}")
        try:
            if model.name in self.fail_next:  # an injected fault, once
                raise _Error(*self.fail_next.pop(model.name))
            parsed = handler(**params)
        except _Error as err:
            return (AWSResponse(None, err.status, {}, None),
                    {"Error": {"Code": err.code, "Message": err.message},
                     "ResponseMetadata": {"HTTPStatusCode": err.status}})
        if parsed is None:  # let moto answer (e.g. ListTags on a domain, DeleteDomain once empty)
            return None
        if model.output_shape is not None:
            report = ParamValidator().validate(parsed, model.output_shape)
            assert not report.has_errors(), f"fake {model.name} answer is invalid: {report.generate_report()}"
        parsed["ResponseMetadata"] = {"HTTPStatusCode": 200}
        return AWSResponse(None, 200, {}, None), parsed

    def _overlay_domain(self, parsed, **kwargs):
        settings = self.domain_settings.get(parsed.get("DomainId"))
        if settings:
            parsed.setdefault("DefaultUserSettings", {}).update(copy.deepcopy(settings))

    def _domain_exists(self, domain_id: str) -> None:
        domains = self.moto.list_domains()["Domains"]
        if not any(d["DomainId"] == domain_id for d in domains):
            raise _Error("ResourceNotFound", f"Domain {domain_id} does not exist.")

    @staticmethod
    def _changing(record: dict) -> str:
        """Pending/Deleting for ``polls_while_changing`` describes, then InService/Deleted."""
        if record.get("polls", 0) > 0:
            record["polls"] -= 1
            return record["Status"]
        record["Status"] = {"Pending": "InService", "Deleting": "Deleted"}.get(record["Status"], record["Status"])
        return record["Status"]

    # -- user profiles ---------------------------------------------------------------------
    def _CreateUserProfile(self, DomainId, UserProfileName, Tags=(), UserSettings=None, **_):
        self._domain_exists(DomainId)
        if (DomainId, UserProfileName) in self.profiles:
            raise _Error("ResourceInUse", f"User profile {UserProfileName} already exists.")
        arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:user-profile/{DomainId}/{UserProfileName}"
        self.profiles[(DomainId, UserProfileName)] = {"Arn": arn, "Status": "Pending", "polls": self.polls_while_changing,
                                                      "UserSettings": UserSettings or {}, "Created": dt.datetime.now()}
        self.tags[arn] = list(Tags)
        return {"UserProfileArn": arn}

    def _profile(self, DomainId, UserProfileName) -> dict:
        record = self.profiles.get((DomainId, UserProfileName))
        if record is None:
            raise _Error("ResourceNotFound", f"User profile {UserProfileName} does not exist.")
        return record

    def _DescribeUserProfile(self, DomainId, UserProfileName, **_):
        record = self._profile(DomainId, UserProfileName)
        status = self._changing(record)
        if status == "Deleted":
            del self.profiles[(DomainId, UserProfileName)]
            raise _Error("ResourceNotFound", f"User profile {UserProfileName} does not exist.")
        return {"DomainId": DomainId, "UserProfileName": UserProfileName, "UserProfileArn": record["Arn"],
                "Status": status, "UserSettings": copy.deepcopy(record["UserSettings"]),
                "CreationTime": record["Created"]}

    def _ListUserProfiles(self, DomainIdEquals=None, **_):
        return {"UserProfiles": [{"DomainId": d, "UserProfileName": n, "Status": r["Status"]}
                                 for (d, n), r in self.profiles.items() if DomainIdEquals in (None, d)]}

    def _DeleteUserProfile(self, DomainId, UserProfileName, **_):
        record = self._profile(DomainId, UserProfileName)
        live = [k for k, a in self.apps.items() if k[0] == DomainId and k[1] == ("profile", UserProfileName)
                and a["Status"] != "Deleted"]
        if live:
            raise _Error("ResourceInUse", f"User profile {UserProfileName} has apps that are not deleted.")
        record.update(Status="Deleting", polls=self.polls_while_changing)
        return {}

    def _UpdateUserProfile(self, DomainId, UserProfileName, UserSettings=None, **_):
        record = self._profile(DomainId, UserProfileName)
        record["UserSettings"].update(copy.deepcopy(UserSettings or {}))
        return {"UserProfileArn": record["Arn"]}

    # -- lifecycle configs -----------------------------------------------------------------
    def _CreateStudioLifecycleConfig(self, StudioLifecycleConfigName, StudioLifecycleConfigContent,
                                     StudioLifecycleConfigAppType, Tags=(), **_):
        if StudioLifecycleConfigName in self.lccs:
            raise _Error("ResourceInUse", f"Lifecycle config {StudioLifecycleConfigName} already exists.")
        arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:studio-lifecycle-config/{StudioLifecycleConfigName}"
        self.lccs[StudioLifecycleConfigName] = {"StudioLifecycleConfigArn": arn,
                                                "StudioLifecycleConfigName": StudioLifecycleConfigName,
                                                "StudioLifecycleConfigContent": StudioLifecycleConfigContent,
                                                "StudioLifecycleConfigAppType": StudioLifecycleConfigAppType}
        self.tags[arn] = list(Tags)
        return {"StudioLifecycleConfigArn": arn}

    def _DescribeStudioLifecycleConfig(self, StudioLifecycleConfigName, **_):
        if StudioLifecycleConfigName not in self.lccs:
            raise _Error("ResourceNotFound", f"Lifecycle config {StudioLifecycleConfigName} does not exist.")
        return copy.deepcopy(self.lccs[StudioLifecycleConfigName])

    def _DeleteStudioLifecycleConfig(self, StudioLifecycleConfigName, **_):
        record = self.lccs.pop(StudioLifecycleConfigName, None)
        if record is None:
            raise _Error("ResourceNotFound", f"Lifecycle config {StudioLifecycleConfigName} does not exist.")
        self.tags.pop(record["StudioLifecycleConfigArn"], None)
        return {}

    # -- domains ---------------------------------------------------------------------------
    def _UpdateDomain(self, DomainId, DefaultUserSettings=None, **_):
        self._domain_exists(DomainId)
        self.domain_settings.setdefault(DomainId, {}).update(copy.deepcopy(DefaultUserSettings or {}))
        return {"DomainArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:domain/{DomainId}"}

    def _DeleteDomain(self, DomainId, **_):
        busy = [n for (d, n) in self.profiles if d == DomainId] + [n for (d, n) in self.spaces if d == DomainId]
        if busy:
            raise _Error("ResourceInUse", f"Domain {DomainId} still has spaces or user profiles: {busy}.")
        self.domain_settings.pop(DomainId, None)
        return None  # moto deletes it

    # -- apps and spaces -------------------------------------------------------------------
    def _CreateSpace(self, DomainId, SpaceName, **_):
        self._domain_exists(DomainId)
        self.spaces[(DomainId, SpaceName)] = {"Status": "InService", "polls": 0}
        return {"SpaceArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:space/{DomainId}/{SpaceName}"}

    def _space(self, DomainId, SpaceName) -> dict:
        record = self.spaces.get((DomainId, SpaceName))
        if record is None:
            raise _Error("ResourceNotFound", f"Space {SpaceName} does not exist.")
        return record

    def _DescribeSpace(self, DomainId, SpaceName, **_):
        record = self._space(DomainId, SpaceName)
        status = self._changing(record)
        if status == "Deleted":
            del self.spaces[(DomainId, SpaceName)]
            raise _Error("ResourceNotFound", f"Space {SpaceName} does not exist.")
        return {"DomainId": DomainId, "SpaceName": SpaceName, "Status": status}

    def _ListSpaces(self, DomainIdEquals=None, **_):
        return {"Spaces": [{"DomainId": d, "SpaceName": n, "Status": r["Status"]}
                           for (d, n), r in self.spaces.items() if DomainIdEquals in (None, d)]}

    def _DeleteSpace(self, DomainId, SpaceName, **_):
        record = self._space(DomainId, SpaceName)
        if any(k[0] == DomainId and k[1] == ("space", SpaceName) and a["Status"] != "Deleted"
               for k, a in self.apps.items()):
            raise _Error("ResourceInUse", f"Space {SpaceName} has apps that are not deleted.")
        record.update(Status="Deleting", polls=self.polls_while_changing)
        return {}

    @staticmethod
    def _app_key(DomainId, AppType, AppName, UserProfileName=None, SpaceName=None) -> tuple:
        owner = ("space", SpaceName) if SpaceName else ("profile", UserProfileName)
        return (DomainId, owner, AppType, AppName)

    def _CreateApp(self, DomainId, AppType, AppName, UserProfileName=None, SpaceName=None, **_):
        key = self._app_key(DomainId, AppType, AppName, UserProfileName, SpaceName)
        self.apps[key] = {"Status": "InService", "polls": 0}
        return {"AppArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:app/{DomainId}/{key[1][1]}/{AppType.lower()}/{AppName}"}

    def _DescribeApp(self, DomainId, AppType, AppName, UserProfileName=None, SpaceName=None, **_):
        key = self._app_key(DomainId, AppType, AppName, UserProfileName, SpaceName)
        if key not in self.apps:
            raise _Error("ResourceNotFound", f"App {AppName} does not exist.")
        record = self.apps[key]
        status = self._changing(record)
        return {"DomainId": DomainId, "AppType": AppType, "AppName": AppName, "Status": status}

    def _ListApps(self, DomainIdEquals=None, **_):
        apps = []
        for (d, (kind, owner), app_type, name), record in self.apps.items():
            if DomainIdEquals in (None, d):
                item = {"DomainId": d, "AppType": app_type, "AppName": name, "Status": record["Status"]}
                item["SpaceName" if kind == "space" else "UserProfileName"] = owner
                apps.append(item)
        return {"Apps": apps}

    def _DeleteApp(self, DomainId, AppType, AppName, UserProfileName=None, SpaceName=None, **_):
        key = self._app_key(DomainId, AppType, AppName, UserProfileName, SpaceName)
        if key not in self.apps or self.apps[key]["Status"] in ("Deleted", "Deleting"):
            raise _Error("ResourceNotFound", f"App {AppName} does not exist or is already being deleted.")
        self.apps[key].update(Status="Deleting", polls=self.polls_while_changing)
        return {}

    # -- tags and URLs ---------------------------------------------------------------------
    def _ListTags(self, ResourceArn, **_):
        if not _faked(ResourceArn):  # domains, endpoints, models...: moto's own
            return None
        if ResourceArn not in self.tags:
            raise _Error("ResourceNotFound", f"{ResourceArn} does not exist.")
        return {"Tags": list(self.tags[ResourceArn])}

    def _AddTags(self, ResourceArn, Tags, **_):
        if not _faked(ResourceArn):
            return None
        current = {t["Key"]: t["Value"] for t in self.tags.get(ResourceArn, [])}
        current.update({t["Key"]: t["Value"] for t in Tags})
        self.tags[ResourceArn] = [{"Key": k, "Value": v} for k, v in current.items()]
        return {"Tags": list(Tags)}

    def _CreatePresignedDomainUrl(self, DomainId, UserProfileName, **_):
        record = self._profile(DomainId, UserProfileName)
        if record["Status"] != "InService":
            raise _Error("ValidationException", f"User profile {UserProfileName} is {record['Status']}.")
        return {"AuthorizedUrl": f"https://{DomainId}.studio.{REGION}.sagemaker.aws/auth?token=fake-{UserProfileName}"}


def routed_caller(endpoint: str, fake: Optional[FakeStudio] = None, **kwargs):
    """A LiveCaller whose sagemaker client is moto + ``fake``; other services go to moto."""
    from jupyter_smops.core.admin.calls import LiveCaller

    fake = fake or FakeStudio(endpoint)
    clients = {"sagemaker": fake.install(client("sagemaker", endpoint))}

    def route(service: str, operation: str):
        if service not in clients:
            clients[service] = client(service, endpoint)
        return clients[service]

    caller = LiveCaller(route=route, sleep=lambda s: None, **kwargs)
    caller.fake = fake
    return caller


def mutating(calls) -> list[str]:
    """``service.Operation`` of every call that changes something."""
    return [f"{s}.{op}" for s, op, _ in calls if op.startswith(MUTATING_PREFIXES)]
