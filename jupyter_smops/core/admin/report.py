"""What admin commands return: the steps taken (or planned) and, for a dry run, the AWS calls."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

CHANGES = {"created", "updated", "attached", "detached", "deleted", "tagged"}
_WOULD = {"created": "would create", "updated": "would update", "attached": "would attach",
          "detached": "would detach", "deleted": "would delete", "tagged": "would tag"}


@dataclass(frozen=True)
class Step:
    """One resource and what happened to it: created, exists, updated, missing, deleted, kept..."""

    what: str
    name: str
    state: str
    detail: str = ""

    def render(self, dry_run: bool = False) -> str:
        state = _WOULD.get(self.state, self.state) if dry_run else self.state
        text = f"  {state:<13} {self.what} {self.name}"
        return f"{text}: {self.detail}" if self.detail else text

    def to_dict(self) -> dict:
        return {"what": self.what, "name": self.name, "state": self.state, "detail": self.detail}


@dataclass
class Report:
    """The result of one admin command; ``str()`` is what the CLI prints."""

    title: str
    steps: list[Step] = field(default_factory=list)
    dry_run: bool = False
    plan: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    footer: Optional[str] = None

    def add(self, what: str, name: str, state: str, detail: str = "") -> Step:
        step = Step(what, name, state, detail)
        self.steps.append(step)
        return step

    @property
    def changed(self) -> bool:
        """Whether anything was (or, in a dry run, would be) changed."""
        return any(s.state in CHANGES for s in self.steps)

    def __str__(self) -> str:
        lines = [f"{self.title} (dry run: no AWS call was made)" if self.dry_run else self.title]
        lines += [s.render(self.dry_run) for s in self.steps]
        if self.dry_run:
            lines.append(f"AWS calls it would make ({len(self.plan)}; <...> are values AWS would return):")
            lines += [f"  {line}" for line in self.plan]
        if self.footer:
            lines.append(self.footer)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"title": self.title, "dry_run": self.dry_run, "changed": self.changed,
                "steps": [s.to_dict() for s in self.steps], "plan": list(self.plan), **self.data}
