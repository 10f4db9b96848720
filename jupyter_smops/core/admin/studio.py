"""Finding a domain by name, and presigned Studio URLs for a user profile."""
from __future__ import annotations

from typing import Optional

from ..errors import BadRequest, NotFound
from .calls import Caller
from .report import Report


def domain_id_of(caller: Caller, domain_id: Optional[str] = None, name: Optional[str] = None) -> str:
    """The id given, else the id of the domain called ``name``, else the account's only domain."""
    if domain_id:
        return domain_id
    if caller.dry_run:
        return f"<domain-id of {name}>" if name else "<domain-id>"
    domains = list(caller.pages("sagemaker", "ListDomains", "Domains"))
    if name:
        for item in domains:
            if item.get("DomainName") == name:
                return item["DomainId"]
        raise NotFound(f"No domain named {name!r}. Known: {', '.join(d['DomainName'] for d in domains) or 'none'}.")
    if len(domains) == 1:
        return domains[0]["DomainId"]
    known = ", ".join(f"{d['DomainName']} ({d['DomainId']})" for d in domains) or "none"
    raise BadRequest(f"Say which domain with --domain NAME or --domain-id ID (domains: {known}).")


def presigned_url(caller: Caller, domain_id: str, user_profile: str, session_seconds: int = 3600,
                  expires_in: int = 300) -> Report:
    """A sign-in URL for ``user_profile`` (CreatePresignedDomainUrl): the URL works once within
    ``expires_in`` seconds (5-300) and opens a Studio session of ``session_seconds`` (1800-43200)."""
    if not 1800 <= session_seconds <= 43200:
        raise BadRequest("--session must be between 1800 and 43200 seconds (SageMaker's range).")
    if not 5 <= expires_in <= 300:
        raise BadRequest("--expires-in must be between 5 and 300 seconds (SageMaker's range).")
    url = caller.call("sagemaker", "CreatePresignedDomainUrl", DomainId=domain_id, UserProfileName=user_profile,
                      SessionExpirationDurationInSeconds=session_seconds, ExpiresInSeconds=expires_in)["AuthorizedUrl"]
    report = Report(f"Studio sign-in URL for {user_profile} in {domain_id} (use it within {expires_in} s)",
                    dry_run=caller.dry_run, data={"url": url})
    if caller.dry_run:
        report.plan = list(getattr(caller, "lines", []))
    else:
        report.footer = url
    return report
