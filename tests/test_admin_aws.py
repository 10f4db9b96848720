"""Bootstrap, status, lifecycle configs and teardown against moto (+ FakeStudio for what moto lacks)."""
from __future__ import annotations

import json
import urllib.request

import pytest

from jupyter_smops.core.admin import bootstrap as bs
from jupyter_smops.core.admin import lifecycle, teardown
from jupyter_smops.core.admin.lcc_script import render_script
from jupyter_smops.core.admin.policies import POLICY_SIZE_LIMIT, USER_MANAGED_POLICY_LIMIT, abac_policy, policy_names
from jupyter_smops.core.errors import Conflict
from test_admin_support import ACCOUNT, client, mutating, routed_caller

pytestmark = pytest.mark.aws
USERS = (bs.parse_user("alice:alice123"), bs.parse_user("bob:bob456"))


@pytest.fixture
def moto(aws_env, monkeypatch):
    """moto with AWS-managed IAM policies loaded (AmazonSageMakerFullAccess must be attachable)."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    urllib.request.urlopen(urllib.request.Request(f"{aws_env}/moto-api/reset", method="POST")).read()
    return aws_env


@pytest.fixture
def caller(moto):
    return routed_caller(moto)


def spec(**kw):
    return bs.Spec(domain="team", users=USERS, **kw)


def test_bootstrap_creates_everything_the_seed_does(moto, caller):
    report = bs.bootstrap(caller, spec())
    assert report.changed
    iam, s3, sm = client("iam", moto), client("s3", moto), client("sagemaker", moto)
    role = iam.get_role(RoleName="SageMakerDomainExecutionRole")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    attached = {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]}
    assert attached == {"AmazonSageMakerFullAccess", "AmazonS3FullAccess"}
    domain = sm.describe_domain(DomainId=report.data["domain_id"])
    assert domain["AuthMode"] == "IAM" and domain["DefaultUserSettings"]["ExecutionRole"] == role["Arn"]
    default_vpc = client("ec2", moto).describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    assert domain["VpcId"] == default_vpc["VpcId"] and domain["SubnetIds"]
    policy_arns = [f"arn:aws:iam::{ACCOUNT}:policy/{name}" for name in policy_names("SageMaker-Studio-ABAC")]
    assert len(policy_arns) > 1 and report.data["policy_arns"] == policy_arns
    statements = []
    for arn in policy_arns:  # what IAM was sent: each part within its size limit, together the whole policy
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        assert len(json.dumps(document, separators=(",", ":"))) <= POLICY_SIZE_LIMIT
        statements += document["Statement"]
    whole = abac_policy(account=ACCOUNT, bucket=f"sagemaker-us-east-1-{ACCOUNT}", role_arn=role["Arn"])
    assert sorted(map(json.dumps, statements)) == sorted(map(json.dumps, whole["Statement"]))
    for user in USERS:
        tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=user.iam_user)["Tags"]}
        assert tags["studiouserid"] == user.tag
        attached = [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=user.iam_user)["AttachedPolicies"]]
        assert sorted(attached) == sorted(policy_arns) and len(attached) <= USER_MANAGED_POLICY_LIMIT
        profile = caller.fake.profiles[(report.data["domain_id"], user.profile)]
        assert {"Key": "studiouserid", "Value": user.tag} in caller.fake.tags[profile["Arn"]]
        assert profile["Status"] == "InService"  # bootstrap waited for it
    assert s3.head_bucket(Bucket=f"sagemaker-us-east-1-{ACCOUNT}")
    tagset = s3.get_bucket_tagging(Bucket=f"sagemaker-us-east-1-{ACCOUNT}")["TagSet"]
    assert {"Key": "smops:managed-by", "Value": "jupyter-smops"} in tagset


def test_bootstrap_twice_changes_nothing(moto, caller):
    bs.bootstrap(caller, spec())
    again = routed_caller(moto, caller.fake)
    report = bs.bootstrap(again, spec())
    assert not report.changed, str(report)
    assert mutating(again.calls) == []
    assert {s.state for s in report.steps} == {"exists"}


def test_bootstrap_completes_a_partial_setup_and_fixes_a_wrong_tag(moto, caller):
    iam = client("iam", moto)
    iam.create_user(UserName="alice", Tags=[{"Key": "studiouserid", "Value": "someone-else"}])
    report = bs.bootstrap(caller, spec())
    states = {(s.what, s.name): s.state for s in report.steps}
    assert states[("IAM user", "alice")] == "tagged" and states[("IAM user", "bob")] == "created"
    assert {t["Value"] for t in iam.list_user_tags(UserName="alice")["Tags"]} == {"alice123"}


def test_status_reports_missing_then_present(moto, caller):
    before = bs.status(caller, spec())
    assert "missing" in {s.state for s in before.steps} and mutating(caller.calls) == []
    bs.bootstrap(caller, spec())
    lcc = lifecycle.create(caller, "smops-test", render_script(version="0.1.0"))
    lifecycle.attach(caller, lcc.data["arn"], bs.Bootstrap(caller, spec()).find_domain()["DomainId"])
    after = bs.status(routed_caller(moto, caller.fake), bs.Spec(domain="team"))  # users found in the domain
    states = {(s.what, s.name): s.state for s in after.steps}
    assert states[("user profile", "alice")] == "exists" and states[("IAM user", "bob")] == "exists"
    assert states[("lifecycle config", "smops-test")] == "attached"
    assert "missing" not in {s.state for s in after.steps}, str(after)


def test_abac_policy_out_of_date_gets_a_new_default_version(moto, caller):
    iam = client("iam", moto)
    arn = iam.create_policy(PolicyName="SageMaker-Studio-ABAC-Studio", PolicyDocument='{"Version":"2012-10-17","Statement":'
                            '[{"Effect":"Allow","Action":"sagemaker:ListDomains","Resource":"*"}]}')["Policy"]["Arn"]
    report = bs.bootstrap(caller, spec())
    assert {(s.what, s.state) for s in report.steps} >= {("ABAC policy", "updated")}
    default = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"]["Document"]
    assert any(st.get("Sid") == "AllowPresignedUrlWhenTagMatches" for st in document["Statement"])


def test_lifecycle_attach_keeps_other_lccs_and_detach_removes_only_ours(moto, caller):
    domain_id = bs.bootstrap(caller, spec()).data["domain_id"]
    other = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:studio-lifecycle-config/team-tools"
    caller.fake.domain_settings[domain_id] = {"JupyterLabAppSettings": {
        "LifecycleConfigArns": [other], "DefaultResourceSpec": {"InstanceType": "ml.t3.medium"}}}
    arn = lifecycle.create(caller, "smops-test", render_script(version="0.1.0")).data["arn"]
    lifecycle.attach(caller, "smops-test", domain_id)
    current = caller.fake.domain_settings[domain_id]["JupyterLabAppSettings"]
    assert current["LifecycleConfigArns"] == [other, arn]
    assert current["DefaultResourceSpec"] == {"InstanceType": "ml.t3.medium", "LifecycleConfigArn": arn}
    again = lifecycle.attach(caller, "smops-test", domain_id)
    assert not again.changed
    lifecycle.detach(caller, "smops-test", domain_id)
    current = caller.fake.domain_settings[domain_id]["JupyterLabAppSettings"]
    assert current == {"LifecycleConfigArns": [other], "DefaultResourceSpec": {"InstanceType": "ml.t3.medium"}}
    # and DescribeDomain shows it (moto's domain with the fake's UpdateDomain applied)
    seen = caller.call("sagemaker", "DescribeDomain", DomainId=domain_id)["DefaultUserSettings"]
    assert seen["JupyterLabAppSettings"] == current and seen["ExecutionRole"].endswith("/SageMakerDomainExecutionRole")


def test_lifecycle_attach_to_one_user_profile(moto, caller):
    domain_id = bs.bootstrap(caller, spec()).data["domain_id"]
    arn = lifecycle.create(caller, "smops-test", render_script(version="0.1.0")).data["arn"]
    lifecycle.attach(caller, arn, domain_id, user_profile="alice", make_default=False)
    assert caller.fake.profiles[(domain_id, "alice")]["UserSettings"] == {
        "JupyterLabAppSettings": {"LifecycleConfigArns": [arn]}}
    assert domain_id not in caller.fake.domain_settings


def test_lifecycle_create_is_idempotent_and_refuses_a_different_script(moto, caller):
    first = lifecycle.create(caller, "smops-test", render_script(version="0.1.0"))
    second = lifecycle.create(caller, "smops-test", render_script(version="0.1.0"))
    assert first.changed and not second.changed and first.data["arn"] == second.data["arn"]
    with pytest.raises(Conflict, match="new name"):
        lifecycle.create(caller, "smops-test", render_script(version="0.2.0"))
    assert lifecycle.delete(caller, "smops-test").changed
    assert not lifecycle.delete(caller, "smops-test").changed


def _seed_apps_and_spaces(caller, domain_id):
    sm = caller._client("sagemaker", "CreateSpace")
    for user in ("alice", "bob"):
        sm.create_space(DomainId=domain_id, SpaceName=f"{user}-space")
        sm.create_app(DomainId=domain_id, SpaceName=f"{user}-space", AppType="JupyterLab", AppName="default")
    sm.create_app(DomainId=domain_id, UserProfileName="alice", AppType="JupyterServer", AppName="default")


def test_teardown_order_and_everything_back_to_empty(moto, caller):
    domain_id = bs.bootstrap(caller, spec()).data["domain_id"]
    arn = lifecycle.create(caller, lifecycle_name := "smops-test", render_script(version="0.1.0")).data["arn"]
    lifecycle.attach(caller, arn, domain_id)
    _seed_apps_and_spaces(caller, domain_id)
    run = routed_caller(moto, caller.fake)
    report = teardown.teardown(run, domain_id=domain_id, everything=True, delete_home=True)
    ops = [op for _, op, _ in run.calls if op.startswith("Delete")]
    stage = {"DeleteApp": 0, "DeleteSpace": 1, "DeleteUserProfile": 2, "DeleteDomain": 3}
    stages = [stage[op] for op in ops if op in stage]
    assert stages == sorted(stages) and stages.count(0) == 3 and stages.count(3) == 1
    # the execution role goes last (the users' expiry and front roles go with each user)
    last_role = len(ops) - 1 - ops[::-1].index("DeleteRole")
    assert ops.index("DeleteDomain") < ops.index("DeleteUser") < ops.index("DeletePolicy") < last_role
    assert {s.state for s in report.steps} == {"deleted"}, str(report)
    iam, s3, sm = client("iam", moto), client("s3", moto), client("sagemaker", moto)
    assert sm.list_domains()["Domains"] == []
    assert iam.list_users()["Users"] == [] and iam.list_roles()["Roles"] == []
    assert iam.list_policies(Scope="Local")["Policies"] == []
    assert s3.list_buckets()["Buckets"] == []
    assert lifecycle_name not in caller.fake.lccs and not caller.fake.profiles and not caller.fake.spaces


def test_a_user_without_room_for_the_policies_is_refused_before_any_is_attached(moto, caller):
    from jupyter_smops.core.errors import BadRequest

    iam = client("iam", moto)
    iam.create_user(UserName="alice")  # an existing user that already has 7 managed policies: 7 + 4 > 10
    for i in range(7):
        arn = iam.create_policy(PolicyName=f"other-{i}", PolicyDocument='{"Version":"2012-10-17","Statement":'
                                '[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}')["Policy"]["Arn"]
        iam.attach_user_policy(UserName="alice", PolicyArn=arn)
    with pytest.raises(BadRequest, match="limit of 10 per user"):
        bs.bootstrap(caller, spec())
    attached = [p["PolicyName"] for p in iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"]]
    assert sorted(attached) == [f"other-{i}" for i in range(7)]


def test_teardown_keeps_what_it_did_not_create(moto, caller):
    iam = client("iam", moto)
    iam.create_user(UserName="alice")  # the admin's own user, adopted by bootstrap (tagged, not moved)
    domain_id = bs.bootstrap(caller, spec(bucket="team-registry")).data["domain_id"]
    client("s3", moto).put_object(Bucket="team-registry", Key="model-artifacts/iris/v1/model.tar.gz", Body=b"x")
    report = teardown.teardown(routed_caller(moto, caller.fake), domain_id=domain_id, everything=True,
                               bucket="team-registry")
    states = {(s.what, s.name): (s.state, s.detail) for s in report.steps}
    assert states[("IAM user", "bob")][0] == "deleted"
    assert ("IAM user", "alice") not in states and iam.get_user(UserName="alice")
    for name in policy_names("SageMaker-Studio-ABAC"):
        assert states[("ABAC policy", name)] == ("kept", "still attached to alice")
    assert states[("registry bucket", "team-registry")][0] == "kept"


def test_wrong_order_is_refused_like_aws_does(moto, caller):
    """The fake enforces AWS's rule, so the order test above can fail."""
    from jupyter_smops.core.errors import SmopsError

    domain_id = bs.bootstrap(caller, spec()).data["domain_id"]
    with pytest.raises(SmopsError):
        caller.call("sagemaker", "DeleteDomain", DomainId=domain_id, RetentionPolicy={"HomeEfsFileSystem": "Retain"})


def test_fake_requests_are_validated_against_the_service_model(moto, caller):
    """What the fake answers was first validated by botocore, as Stubber would."""
    from jupyter_smops.core.errors import SmopsError

    with pytest.raises(SmopsError, match="UserProfileName"):
        caller.call("sagemaker", "CreateUserProfile", DomainId="d-abc123", UserProfileName=42)
    with pytest.raises(SmopsError, match="StudioLifecycleConfigAppType"):
        caller.call("sagemaker", "CreateStudioLifecycleConfig", StudioLifecycleConfigName="x",
                    StudioLifecycleConfigContent="eA==")
    assert caller.fake.lccs == {} and caller.fake.profiles == {}


def test_a_failed_bootstrap_says_what_it_did_and_a_rerun_finishes(moto, caller):
    from jupyter_smops.core.errors import SmopsError

    caller.fake.fail_next["CreateUserProfile"] = ("ResourceLimitExceeded", "The account-level user profile limit is 1.")
    with pytest.raises(SmopsError) as info:
        bs.bootstrap(caller, spec())
    message = str(info.value)
    assert "quota" in message and "Done before this failure" in message and "created       domain team" in message
    again = routed_caller(moto, caller.fake)
    report = bs.bootstrap(again, spec())
    created = {(s.what, s.name) for s in report.steps if s.state in ("created", "attached")}
    roles = {(f"{kind} role", f"smops-{kind}-{tag}") for kind in ("expiry", "front") for tag in ("alice123", "bob456")}
    assert created == {("user profile", "alice"), ("IAM user", "alice"), ("user profile", "bob"), ("IAM user", "bob")
                       } | roles | {("user policy", name) for name in policy_names("SageMaker-Studio-ABAC")}
    assert "sagemaker.CreateDomain" not in [f"{s}.{op}" for s, op, _ in again.calls]


def _user_with_old_policy(iam, others: int) -> None:
    """alice as a release before the split left her: the single ABAC policy plus ``others``."""
    iam.create_user(UserName="alice")
    doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}'
    names = ["SageMaker-Studio-ABAC"] + [f"other-{i}" for i in range(others)]
    for name in names:
        iam.attach_user_policy(UserName="alice", PolicyArn=iam.create_policy(PolicyName=name,
                                                                              PolicyDocument=doc)["Policy"]["Arn"])


@pytest.mark.parametrize("others", [0, 6])  # 6: the parts fit only once the old policy is gone
def test_bootstrap_replaces_the_old_single_policy_by_its_parts(moto, caller, others):
    iam = client("iam", moto)
    _user_with_old_policy(iam, others)
    assert any(s.state == "outdated" and s.name == "SageMaker-Studio-ABAC" for s in bs.status(caller, spec()).steps)
    report = bs.bootstrap(caller, spec())
    order = [(op, params["PolicyArn"].rsplit("/", 1)[-1]) for _, op, params in caller.calls
             if op in ("AttachUserPolicy", "DetachUserPolicy") and params.get("UserName") == "alice"]
    detach = order.index(("DetachUserPolicy", "SageMaker-Studio-ABAC"))
    attaches = [i for i, (op, _) in enumerate(order) if op == "AttachUserPolicy"]
    assert len(attaches) == 4
    # Access never lapses when there is room: the parts go on before the old policy comes off.
    assert (detach > max(attaches)) if others == 0 else (detach < min(attaches))
    attached = sorted(p["PolicyName"] for p in iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"])
    assert attached == sorted(policy_names("SageMaker-Studio-ABAC") + [f"other-{i}" for i in range(others)])
    assert any(s.state == "detached" and s.name == "SageMaker-Studio-ABAC" for s in report.steps)
    assert not bs.bootstrap(caller, spec()).changed  # and a second run finds nothing to do
