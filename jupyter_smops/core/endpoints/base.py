"""The one endpoints interface; ``local`` and ``sagemaker`` implement it."""
from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from ..types import CleanupResult, Endpoint, InvokeResult, ModelVersion, Progress, no_progress

# InvokeEndpoint's limits, enforced wherever invoking is emulated.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # 6,291,456
INVOKE_TIMEOUT_SECONDS = 60.0


def check_payload_size(size: int, *, so_far: bool = False) -> None:
    """PayloadTooLarge when ``size`` bytes exceed InvokeEndpoint's limit (``so_far``: a body still
    arriving, of which ``size`` bytes are known)."""
    if size > MAX_PAYLOAD_BYTES:
        from ..errors import PayloadTooLarge

        amount = f"more than {MAX_PAYLOAD_BYTES:,}" if so_far else f"{size:,}"
        raise PayloadTooLarge(f"The request body is {amount} bytes; InvokeEndpoint accepts at most "
                              f"{MAX_PAYLOAD_BYTES:,} (6 MiB). Send fewer rows per request, or use batch transform.")


@dataclass(frozen=True)
class DeployOptions:
    """How to deploy a version; unset fields take the backend's defaults."""

    instance_type: Optional[str] = None
    count: int = 1
    max_count: Optional[int] = None
    serverless_memory_mb: Optional[int] = None
    serverless_max_concurrency: int = 5
    framework_version: Optional[str] = None
    image_uri: Optional[str] = None
    wait: bool = True
    timeout: float = 1800.0


# Returns the local path of a version's verified model.tar.gz (downloading it if needed).
ArtifactFetcher = Callable[[ModelVersion], Path]


class Endpoints(abc.ABC):
    """Endpoints serving registry versions."""

    kind: str = "abstract"

    def prepare_deploy(self, mv: ModelVersion, options: DeployOptions) -> DeployOptions:
        """Checks only this backend can make before a deploy, fast and creating nothing; returns
        ``options`` completed with what it chose (SageMaker: the image for its region).
        ``Smops.plan_deploy`` calls it after the core's own rules (core/deploy_plan.py)."""
        return options

    @abc.abstractmethod
    def deploy(self, mv: ModelVersion, *, name: str, owner: str, options: DeployOptions,
               fetch: ArtifactFetcher, progress: Progress = no_progress) -> Endpoint:
        """Create an endpoint from planned options (``prepare_deploy`` ran); Conflict if the name
        is taken; nothing left behind on failure."""

    @abc.abstractmethod
    def list(self, owner: Optional[str] = None) -> list[Endpoint]:
        """Endpoints (of ``owner`` when given)."""

    @abc.abstractmethod
    def describe(self, name: str) -> Endpoint:
        """One endpoint; NotFound when absent."""

    def exists(self, name: str) -> bool:
        from ..errors import NotFound

        try:
            self.describe(name)
        except NotFound:
            return False
        return True

    @abc.abstractmethod
    def invoke(self, name: str, body: bytes, *, content_type: Optional[str] = None,
               accept: Optional[str] = None, timeout: float = INVOKE_TIMEOUT_SECONDS) -> InvokeResult:
        """InvokeEndpoint: returns 200 results; raises ModelError for container errors."""

    @abc.abstractmethod
    def logs(self, name: str, tail: int = 200) -> str:
        """The last ``tail`` lines of the endpoint's log."""

    @abc.abstractmethod
    def delete(self, name: str, progress: Progress = no_progress) -> None:
        """Delete the endpoint and what was created with it; NotFound if absent."""

    @abc.abstractmethod
    def cleanup(self, owner: str, dry_run: bool = False) -> CleanupResult:
        """Delete every endpoint (and its config and model) of ``owner``."""

    def describe_backend(self) -> dict:
        return {"kind": self.kind}
