"""``/smops/api/status`` and the job routes."""
from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..core.errors import NotFound
from .base import SmopsHandler, job_json

API_VERSION = 1


class StatusHandler(SmopsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Backend, region, bucket, owner and versions: what the panel header shows."""
        info = await self.call(self.smops.status)
        info["api_version"] = API_VERSION
        info["jobs_running"] = sum(1 for j in self.jobs.list() if j.state == "running")
        self.reply(info)


class ChangesHandler(SmopsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """A stamp that changes when models or endpoints change, for the panel's cheap poll."""
        self.reply(await self.call(self.smops.changes))


class JobsHandler(SmopsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Every job of this server's life, newest first."""
        self.reply({"jobs": [job_json(j) for j in self.jobs.list()]})


class JobHandler(SmopsHandler):
    @web.authenticated
    @authorized
    async def get(self, id: str) -> None:  # noqa: A002 - the route's own parameter name
        job_id = id
        if not job_id.isalnum() or len(job_id) > 64:
            raise NotFound(f"No job {job_id!r}: job ids are the 'id' a 202 answer gave you.")
        self.reply(job_json(self.jobs.get(job_id)))
