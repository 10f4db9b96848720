"""What an endpoint costs: an on-demand price table and cost per hour / so far.

Prices are SageMaker AI real-time inference on-demand rates (USD per instance-hour, Linux) from
the public pricing page https://aws.amazon.com/sagemaker/pricing/ for ``PRICES_REGION`` as of
``PRICES_DATE``. They are an estimate: other regions cost a few percent to ~30 % more, and
savings plans, storage and data transfer are not included. Serverless endpoints are billed per
GB-second of compute and per GB of data processed, so they have no hourly price.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

PRICES_DATE = "2025-06-01"
PRICES_REGION = "us-east-1"
PRICES_SOURCE = "https://aws.amazon.com/sagemaker/pricing/ (real-time inference, on-demand)"

# USD per instance-hour, real-time inference, us-east-1.
HOURLY_USD = {
    "ml.t2.medium": 0.056, "ml.t2.large": 0.111, "ml.t2.xlarge": 0.223, "ml.t2.2xlarge": 0.445,
    "ml.m4.xlarge": 0.24, "ml.m4.2xlarge": 0.48, "ml.m4.4xlarge": 0.96,
    "ml.m5.large": 0.115, "ml.m5.xlarge": 0.23, "ml.m5.2xlarge": 0.461, "ml.m5.4xlarge": 0.922,
    "ml.m5.12xlarge": 2.765, "ml.m5.24xlarge": 5.53,
    "ml.m5d.large": 0.136, "ml.m5d.xlarge": 0.271, "ml.m5d.2xlarge": 0.542,
    "ml.m6i.large": 0.115, "ml.m6i.xlarge": 0.23, "ml.m6i.2xlarge": 0.461, "ml.m6i.4xlarge": 0.922,
    "ml.m7i.large": 0.121, "ml.m7i.xlarge": 0.242, "ml.m7i.2xlarge": 0.484,
    "ml.c4.large": 0.119, "ml.c4.xlarge": 0.239, "ml.c4.2xlarge": 0.478,
    "ml.c5.large": 0.102, "ml.c5.xlarge": 0.204, "ml.c5.2xlarge": 0.408, "ml.c5.4xlarge": 0.816,
    "ml.c5.9xlarge": 1.836, "ml.c5.18xlarge": 3.672,
    "ml.c6i.large": 0.102, "ml.c6i.xlarge": 0.204, "ml.c6i.2xlarge": 0.408, "ml.c6i.4xlarge": 0.816,
    "ml.c7i.large": 0.107, "ml.c7i.xlarge": 0.214, "ml.c7i.2xlarge": 0.428,
    "ml.r5.large": 0.151, "ml.r5.xlarge": 0.302, "ml.r5.2xlarge": 0.605, "ml.r5.4xlarge": 1.21,
    "ml.m6g.large": 0.092, "ml.m6g.xlarge": 0.184, "ml.c6g.large": 0.082, "ml.c6g.xlarge": 0.163,
    "ml.c7g.large": 0.087, "ml.c7g.xlarge": 0.174,
    "ml.g4dn.xlarge": 0.736, "ml.g5.xlarge": 1.408, "ml.p3.2xlarge": 3.825, "ml.inf1.xlarge": 0.297,
}

# Serverless inference, us-east-1: compute per GB-second (memory x duration), data per GB in+out.
SERVERLESS_USD_PER_GB_SECOND = 0.0000200
SERVERLESS_USD_PER_GB_PROCESSED = 0.016


def hourly_price(instance_type: Optional[str]) -> Optional[float]:
    """USD per instance-hour for a known type, else None (unknown types are not guessed)."""
    return HOURLY_USD.get(instance_type or "")


def cost_per_hour(instance_type: Optional[str], count: Optional[int] = 1) -> Optional[float]:
    """USD per hour of an instance endpoint (None for serverless or an unknown type)."""
    price = hourly_price(instance_type)
    if price is None:
        return None
    return round(price * max(int(count or 1), 0), 4)


def cost_so_far(instance_type: Optional[str], count: Optional[int], created_at: str,
                now: Optional[datetime] = None) -> Optional[float]:
    """USD spent since ``created_at`` (ISO 8601) at the current instance count; None when unknown.

    An approximation: autoscaling changes and the minutes spent Creating are billed as they
    happened, which the current count does not know.
    """
    per_hour = cost_per_hour(instance_type, count)
    start = _parse(created_at)
    if per_hour is None or start is None:
        return None
    hours = max(((now or datetime.now(timezone.utc)) - start).total_seconds(), 0.0) / 3600.0
    return round(per_hour * hours, 4)


def serverless_cost(memory_mb: int, compute_seconds: float, gb_processed: float = 0.0) -> float:
    """USD for a serverless endpoint's usage: GB-seconds of compute plus data processed."""
    return round(memory_mb / 1024.0 * compute_seconds * SERVERLESS_USD_PER_GB_SECOND
                 + gb_processed * SERVERLESS_USD_PER_GB_PROCESSED, 6)


def price_note(region: Optional[str] = None) -> str:
    """Where the numbers come from, for displays next to a cost."""
    extra = "" if not region or region == PRICES_REGION else f"; {region} may cost more"
    return f"on-demand {PRICES_REGION} prices of {PRICES_DATE}{extra}; serverless is billed by usage"


def _parse(value: str) -> Optional[datetime]:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
