"""Prices: the built-in table, and the region's read from the AWS Price List API (moto has no
Pricing API, so a botocore Stubber on the real client answers, with the service model checking
every request)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.stub import Stubber

from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core import cost
from jupyter_smops.core.api import Smops
from jupyter_smops.core.aws import clients_for
from jupyter_smops.core.errors import AccessDenied, UpstreamError

pytestmark = pytest.mark.aws


def product(usagetype: str, usd: str, unit: str = "Hrs") -> str:
    """One Price List API product, shaped as GetProducts returns it (a JSON string)."""
    sku = "SKU" + usagetype.replace(":", "").replace(".", "")
    return json.dumps({
        "product": {"productFamily": "ML Instance", "sku": sku,
                    "attributes": {"usagetype": usagetype, "regionCode": "eu-west-1",
                                   "servicecode": "AmazonSageMaker"}},
        "serviceCode": "AmazonSageMaker",
        "terms": {"OnDemand": {f"{sku}.JRTCKXETXF": {
            "offerTermCode": "JRTCKXETXF", "sku": sku,
            "priceDimensions": {f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                "unit": unit, "pricePerUnit": {"USD": usd}, "description": f"{usagetype} per hour"}}}}},
        "version": "20261101000000", "publicationDate": "2026-11-01T00:00:00Z"})


PAGE_1 = [product("EU-Host:ml.m5.large", "0.1290000000"), product("EU-Train:ml.m5.large", "0.1290000000"),
          product("EU-AsyncInf:ml.m5.large", "0.1290000000"), product("EU-Host:ml.t2.medium", "0.0630000000")]
PAGE_2 = [product("EU-Host:ml.g5.xlarge", "1.5800000000"), product("EU-Host:ml.c5.large", "0.0000000000"),
          product("EU-Host-Storage:ml.m5.large", "0.1400000000", unit="GB-Mo")]


def _request(token=None):
    req = {"ServiceCode": "AmazonSageMaker", "FormatVersion": "aws_v1",
           "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"}]}
    if token:
        req["NextToken"] = token
    return req


@pytest.fixture
def smops(aws, tmp_path, monkeypatch):
    monkeypatch.setenv("SMOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SMOPS_REGION", "eu-west-1")
    return Smops(SmopsConfig())


@pytest.fixture
def pricing(smops):
    client = clients_for(smops.config).client("pricing", region_name="us-east-1")  # the one Smops uses
    assert client.meta.region_name == "us-east-1"
    with Stubber(client) as stub:
        yield stub


def test_price_list_products_become_hourly_hosting_prices():
    prices = cost.parse_price_list(PAGE_1 + PAGE_2 + [product("Host:ml.r5.large", "0.151")])
    # Hosting only (not training or async), hourly only, never a zero price; us-east-1 has no prefix.
    assert prices == {"ml.m5.large": 0.129, "ml.t2.medium": 0.063, "ml.g5.xlarge": 1.58, "ml.r5.large": 0.151}


def test_refresh_reads_every_page_keeps_the_table_and_costs_use_it(smops, pricing):
    pricing.add_response("get_products", {"PriceList": PAGE_1, "FormatVersion": "aws_v1", "NextToken": "p2"},
                         _request())
    pricing.add_response("get_products", {"PriceList": PAGE_2, "FormatVersion": "aws_v1"}, _request("p2"))
    table = smops.prices(refresh=True)
    pricing.assert_no_pending_responses()
    assert (table.region, table.fetched, table.hourly_usd["ml.m5.large"]) == ("eu-west-1", True, 0.129)
    saved = json.loads((smops.config.home_path / "prices" / "eu-west-1.json").read_text())
    assert saved["source"].startswith("AWS Price List API") and saved["date"] == table.date

    # A new Smops (another kernel) reads it back; costs, the deploy form and the note use it.
    again = Smops(SmopsConfig())
    assert again.prices() == table
    status = again.status()
    offered = {t["instance_type"]: t["hourly_usd"] for t in status["instance_types"]}
    assert offered == {"ml.t2.medium": 0.063, "ml.m5.large": 0.129, "ml.g5.xlarge": 1.58}
    assert status["prices"]["fetched"] and "Price List API" in status["prices"]["note"]
    assert again.endpoints.prices == table
    assert cost.cost_per_hour("ml.m5.large", 2, again.endpoints.prices) == pytest.approx(0.258)
    assert "read from the AWS Price List API on" in again.endpoints.describe_backend()["prices"]


def test_without_a_refresh_the_built_in_table_says_it_is_unverified(smops):
    table = smops.prices()
    assert table is cost.BUILT_IN and not table.fetched and table.region == "us-east-1"
    assert "not verified" in cost.price_note("eu-west-1", table) and "eu-west-1 may cost more" in cost.price_note(
        "eu-west-1", table)
    assert smops.status()["prices"]["fetched"] is False


def test_refresh_errors_say_what_to_do_and_keep_the_old_table(smops, pricing):
    pricing.add_client_error("get_products", "AccessDeniedException", "not authorized", 400,
                             expected_params=_request())
    with pytest.raises(AccessDenied) as err:
        smops.prices(refresh=True)
    assert "pricing:GetProducts" in err.value.message
    pricing.add_response("get_products", {"PriceList": [product("EU-Train:ml.m5.large", "0.1")],
                                          "FormatVersion": "aws_v1"}, _request())
    with pytest.raises(UpstreamError, match="no SageMaker real-time hosting prices for eu-west-1"):
        smops.prices(refresh=True)
    assert not (smops.config.home_path / "prices" / "eu-west-1.json").exists()
    assert smops.prices() is cost.BUILT_IN


def test_a_damaged_prices_file_falls_back_to_the_built_in_table(smops):
    path = smops.config.home_path / "prices" / "eu-west-1.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert smops.prices() is cost.BUILT_IN


def test_prices_verb_in_the_terminal(aws, tmp_path):
    exe = Path(sys.executable).parent / "jupyter-smops"
    env = {**__import__("os").environ, "SMOPS_HOME": str(tmp_path / "home")}
    out = subprocess.run([str(exe), "prices", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["region"] == "us-east-1" and data["ml.t2.medium"] == "$0.056/h" and "not verified" in data["source"]
