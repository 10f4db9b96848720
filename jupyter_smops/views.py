"""What ``%smops`` and ``jupyter smops`` show: one table of versions, one table of endpoints, a
log as text, a cleanup that says what it kept. Each view is the result object itself (a list or a
str underneath, so code keeps using it as data), with a plain-text display for terminals, an HTML
one for notebooks and ``to_dict`` for ``--json`` (shapes in docs/cli.md).

The HTML sets no colours: JupyterLab styles output tables with the theme's own variables, so
they read the same in light and dark themes.
"""
from __future__ import annotations

import html
import time
from datetime import datetime, timezone
from typing import Any, Iterable, Optional, Sequence

from .core.types import CleanupResult, Endpoint, Model, PackageResult, human_size


def plural(n: int, word: str, many: Optional[str] = None) -> str:
    """``1 endpoint``, ``2 endpoints``."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def text_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the last column is not padded."""
    rows = [list(map(str, r)) for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    return "\n".join([line(headers)] + [line(r) for r in rows])


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, notes: Sequence[str] = ()) -> str:
    """A plain ``<table>`` (cells may be pre-built HTML via :class:`Raw`), then notes as text."""
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{_cell(c)}</td>" for c in r) + "</tr>"
                   for r in rows)
    after = "".join(f"<div>{html.escape(n)}</div>" for n in notes)
    return f"<table class='jp-smops-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{after}"


class Raw(str):
    """A table cell that is already HTML."""


def _cell(value: Any) -> str:
    return value if isinstance(value, Raw) else html.escape(str(value))


def _human(n: Optional[int]) -> str:
    return "" if n is None else human_size(n)


def _parse_time(stamp: str) -> Optional[float]:
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def _created(stamp: str) -> str:
    seconds = _parse_time(stamp)
    if seconds is None:
        return stamp or ""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def age(seconds: Optional[float]) -> str:
    """``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``."""
    if seconds is None:
        return ""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


APPROVAL_WORDS = {"PendingManualApproval": "pending", "Approved": "approved", "Rejected": "rejected"}


# Request content types as the models table names them.
_TYPE_WORDS = {"application/json": "JSON", "text/csv": "CSV", "application/x-npy": "NPY"}


def _reads(accepts) -> str:
    """What a version's inference.py reads ("JSON, CSV"); "?" when unknown or not recorded."""
    return ", ".join(_TYPE_WORDS.get(t, t) for t in accepts) if accepts else "?"


class ModelsView(list):
    """``models``: the registry's versions as one table (a list of :class:`Model` underneath).
    A version whose sha256 equals an earlier one's says which (pushing the same thing twice)."""

    HEADERS = ("name", "version", "size", "sha256", "scikit-learn", "reads", "approval", "created", "note")

    def __init__(self, models: Iterable[Model]):
        super().__init__(models)
        first: dict[str, str] = {}
        self.identical_to: dict[str, str] = {}
        for model in self:
            for v in model.versions:
                if v.sha256 in first:
                    self.identical_to[v.ref] = first[v.sha256]
                else:
                    first[v.sha256] = v.ref

    def _rows(self):
        for model in self:
            for v in model.versions:
                same = self.identical_to.get(v.ref)
                yield (v.name, v.version, _human(v.size), v.sha256[:12], v.framework_version or "?", _reads(v.accepts),
                       APPROVAL_WORDS.get(v.approval_status, v.approval_status), _created(v.created_at),
                       f"identical to {same}" if same else "")

    def _summary(self) -> str:
        count = sum(len(m.versions) for m in self)
        return f"{plural(len(self), 'model')}, {plural(count, 'version')}"

    def __str__(self) -> str:
        if not self:
            return "The registry is empty: push a model first."
        return text_table(self.HEADERS, self._rows()) + "\n" + self._summary()

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        if not self:
            return f"<p>{html.escape(str(self))}</p>"
        rows = [r[:3] + (Raw(f"<code>{html.escape(r[3])}</code>"),) + r[4:] for r in self._rows()]
        return html_table(self.HEADERS, rows, notes=[self._summary()])

    def to_dict(self) -> list:
        """Each model with its versions; every version gains ``identical_to`` (a ref or null)."""
        out = []
        for model in self:
            d = model.to_dict()
            for v in d["versions"]:
                v["identical_to"] = self.identical_to.get(f"{v['name']}:{v['version']}")
            out.append(d)
        return out


def invocation_url(ep: Endpoint) -> str:
    """Where to send requests: a local endpoint's own URL, or SageMaker's runtime URL (region
    from the endpoint's ARN)."""
    if ep.url:
        return ep.url
    parts = (ep.arn or "").split(":")
    if len(parts) > 3 and parts[3]:
        return f"https://runtime.sagemaker.{parts[3]}.amazonaws.com/endpoints/{ep.name}/invocations"
    return ""


def cost_text(ep: Endpoint) -> str:
    """``$0 · local``, ``$0.12 so far · $0.056/h``, serverless and unknown prices said as such."""
    if ep.backend == "local":
        return "$0 · local"
    if ep.cost_per_hour:
        return f"${ep.cost_so_far or 0:.2f} so far · ${ep.cost_per_hour:.3f}/h"
    if ep.serverless_memory_mb:
        return "serverless · billed per request"
    return "price unknown"


def expires_text(ep: Endpoint) -> str:
    """``in 3 h 59 min · $0.22 more``, ``in 12 min`` (local: free), or ``never``."""
    if not ep.expires_at:
        return "never"
    more = f" · ${ep.cost_until_expiry:.2f} more" if ep.cost_until_expiry is not None else ""
    return f"in {age(ep.seconds_left)}{more}"


class EndpointsView(list):
    """``endpoints``: one row per endpoint (a list of :class:`Endpoint` underneath)."""

    HEADERS = ("name", "model", "status", "backend", "URL", "age", "cost", "expires")

    def __init__(self, endpoints: Iterable[Endpoint], *, now: Optional[float] = None):
        super().__init__(endpoints)
        self.now = time.time() if now is None else now

    def _age_seconds(self, ep: Endpoint) -> Optional[float]:
        created = _parse_time(ep.created_at)
        return None if created is None else max(0.0, self.now - created)

    def _rows(self):
        for ep in self:
            yield (ep.name, f"{ep.model}:{ep.version}", ep.status, ep.backend, invocation_url(ep),
                   age(self._age_seconds(ep)), cost_text(ep), expires_text(ep))

    def _notes(self) -> list[str]:
        notes = [f"{ep.name} failed: {ep.failure_reason}" for ep in self if ep.failure_reason]
        notes += [f"{ep.name} is public at {ep.public_url} (API key required)" for ep in self if ep.public_url]
        hourly = sum(ep.cost_per_hour or 0 for ep in self)
        total = f" · ${hourly:.3f}/h in total" if hourly else ""
        return notes + [plural(len(self), "endpoint") + total]

    def __str__(self) -> str:
        if not self:
            return "No endpoints."
        return "\n".join([text_table(self.HEADERS, self._rows())] + self._notes())

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        if not self:
            return "<p>No endpoints.</p>"
        rows = []
        for row in self._rows():
            url = row[4]
            link = Raw(f"<a href='{html.escape(url)}' target='_blank' rel='noopener'>{html.escape(url)}</a>"
                       if url.startswith("http://127.0.0.1") else f"<code>{html.escape(url)}</code>")
            rows.append(row[:4] + (link if url else "",) + row[5:])
        return html_table(self.HEADERS, rows, notes=self._notes())

    def to_dict(self) -> list:
        """Each endpoint as the REST API gives it, plus ``invocation_url``, ``age_seconds`` and
        ``cost`` (the text the table shows)."""
        return [{**ep.to_dict(), "invocation_url": invocation_url(ep), "age_seconds": self._age_seconds(ep),
                 "cost": cost_text(ep)} for ep in self]


class LogView(str):
    """``logs``: the log text itself (a str), displayed with its line breaks, not as a repr."""

    def __new__(cls, text: str, *, endpoint: str, tail: Optional[int], since: Optional[float] = None):
        self = super().__new__(cls, text)
        self.endpoint, self.tail, self.since = endpoint, tail, since
        return self

    @property
    def lines(self) -> list[str]:
        return str(self).splitlines()

    def _empty(self) -> str:
        return f"No log lines for {self.endpoint}" + (" in that time window." if self.since else " yet.")

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        # ``printer.text`` keeps the newlines; pretty's break logic would not add any.
        printer.text(str(self) if self else self._empty())

    def _repr_html_(self) -> str:
        text = str(self) if self else self._empty()
        return f"<pre style='white-space:pre-wrap;margin:0'>{html.escape(text)}</pre>"

    def to_dict(self) -> dict:
        """``tail`` as asked (null: the default), ``since`` as an ISO UTC time or null."""
        since = None if self.since is None else \
            datetime.fromtimestamp(self.since, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return {"endpoint": self.endpoint, "tail": self.tail, "since": since, "lines": self.lines}


class CleanupView:
    """``cleanup``: what was (or would be) deleted, and the registry versions it keeps."""

    def __init__(self, result: CleanupResult, kept: Sequence[str] = ()):
        self.result, self.kept = result, list(kept)

    def __getattr__(self, name: str):  # dry_run, endpoints, ... as on the core's result
        if name in ("result", "kept"):
            raise AttributeError(name)
        return getattr(self.result, name)

    def _lines(self) -> list[str]:
        lines = [str(self.result)]
        if self.kept:
            lines.append(f"Kept in the registry: {', '.join(self.kept)} (add --include-registry to delete "
                         f"{'it' if len(self.kept) == 1 else 'them'} too).")
        return lines

    def __str__(self) -> str:
        return "\n".join(self._lines())

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        return "".join(f"<div>{html.escape(line)}</div>" for line in str(self).splitlines())

    def to_dict(self) -> dict:
        return {**self.result.to_dict(), "kept_registry_versions": self.kept}


def check_dict(check) -> dict:
    """A check as the CLI's JSON gives it: ``result`` is ok, warning or error (a passing check has
    no severity worth showing)."""
    result = "ok" if check.ok else ("warning" if check.severity == "warning" else "error")
    return {"name": check.name, "ok": check.ok, "result": result, "message": check.message}


def package_dict(result: PackageResult) -> dict:
    """A package/validate result for ``--json``, checks as :func:`check_dict`."""
    d = result.to_dict()
    d["checks"] = [check_dict(c) for c in result.checks]
    return d
