"""boto3 for the aws backend: one lazily built session and clients, and ONE error translator.

Clients are created on first use (building a botocore client costs ~50-100 ms and the Jupyter
server must not pay it at start) and shared by the registry and the endpoints. Every client uses
botocore's adaptive retry mode, which backs off and rate-limits itself on throttling — except
the ``sagemaker-runtime`` client: an InvokeEndpoint that may have reached the model (a read
timeout, a 5xx, a ModelError) is never sent again, since that would run the model again; only
an answer that says the model did not run (throttling, model not ready) or a connection that
never opened is retried, with jittered exponential back-off (``runtime_retry``).

``translate`` turns a botocore error into a core ``SmopsError`` whose message says what to do:
which IAM action is missing, which quota is reached, what to retry. Callers wrap AWS calls in
``aws_errors(step)`` so the step shows in the message.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Any, Iterator, Optional

from .errors import (AccessDenied, BadRequest, Conflict, NotFound, SmopsError, Timeout,
                     UpstreamError)

log = logging.getLogger("jupyter_smops")

DEFAULT_MAX_ATTEMPTS = 8
# InvokeEndpoint: the container has 60 s to answer, so the client waits a little longer than that
# (AWS's advice) and gives up on a connection that does not open within seconds.
RUNTIME_READ_TIMEOUT = 70
RUNTIME_CONNECT_TIMEOUT = 5
# S3 that went away must reach the user in seconds: botocore's defaults (60 s timeouts, and the
# 8 adaptive attempts below with back-off up to 20 s) froze a push's progress for ~2 minutes.
# 30 s of silence while reading is far beyond S3's answer to a 16 MiB part; 4 attempts still ride
# out a SlowDown or a dropped connection.
S3_CONNECT_TIMEOUT = 5
S3_READ_TIMEOUT = 30
S3_MAX_ATTEMPTS = 4
RUNTIME_MAX_ATTEMPTS = 4  # tries of one invocation refused before the model ran
# Answers of InvokeEndpoint that mean the model did not run, so sending the request again is safe.
RUNTIME_RETRYABLE = {"ThrottlingException", "ModelNotReadyException", "TooManyRequestsException"}
USER_AGENT = "jupyter-smops"
# Every S3 body this package sends carries a signed checksum header (SHA-256 for artifacts,
# botocore's default CRC32 otherwise) that S3 verifies, so hashing the body a second time for the
# SigV4 signature buys nothing: botocore already skips it over HTTPS when a checksum is present,
# and this skips it over plain HTTP too (moto, S3-compatible stores). Measured on a 222 MB
# upload to moto: the client's CPU time fell from 0.42 to 0.25 s.
_SERVICE_CONFIG: dict[str, dict] = {"s3": {"s3": {"payload_signing_enabled": False}}}

# Operations whose IAM action is not "<service>:<OperationName>".
_IAM_ACTIONS = {
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "ListParts"): "s3:ListMultipartUploadParts",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
    ("s3", "ListMultipartUploads"): "s3:ListBucketMultipartUploads",
    ("s3", "AbortMultipartUpload"): "s3:AbortMultipartUpload",
    ("s3", "DeleteObjects"): "s3:DeleteObject",
    ("s3", "PutPublicAccessBlock"): "s3:PutBucketPublicAccessBlock",
    ("s3", "PutBucketLifecycleConfiguration"): "s3:PutLifecycleConfiguration",
}
# Every IAM action the aws backend calls, and why (the admin's policies are built from this;
# tests record the calls of the whole workflow and check each is listed).
REQUIRED_ACTIONS = {
    "s3:ListBucket": "list registry versions (under <prefix>/<owner>/)",
    "s3:GetBucketLocation": "check the bucket exists",
    "s3:CreateBucket": "create the default bucket sagemaker-<region>-<account> on first push",
    "s3:PutBucketPublicAccessBlock": "block public access on the bucket it creates (optional)",
    "s3:PutLifecycleConfiguration": "expire abandoned multipart uploads in the bucket it creates (optional)",
    "s3:PutObject": "upload artifacts, metadata and version claims",
    "s3:PutObjectTagging": "tag objects with the owner and smops:* at upload",
    "s3:GetObject": "read metadata; download artifacts for local deploys",
    "s3:DeleteObject": "delete registry versions; roll back failed pushes",
    "s3:AbortMultipartUpload": "abort interrupted uploads",
    "s3:ListBucketMultipartUploads": "find interrupted uploads",
    "sagemaker:CreateModelPackageGroup": "one Model Package Group per model name",
    "sagemaker:DescribeModelPackageGroup": "check the group exists",
    "sagemaker:CreateModelPackage": "register each version (the package's number is the version's)",
    "sagemaker:UpdateModelPackage": "complete a pushed version's package; approve / reject",
    "sagemaker:DeleteModelPackage": "delete a version's package",
    "sagemaker:ListModelPackages": "find packages of pushes that died (cleanup)",
    "sagemaker:DescribeModelPackage": "tell a dead push's package from a version's (cleanup)",
    "sagemaker:AddTags": "tag models, configs, endpoints and packages at creation (ABAC)",
    "sagemaker:ListTags": "owner-scoped listings and cleanup",
    "sagemaker:CreateModel": "deploy step 1", "sagemaker:CreateEndpointConfig": "deploy step 2",
    "sagemaker:CreateEndpoint": "deploy step 3",
    "sagemaker:DescribeModel": "show the image", "sagemaker:DescribeEndpointConfig": "show type/count",
    "sagemaker:DescribeEndpoint": "status, waiting", "sagemaker:ListEndpoints": "listing",
    "sagemaker:ListEndpointConfigs": "cleanup", "sagemaker:ListModels": "cleanup",
    "sagemaker:DeleteEndpoint": "delete", "sagemaker:DeleteEndpointConfig": "delete",
    "sagemaker:DeleteModel": "delete",
    "sagemaker:InvokeEndpoint": "predict",
    "sagemaker:DescribeUserProfile": "owner tag and execution role in Studio",
    "sagemaker:DescribeDomain": "execution role in Studio (domain default)",
    "iam:PassRole": "CreateModel passes the execution role to SageMaker",
    "application-autoscaling:RegisterScalableTarget": "--max-count",
    "application-autoscaling:PutScalingPolicy": "--max-count",
    "application-autoscaling:DeregisterScalableTarget": "delete an autoscaled endpoint",
    "application-autoscaling:TagResource": "tag the scalable target",
    "sagemaker:UpdateEndpointWeightsAndCapacities": "Application Auto Scaling checks the caller may scale the endpoint",
    "iam:CreateServiceLinkedRole": "the first autoscaled endpoint creates Application Auto Scaling's role",
    "logs:DescribeLogStreams": "%smops logs", "logs:GetLogEvents": "%smops logs",
    "sts:GetCallerIdentity": "account id (needs no permission)",
    "pricing:GetProducts": "%smops prices --refresh: the region's hosting prices (optional)",
    "sagemaker:DeleteTags": "extend --no-expiry and unexpose drop smops:expires-at / smops:public-url",
    "scheduler:GetScheduleGroup": "find the owner's schedule group before creating it",
    "scheduler:CreateScheduleGroup": "the owner's schedule group smops-<owner>, on the first deploy with expiry",
    "scheduler:CreateSchedule": "deploy --expires-in: the one-time schedule deleting the endpoint",
    "scheduler:UpdateSchedule": "extend", "scheduler:DeleteSchedule": "delete, cleanup, extend --no-expiry",
    "scheduler:ListSchedules": "cleanup", "scheduler:TagResource": "tag the schedule group at creation",
    "apigateway:POST": "expose: REST API, resource, deployment, API key, usage plan and its key",
    "apigateway:PUT": "expose: method, integration and their responses",
    "apigateway:GET": "expose/unexpose/cleanup: find the owner's fronts (REST APIs, usage plans, plan keys)",
    "apigateway:PATCH": "unexpose: detach the usage plan from the stage",
    "apigateway:DELETE": "unexpose, delete, cleanup",
}

_SERVICE_PREFIX = {"sagemaker-runtime": "sagemaker", "application-autoscaling": "application-autoscaling",
                   "logs": "logs", "s3": "s3", "sagemaker": "sagemaker", "sts": "sts"}

_ACCESS = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden", "403",
           "AllAccessDisabled"}
_CREDENTIALS = {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
                "SignatureDoesNotMatch", "InvalidAccessKeyId", "RequestExpired"}
_THROTTLE = {"ThrottlingException", "Throttling", "ThrottledException", "SlowDown", "TooManyRequestsException",
             "RequestLimitExceeded", "ProvisionedThroughputExceededException", "RequestThrottled"}
_NOT_FOUND = {"NoSuchKey", "404", "NotFound", "ResourceNotFound", "ResourceNotFoundException", "NotFoundException",
              "ObjectNotFoundException", "NoSuchUpload"}
_IN_USE = {"ResourceInUse", "ResourceInUseException", "ConflictException", "BucketAlreadyOwnedByYou",
           "PreconditionFailed", "ConditionalRequestConflict", "OperationAborted"}


def iam_action(service: str, operation: str) -> str:
    """The IAM action a call needs, e.g. ``("s3", "UploadPart")`` -> ``s3:PutObject``."""
    if service == "apigateway":  # API Gateway's actions are its HTTP methods
        verb = next((v for p, v in (("Get", "GET"), ("Create", "POST"), ("Put", "PUT"), ("Update", "PATCH"),
                                    ("Delete", "DELETE")) if operation.startswith(p)), operation)
        return f"apigateway:{verb}"
    if (service, operation) in _IAM_ACTIONS:
        return _IAM_ACTIONS[(service, operation)]
    return f"{_SERVICE_PREFIX.get(service, service)}:{operation}"


def _service_of(exc: Exception) -> str:
    model = getattr(exc, "operation_model", None)
    if model is not None:
        return model.service_model.service_name
    return getattr(exc, "_smops_service", "") or ""


def translate(exc: BaseException, step: str = "", service: str = "") -> SmopsError:
    """A botocore/boto3 exception -> the core error that says what to do (others pass through)."""
    if isinstance(exc, SmopsError):
        return exc
    from botocore import exceptions as bx

    where = f" during {step}" if step else ""
    if isinstance(exc, bx.NoCredentialsError) or isinstance(exc, bx.PartialCredentialsError):
        return AccessDenied(f"No AWS credentials were found{where}. Configure them (aws configure, aws sso login, "
                            f"or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or use SMOPS_BACKEND=local.",
                            code="NoCredentials")
    if isinstance(exc, (bx.NoRegionError,)):
        return BadRequest(f"No AWS region is set{where}: set AWS_REGION or SMOPS_REGION (e.g. us-east-1).")
    if isinstance(exc, (bx.ReadTimeoutError, bx.ConnectTimeoutError)):
        return Timeout(f"AWS did not answer in time{where}. Check the network and try again.")
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectionClosedError)):
        return UpstreamError(f"Cannot reach AWS{where} ({exc}). Check the network, AWS_ENDPOINT_URL and the "
                             f"region, then try again.", code="ConnectionError")
    if isinstance(exc, bx.ClientError):
        return _translate_client_error(exc, step, service or _service_of(exc))
    if isinstance(exc, bx.BotoCoreError):
        return UpstreamError(f"AWS call failed{where}: {exc}")
    return UpstreamError(f"Unexpected failure{where}: {type(exc).__name__}: {exc}")


def _translate_client_error(exc: Any, step: str, service: str) -> SmopsError:
    err = exc.response.get("Error", {}) or {}
    code = str(err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "Unknown")
    message = _clean(err.get("Message") or "")
    op = getattr(exc, "operation_name", "") or ""
    action = iam_action(service, op) if op else ""
    where = f"{step} ({op})" if step and op and step != op else (step or op or "an AWS call")
    said = f" AWS said: {message}" if message else ""
    if code in _ACCESS:
        return AccessDenied(
            f"Access denied for {where}: the caller's IAM policy does not allow {action or 'this action'}. "
            f"Ask your administrator to allow {action or 'it'} for your role (the smops ABAC policy from "
            f"`jupyter smops admin` includes it), or check the resource's owner tag.{said}", code="AccessDenied")
    if code in _CREDENTIALS:
        return AccessDenied(f"The AWS credentials were rejected during {where} ({code}): refresh them (aws sso "
                            f"login, a new session token) and try again.{said}", code=code)
    if code in _THROTTLE:
        tries = int(exc.response.get("ResponseMetadata", {}).get("RetryAttempts") or 0) + 1
        return UpstreamError(f"AWS throttled {where} and it kept failing after {tries} attempt(s) with adaptive "
                             f"back-off. Wait a minute and try again, or ask for a higher request quota.{said}",
                             code="Throttling")
    if code == "ResourceLimitExceeded":
        return Conflict(f"An AWS quota is reached during {where}.{said} Delete endpoints you no longer need "
                        f"(%smops cleanup), pick another instance type, or request a quota increase in the "
                        f"Service Quotas console (Amazon SageMaker).", code="ResourceLimitExceeded")
    if code == "NoSuchBucket":
        bucket = err.get("BucketName") or ""
        return NotFound(f"The S3 bucket {bucket!r} does not exist ({where}). {bucket_hint(bucket)}", code="NoSuchBucket")
    if code in _NOT_FOUND or "Could not find" in message or "does not exist" in message:
        return NotFound(f"Not found during {where}.{said}", code="NotFound")
    if code in _IN_USE or "already existing" in message or "already exists" in message:
        return Conflict(f"Conflict during {where}: the resource exists or is in use.{said} Choose another "
                        f"name or delete the existing one first.", code="Conflict")
    if code in ("ValidationException", "ValidationError", "InvalidParameterValue", "InvalidRequest", "BadRequestException",
                "InvalidArgument", "MalformedXML", "InvalidBucketName"):
        return BadRequest(f"AWS rejected {where} as invalid.{said} Check the values given (names, instance "
                          f"type, sizes) against the message.", code="ValidationException")
    return UpstreamError(f"AWS failed during {where}: {code}.{said} Try again; if it persists, check the AWS "
                         f"Health dashboard.", code=code if code.isidentifier() else "UpstreamError")


def _clean(message: str) -> str:
    """AWS's message, minus HTML error pages (a proxy or an emulator's 500) and endless text."""
    message = str(message).strip()
    if message.startswith("<"):
        return ""
    return message if len(message) <= 400 else message[:397] + "..."


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError ('' for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or "")
    return ""


def bucket_hint(bucket: str) -> str:
    """What to do about a missing registry bucket; names SMOPS_BUCKET only when it is set."""
    if os.environ.get("SMOPS_BUCKET"):
        return (f"Create it (aws s3 mb s3://{bucket}), set SMOPS_BUCKET to an existing bucket, or unset "
                f"SMOPS_BUCKET to use sagemaker-<region>-<account>.")
    if bucket.startswith("sagemaker-"):
        return "It is the default registry bucket: the next push creates it again."
    return (f"Create it (aws s3 mb s3://{bucket}), or point the registry at an existing bucket (SMOPS_BUCKET, or "
            f"c.SmopsConfig.bucket where this one is set), or drop that setting to use sagemaker-<region>-<account>.")


@contextlib.contextmanager
def aws_errors(step: str = "", service: str = "") -> Iterator[None]:
    """Run AWS calls; any botocore error leaves as a core error naming ``step``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, step, service) from exc


class AwsClients:
    """One boto3 session and its clients, built on first use and shared across threads."""

    def __init__(self, region: Optional[str] = None, *, max_attempts: Optional[int] = None):
        self.region = region
        self._max_attempts = max_attempts
        self._session = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._account: Optional[str] = None

    @property
    def max_attempts(self) -> int:
        # AWS_MAX_ATTEMPTS is boto's own knob; tests set it to 1 so unimplemented calls fail fast.
        if self._max_attempts is not None:
            return self._max_attempts
        try:
            return max(1, int(os.environ.get("AWS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)))
        except ValueError:
            return DEFAULT_MAX_ATTEMPTS

    @property
    def session(self):
        if self._session is None:
            import boto3

            self._session = boto3.session.Session(region_name=self.region or None)
        return self._session

    def client(self, service: str, **config: Any):
        """A cached client with adaptive retries (extra botocore Config values make a new one);
        ``sagemaker-runtime`` never re-sends an invocation that may have run (module docstring)."""
        key = service + repr(sorted(config.items()))
        with self._lock:
            if key not in self._clients:
                from botocore.config import Config

                retries: dict = {"mode": "adaptive", "total_max_attempts": self.max_attempts}
                if service == "sagemaker-runtime":
                    retries = {"mode": "standard", "total_max_attempts": 1}  # runtime_retry decides
                    config = {"read_timeout": RUNTIME_READ_TIMEOUT, "connect_timeout": RUNTIME_CONNECT_TIMEOUT,
                              **config}
                    config["read_timeout"] = max(int(config["read_timeout"]), RUNTIME_READ_TIMEOUT)
                if service == "s3":
                    retries["total_max_attempts"] = min(self.max_attempts, S3_MAX_ATTEMPTS)
                    config = {"connect_timeout": S3_CONNECT_TIMEOUT, "read_timeout": S3_READ_TIMEOUT, **config}
                cfg = Config(retries=retries, user_agent_extra=USER_AGENT, max_pool_connections=32,
                             **{**_SERVICE_CONFIG.get(service, {}), **config})
                with aws_errors(f"creating the {service} client", service):
                    made = self.session.client(service, config=cfg)
                if service == "sagemaker-runtime":
                    made.meta.events.register("needs-retry.sagemaker-runtime", runtime_retry)
                self._clients[key] = made
            return self._clients[key]

    def set_client(self, service: str, client: Any) -> None:
        """Replace a client (tests inject Stubber-wrapped or fault-injecting clients here)."""
        with self._lock:
            self._clients[service + repr([])] = client

    def account(self) -> str:
        """The caller's account id (STS GetCallerIdentity, cached)."""
        if self._account is None:
            with aws_errors("finding the AWS account (sts:GetCallerIdentity)", "sts"):
                self._account = self.client("sts").get_caller_identity()["Account"]
        return self._account

    @property
    def region_name(self) -> str:
        return self.region or self.session.region_name or "us-east-1"


def runtime_retry(attempts: int, response=None, caught_exception=None, **_: Any) -> Optional[float]:
    """botocore ``needs-retry`` handler of the runtime client: the seconds to wait before trying
    again, or None. Retries only what cannot have run the model: a refusal before it (throttling,
    model not ready) or a connection that never opened; never a read timeout, a 5xx or a ModelError."""
    import random

    from botocore import exceptions as bx

    if attempts >= RUNTIME_MAX_ATTEMPTS:
        return None
    if caught_exception is not None:
        # Nothing was sent: the connection was refused or did not open in time.
        never_sent = isinstance(caught_exception, (bx.ConnectTimeoutError, bx.EndpointConnectionError)) and \
            not isinstance(caught_exception, bx.ReadTimeoutError)
        retry = never_sent
    else:
        code = ((response or (None, {}))[1] or {}).get("Error", {}).get("Code", "")
        retry = code in RUNTIME_RETRYABLE
    if not retry:
        return None
    return random.uniform(0, min(8.0, 0.5 * 2 ** attempts))  # full jitter


_shared_lock = threading.Lock()


def clients_for(config) -> AwsClients:
    """The AwsClients shared by the registry and the endpoints built from one config object."""
    with _shared_lock:
        clients = getattr(config, "_smops_aws_clients", None)
        if clients is None:
            clients = AwsClients(getattr(config, "region", "") or None)
            # Cached on the config so one Smops shares clients, while a new config (a test) starts clean.
            setattr(config, "_smops_aws_clients", clients)
        return clients


def tag_list(owner_key: str, owner: str, **smops: Any) -> list[dict]:
    """SageMaker-style tags: the owner tag plus ``smops:<key>`` for each keyword given."""
    tags = [{"Key": owner_key, "Value": owner}]
    tags += [{"Key": f"smops:{k.replace('_', '-')}", "Value": str(v)} for k, v in smops.items() if v is not None]
    return tags


def tag_dict(tags: list[dict]) -> dict[str, str]:
    """``[{"Key", "Value"}]`` -> ``{key: value}``."""
    return {t["Key"]: t.get("Value", "") for t in tags or []}


def is_throttle(code: str) -> bool:
    return code in _THROTTLE


def serving_environment(region: str) -> dict[str, str]:
    """The scikit-learn container's environment for an artifact with ``code/inference.py``."""
    return {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
            "SAGEMAKER_REGION": region, "SAGEMAKER_CONTAINER_LOG_LEVEL": "20"}
