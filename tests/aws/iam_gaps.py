"""Owner calls the ABAC policy denies on purpose or until the code changes (see docs/admin.md).

``classify(call, request)`` -> ``("pending", reason)`` for a code change still to make,
``("tolerated", reason)`` for a call the code makes optionally and that the policy refuses by
design, or ``(None, None)``: an unexpected denial, which fails the test. test_iam_policy.py
checks that each pending gap is still real (a strict xfail each), so none outlives its fix.
"""
from __future__ import annotations

import os

LAYOUT = "registry layout: keys are not yet under <prefix>/<owner>/ (registry change pending)"
MODEL_NAMES = "SageMaker model names do not yet start with '<owner>-' (endpoints change pending)"
ABSENT = ("a Describe of a resource that does not exist carries no owner tag, so ABAC answers AccessDenied, not "
          "NotFound: existence checks (endpoint exists(), the package group lookup) must read AccessDenied as absent")
BUCKET_HARDENING = "PutPublicAccessBlock/PutBucketLifecycleConfiguration are the admin's (bootstrap sets them); the registry skips them when denied"


def classify(call, req):
    prefix = os.environ.get("SMOPS_PREFIX", "model-artifacts").strip("/")
    own = f"{prefix}/{call.principal}/" if prefix else f"{call.principal}/"
    if req.action in ("s3:PutBucketPublicAccessBlock", "s3:PutLifecycleConfiguration"):
        return "tolerated", BUCKET_HARDENING
    if req.action == "s3:ListBucket":
        if "s3:prefix" not in req.context:  # e.g. HeadBucket: the whole bucket, denied on purpose
            return None, None
        return ("pending", LAYOUT) if not str(req.context["s3:prefix"]).startswith(own) else (None, None)
    if req.action.startswith("s3:") and req.resource.startswith("arn:aws:s3:::") and "/" in req.resource:
        key = req.resource.split("/", 1)[1]
        return ("pending", LAYOUT) if not key.startswith(own) else (None, None)
    if req.action.startswith("sagemaker:Describe") and not any(k.startswith("aws:ResourceTag/") for k in req.context):
        return "pending", ABSENT
    if req.action == "sagemaker:CreateEndpointConfig":
        models = req.context.get("sagemaker:ModelArn")
        models = models if isinstance(models, list) else [models]
        if any(m and not m.rsplit("/", 1)[1].startswith(f"{call.principal.lower()}-") for m in models):
            return "pending", MODEL_NAMES
    return None, None
