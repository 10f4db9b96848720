"""Where a registry keeps a version, and what its ``smops.json`` says: one layout for every registry.

``<root>/<name>/v<N>/model.tar.gz`` is the artifact and ``<root>/<name>/v<N>/smops.json`` its
metadata (DESIGN.md's fields); ``<root>`` is a folder for the local registry (``$SMOPS_HOME``
is one user's) and ``s3://<bucket>/<prefix>/<owner>`` for the S3 one, a bucket shared by many
users: each owner's models are their own (two owners can both push ``iris``), and the ABAC
policy lets each user reach only their folder. A version exists once its ``smops.json`` does.
The S3 registry also writes ``v<N>/.claim`` while a push holds the number.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from datetime import datetime, timezone
from typing import Optional

from ..types import ModelVersion, PackageResult

ARTIFACT = "model.tar.gz"
METADATA = "smops.json"
CLAIM = ".claim"
VERSION_DIR = re.compile(r"^v(\d+)$")
# "<name>/v<N>/smops.json" relative to the registry's root: a published version.
METADATA_KEY = re.compile(r"^(?P<name>[^/]+)/v(?P<version>\d+)/" + re.escape(METADATA) + "$")
# "<anything>/v<N>/": a version's folder in an S3 listing with Delimiter="/".
VERSION_PREFIX = re.compile(r"/v(\d+)/$")


# The old S3 layout (before owner folders), "<name>/v<N>/smops.json" right under the prefix:
# what `jupyter smops admin migrate-registry` moves.
LEGACY_METADATA_KEY = METADATA_KEY
_GROUP_NAME = re.compile(r"^[a-z0-9]+$")
GROUP_NAME_MAX = 63


def owner_folder(owner: str) -> str:
    """The S3 folder of ``owner``'s models (``<owner>``, the owner tag's value as it is, since the
    ABAC policy's resource is ``<prefix>/${aws:PrincipalTag/...}/*``); BadRequest when a value
    cannot be one path segment."""
    from ..errors import BadRequest

    if not owner or "/" in owner or owner in (".", "..") or len(owner) > 256:
        raise BadRequest(f"The owner {owner!r} cannot name a registry folder (it must be one path segment, "
                         f"no '/'): set SMOPS_OWNER (c.SmopsConfig.owner) or the Studio profile's owner tag.")
    return owner


def package_group_name(owner: str, name: str) -> str:
    """The Model Package Group of ``owner``'s model ``name``: group names are account-wide (and
    case-insensitive), so each owner's ``iris`` needs its own. ``<owner>-<name>`` when the owner is
    lowercase letters and digits and it fits in 63 characters (then the owner ends at the first
    hyphen, so no two owners share a name); otherwise a readable cut of both plus 8 hex digits
    of a hash of the exact owner and name."""
    plain = f"{owner}-{name}"
    if _GROUP_NAME.match(owner) and len(plain) <= GROUP_NAME_MAX:
        return plain
    digest = hashlib.sha256(f"{owner}\0{name}".encode()).hexdigest()[:8]
    readable = re.sub(r"-+", "-", re.sub(r"[^a-zA-Z0-9]", "-", plain.lower())).strip("-")
    return f"{readable[:GROUP_NAME_MAX - 9].rstrip('-')}-{digest}"


def version_path(name: str, version: int, leaf: str = "") -> str:
    """``<name>/v<N>/<leaf>`` relative to the registry's root (a folder when ``leaf`` is "")."""
    return f"{name}/v{version}/{leaf}"


def now_iso() -> str:
    """The current UTC time as the metadata records it (``2024-05-01T12:00:00Z``)."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def version_metadata(package: PackageResult, *, name: str, version: int, owner: str,
                     source: Optional[str]) -> dict:
    """The ``smops.json`` of a new version (DESIGN.md's fields), the same for every registry."""
    return {
        "name": name, "version": version, "sha256": package.sha256, "size": package.size,
        "framework": package.framework, "framework_version": package.framework_version,
        "serving_version": package.serving_version, "model_file": package.model_file,
        "created_at": now_iso(), "created_by": owner, "source": source,
        "approval_status": "PendingManualApproval", "sample_input": package.sample_input,
        # What the endpoint installs at start and the scikit-learn it therefore runs (issue 11).
        "requirements": list(package.requirements), "requirements_pin": package.requirements_pin,
        "pin_added": package.pin_added,
        # The content types inference.py reads and writes (None: unknown), for the panel's offer.
        "accepts": package.accepts, "produces": package.produces,
    }


def version_from_metadata(data: dict, uri: str) -> ModelVersion:
    """Build a ModelVersion from smops.json, ignoring keys a newer release may add."""
    fields = {f.name for f in dataclasses.fields(ModelVersion)}
    values = {k: v for k, v in data.items() if k in fields}
    values["uri"] = uri
    return ModelVersion(**values)


def claim_metadata(owner: str) -> dict:
    """The body of ``v<N>/.claim``: who holds the number and since when."""
    return {"owner": owner, "claimed_at": now_iso()}
