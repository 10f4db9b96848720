"""docs/cli.md's `--json` shapes are what `jupyter smops VERB --json` prints: same keys, both ways.

Each JSON example in the document is read under its heading and compared with a real local
session's output, so a field added to a result without its line in the document (or documented
but gone) fails here.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from test_cli import smops

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def documented() -> dict[str, object]:
    """The first JSON block under each ``## `verb ...` `` heading, keyed by the heading's first verb."""
    out: dict[str, object] = {}
    for section in re.split(r"^## ", DOC.read_text(), flags=re.M)[1:]:
        verb = re.match(r"`([a-z]+)", section)
        block = re.search(r"```json\n(.*?)```", section, re.S)
        if verb and block:
            out[verb.group(1)] = json.loads(block.group(1))
    return out


def _json(*args) -> object:
    out = smops(*args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_every_documented_json_example_parses():
    docs = documented()
    assert {"models", "endpoints", "deploy", "expose", "logs", "cleanup"} <= set(docs), sorted(docs)


def test_documented_keys_are_the_printed_keys(smops_home, iris_model, tmp_path):
    pytest.importorskip("jupyter_smops.core.packaging")
    import joblib

    docs = documented()
    joblib.dump(iris_model, tmp_path / "iris-model.joblib")
    assert smops("push", "iris-model.joblib", "--name", "iris", cwd=tmp_path).returncode == 0
    models = _json("models")
    assert set(models[0]) == set(docs["models"][0])
    assert set(models[0]["versions"][0]) == set(docs["models"][0]["versions"][0])

    endpoint_keys = set(docs["deploy"])
    deployed = _json("deploy", "iris:1", "--endpoint", "iris-doc", "--local", "--expires-in", "2h")
    assert set(deployed) == endpoint_keys
    assert deployed["expires_at"] and 7100 < deployed["seconds_left"] <= 7200 and deployed["cost_until_expiry"] is None
    assert set(_json("describe", "iris-doc")) == endpoint_keys
    extended = _json("extend", "iris-doc", "--by", "1h")
    assert set(extended) == endpoint_keys and extended["seconds_left"] > 10000
    listed = _json("endpoints")
    assert set(listed[0]) == set(docs["endpoints"][0])
    assert set(listed[0]) - endpoint_keys == {"invocation_url", "age_seconds", "cost"}

    front = _json("expose", "iris-doc")
    assert set(front) == set(docs["expose"])
    assert front["created"] is False and front["runtime_url"] and "--aws-sigv4" in front["curl"]
    out = smops("unexpose", "iris-doc", "--json")  # documented: nothing on stdout, the line on stderr
    assert (out.returncode, out.stdout, out.stderr.strip()) == (0, "", "iris-doc had no public front")

    assert set(_json("logs", "iris-doc", "--tail", "5")) == set(docs["logs"])
    assert set(_json("cleanup", "--dry-run")) == set(docs["cleanup"])
    assert set(_json("cleanup", "--yes")) == set(docs["cleanup"])
