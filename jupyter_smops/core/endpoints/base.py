"""The one endpoints interface; ``local`` and ``sagemaker`` implement it."""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Callable, Iterator, Optional

from ..limits import INVOKE_TIMEOUT_SECONDS, MAX_PAYLOAD_BYTES, check_payload_size  # noqa: F401 (re-exported)
from ..types import (CleanupResult, DeployOptions, Endpoint, InvokeResult, ModelVersion, Progress, PublicFront,  # noqa: F401
                     no_progress)

# Backends and fakes import the limits and DeployOptions from here too (one interface module).


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
    def logs(self, name: str, tail: int = 200, since: Optional[float] = None) -> str:
        """The last ``tail`` lines of the endpoint's log, of those written at or after ``since``
        (epoch seconds; ``logtime.parse_since`` reads "10m" or an ISO time) when given."""

    def follow_logs(self, name: str, *, since: Optional[float] = None, until: Optional[float] = None,
                    poll: float = 1.0) -> Iterator[str]:
        """Log lines as they are written (from ``since``, else from now), one at a time, until the
        caller stops iterating, the time ``until`` (epoch seconds) or the endpoint is deleted.
        Backends that cannot follow refuse."""
        from ..errors import BadRequest

        raise BadRequest(f"Following the log is not available for {self.kind} endpoints; "
                         f"run logs again (with --since) instead.")

    @abc.abstractmethod
    def delete(self, name: str, progress: Progress = no_progress) -> None:
        """Delete the endpoint and what was created with it; NotFound if absent."""

    @abc.abstractmethod
    def cleanup(self, owner: str, dry_run: bool = False) -> CleanupResult:
        """Delete every endpoint (and its config and model) of ``owner``."""

    def describe_backend(self) -> dict:
        return {"kind": self.kind}

    def runtime_url(self) -> Optional[str]:
        """The SageMaker Runtime URL (InvokeEndpoint) for these endpoints when this backend serves
        one itself (local endpoints); None means the AWS SDK's own endpoint."""
        return None

    # -- expiry and the public front (issue 16) ------------------------------------------
    def set_expiry(self, name: str, expires_at: Optional[float], owner: str) -> Endpoint:
        """Make the endpoint expire at ``expires_at`` (epoch seconds), or never (None); returns
        it described again. Backends without expiry refuse."""
        from ..errors import BadRequest

        raise BadRequest(f"{self.kind} endpoints have no expiry to change.")

    def expose(self, name: str, owner: str, *, rate_limit: float, burst_limit: int,
               quota_per_day: int) -> "PublicFront":
        """Give the endpoint a public front (an HTTPS URL behind an API key, throttled and with
        a daily quota); the result carries the key once. Backends without one refuse."""
        from ..errors import BadRequest

        raise BadRequest(f"{self.kind} endpoints cannot be exposed.")

    def unexpose(self, name: str) -> bool:
        """Remove the endpoint's public front; False when it had none."""
        return False
