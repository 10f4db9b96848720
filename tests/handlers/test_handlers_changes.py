"""GET /smops/api/changes: the stamp the panel polls moves after pushes, approvals, deploys and
deletes made outside the panel, and stays put otherwise."""
from __future__ import annotations

import shutil

from jupyter_smops.core.files import write_json


async def _stamp(api) -> str:
    code, body, _ = await api("GET", "changes")
    assert code == 200
    assert body["covers"] == ["local_endpoints", "registry"]
    return body["stamp"]


async def test_stamp_moves_with_registry_and_endpoint_changes(api, store_version, smops_home):
    first = await _stamp(api)
    assert await _stamp(api) == first  # nothing happened: the same stamp

    store_version("iris", b"first")  # a push from a notebook or the CLI
    pushed = await _stamp(api)
    assert pushed != first

    code, _, _ = await api("POST", "models/iris/versions/1/approval", {"status": "Approved"})
    assert code == 200
    approved = await _stamp(api)
    assert approved != pushed

    # A local endpoint appears (its state folder), changes state, then is deleted.
    endpoint = smops_home / "endpoints" / "iris-v1"
    endpoint.mkdir(parents=True)
    deployed = await _stamp(api)
    assert deployed != approved
    write_json(endpoint / "runtime.json", {"status": "InService"})
    in_service = await _stamp(api)
    assert in_service != deployed
    shutil.rmtree(endpoint)
    assert await _stamp(api) not in (in_service, deployed)
