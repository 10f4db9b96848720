"""The IAM documents: parliament finds nothing wrong, and they keep the seed's rules."""
from __future__ import annotations

import json

import pytest
from parliament import analyze_policy_string

from jupyter_smops.core.admin.policies import (POLICY_SIZE_LIMIT, USER_MANAGED_POLICY_LIMIT, abac_policies,
                                               abac_policy, policy_names, same_document, to_json, trust_policy,
                                               trusts_sagemaker)

VARIANTS = {
    "printed defaults": {},
    "bootstrap values": dict(account="123456789012", region="us-east-1", bucket="team-registry",
                             role_arn="arn:aws:iam::123456789012:role/SageMakerDomainExecutionRole"),
    # (not "team-user": parliament cannot parse a hyphen inside ${aws:PrincipalTag/...} in an S3 ARN)
    "other tag key and a deeper prefix": dict(tag_key="teamuser", prefix="team/models"),
}


# CreateEndpoint is authorized on two ARNs, the new endpoint (checked on its request tags) and the
# endpoint config it uses (checked on that config's owner tag): they need two statements with two
# conditions, which parliament reads as each statement missing the other resource type.
_SPLIT_ON_PURPOSE = {("RESOURCE_MISMATCH", f"[{{'action': 'sagemaker:CreateEndpoint', 'required_format': "
                                           f"'arn:*:sagemaker:*:*:{kind}/*'}}]") for kind in ("endpoint", "endpoint-config")}


def _findings(document: dict) -> list[tuple[str, str]]:
    policy = analyze_policy_string(json.dumps(document))
    return [(f.issue, str(f.detail)) for f in policy.findings if (f.issue, str(f.detail)) not in _SPLIT_ON_PURPOSE]


@pytest.mark.parametrize("variant", VARIANTS)
def test_abac_policy_has_no_parliament_findings(variant):
    assert _findings(abac_policy(**VARIANTS[variant])) == []


# The longest values bootstrap can put into the documents: a 63-character bucket, a long role path.
_LONGEST = dict(account="123456789012", region="ap-southeast-3", bucket="b" * 63, prefix="p" * 60, tag_key="t" * 64,
                role_arn="arn:aws:iam::123456789012:role/" + "r" * 64)


@pytest.mark.parametrize("variant", [*VARIANTS, "longest values"])
def test_each_managed_policy_fits_iam_and_together_they_are_the_whole_policy(variant):
    options = VARIANTS.get(variant, _LONGEST)
    parts = abac_policies("SageMaker-Studio-ABAC", **options)
    assert list(parts) == policy_names("SageMaker-Studio-ABAC") and 1 < len(parts) <= USER_MANAGED_POLICY_LIMIT
    for name, document in parts.items():  # IAM counts the document without whitespace
        assert len(json.dumps(document, separators=(",", ":"))) <= POLICY_SIZE_LIMIT, name
        assert len(to_json(document, compact=True)) <= POLICY_SIZE_LIMIT, name
    whole = abac_policy(**options)
    assert len(json.dumps(whole, separators=(",", ":"))) > POLICY_SIZE_LIMIT  # why it is split at all
    union = [st for document in parts.values() for st in document["Statement"]]
    assert sorted(map(json.dumps, union)) == sorted(map(json.dumps, whole["Statement"]))  # each once, unchanged


def test_parliament_would_catch_a_bad_statement():
    """The check above can fail: a typo'd action and an unknown condition key are reported."""
    document = abac_policy()
    document["Statement"][0]["Action"].append("sagemaker:ListEndpointz")
    document["Statement"][-1]["Condition"] = {"StringEquals": {"s3:NotAKey": "x"}}
    issues = {issue for issue, _ in _findings(document)}
    assert {"UNKNOWN_ACTION", "UNKNOWN_CONDITION_FOR_ACTION"} <= issues


def test_trust_policy_only_lacks_the_resource_trust_policies_never_have():
    # parliament reads every document as an identity policy; IAM refuses a Resource in a trust policy.
    assert _findings(trust_policy()) == [("MALFORMED", "Statement contains neither Resource nor NotResource")]
    assert trusts_sagemaker(trust_policy()) and trusts_sagemaker(to_json(trust_policy()))
    assert not trusts_sagemaker({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]})


def test_abac_keeps_the_seed_statements_and_scopes_everything_by_owner_tag():
    statements = {s["Sid"]: s for s in abac_policy(bucket="b")["Statement"]}
    listing = statements["AllowConsoleListAndDescribe"]["Action"]
    for action in ("sagemaker:ListDomains", "sagemaker:ListUserProfiles", "sagemaker:ListApps", "sagemaker:ListTags"):
        assert action in listing
    described = statements["AllowDescribingTheDomainAndProfiles"]["Action"]
    assert described == ["sagemaker:DescribeDomain", "sagemaker:DescribeUserProfile"]
    owner = "${aws:PrincipalTag/studiouserid}"
    presigned = statements["AllowPresignedUrlWhenTagMatches"]
    assert presigned["Action"] == ["sagemaker:CreatePresignedDomainUrl"]
    assert presigned["Condition"] == {"StringEquals": {"aws:ResourceTag/studiouserid": owner}}
    for sid in ("AllowOwnModelsAndEndpoints", "AllowCreateModelTaggedWithOwner", "AllowTaggingAtCreation",
                "AllowTaggingOwnResources", "AllowCreateEndpointOnOwnConfig"):
        assert owner in json.dumps(statements[sid]["Condition"]), sid
    resources = json.dumps(statements["AllowOwnModelsAndEndpoints"]["Resource"])
    for kind in ("model/", "endpoint-config/", "endpoint/", "model-package/", "model-package-group/"):
        assert kind in resources
    # S3 is scoped by path: each owner has a folder of their own.
    assert statements["AllowOwnRegistryObjects"]["Resource"] == "arn:aws:s3:::b/model-artifacts/${aws:PrincipalTag/studiouserid}/*"
    # Actions that change something are never allowed on "*".
    for st in statements.values():
        changing = [a for a in st["Action"] if not a.split(":")[1].startswith(("List", "Describe", "Get"))]
        assert not changing or st["Resource"] != "*" , st["Sid"]


def test_same_document_ignores_order_and_encoding():
    from urllib.parse import quote

    doc = abac_policy()
    assert same_document(doc, json.loads(to_json(doc, compact=True)))
    assert same_document(quote(to_json(doc)), doc)
    assert not same_document(doc, abac_policy(tag_key="other"))


def test_admin_core_imports_neither_jupyter_nor_boto3():
    """core.admin is core: no tornado/jupyter_server/IPython, and boto3 only when a call is made."""
    import subprocess
    import sys

    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('tornado', 'jupyter_server', 'IPython'):\n"
            "            raise ImportError('blocked ' + name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "import jupyter_smops.core.admin.bootstrap, jupyter_smops.core.admin.teardown, jupyter_smops.core.admin.owned\n"
            "import jupyter_smops.core.admin.lifecycle, jupyter_smops.core.admin.plan, jupyter_smops.core.admin.studio\n"
            "import jupyter_smops.cli_admin\n"
            "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
