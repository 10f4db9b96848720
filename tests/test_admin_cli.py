"""The admin CLI: dry runs make no call, the six-command flow, Stubber-checked teardown order, errors."""
from __future__ import annotations

import base64
import json
import re
import urllib.request

import pytest
from botocore.stub import Stubber

from jupyter_smops import __version__, cli, cli_admin
from jupyter_smops.core.admin import teardown
from jupyter_smops.core.admin.policies import POLICY_SIZE_LIMIT, abac_policies, abac_policy, policy_names
from jupyter_smops.core.admin.calls import LiveCaller
from test_admin_lcc import _run, studio  # noqa: F401 (fixture)
from test_admin_support import ACCOUNT, FakeStudio, client, routed_caller

CALL_LINE = re.compile(r"^  (sts|iam|s3|ec2|sagemaker)\.[A-Z][A-Za-z0-9]+ \{.*\}( +# repeated every \d+ s until .+)?$")

DRY_RUNS = [
    "admin bootstrap --domain team --user alice:alice123 --user bob:bob456",
    "admin status --domain team",
    "admin teardown --domain-id d-abc123 --all --delete-home",
    "admin teardown --domain team --all",
    "admin presigned-url --domain-id d-abc123 --user alice",
    "lifecycle-config create --wheel s3://team/wheels/jupyter_smops-0.1.0-py3-none-any.whl --tag team=payments",
    "lifecycle-config attach --domain-id d-abc123",
    "lifecycle-config attach --domain-id d-abc123 --user-profile alice --no-default",
    "lifecycle-config detach --domain-id d-abc123",
    "lifecycle-config delete --name jupyter-smops-0-1-0",
]


@pytest.fixture
def no_aws(monkeypatch):
    """Any real AWS call fails the test."""
    def refuse(self, operation_name, api_params):
        raise AssertionError(f"a dry run called {operation_name}")

    monkeypatch.setattr("botocore.client.BaseClient._make_api_call", refuse)


@pytest.mark.parametrize("command", DRY_RUNS)
def test_dry_run_makes_no_call_and_prints_every_call(command, no_aws, capsys):
    assert cli.main(command.split() + ["--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "(dry run: no AWS call was made)" in out[0]
    start = next(i for i, line in enumerate(out) if line.startswith("AWS calls it would make ("))
    count = int(re.search(r"\((\d+);", out[start]).group(1))
    calls = out[start + 1:]
    assert len(calls) == count > 0
    bad = [line for line in calls if not CALL_LINE.match(line)]
    assert bad == []
    for line in calls:  # the printed parameters are JSON
        json.loads(line.split(" ", 3)[3].split("  # ")[0])


def test_dry_run_plan_matches_the_real_run(aws_env, monkeypatch, capsys):
    """The calls a dry run prints are the calls a first real run makes (placeholders aside)."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    urllib.request.urlopen(urllib.request.Request(f"{aws_env}/moto-api/reset", method="POST")).read()
    argv = "admin bootstrap --domain team --user alice:alice123 --json".split()
    assert cli.main(argv + ["--dry-run"]) == 0
    planned = [line.split(" ", 1)[0] for line in json.loads(capsys.readouterr().out)["plan"]]
    real = routed_caller(aws_env)
    monkeypatch.setattr(cli_admin, "make_caller", lambda args: real)
    assert cli.main(argv) == 0
    made = [f"{s}.{op}" for s, op, _ in real.calls]
    assert [c for c in made if c not in ("sagemaker.DescribeDomain", "sagemaker.DescribeUserProfile")] == \
           [c for c in planned if c not in ("sagemaker.DescribeDomain", "sagemaker.DescribeUserProfile")]


def test_six_commands_from_an_empty_account_and_back(aws_env, monkeypatch, capsys, studio):  # noqa: F811
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    urllib.request.urlopen(urllib.request.Request(f"{aws_env}/moto-api/reset", method="POST")).read()
    fake = FakeStudio(aws_env)
    monkeypatch.setattr(cli_admin, "make_caller", lambda args: routed_caller(aws_env, fake, progress=cli_admin._progress))

    def run(command: str) -> str:
        assert cli.main(command.split()) == 0, capsys.readouterr().err
        captured = capsys.readouterr()
        run.err = captured.err
        return captured.out

    out = run("admin bootstrap --domain team --user alice:alice123 --user bob:bob456")
    assert "created       domain team" in out
    assert "Domain team: InService" in run.err and "User profile bob: Pending" in run.err  # progress
    assert "created       lifecycle config" in run("lifecycle-config create")
    assert "attached      lifecycle config" in run("lifecycle-config attach --domain team")
    assert "https://" in run("admin presigned-url --domain team --user alice")

    # Both users' JupyterLab apps run the domain's default LCC: run that very script, as Studio would.
    domain_id = client("sagemaker", aws_env).list_domains()["Domains"][0]["DomainId"]
    arn = fake.domain_settings[domain_id]["JupyterLabAppSettings"]["DefaultResourceSpec"]["LifecycleConfigArn"]
    script = base64.b64decode(fake.lccs[arn.rsplit("/", 1)[-1]]["StudioLifecycleConfigContent"]).decode()
    home, state, env = studio
    _run(script, env, home)
    # The pinned version of this package, installed under $HOME (never into the image), pip-installed once.
    installs = [line for line in (state / "pip.log").read_text().splitlines() if line.startswith("install")]
    assert len(installs) == 1 and installs[0].endswith(f" jupyter_smops=={__version__}")
    prefix = next((home / ".smops/lcc/installs").iterdir())
    assert prefix.name.startswith(f"{__version__}-") and (prefix / ".installed").exists()
    assert (home / ".ipython/profile_default/startup/50-jupyter-smops.py").exists()

    out = run("admin teardown --domain team --all --delete-home --yes")
    assert "deleted       domain team" in out and "kept" not in out
    out = run("admin status --domain team")
    assert "missing       domain team" in out and "exists" not in out
    iam, s3 = client("iam", aws_env), client("s3", aws_env)
    assert iam.list_users()["Users"] == [] and iam.list_roles()["Roles"] == []
    assert iam.list_policies(Scope="Local")["Policies"] == [] and s3.list_buckets()["Buckets"] == []
    assert fake.lccs == {} and fake.profiles == {}


def test_teardown_order_with_stubber(aws_env):
    """Stubber: the exact sequence, each request checked against the real SageMaker model."""
    sm = client("sagemaker", aws_env)
    stub = Stubber(sm)
    d = {"DomainId": "d-abc123"}
    space_app = dict(d, SpaceName="alice-space", AppType="JupyterLab", AppName="default")
    user_app = dict(d, UserProfileName="alice", AppType="JupyterServer", AppName="default")
    stub.add_response("describe_domain", {"DomainId": "d-abc123", "DomainName": "team", "Status": "InService",
                                          "DefaultUserSettings": {"ExecutionRole": f"arn:aws:iam::{ACCOUNT}:role/r"}}, d)
    # Teardown first looks for the users' resources: no profiles with an owner tag here.
    stub.add_response("list_user_profiles", {"UserProfiles": []}, {"DomainIdEquals": "d-abc123"})
    stub.add_response("list_apps", {"Apps": [dict(space_app, Status="InService"), dict(user_app, Status="Deleting")]},
                      {"DomainIdEquals": "d-abc123"})
    stub.add_response("delete_app", {}, space_app)
    stub.add_response("describe_app", dict(space_app, Status="Deleting"), space_app)
    stub.add_response("describe_app", dict(space_app, Status="Deleted"), space_app)
    stub.add_response("describe_app", dict(user_app, Status="Deleted"), user_app)
    stub.add_response("list_spaces", {"Spaces": [{"DomainId": "d-abc123", "SpaceName": "alice-space"}]},
                      {"DomainIdEquals": "d-abc123"})
    stub.add_response("delete_space", {}, dict(d, SpaceName="alice-space"))
    stub.add_response("describe_space", dict(d, SpaceName="alice-space", Status="Deleting"), dict(d, SpaceName="alice-space"))
    stub.add_client_error("describe_space", "ResourceNotFound", "gone", 400, expected_params=dict(d, SpaceName="alice-space"))
    stub.add_response("list_user_profiles", {"UserProfiles": [dict(d, UserProfileName="alice")]}, {"DomainIdEquals": "d-abc123"})
    stub.add_response("delete_user_profile", {}, dict(d, UserProfileName="alice"))
    stub.add_client_error("describe_user_profile", "ResourceNotFound", "gone", 400,
                          expected_params=dict(d, UserProfileName="alice"))
    stub.add_response("delete_domain", {}, dict(d, RetentionPolicy={"HomeEfsFileSystem": "Retain"}))
    stub.add_response("describe_domain", dict(d, Status="Deleting"), d)
    stub.add_client_error("describe_domain", "ResourceNotFound", "gone", 400, expected_params=d)
    progress = []
    with stub:
        caller = LiveCaller(route=lambda service, op: sm, sleep=lambda s: None, progress=progress.append)
        report = teardown.teardown(caller, domain_id="d-abc123")
        stub.assert_no_pending_responses()
    assert [s.what for s in report.steps] == ["app", "app", "space", "user profile", "domain"]
    assert "App JupyterLab/default of alice-space: Deleting (0 s)" in progress
    assert any(p.startswith("Domain team: Deleted") for p in progress)


def test_errors_are_messages_not_tracebacks(aws_env, monkeypatch, capsys):
    monkeypatch.setattr(cli_admin, "make_caller", lambda args: routed_caller(aws_env))
    cases = [
        ("admin bootstrap --domain team --user alice", "use NAME:TAG"),
        ("lifecycle-config attach --domain nope", "No domain named 'nope'"),
        ("admin teardown --domain-id d-abc123", "add --yes"),
        ("lifecycle-config print --wheel https://example.com/x.whl", "s3://BUCKET/KEY"),
        ("admin presigned-url --user alice --domain-id d-x --session 60", "between 1800 and 43200"),
    ]
    for command, message in cases:
        code = cli.main(command.split())
        captured = capsys.readouterr()
        assert code != 0, command
        assert message in captured.err and "Traceback" not in captured.err + captured.out, (command, captured.err)


def test_policy_printing_and_lcc_print(capsys):
    assert cli.main(["admin", "policy", "abac", "--account", ACCOUNT, "--bucket", "team-registry"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert "arn:aws:s3:::team-registry" in json.dumps(document)
    # By default the four managed policies bootstrap creates, each under IAM's size limit.
    assert list(document) == policy_names("SageMaker-Studio-ABAC")
    assert all(len(json.dumps(d, separators=(",", ":"))) <= POLICY_SIZE_LIMIT for d in document.values())
    assert cli.main(["admin", "policy", "abac", "--part", "Registry", "--policy-name", "Team"]) == 0
    part = json.loads(capsys.readouterr().out)
    assert part == abac_policies("Team")["Team-Registry"]
    assert cli.main(["admin", "policy", "abac", "--whole"]) == 0
    assert json.loads(capsys.readouterr().out) == abac_policy()
    assert cli.main(["admin", "policy", "trust"]) == 0
    assert json.loads(capsys.readouterr().out)["Statement"][0]["Action"] == "sts:AssumeRole"
    assert cli.main(["lifecycle-config", "print", "--version", "0.1.0"]) == 0
    assert capsys.readouterr().out.startswith("#!/bin/bash")
    assert cli.main(["lifecycle-config", "print", "--version", "0.1.0", "--base64"]) == 0
    assert base64.b64decode(capsys.readouterr().out.strip()).startswith(b"#!/bin/bash")
    assert cli_admin.main(["admin", "policy", "trust", "--json"]) == 0
    assert "Statement" in json.loads(capsys.readouterr().out)


def test_real_client_path_against_moto(aws_env, monkeypatch, capsys):
    """No injected caller: boto3 clients from core.aws, pointed at moto by AWS_ENDPOINT_URL."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # moto's 500s are not worth retrying
    assert cli.main(["admin", "status", "--domain", "team"]) == 0
    out = capsys.readouterr().out
    assert "missing       execution role SageMakerDomainExecutionRole" in out and "missing       domain team" in out
    # moto does not implement lifecycle configs: the failure is a message, not a traceback.
    assert cli.main(["lifecycle-config", "create"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "DescribeStudioLifecycleConfig" in err and "Traceback" not in err


def test_teardown_waits_through_a_failed_app_and_stops_on_a_failed_deletion(aws_env):
    from jupyter_smops.core.errors import UpstreamError

    sm = client("sagemaker", aws_env)
    d = {"DomainId": "d-abc123"}
    broken = dict(d, SpaceName="s1", AppType="JupyterLab", AppName="default")
    healthy = dict(d, SpaceName="s2", AppType="JupyterLab", AppName="default")
    stub = Stubber(sm)
    stub.add_response("describe_domain", dict(d, DomainName="team", Status="InService"), d)
    # Teardown first looks for the users' resources: no profiles with an owner tag here.
    stub.add_response("list_user_profiles", {"UserProfiles": []}, {"DomainIdEquals": "d-abc123"})
    stub.add_response("list_apps", {"Apps": [dict(broken, Status="Failed"), dict(healthy, Status="InService")]},
                      {"DomainIdEquals": "d-abc123"})
    stub.add_response("delete_app", {}, broken)
    stub.add_response("delete_app", {}, healthy)
    stub.add_response("describe_app", dict(broken, Status="Failed"), broken)  # not yet picked up: keep waiting
    stub.add_response("describe_app", dict(broken, Status="Deleted"), broken)
    stub.add_response("describe_app", dict(healthy, Status="Failed"), healthy)  # its deletion failed: stop
    with stub, pytest.raises(UpstreamError, match="ended in state Failed"):
        teardown.teardown(LiveCaller(route=lambda service, op: sm, sleep=lambda s: None), domain_id="d-abc123")
    stub.assert_no_pending_responses()
