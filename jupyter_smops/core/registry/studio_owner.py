"""Who owns what a push creates, inside SageMaker Studio: the user profile's owner tag."""
from __future__ import annotations

import logging
from typing import Any, Callable

from ..aws import aws_errors
from ..errors import SmopsError

log = logging.getLogger("jupyter_smops")


def studio_owner(config, sagemaker: Callable[[], Any]) -> str:
    """The Studio user profile's ``config.owner_tag_key`` tag (e.g. ``studiouserid``), or ""
    outside Studio or when the profile cannot be read (the caller then uses the user name).
    ``sagemaker()`` gives the SageMaker client (made only when Studio is detected)."""
    studio = config.studio
    if not (studio.detected and studio.user_profile_name):
        return ""
    try:
        with aws_errors("reading the Studio user profile", "sagemaker"):
            client = sagemaker()
            arn = client.describe_user_profile(
                DomainId=studio.domain_id, UserProfileName=studio.user_profile_name)["UserProfileArn"]
            tags = client.list_tags(ResourceArn=arn).get("Tags", [])
    except SmopsError as exc:
        log.info("jupyter_smops: cannot read the Studio profile's tags (%s); using the user name", exc)
        return ""
    return next((t["Value"] for t in tags if t["Key"] == config.owner_tag_key), "")
