"""Registry routes: list and push models, approve versions, build and validate packages."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..core.api import is_archive
from ..core.errors import BadRequest, NotFound
from ..core.names import validate_model_name
from .base import SmopsHandler
from .requests import ApprovalRequest, PackageRequest, PushRequest


class ModelsHandler(SmopsHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Every model in the registry with its versions (oldest first)."""
        models = await self.call(self.smops.models)
        self.reply({"models": [m.to_dict() for m in models]})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Push: package + validate + store as the next version, as a job (202)."""
        req = self.body_as(PushRequest)
        # The core's checks first (400 now, not a failed job); then the paths, under the root.
        self.smops.check_push(req.path, name=req.name, inference=req.inference, requirements=req.requirements,
                              sample=req.sample)
        name = req.name
        source = req.path
        path = self.in_root(req.path)
        inference = self.in_root(req.inference, field="inference") if req.inference else None
        requirements = self.in_root(req.requirements, field="requirements") if req.requirements else None
        smops = self.smops

        def work(progress):  # a model file or a model.tar.gz: the core tells them apart
            return smops.push(path, name=name, inference=inference, requirements=requirements,
                              sample=req.sample, source=source, progress=progress)

        job = self.jobs.submit("push", work, target=f"model:{name}")
        self.accepted(job, model=name)


class ModelHandler(SmopsHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        """One model and its versions."""
        name = validate_model_name(name)
        models = await self.call(self.smops.models, name)
        if not models:
            raise NotFound(f"No model named {name!r} in the registry. Push one first "
                           f"(POST /smops/api/models).")
        self.reply(models[0].to_dict())


class ApprovalHandler(SmopsHandler):
    @web.authenticated
    @authorized
    async def post(self, name: str, version: str) -> None:
        """Approve or reject one version (deploys may require Approved)."""
        name = validate_model_name(name)
        if not version.isdigit() or int(version) < 1:
            raise BadRequest(f"Invalid version {version!r}: versions are 1, 2, 3...")
        req = self.body_as(ApprovalRequest)
        mv = await self.call(self.smops.set_approval, f"{name}:{int(version)}", req.status)
        self.reply(mv.to_dict())


class PackagesHandler(SmopsHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Build and validate a model.tar.gz, or validate an existing one; nothing is stored."""
        req = self.body_as(PackageRequest)
        path = self.in_root(req.path)
        if is_archive(path):
            extra = [k for k in ("inference", "requirements", "sample", "out") if getattr(req, k) is not None]
            if extra:
                raise BadRequest(f"Validating an existing model.tar.gz takes only 'path'; drop "
                                 f"{', '.join(map(repr, extra))}.")
            result = await self.call(self.smops.validate, path)
        else:
            kwargs = self._build_args(req, path)
            result = await self.call(self.smops.package, path, **kwargs)
        self.reply(self._package_json(result))

    def _build_args(self, req: PackageRequest, path: str) -> dict[str, Any]:
        out_rel: Optional[str] = req.out
        if out_rel is None:
            # Beside the model file, as the magic writes it beside the notebook.
            out = str(Path(path).parent / "model.tar.gz")
        else:
            if not is_archive(out_rel):
                raise BadRequest(f"Field 'out' ({out_rel!r}) must end in .tar.gz, e.g. model.tar.gz.")
            out = self.in_root(out_rel, field="out", must_exist=False)
            if not Path(out).parent.is_dir():
                raise NotFound(f"The folder for 'out' ({out_rel!r}) does not exist; create it first.")
        return {
            "inference": self.in_root(req.inference, field="inference") if req.inference else None,
            "requirements": self.in_root(req.requirements, field="requirements") if req.requirements else None,
            "sample": req.sample,
            "out": out,
        }

    def _package_json(self, result: Any) -> dict:
        data = result.to_dict() if hasattr(result, "to_dict") else dataclasses.asdict(result)
        data["path"] = self.rel(result.path)
        return data
