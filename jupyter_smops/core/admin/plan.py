"""The dry run: a caller that records every AWS call instead of making it.

A dry run makes no AWS call at all, not even a read, so it works without credentials and shows
the full plan for an empty account: reads answer "not found" (or an empty list), creates answer
placeholders such as ``<domain-id>`` that later calls then carry. Each recorded call is checked
against botocore's service model (required parameters, types, lengths), so the plan is made of
requests AWS would accept, and printed as ``service.Operation {params}``.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from ..errors import BadRequest, NotFound
from .calls import Caller, describe_call

ACCOUNT = "<account-id>"
REGION = "<region>"
_READ_PREFIXES = ("Describe", "Get", "Head", "List")


def _placeholders(service: str, operation: str, params: dict) -> Optional[dict]:
    """What a create/read would answer in an empty account (None: the default answer)."""
    sm = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
    table: dict[tuple[str, str], Callable[[], dict]] = {
        ("sts", "GetCallerIdentity"): lambda: {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/<you>"},
        ("ec2", "DescribeVpcs"): lambda: {"Vpcs": [{"VpcId": "<default-vpc-id>", "IsDefault": True}]},
        ("ec2", "DescribeSubnets"): lambda: {"Subnets": [{"SubnetId": "<subnet-id-1>"}, {"SubnetId": "<subnet-id-2>"}]},
        ("iam", "CreateRole"): lambda: {"Role": {"RoleName": params["RoleName"],
                                                 "Arn": f"arn:aws:iam::{ACCOUNT}:role{params.get('Path', '/')}{params['RoleName']}"}},
        ("iam", "CreatePolicy"): lambda: {"Policy": {"PolicyName": params["PolicyName"],
                                                     "Arn": f"arn:aws:iam::{ACCOUNT}:policy/{params['PolicyName']}"}},
        ("iam", "CreateUser"): lambda: {"User": {"UserName": params["UserName"]}},
        ("sagemaker", "CreateDomain"): lambda: {"DomainId": "<domain-id>", "DomainArn": f"{sm}:domain/<domain-id>"},
        ("sagemaker", "CreateUserProfile"): lambda: {
            "UserProfileArn": f"{sm}:user-profile/{params['DomainId']}/{params['UserProfileName']}"},
        ("sagemaker", "CreateStudioLifecycleConfig"): lambda: {
            "StudioLifecycleConfigArn": f"{sm}:studio-lifecycle-config/{params['StudioLifecycleConfigName']}"},
        ("sagemaker", "CreatePresignedDomainUrl"): lambda: {"AuthorizedUrl": "<presigned-url>"},
    }
    make = table.get((service, operation))
    return make() if make else None


class PlanCaller(Caller):
    """Records calls (see the module docstring); ``echo`` receives each line as it is planned."""

    dry_run = True

    def __init__(self, echo: Optional[Callable[[str], None]] = None,
                 progress: Optional[Callable[[str], None]] = None):
        super().__init__(progress)
        self.echo = echo or (lambda line: None)
        self.lines: list[str] = []
        self._assumed: dict[tuple[str, str], Any] = {}
        self._models: dict[str, Any] = {}

    def assume(self, responses: dict) -> None:
        """``{("sagemaker", "ListApps"): {...}}``: answers for reads in this plan."""
        self._assumed.update(responses)

    def _record(self, line: str) -> None:
        self.lines.append(line)
        self.echo(line)

    def _check(self, service: str, operation: str, params: dict) -> None:
        """Refuse a planned request that the real service model would refuse."""
        import botocore.session
        from botocore.validate import ParamValidator

        if service not in self._models:
            self._models[service] = botocore.session.get_session().get_service_model(service)
        shape = self._models[service].operation_model(operation).input_shape
        report = ParamValidator().validate(params, shape) if shape is not None else None
        if report is not None and report.has_errors():
            raise BadRequest(f"Invalid request planned for {service}.{operation}: {report.generate_report()}")

    def call(self, service: str, operation: str, **params: Any) -> dict:
        self._check(service, operation, params)
        self.calls.append((service, operation, params))
        self._record(describe_call(service, operation, params))
        key = (service, operation)
        if key in self._assumed:
            answer = self._assumed[key]
            return answer(params) if callable(answer) else dict(answer)
        answer = _placeholders(service, operation, params)
        if answer is not None:
            return answer
        if operation.startswith("List"):
            return {}
        if operation.startswith(_READ_PREFIXES):
            raise NotFound(f"{service}.{operation}: assumed absent in a dry run.")
        return {}

    def wait(self, label, service, operation, params, *, state, done, failed=frozenset(),
             timeout=1800.0, interval=10.0):
        self._check(service, operation, params)
        self.calls.append((service, operation, params))
        until = " or ".join(sorted(done))
        self._record(f"{describe_call(service, operation, params)}  # repeated every {int(interval)} s until {until}")
        return sorted(done)[0]
