"""The server extension's REST face: thin HTTP over the core at ``/smops/api/...``.

``ROUTES`` is the one route table: ``route_handlers`` turns it into tornado handlers (the
extension app in ``jupyter_smops/extension.py`` registers them), ``docs/openapi.yaml`` documents
it, and the tests walk it (every route refuses unauthenticated requests, every route is in the
OpenAPI document and vice versa).
"""
from __future__ import annotations

import re
from typing import Optional

from jupyter_server.utils import url_path_join

from ..core.api import Smops
from .jobs import JobManager
from .base import FallbackHandler
from .endpoints import (CleanupHandler, EndpointHandler, EndpointsHandler, ExpiryHandler, InvocationsHandler,
                        LogsHandler, PublicFrontHandler)
from .models import ApprovalHandler, ModelHandler, ModelsHandler, PackagesHandler
from .status import ChangesHandler, JobHandler, JobsHandler, StatusHandler

# OpenAPI-style templates; ``{param}`` matches one path segment.
ROUTES = [
    ("/smops/api/status", StatusHandler),
    ("/smops/api/changes", ChangesHandler),
    ("/smops/api/models", ModelsHandler),
    ("/smops/api/models/{name}", ModelHandler),
    ("/smops/api/models/{name}/versions/{version}/approval", ApprovalHandler),
    ("/smops/api/packages", PackagesHandler),
    ("/smops/api/endpoints", EndpointsHandler),
    ("/smops/api/endpoints/{name}", EndpointHandler),
    ("/smops/api/endpoints/{name}/invocations", InvocationsHandler),
    ("/smops/api/endpoints/{name}/logs", LogsHandler),
    ("/smops/api/endpoints/{name}/expiry", ExpiryHandler),
    ("/smops/api/endpoints/{name}/public", PublicFrontHandler),
    ("/smops/api/cleanup", CleanupHandler),
    ("/smops/api/jobs", JobsHandler),
    ("/smops/api/jobs/{id}", JobHandler),
]

# Unknown paths under the API answer a JSON 404 (after authentication), not Jupyter's HTML page.
FALLBACK = r"/smops/api/(?P<rest>.*)"

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def route_regex(template: str) -> str:
    return re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)


def route_methods(handler) -> list[str]:
    """The HTTP methods a handler class implements itself (not tornado's 405 defaults)."""
    from tornado.web import RequestHandler

    return [m for m in HTTP_METHODS if getattr(handler, m) is not getattr(RequestHandler, m)]


def route_handlers(services: dict) -> list[tuple]:
    """``(pattern, handler, services)`` for every route and the fallback, without the server's
    base URL (the caller adds it). ``services`` reach each handler's ``initialize()``."""
    handlers = [(route_regex(t), cls, services) for t, cls in ROUTES]
    handlers.append((FALLBACK, FallbackHandler, services))
    return handlers


def setup_handlers(server_app, *, smops: Optional[Smops] = None,
                   jobs: Optional[JobManager] = None) -> tuple[Smops, JobManager]:
    """Register every route on a running server with the given services (tests inject theirs
    here with the extension disabled); missing ones are built from the server's config."""
    from ..core.config import SmopsConfig

    smops = smops or Smops(SmopsConfig(config=server_app.config))
    jobs = jobs or JobManager()
    base_url = server_app.web_app.settings["base_url"]
    services = {"smops": smops, "jobs": jobs, "root_dir": str(server_app.root_dir)}
    server_app.web_app.add_handlers(".*$", [(url_path_join(base_url, pattern), cls, kwargs)
                                            for pattern, cls, kwargs in route_handlers(services)])
    return smops, jobs
