"""All settings in one traitlets ``Configurable``.

Precedence: explicit constructor/traitlets config (``c.SmopsConfig.bucket = ...``) over the
``SMOPS_*`` environment variables over the defaults. No Jupyter imports here: the core, the
magics, the CLI and the server extension all build their settings from this class.
"""
from __future__ import annotations

import getpass
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from traitlets import Bool, Float, Integer, TraitError, Type, Unicode, default, validate
from traitlets.config import Configurable

STUDIO_METADATA_PATH = "/opt/ml/metadata/resource-metadata.json"
BACKENDS = ("auto", "local", "aws")


def _env(name: str, fallback: Optional[str] = None) -> Optional[str]:
    value = os.environ.get(name)
    return value if value not in (None, "") else fallback


def _env_bool(name: str, fallback: bool) -> bool:
    value = _env(name)
    if value is None:
        return fallback
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class StudioInfo:
    """What SageMaker Studio tells an app about where it runs."""

    domain_id: Optional[str] = None
    user_profile_name: Optional[str] = None
    space_name: Optional[str] = None
    execution_role_arn: Optional[str] = None
    resource_arn: Optional[str] = None

    @property
    def detected(self) -> bool:
        return bool(self.domain_id)


def read_studio_metadata(path: str | os.PathLike) -> StudioInfo:
    """Read Studio's resource metadata; an absent or unreadable file means "not in Studio"."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return StudioInfo()
    if not isinstance(data, dict):
        return StudioInfo()
    return StudioInfo(
        domain_id=data.get("DomainId"),
        user_profile_name=data.get("UserProfileName"),
        space_name=data.get("SpaceName"),
        execution_role_arn=data.get("ExecutionRoleArn"),
        resource_arn=data.get("ResourceArn"),
    )


def _check_backend_name(value: str) -> str:
    name = value.strip().lower()
    if name not in BACKENDS:
        from .errors import BadRequest

        raise BadRequest(f"Unknown backend {value!r}: use one of {', '.join(BACKENDS)} (SMOPS_BACKEND).")
    return name


class SmopsConfig(Configurable):
    """Settings of jupyter_smops (each also read from the ``SMOPS_*`` variable named in its help)."""

    backend = Unicode(help="Backend: auto (aws when boto3 finds credentials, else local), local or aws. SMOPS_BACKEND").tag(config=True)
    home = Unicode(help="Local state: registry folder, endpoint state and logs. SMOPS_HOME, default ~/.smops").tag(config=True)
    bucket = Unicode(help="S3 bucket of the registry (aws). SMOPS_BUCKET, default sagemaker-<region>-<account>").tag(config=True)
    prefix = Unicode(help="Key prefix in the bucket. SMOPS_PREFIX").tag(config=True)
    role_arn = Unicode(help="SageMaker execution role for models (aws). SMOPS_ROLE_ARN, else Studio's").tag(config=True)
    owner = Unicode(help="Owner recorded and tagged on every resource. SMOPS_OWNER, else the Studio profile's tag, else the user name").tag(config=True)
    owner_tag_key = Unicode(help="Tag key carrying the owner (ABAC). SMOPS_OWNER_TAG_KEY").tag(config=True)
    region = Unicode(help="AWS region. SMOPS_REGION, else AWS_REGION / AWS_DEFAULT_REGION, else us-east-1").tag(config=True)
    instance_type = Unicode(help="Default instance type for deploys. SMOPS_INSTANCE_TYPE").tag(config=True)
    require_approval = Bool(help="Deploy only Approved versions. SMOPS_REQUIRE_APPROVAL").tag(config=True)
    studio_metadata_path = Unicode(help="Studio resource metadata file. SMOPS_STUDIO_METADATA").tag(config=True)
    validate_timeout = Float(help="Seconds the model may take to load and predict during validation. SMOPS_VALIDATE_TIMEOUT").tag(config=True)
    invoke_timeout = Float(60.0, help="InvokeEndpoint's limit in seconds (SageMaker: 60)").tag(config=True)
    archive_max_bytes = Integer(help="Most bytes a model.tar.gz may unpack to (default 10 GiB). SMOPS_ARCHIVE_MAX_BYTES").tag(config=True)
    archive_max_ratio = Float(help="Highest compression ratio of a model.tar.gz past 64 MiB unpacked (default 200). SMOPS_ARCHIVE_MAX_RATIO").tag(config=True)
    archive_max_entries = Integer(help="Most entries a model.tar.gz may hold (default 10,000). SMOPS_ARCHIVE_MAX_ENTRIES").tag(config=True)
    default_expires_in = Unicode(help="Expiry of a deploy that names none (90s, 30m, 2h, 1d; 'never' for none). SMOPS_DEFAULT_EXPIRES_IN, default 4h").tag(config=True)
    max_expires_in = Unicode(help="Admin cap on an endpoint's lifetime from now (deploy, extend); empty for no cap, which also allows --no-expiry. SMOPS_MAX_EXPIRES_IN").tag(config=True)
    scheduler_role_arn = Unicode(help="Role EventBridge Scheduler assumes to delete expired endpoints ('{owner}' is replaced). SMOPS_SCHEDULER_ROLE_ARN, default arn:aws:iam::<account>:role/smops-expiry-<owner>").tag(config=True)
    apigateway_role_arn = Unicode(help="Role API Gateway assumes to invoke exposed endpoints ('{owner}' is replaced). SMOPS_APIGATEWAY_ROLE_ARN, default arn:aws:iam::<account>:role/smops-front-<owner>").tag(config=True)
    # Type traits here, on the core's settings (not on the server's ExtensionApp): the magics and
    # the CLI build the same SmopsConfig, so a fake or third-party backend set once (in
    # jupyter_server_config.py, ipython_config.py, or SMOPS_*_CLASS) applies to every face. The
    # base classes are named by string so that importing the settings imports no backend.
    registry_class = Type(None, klass="jupyter_smops.core.registry.base.Registry", allow_none=True,
                          help="Registry class used instead of the backend's own (a class or its dotted "
                               "name; fakes for UI work and tests). SMOPS_REGISTRY_CLASS").tag(config=True)
    endpoints_class = Type(None, klass="jupyter_smops.core.endpoints.base.Endpoints", allow_none=True,
                           help="Endpoints class used instead of the backend's own (a class or its dotted "
                                "name, e.g. smops_testing.fakes.FakeEndpoints). SMOPS_ENDPOINTS_CLASS"
                           ).tag(config=True)

    @default("registry_class")
    def _registry_class_default(self):
        return self._class_from_env("registry_class", "SMOPS_REGISTRY_CLASS")

    @default("endpoints_class")
    def _endpoints_class_default(self):
        return self._class_from_env("endpoints_class", "SMOPS_ENDPOINTS_CLASS")

    def _class_from_env(self, trait: str, var: str):
        """The class named by ``var``, imported and checked now, with an error that names the variable."""
        name = _env(var)
        if name is None:
            return None
        try:
            return self.traits()[trait].validate(self, name.strip())
        except (TraitError, ImportError) as exc:
            from .errors import BadRequest

            raise BadRequest(f"{var}={name!r} is not usable: {exc}. Set it to the dotted name of an "
                             f"importable class (package.module.Class), or unset it.") from None

    @default("backend")
    def _backend_default(self) -> str:
        # Defaults skip @validate, so the environment's value is checked here too.
        return _check_backend_name(_env("SMOPS_BACKEND", "auto"))

    @validate("backend")
    def _check_backend(self, proposal):
        return _check_backend_name(proposal["value"])

    @default("home")
    def _home_default(self) -> str:
        return _env("SMOPS_HOME", str(Path.home() / ".smops"))

    @default("bucket")
    def _bucket_default(self) -> str:
        return _env("SMOPS_BUCKET", "")

    @default("prefix")
    def _prefix_default(self) -> str:
        return _env("SMOPS_PREFIX", "model-artifacts").strip("/")

    @default("role_arn")
    def _role_default(self) -> str:
        return _env("SMOPS_ROLE_ARN", "") or (self.studio.execution_role_arn or "")

    @default("owner")
    def _owner_default(self) -> str:
        return _env("SMOPS_OWNER", "")

    @default("owner_tag_key")
    def _owner_tag_default(self) -> str:
        return _env("SMOPS_OWNER_TAG_KEY", "studiouserid")

    @default("region")
    def _region_default(self) -> str:
        return _env("SMOPS_REGION") or _env("AWS_REGION") or _env("AWS_DEFAULT_REGION") or "us-east-1"

    @default("instance_type")
    def _instance_default(self) -> str:
        return _env("SMOPS_INSTANCE_TYPE", "ml.t2.medium")

    @default("default_expires_in")
    def _expires_default(self) -> str:
        return _env("SMOPS_DEFAULT_EXPIRES_IN", "4h")

    @default("max_expires_in")
    def _max_expires_default(self) -> str:
        return _env("SMOPS_MAX_EXPIRES_IN", "")

    @default("scheduler_role_arn")
    def _scheduler_role_default(self) -> str:
        return _env("SMOPS_SCHEDULER_ROLE_ARN", "")

    @default("apigateway_role_arn")
    def _apigateway_role_default(self) -> str:
        return _env("SMOPS_APIGATEWAY_ROLE_ARN", "")

    @default("require_approval")
    def _approval_default(self) -> bool:
        return _env_bool("SMOPS_REQUIRE_APPROVAL", False)

    @default("studio_metadata_path")
    def _studio_default(self) -> str:
        return _env("SMOPS_STUDIO_METADATA", STUDIO_METADATA_PATH)

    @default("validate_timeout")
    def _validate_timeout_default(self) -> float:
        return float(_env("SMOPS_VALIDATE_TIMEOUT", "60"))

    @default("archive_max_bytes")
    def _archive_bytes_default(self) -> int:
        return self._env_limits().max_bytes

    @default("archive_max_ratio")
    def _archive_ratio_default(self) -> float:
        return self._env_limits().max_ratio

    @default("archive_max_entries")
    def _archive_entries_default(self) -> int:
        return self._env_limits().max_entries

    @staticmethod
    def _env_limits():
        from .packaging.archive import ArchiveLimits

        return ArchiveLimits.from_env()

    def archive_limits(self):
        """The ``ArchiveLimits`` every extraction of an untrusted model.tar.gz applies."""
        from .packaging.archive import ArchiveLimits

        return ArchiveLimits(max_bytes=self.archive_max_bytes, max_ratio=self.archive_max_ratio,
                             max_entries=self.archive_max_entries)

    @property
    def studio(self) -> StudioInfo:
        return read_studio_metadata(self.studio_metadata_path)

    @property
    def home_path(self) -> Path:
        return Path(os.path.expanduser(self.home))

    def resolved_backend(self) -> str:
        """``local`` or ``aws``; ``auto`` becomes ``aws`` only when boto3 finds credentials."""
        if self.backend != "auto":
            return self.backend
        try:
            import boto3

            creds = boto3.Session().get_credentials()
        except Exception:  # a broken AWS config must not break the local backend
            creds = None
        return "aws" if creds is not None else "local"

    def default_owner(self) -> str:
        """Explicit owner, else the login name (the aws backend may refine it from Studio tags)."""
        if self.owner:
            return self.owner
        try:
            name = getpass.getuser()
        except Exception:
            name = "user"
        return re.sub(r"[^A-Za-z0-9_.@+=-]", "-", name) or "user"

    def public(self) -> dict:
        """Settings safe to show (no credentials are ever held here)."""
        keys = ("backend", "home", "bucket", "prefix", "role_arn", "owner", "owner_tag_key", "region",
                "instance_type", "require_approval", "studio_metadata_path", "validate_timeout", "invoke_timeout",
                "archive_max_bytes", "archive_max_ratio", "archive_max_entries", "default_expires_in", "max_expires_in",
                "scheduler_role_arn", "apigateway_role_arn")
        return {k: getattr(self, k) for k in keys}
