"""Where SageMaker endpoints live: one region's AWS clients and the settings that name their owner.

Every module of this package works through an ``Account``, so none needs the endpoints class.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ... import cost

VARIANT = "AllTraffic"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


@dataclass(frozen=True)
class Account:
    """AWS clients for one region (``core.aws.AwsClients``) and the ``SmopsConfig``."""

    clients: Any
    config: Any

    @property
    def sm(self):
        return self.clients.client("sagemaker")

    @property
    def region(self) -> str:
        return self.clients.region_name

    @property
    def owner_key(self) -> str:
        return self.config.owner_tag_key

    @property
    def prices(self) -> "cost.PriceTable":
        """The region's prices read from the Price List API (%smops prices --refresh), else built in."""
        return cost.load_prices(self.config.home_path, self.region)

    def ours(self, tags: dict, owner: Optional[str]) -> bool:
        """A resource jupyter_smops created (of ``owner`` when given): listings and cleanup touch no other."""
        return "smops:model" in tags and (owner is None or tags.get(self.owner_key) == owner)

    def missing(self, name: str) -> str:
        """The message for an endpoint that does not exist."""
        return f"No SageMaker endpoint named {name!r} in {self.region}. List them with %smops endpoints."
