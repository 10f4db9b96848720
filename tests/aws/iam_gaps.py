"""Owner calls the ABAC policy denies on purpose or until the code changes (see docs/admin.md).

``classify(call, request)`` -> ``("pending", reason)`` for a code change still to make (none
now: the owner folders, owner-named models and AccessDenied-as-absent have landed; a new one gets
a strict xfail in test_iam_policy.py so it cannot outlive its fix), ``("tolerated", reason)`` for
a call the code makes optionally and that the policy refuses by design, or ``(None, None)``: an
unexpected denial, which fails the test.
"""
from __future__ import annotations

import os

BUCKET_HARDENING = "PutPublicAccessBlock/PutBucketLifecycleConfiguration are the admin's (bootstrap sets them); the registry skips them when denied"
ABSENT = ("a Describe of a resource that does not exist carries no owner tag, so ABAC answers AccessDenied, not "
          "NotFound: the existence checks (endpoint exists(), the package group lookup) read it as absent")
EXISTENCE_CHECKS = ("exists", "ensure_group", "_endpoint")  # _endpoint: a config or model gone under an endpoint
LEGACY_HINT = ("a missing model's hint looks for versions in the old layout (<prefix>/<name>/, outside the owner's folder); "
               "denied under the policy, so no hint: the admin migrates")


def classify(call, req):
    prefix = os.environ.get("SMOPS_PREFIX", "model-artifacts").strip("/")
    own = f"{prefix}/{call.principal}/" if prefix else f"{call.principal}/"
    if req.action in ("s3:PutBucketPublicAccessBlock", "s3:PutLifecycleConfiguration"):
        return "tolerated", BUCKET_HARDENING
    if req.action.startswith("sagemaker:Describe") and not any(k.startswith("aws:ResourceTag/") for k in req.context) \
            and any(f in EXISTENCE_CHECKS for f in call.callers):
        return "tolerated", ABSENT
    if req.action == "s3:ListBucket" and call.operation == "ListObjectsV2" and call.params.get("MaxKeys"):
        listed = str(req.context.get("s3:prefix", ""))
        if not listed.startswith(own) and listed.endswith("/v"):
            return "tolerated", LEGACY_HINT
    return None, None
