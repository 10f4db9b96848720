"""The offline IAM evaluator (iam_eval.py) on the examples of the IAM User Guide: policy
evaluation logic, condition operators (incl. ...IfExists and Null) and multivalued keys."""
from __future__ import annotations

import pytest

from iam_eval import Request, evaluate


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action="*", resource="*", condition=None, effect="Allow"):
    st = {"Effect": effect, "Action": action, "Resource": resource}
    if condition:
        st["Condition"] = condition
    return st


def test_explicit_deny_beats_allow_and_nothing_allowed_is_an_implicit_deny():
    # "Policy evaluation logic": an explicit deny in any policy overrides any allow.
    policy = doc(allow("s3:*"), allow("s3:DeleteObject", effect="Deny"))
    assert evaluate(policy, Request("s3:GetObject", "arn:aws:s3:::b/k")).effect == "Allow"
    assert evaluate(policy, Request("s3:DeleteObject", "arn:aws:s3:::b/k")).effect == "ExplicitDeny"
    assert evaluate(policy, Request("ec2:RunInstances", "*")).effect == "ImplicitDeny"


def test_action_wildcards_ignore_case_resource_wildcards_do_not():
    policy = doc(allow("sagemaker:Describe*", "arn:aws:sagemaker:*:*:endpoint/iris*"))
    assert evaluate(policy, Request("SageMaker:describeendpoint", "arn:aws:sagemaker:us-east-1:1:endpoint/iris-a")).allowed
    assert not evaluate(policy, Request("sagemaker:DescribeEndpoint", "arn:aws:sagemaker:us-east-1:1:endpoint/IRIS")).allowed
    assert not evaluate(policy, Request("sagemaker:DeleteEndpoint", "arn:aws:sagemaker:us-east-1:1:endpoint/iris")).allowed
    # A '*' in an ARN field does not reach into the next field.
    assert not evaluate(doc(allow("s3:*", "arn:aws:s*:::b")), Request("s3:ListBucket", "arn:aws:s3:x::b")).allowed
    assert evaluate(doc(allow("s3:*", "arn:aws:s3:::b/pre/?/*")), Request("s3:GetObject", "arn:aws:s3:::b/pre/a/x/y")).allowed


def test_not_action_and_not_resource():
    policy = doc({"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"})
    assert evaluate(policy, Request("s3:GetObject", "arn:aws:s3:::open/k")).allowed
    assert not evaluate(policy, Request("s3:GetObject", "arn:aws:s3:::secret/k")).allowed
    assert not evaluate(policy, Request("iam:PassRole", "arn:aws:iam::1:role/r")).allowed


def test_a_missing_key_fails_a_condition_and_if_exists_lets_it_pass():
    # Condition operators: "If the key ... is not present in the request context, the values do
    # not match" -- the THISPOLICYDOESNOTWORK example -- and the StringLikeIfExists fix.
    strict = doc(allow("ec2:RunInstances", condition={"StringLike": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}))
    fixed = doc(allow("ec2:RunInstances", condition={"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}))
    image = Request("ec2:RunInstances", "arn:aws:ec2:us-east-1::image/ami-1")  # no ec2:InstanceType
    small = Request("ec2:RunInstances", "arn:aws:ec2:us-east-1:1:instance/*", {"ec2:InstanceType": "t2.micro"})
    big = Request("ec2:RunInstances", "arn:aws:ec2:us-east-1:1:instance/*", {"ec2:InstanceType": "p4d.24xlarge"})
    assert [evaluate(strict, r).allowed for r in (image, small, big)] == [False, True, False]
    assert [evaluate(fixed, r).allowed for r in (image, small, big)] == [True, True, False]


def test_negated_operators_are_true_when_the_key_is_missing():
    # "If the policy condition requires that the key is not matched, such as StringNotLike ...
    # and the right key is not present, the condition is true."
    deny = doc(allow(), allow("*", condition={"StringNotEquals": {"aws:ResourceTag/team": "a"}}, effect="Deny"))
    assert evaluate(deny, Request("s3:GetObject", "x")).effect == "ExplicitDeny"
    assert evaluate(deny, Request("s3:GetObject", "x", {"aws:ResourceTag/team": "a"})).effect == "Allow"
    # Deny with a negated ...IfExists operator still denies when the tag is missing.
    deny_if = doc(allow(), allow("*", condition={"StringNotEqualsIfExists": {"aws:ResourceTag/team": "a"}}, effect="Deny"))
    assert evaluate(deny_if, Request("s3:GetObject", "x")).effect == "ExplicitDeny"


def test_null_checks_presence():
    # The aws:TokenIssueTime example: allowed only without temporary credentials.
    policy = doc(allow("ec2:*", condition={"Null": {"aws:TokenIssueTime": "true"}}))
    assert evaluate(policy, Request("ec2:DescribeInstances", "*")).allowed
    assert not evaluate(policy, Request("ec2:DescribeInstances", "*", {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"})).allowed


def test_several_keys_and_operators_are_and_several_values_are_or():
    policy = doc(allow("s3:ListBucket", condition={
        "StringLike": {"s3:prefix": ["home/a/*", "shared/*"]},
        "StringEquals": {"aws:PrincipalTag/team": "x", "s3:delimiter": "/"}}))
    ok = {"s3:prefix": "shared/doc", "aws:PrincipalTag/team": "x", "s3:delimiter": "/"}
    assert evaluate(policy, Request("s3:ListBucket", "b", ok)).allowed
    for key, bad in (("s3:prefix", "home/b/x"), ("aws:PrincipalTag/team", "y"), ("s3:delimiter", ",")):
        assert not evaluate(policy, Request("s3:ListBucket", "b", {**ok, key: bad})).allowed


def test_policy_variables_resolve_from_the_request_and_a_missing_one_matches_nothing():
    policy = doc(allow("s3:GetObject", "arn:aws:s3:::b/home/${aws:PrincipalTag/user}/*"),
                 allow("sagemaker:DescribeEndpoint", condition={
                     "StringEquals": {"aws:ResourceTag/owner": "${aws:PrincipalTag/user}"}}))
    alice = {"aws:PrincipalTag/user": "alice"}
    assert evaluate(policy, Request("s3:GetObject", "arn:aws:s3:::b/home/alice/k", alice)).allowed
    assert not evaluate(policy, Request("s3:GetObject", "arn:aws:s3:::b/home/bob/k", alice)).allowed
    assert not evaluate(policy, Request("s3:GetObject", "arn:aws:s3:::b/home//k")).allowed  # untagged principal
    mine = {**alice, "aws:ResourceTag/owner": "alice"}
    assert evaluate(policy, Request("sagemaker:DescribeEndpoint", "e", mine)).allowed
    assert not evaluate(policy, Request("sagemaker:DescribeEndpoint", "e", {**alice, "aws:ResourceTag/owner": "bob"})).allowed
    # No principal tag: "${...}" resolves to nothing, so even an untagged resource is not matched.
    assert not evaluate(policy, Request("sagemaker:DescribeEndpoint", "e", {"aws:ResourceTag/owner": ""})).allowed
    # ${*} is a literal asterisk.
    lit = doc(allow("s3:GetObject", condition={"StringLike": {"s3:ExistingObjectTag/x": "a${*}"}}))
    assert evaluate(lit, Request("s3:GetObject", "k", {"s3:ExistingObjectTag/x": "a*"})).allowed
    assert not evaluate(lit, Request("s3:GetObject", "k", {"s3:ExistingObjectTag/x": "ab"})).allowed


# The multivalued examples of "Creating a condition that tests multiple key values".
ALLOW_ONLY = doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:r:1:table/Thread", {
    "ForAllValues:StringLike": {"dynamodb:requestedAttributes": ["PostDateTime", "Message", "Tags"]}}))
DENY_ANY = doc(allow("dynamodb:PutItem"), allow("dynamodb:PutItem", "arn:aws:dynamodb:r:1:table/Thread", {
    "ForAnyValue:StringLike": {"dynamodb:requestedAttributes": ["ID", "PostDateTime"]}}, effect="Deny"))


@pytest.mark.parametrize("attributes, allowed", [
    (["PostDateTime", "Message"], True),       # every requested value is listed
    (["PostDateTime", "UserName"], False),     # UserName matches nothing -> false
    ([], True),                                # an empty set: ForAllValues is true
    (None, True),                              # no key at all: ForAllValues is true
])
def test_for_all_values(attributes, allowed):
    ctx = {} if attributes is None else {"dynamodb:requestedAttributes": attributes}
    assert evaluate(ALLOW_ONLY, Request("dynamodb:GetItem", "arn:aws:dynamodb:r:1:table/Thread", ctx)).allowed is allowed


@pytest.mark.parametrize("attributes, effect", [
    (["UserName", "Message", "PostDateTime"], "ExplicitDeny"),  # PostDateTime matches -> denied
    (["UserName"], "Allow"),                                    # no match -> not denied by this statement
    (None, "Allow"),                                            # no key: ForAnyValue is false
])
def test_for_any_value(attributes, effect):
    ctx = {} if attributes is None else {"dynamodb:requestedAttributes": attributes}
    assert evaluate(DENY_ANY, Request("dynamodb:PutItem", "arn:aws:dynamodb:r:1:table/Thread", ctx)).effect == effect


def test_for_any_value_if_exists_is_still_false_without_the_key():
    # re:Post "ForAnyValue:StringEqualsIfExists behaving unexpectedly": ListQueues has no
    # aws:TagKeys, and the Allow did not apply.
    policy = doc(allow("sqs:*", condition={"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["team"]}}))
    assert not evaluate(policy, Request("sqs:ListQueues", "*")).allowed
    assert evaluate(policy, Request("sqs:TagQueue", "*", {"aws:TagKeys": ["team", "x"]})).allowed


def test_deny_for_all_values_with_null_false_needs_the_key():
    # The DenyRestrictedTags example: Null false + ForAllValues:StringLike on aws:TagKeys.
    policy = doc(allow(), allow(["iam:Tag*", "iam:UnTag*"], condition={
        "Null": {"aws:TagKeys": "false"}, "ForAllValues:StringLike": {"aws:TagKeys": ["key1*", "key2*", "key3*"]}},
        effect="Deny"))
    assert evaluate(policy, Request("iam:TagUser", "*", {"aws:TagKeys": ["key1a", "key3"]})).effect == "ExplicitDeny"
    assert evaluate(policy, Request("iam:TagUser", "*", {"aws:TagKeys": ["key1a", "other"]})).effect == "Allow"
    assert evaluate(policy, Request("iam:TagUser", "*")).effect == "Allow"


def test_arn_and_bool_and_numeric_operators():
    policy = doc(allow("iam:PassRole", condition={"ArnLike": {"iam:AssociatedResourceArn": "arn:aws:sagemaker:*:1:model/*"},
                                                  "Bool": {"aws:SecureTransport": True},
                                                  "NumericLessThanEquals": {"s3:max-keys": "10"}}))
    ctx = {"iam:AssociatedResourceArn": "arn:aws:sagemaker:us-east-1:1:model/m", "aws:SecureTransport": "true",
           "s3:max-keys": "5"}
    assert evaluate(policy, Request("iam:PassRole", "r", ctx)).allowed
    # ArnLike matches field by field: '*' in the region does not swallow the account.
    assert not evaluate(policy, Request("iam:PassRole", "r", {**ctx, "iam:AssociatedResourceArn":
                                                               "arn:aws:sagemaker:us-east-1:2:x:1:model/m"})).allowed
    assert not evaluate(policy, Request("iam:PassRole", "r", {**ctx, "aws:SecureTransport": "false"})).allowed
    assert not evaluate(policy, Request("iam:PassRole", "r", {**ctx, "s3:max-keys": "11"})).allowed


def test_unsupported_operators_and_single_operators_on_multivalued_keys_raise():
    with pytest.raises(ValueError, match="not supported"):
        evaluate(doc(allow(condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})), Request("s3:GetObject", "k"))
    with pytest.raises(ValueError, match="multivalued"):
        evaluate(doc(allow(condition={"StringEquals": {"aws:TagKeys": "a"}})), Request("s3:GetObject", "k", {"aws:TagKeys": ["a"]}))
