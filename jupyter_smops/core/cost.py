"""What an endpoint costs: an on-demand price table and cost per hour / so far.

Two sources, the better one first:

- **fetched**: ``%smops prices --refresh`` (or ``jupyter smops prices --refresh``) reads the
  region's SageMaker real-time hosting prices (usage type ``<REGION>-Host:ml.*``, on-demand,
  USD per hour) from the AWS Price List API and keeps them in ``$SMOPS_HOME/prices/<region>.json``
  with the date they were read. Needs ``pricing:GetProducts``.
- **built in** (``HOURLY_USD``): us-east-1 rates for the common types, written down from the
  public pricing page https://aws.amazon.com/sagemaker/pricing/ as of ``PRICES_DATE`` without
  access to AWS from the machine this was built on, so not checked against the Price List API:
  an estimate to refresh before trusting. Other regions cost a few percent to ~30 % more.

Savings plans, storage and data transfer are not included. Serverless endpoints are billed per
GB-second of compute and per GB of data processed, so they have no hourly price.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Optional

PRICES_DATE = "2025-06-01"
PRICES_REGION = "us-east-1"
PRICES_SOURCE = "built in, from https://aws.amazon.com/sagemaker/pricing/ (not verified; refresh with %smops prices --refresh)"
PRICE_LIST_SOURCE = "AWS Price List API (AmazonSageMaker, on-demand real-time hosting)"

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


@dataclass(frozen=True)
class PriceTable:
    """USD per instance-hour by instance type, with where and when the numbers come from."""

    region: str
    date: str
    source: str
    hourly_usd: dict = field(default_factory=dict)
    fetched: bool = False

    def to_dict(self) -> dict:
        return {"region": self.region, "date": self.date, "source": self.source, "fetched": self.fetched,
                "hourly_usd": dict(sorted(self.hourly_usd.items()))}


BUILT_IN = PriceTable(region=PRICES_REGION, date=PRICES_DATE, source=PRICES_SOURCE, hourly_usd=HOURLY_USD)


def prices_path(home: Path, region: str) -> Path:
    return Path(home) / "prices" / f"{region}.json"


_loaded: dict[Path, tuple[int, PriceTable]] = {}


def load_prices(home: Optional[Path], region: Optional[str]) -> PriceTable:
    """The region's fetched table when there is one, else the built-in us-east-1 table.
    (Read again only when the file changes: listings call this once per endpoint.)"""
    if home and region:
        path = prices_path(home, region)
        try:
            mtime = path.stat().st_mtime_ns
            cached = _loaded.get(path)
            if cached and cached[0] == mtime:
                return cached[1]
            data = json.loads(path.read_text())
            table = PriceTable(region=data["region"], date=data["date"], source=data["source"],
                               hourly_usd={k: float(v) for k, v in data["hourly_usd"].items()}, fetched=True)
            _loaded[path] = (mtime, table)
            return table
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # none yet, or unreadable: the built-in table stands
    return BUILT_IN


_HOST_USAGE = re.compile(r"(?:^|-)Host:(ml\.[a-z0-9-]+\.[a-z0-9]+)$")


def parse_price_list(items: Iterable[str]) -> dict[str, float]:
    """``{instance type: USD/hour}`` from Price List API products (JSON strings): the on-demand
    hourly rate of each real-time hosting usage type (``USE1-Host:ml.m5.large``)."""
    prices: dict[str, float] = {}
    for text in items:
        product = json.loads(text) if isinstance(text, str) else text
        usage = product.get("product", {}).get("attributes", {}).get("usagetype", "")
        match = _HOST_USAGE.search(usage)
        if not match:
            continue
        for term in product.get("terms", {}).get("OnDemand", {}).values():
            for dimension in term.get("priceDimensions", {}).values():
                try:
                    usd = float(dimension.get("pricePerUnit", {}).get("USD", ""))
                except ValueError:
                    continue
                if dimension.get("unit") == "Hrs" and usd > 0:
                    prices[match.group(1)] = usd
    return prices


def fetch_prices(pricing_client, region: str, now: Optional[datetime] = None) -> PriceTable:
    """Read the region's real-time hosting prices from the AWS Price List API."""
    from .errors import UpstreamError

    items: list[str] = []
    pages = pricing_client.get_paginator("get_products").paginate(
        ServiceCode="AmazonSageMaker", FormatVersion="aws_v1",
        Filters=[{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}])
    for page in pages:
        items.extend(page.get("PriceList", []))
    prices = parse_price_list(items)
    if not prices:
        raise UpstreamError(f"The AWS Price List API has no SageMaker real-time hosting prices for {region} "
                            f"({len(items)} products read). Check the region name; the built-in table stays in use.")
    date = (now or datetime.now(timezone.utc)).date().isoformat()
    return PriceTable(region=region, date=date, source=PRICE_LIST_SOURCE, hourly_usd=prices, fetched=True)


def save_prices(table: PriceTable, home: Path) -> Path:
    """Write a fetched table where ``load_prices`` finds it (atomically)."""
    from .files import private_dir, write_json

    path = prices_path(home, table.region)
    private_dir(path.parent, home=home)
    write_json(path, table.to_dict())
    return path


def hourly_price(instance_type: Optional[str], table: Optional[PriceTable] = None) -> Optional[float]:
    """USD per instance-hour for a known type, else None (unknown types are not guessed)."""
    return (table or BUILT_IN).hourly_usd.get(instance_type or "")


def cost_per_hour(instance_type: Optional[str], count: Optional[int] = 1,
                  table: Optional[PriceTable] = None) -> Optional[float]:
    """USD per hour of an instance endpoint (None for serverless or an unknown type)."""
    price = hourly_price(instance_type, table)
    if price is None:
        return None
    return round(price * max(int(count or 1), 0), 4)


def cost_so_far(instance_type: Optional[str], count: Optional[int], created_at: str,
                now: Optional[datetime] = None, table: Optional[PriceTable] = None) -> Optional[float]:
    """USD spent since ``created_at`` (ISO 8601) at the current instance count; None when unknown.

    An approximation: autoscaling changes and the minutes spent Creating are billed as they
    happened, which the current count does not know.
    """
    per_hour = cost_per_hour(instance_type, count, table)
    start = _parse(created_at)
    if per_hour is None or start is None:
        return None
    hours = max(((now or datetime.now(timezone.utc)) - start).total_seconds(), 0.0) / 3600.0
    return round(per_hour * hours, 4)


def serverless_cost(memory_mb: int, compute_seconds: float, gb_processed: float = 0.0) -> float:
    """USD for a serverless endpoint's usage: GB-seconds of compute plus data processed."""
    return round(memory_mb / 1024.0 * compute_seconds * SERVERLESS_USD_PER_GB_SECOND
                 + gb_processed * SERVERLESS_USD_PER_GB_PROCESSED, 6)


def price_note(region: Optional[str] = None, table: Optional[PriceTable] = None) -> str:
    """Where the numbers come from, for displays next to a cost."""
    table = table or BUILT_IN
    if table.fetched:
        return f"on-demand {table.region} prices read from the AWS Price List API on {table.date}; " \
               f"serverless is billed by usage"
    extra = "" if not region or region == table.region else f"; {region} may cost more"
    return f"built-in on-demand {table.region} prices of {table.date}, not verified (%smops prices --refresh " \
           f"reads your region's){extra}; serverless is billed by usage"


def _parse(value: str) -> Optional[datetime]:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
