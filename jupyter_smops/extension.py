"""The Jupyter server extension: an ``ExtensionApp`` that owns the REST face's services.

The app builds the services once (one ``SmopsConfig`` parented to the app, so
``c.SmopsConfig.*`` in ``jupyter_server_config.py`` and the ``SMOPS_*`` variables apply, one
``Smops``, one ``JobManager``), registers the route table with them passed to every handler's
``initialize()``, and stops the jobs when the server stops. It holds the local endpoints' warm
fork server for the server's lifetime (a lease the fork server drops by itself if the server is
killed), and on stop says which local endpoints keep running, and how to stop them.

The backend classes (``registry_class``/``endpoints_class``) are ``Type`` traits of
``SmopsConfig``, not of this app: the magics and the CLI read the same settings without a
Jupyter server, and one trait in one place keeps ``c.SmopsConfig.endpoints_class`` and
``SMOPS_ENDPOINTS_CLASS`` meaning the same thing in all three faces.
"""
from __future__ import annotations

import asyncio

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float


class SmopsApp(ExtensionApp):
    """jupyter_smops inside Jupyter Server (enabled as ``jupyter_smops``)."""

    name = "jupyter_smops"
    # Only an API and a lab extension: nothing to open in a browser, no page of its own.
    open_browser = False
    load_other_extensions = True

    job_stop_grace = Float(10.0, help="Seconds running jobs (push, deploy, delete) get to finish when the "
                                      "server stops, before they are cancelled and rolled back.").tag(config=True)

    def initialize_settings(self) -> None:
        from .core.api import Smops
        from .core.config import SmopsConfig
        from .handlers.jobs import JobManager

        self.smops_config = SmopsConfig(parent=self)
        self.smops = Smops(self.smops_config)
        self.jobs = JobManager()
        try:
            # Through the service, not the endpoints backend: building the backend here would fix
            # endpoints_class before the first request, which is when it is read.
            self.smops.hold_warm_server()
        except OSError as exc:  # an unwritable SMOPS_HOME: deploys will say so clearly
            self.log.warning("jupyter_smops: cannot hold the warm fork server: %s", exc)

    def initialize_handlers(self) -> None:
        from .handlers import route_handlers

        services = {"smops": self.smops, "jobs": self.jobs, "root_dir": str(self.serverapp.root_dir)}
        # ExtensionApp prefixes each pattern with the server's base URL.
        self.handlers.extend(route_handlers(services))
        self.log.info("jupyter_smops server extension loaded")

    async def stop_extension(self) -> None:
        """Stop the jobs with the server: none is left running against a server that is gone."""
        jobs = getattr(self, "jobs", None)
        if jobs is not None:
            # Waiting for running jobs blocks; keep the event loop free for the rest of the shutdown.
            await asyncio.get_running_loop().run_in_executor(None, jobs.shutdown, self.job_stop_grace)
        smops = getattr(self, "smops", None)
        if smops is not None:
            self._say_what_keeps_running(smops.local_endpoints)

    def _say_what_keeps_running(self, local) -> None:
        """Local endpoints outlive the server by design (as SageMaker endpoints outlive a notebook):
        log which, and how to stop them; drop the server's hold on the fork server."""
        try:
            live = [ep.name for ep in local.list() if ep.status in ("InService", "Creating")]
        except Exception as exc:  # noqa: BLE001 - a stopping server must not fail on a report
            self.log.warning("jupyter_smops: could not list local endpoints on stop: %s", exc)
            live = []
        if live:
            self.log.warning(
                "jupyter_smops: %d local endpoint(s) keep running after the server stops (as SageMaker "
                "endpoints do): %s. Stop them with `jupyter smops delete NAME` or all of yours with "
                "`jupyter smops cleanup`.", len(live), ", ".join(live))
        try:
            self.smops.release_warm_server()
        except OSError:
            pass
