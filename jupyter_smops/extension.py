"""The Jupyter server extension: an ``ExtensionApp`` that owns the REST face's services.

The app builds the services once (one ``SmopsConfig`` parented to the app, so
``c.SmopsConfig.*`` in ``jupyter_server_config.py`` and the ``SMOPS_*`` variables apply, one
``Smops``, one ``JobManager``), registers the route table with them passed to every handler's
``initialize()``, and stops the jobs when the server stops.

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
