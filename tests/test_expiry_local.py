"""Expiry and the public front on the local backend, and the duration rules every face uses."""
from __future__ import annotations

import json
import time

import pytest

from jupyter_smops.core.api import Smops
from jupyter_smops.core.config import SmopsConfig
from jupyter_smops.core.deploy_plan import check_expiry
from jupyter_smops.core.durations import parse_duration
from jupyter_smops.core.endpoints.local import LocalEndpoints
from jupyter_smops.core.endpoints.local_process import alive
from jupyter_smops.core.errors import BadRequest, NotFound
from jupyter_smops.core.types import DeployOptions
from test_serving_support import (DEFAULT_HANDLERS, build_tarball, iris_tree, teardown_endpoints, version,  # noqa: F401
                                  wait_for)


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400),
                                           ("1h30m", 5400), ("45", 45), (" 2 h ", 7200)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["2x", "h", "-1h", "0s", "1h foo"])
def test_bad_durations_say_how(text):
    with pytest.raises(BadRequest, match="90s, 30m, 2h|longer than zero"):
        parse_duration(text)


def test_default_cap_and_no_expiry_rules(tmp_path):
    config = SmopsConfig(home=str(tmp_path), default_expires_in="4h", max_expires_in="")
    assert check_expiry(config, DeployOptions(), local=False).expires_in == 4 * 3600
    assert check_expiry(config, DeployOptions(no_expiry=True), local=False).expires_in is None
    config.max_expires_in = "2h"
    assert check_expiry(config, DeployOptions(), local=False).expires_in == 7200  # the default, cut to the cap
    with pytest.raises(BadRequest, match="at most 2 h"):
        check_expiry(config, DeployOptions(no_expiry=True), local=False)
    # Local endpoints cost nothing: the cap does not bind them.
    assert check_expiry(config, DeployOptions(no_expiry=True), local=True).expires_in is None
    config.default_expires_in = "never"
    config.max_expires_in = ""
    assert check_expiry(config, DeployOptions(), local=False).expires_in is None
    config.default_expires_in = "soon"
    with pytest.raises(BadRequest, match="default_expires_in"):
        check_expiry(config, DeployOptions(), local=False)


@pytest.fixture
def smops(tmp_path, iris_tree):
    config = SmopsConfig(home=str(tmp_path / "home"), backend="local", owner="tester")
    le = LocalEndpoints(config)
    tarball = build_tarball(tmp_path / "src" / "model.tar.gz", {"model.joblib": iris_tree,
                                                                 "code/inference.py": DEFAULT_HANDLERS})
    s = Smops(config, endpoints=le)
    s._fetch = lambda mv: tarball
    yield s, le, tarball
    teardown_endpoints(le)


def _deploy(le, tarball, name, expires_in):
    return le.deploy(version("iris"), name=name, owner="tester", fetch=lambda mv: tarball,
                     options=DeployOptions(expires_in=expires_in, timeout=60))


def test_a_local_endpoint_stops_itself_at_its_expiry_and_goes_away(smops):
    s, le, tarball = smops
    ep = _deploy(le, tarball, "short", 120)  # a cold start can take seconds: shortened once it runs
    assert ep.status == "InService" and ep.expires_at and 100 < ep.seconds_left <= 120 and ep.cost_until_expiry is None
    ep = s.extend("short", expires_in=2)
    assert ep.seconds_left <= 2
    pid = json.loads((le.root / "short" / "state.json").read_text())["pid"]
    # The supervisor stops by itself (nobody asks): its runtime file says Expired, its process ends.
    assert wait_for(lambda: (json.loads((le.root / "short" / "runtime.json").read_text()).get("status") == "Expired"
                             and not alive(pid, None)), timeout=15)
    with pytest.raises(NotFound, match="expired"):
        le.describe("short")
    assert le.list() == [] and not (le.root / "short").exists()


def test_extend_moves_a_local_expiry_and_the_process_follows(smops):
    s, le, tarball = smops
    _deploy(le, tarball, "moved", 120)
    s.extend("moved", expires_in=2)
    ep = s.extend("moved", expires_in=600)
    assert 590 <= ep.seconds_left <= 600
    time.sleep(3)  # past the first expiry: the supervisor read the new one
    assert le.describe("moved").status == "InService"
    ep = s.extend("moved", by=3600)
    assert 4180 <= ep.seconds_left <= 4200
    assert s.extend("moved", no_expiry=True).expires_at is None  # local: allowed even under a cap
    with pytest.raises(BadRequest, match="Say how"):
        s.extend("moved")


def test_expose_locally_creates_nothing_and_offers_the_runtime_url(smops):
    s, le, tarball = smops
    _deploy(le, tarball, "pub", None)
    front = s.expose("pub")
    assert front.created is False and front.api_key is None and front.url is None
    assert front.runtime_url and front.runtime_url.startswith("http://127.0.0.1:")
    assert "API Gateway" in front.message and f"{front.runtime_url}/endpoints/pub/invocations" in front.curl()
    assert s.unexpose("pub") is False
    assert le.describe("pub").expires_at is None
