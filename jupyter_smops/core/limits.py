"""InvokeEndpoint's limits, one copy for every place that emulates or checks them (ground floor).

The REST route, the local endpoints, the SageMaker backend and the panel (through ``status``)
all read these; nothing else writes the numbers down.
"""
from __future__ import annotations

from .errors import PayloadTooLarge

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # 6,291,456: real-time endpoints' request limit
INVOKE_TIMEOUT_SECONDS = 60.0  # how long the container may take to answer


def check_payload_size(size: int, *, so_far: bool = False) -> None:
    """PayloadTooLarge when ``size`` bytes exceed InvokeEndpoint's limit (``so_far``: a body still
    arriving, of which ``size`` bytes are known)."""
    if size > MAX_PAYLOAD_BYTES:
        amount = f"more than {MAX_PAYLOAD_BYTES:,}" if so_far else f"{size:,}"
        raise PayloadTooLarge(f"The request body is {amount} bytes; InvokeEndpoint accepts at most "
                              f"{MAX_PAYLOAD_BYTES:,} (6 MiB). Send fewer rows per request, or use batch transform.")
