"""``code/requirements.txt``: what an endpoint installs at start, and the scikit-learn it runs.

The SageMaker scikit-learn container pip-installs ``code/requirements.txt`` when it starts. A
model trained with a scikit-learn version that has no serving image (1.5-1.8 today) is deployed
on the nearest image (``images.nearest_serving_version``) with ``scikit-learn==<trained>`` added
here at packaging time, so the endpoint runs the version the model was pickled with and the
version's sha256 covers the pin. ``decide`` is that rule, in one place: packaging applies it,
validation re-checks an archive against it, deploys read what it recorded.

Local endpoints and validation run in the user's environment: ``check_environment`` says which
requirements it does not satisfy. Nothing here ever installs anything.

``packaging`` (a dependency of pip, JupyterLab and jupyter_server, so present wherever the
extension is installed) parses the lines; without it only ``name==version`` lines are checked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata
from typing import Optional

from .. import images
from ..errors import BadRequest

try:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # pragma: no cover - exercised by the no-packaging test through _parse_plain
    Requirement = None  # type: ignore[assignment,misc]

SKLEARN = "scikit-learn"
# The comment above a pin jupyter_smops added; validation and the registry recognise it by this.
PIN_MARKER = "# Added by jupyter_smops:"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXACT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s;,#*]+)\s*(?:;.*)?$")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Req:
    """One requirement line: canonical name, its specifier text, the exact version it pins (if it
    pins one), and whether it applies here (its environment marker)."""

    line: str
    name: str
    specifier: str = ""
    exact: Optional[str] = None
    applies: bool = True


@dataclass(frozen=True)
class Decision:
    """What a version deploys with: the serving image version, the ``code/requirements.txt`` text
    to package (None: leave the user's as it is), the exact scikit-learn pinned (user's or added)
    and whether jupyter_smops added it."""

    serving_version: Optional[str]
    text: Optional[str]
    pin: Optional[str]
    pin_added: bool


def requirement_lines(text: Optional[str]) -> list[str]:
    """The requirement lines of a requirements file: no blanks, comments or pip options."""
    lines = []
    for raw in (text or "").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def parse(text: Optional[str]) -> list[Req]:
    """Every requirement line of ``text`` (a line that does not parse keeps its name when it has one)."""
    return [_parse_line(line) for line in requirement_lines(text)]


def _parse_line(line: str) -> Req:
    if Requirement is None:
        return _parse_plain(line)
    try:
        req = Requirement(line)
    except InvalidRequirement:
        return _parse_plain(line)
    specs = list(req.specifier)
    exact = specs[0].version if len(specs) == 1 and specs[0].operator in ("==", "===") \
        and "*" not in specs[0].version else None
    applies = req.marker.evaluate() if req.marker else True
    return Req(line, canonicalize_name(req.name), str(req.specifier), exact, applies)


def _parse_plain(line: str) -> Req:
    """Without ``packaging``: the name, and the version of a ``name==version`` line."""
    m = _EXACT.match(line)
    if m:
        return Req(line, _canonical(m.group(1)), f"=={m.group(2)}", m.group(2))
    name = _NAME.match(line)
    return Req(line, _canonical(name.group(1)) if name else line, line[name.end():].strip() if name else "")


def _sklearn_req(reqs: list[Req]) -> Optional[Req]:
    for req in reqs:
        if req.name == "sklearn":
            raise BadRequest(f"requirements.txt lists {req.line!r}: the 'sklearn' package on PyPI is a deprecated "
                             f"name that refuses to install. Write scikit-learn instead.")
    found = [r for r in reqs if r.name == SKLEARN and r.applies]
    return found[0] if found else None


def _allows(req: Req, version: str) -> bool:
    """Whether ``req``'s specifier admits ``version`` (True when it cannot be told)."""
    if req.exact is not None:
        return _same_version(req.exact, version)
    if not req.specifier or Requirement is None:
        return True
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(req.specifier).contains(version, prereleases=True)
    except InvalidSpecifier:
        return True


def _same_version(a: str, b: str) -> bool:
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:
        return a.strip() == b.strip()
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a.strip() == b.strip()


def pinned_version(text: Optional[str]) -> Optional[str]:
    """The exact scikit-learn version ``text`` pins (``scikit-learn==X``), or None."""
    try:
        req = _sklearn_req(parse(text))
    except BadRequest:
        return None
    return req.exact if req else None


def decide(trained: Optional[str], text: Optional[str], *, accept: Optional[str] = None) -> Decision:
    """The serving image and ``code/requirements.txt`` for a model pickled with scikit-learn
    ``trained``, given the user's requirements ``text``.

    - an image of ``trained``'s minor exists: that image, the file as it is;
    - none exists: the nearest image and ``scikit-learn==<trained>`` appended (``pin_added``);
    - ``accept`` (a serving version the user checked the model under): that image, no pin.
    A user line for scikit-learn that ``trained`` does not satisfy, or a loose one where a pin is
    needed, is refused (BadRequest saying what to write).
    """
    user = _sklearn_req(parse(text))
    if accept:
        if user is not None:
            raise BadRequest(f"requirements.txt pins {user.line!r}, but --framework-version {accept} asks for the "
                             f"image's own scikit-learn: drop one of them.")
        return Decision(accept, None, None, False)
    if not trained:
        return Decision(None, None, user.exact if user else None, False)
    if user is not None and not _allows(user, trained):
        raise BadRequest(f"requirements.txt asks for {user.line!r}, but the model was pickled with scikit-learn "
                         f"{trained}, so an endpoint installing it would load the model with another version. "
                         f"Write scikit-learn=={trained} (or remove the line and jupyter_smops pins it when needed).")
    exact_image = images.serving_version_for(trained)
    if exact_image:
        return Decision(exact_image, None, user.exact if user else None, False)
    nearest = images.nearest_serving_version(trained)
    if user is not None:
        if user.exact is None:
            raise BadRequest(f"requirements.txt asks for {user.line!r}; scikit-learn {trained} has no serving image, "
                             f"so the endpoint installs what this line says at start, which may not be {trained}. "
                             f"Write scikit-learn=={trained} (or remove the line and jupyter_smops pins it).")
        return Decision(nearest, None, user.exact, False)
    where = f"the {nearest} image" if nearest else "the serving image"
    added = (f"{PIN_MARKER} the model was pickled with scikit-learn {trained}, which has no SageMaker serving\n"
             f"# image; {where} installs it when the endpoint starts (needs a package index).\n"
             f"{SKLEARN}=={trained}\n")
    body = (text or "").rstrip("\n")
    return Decision(nearest, (body + "\n" if body else "") + added, trained, True)


def pin_was_added(text: Optional[str]) -> bool:
    """Whether ``text`` carries a scikit-learn pin jupyter_smops added (its marker comment)."""
    return bool(text and PIN_MARKER in text and pinned_version(text))


def installed_version(name: str) -> Optional[str]:
    """The version of ``name`` installed in this environment (metadata only, nothing imported)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def check_environment(text: Optional[str]) -> list[str]:
    """What this environment lacks of ``text``'s requirements, one sentence each (empty: satisfied).

    Options (``-r``, ``--index-url``), URLs and lines that do not parse are not checked."""
    problems = []
    for req in parse(text):
        if not req.applies or "://" in req.line or not _NAME.match(req.name):
            continue
        have = installed_version(req.name)
        if have is None:
            problems.append(f"{req.line} is not installed here")
        elif not _allows(req, have):
            problems.append(f"{req.line} is required, {req.name} {have} is installed here")
    return problems


def environment_note(text: Optional[str]) -> Optional[str]:
    """One sentence for validation and local deploys when this environment does not satisfy
    ``text``, else None. Never installs anything: the user decides."""
    problems = check_environment(text)
    if not problems:
        return None
    return (f"this environment does not match code/requirements.txt ({'; '.join(problems)}): the checks and "
            f"local endpoints run here, with what is installed, while a SageMaker endpoint installs the "
            f"requirements. To test exactly what the endpoint runs, use an environment with them "
            f"(e.g. python -m venv env && env/bin/pip install -r code/requirements.txt jupyter_smops).")


def serving_checks(version: Optional[str], local: Optional[str], text: Optional[str], *,
                   accept: Optional[str] = None):
    """Validation's ``framework-version`` and ``environment`` checks for a model pickled with
    ``version`` (``local``: the scikit-learn that loaded it here) whose archive carries the
    requirements ``text`` (``accept``: the image the user chose to serve it with, see
    ``check_accept``); and the PackageResult fields they decide (serving_version, requirements,
    requirements_pin, pin_added)."""
    from ..types import Check

    fields = {"serving_version": None, "requirements": requirement_lines(text),
              "requirements_pin": pinned_version(text), "pin_added": pin_was_added(text)}
    checks = []
    pickled = f" (pickled with {version}, loaded here with {local})" if version and local and local != version else ""
    if accept:
        fields["serving_version"] = accept
        checks.append(Check("framework-version", True, f"scikit-learn {version or '?'} -> SageMaker scikit-learn image "
                            f"{accept} by --framework-version: the endpoint runs the image's own scikit-learn "
                            f"{images.image_sklearn(accept)}, as this environment ({local}) just did{pickled}"))
    elif not version:
        checks.append(Check("framework-version", False, "could not tell the scikit-learn version", severity="warning"))
    else:
        try:
            decision = decide(version, text)
        except BadRequest as exc:
            decision = None
            checks.append(Check("framework-version", False, f"code/{exc.message}{pickled}"))
        if decision is not None and decision.pin_added:  # the archive lacks the pin it needs
            checks.append(Check("framework-version", False, f"scikit-learn {version}{pickled} has no SageMaker serving "
                                f"image; push adds {SKLEARN}=={version} to code/requirements.txt, which the "
                                f"{decision.serving_version or 'serving'} image installs at start",
                                severity="warning"))
        elif decision is not None:
            fields["serving_version"] = decision.serving_version
            checks.append(Check("framework-version", bool(decision.serving_version),
                                runtime_sentence(version, decision.serving_version, decision.pin) + pickled,
                                severity="error" if decision.serving_version else "warning"))
    if text is not None and requirement_lines(text):
        note = environment_note(text)
        checks.append(Check("environment", note is None, note or "this environment satisfies code/requirements.txt",
                            severity="warning"))
    return checks, fields


def runtime_sentence(trained: str, serving: Optional[str], pin: Optional[str]) -> str:
    """What a SageMaker endpoint of this version runs, in words."""
    if not serving:
        return images.mismatch_advice(trained)
    if pin:
        return (f"scikit-learn {trained} -> SageMaker scikit-learn image {serving}, which installs {SKLEARN}=={pin} "
                f"from code/requirements.txt at start (the endpoint must reach a package index)")
    return f"scikit-learn {trained} -> SageMaker scikit-learn image {serving} (its own scikit-learn " \
           f"{images.image_sklearn(serving)})"


def check_accept(accept: str, local: Optional[str]) -> None:
    """``--framework-version`` at packaging: serve on image ``accept`` with its own scikit-learn,
    no pin. Allowed only when this environment runs that scikit-learn minor, so the validation
    probe (model loaded, sample predicted) is the check under it; BadRequest otherwise."""
    versions = images.sklearn_serving_versions()
    if accept not in versions:
        raise BadRequest(f"No scikit-learn serving image {accept!r}: the versions are {', '.join(versions)}.")
    want = images.image_sklearn(accept)
    if not local or images.image_sklearn(local) != want:
        raise BadRequest(
            f"--framework-version {accept} serves the model with the image's own scikit-learn {want}, without "
            f"installing anything, so it has to be checked under that version first: this environment has "
            f"scikit-learn {local or 'not installed'}. Push from an environment with scikit-learn {want} (e.g. "
            f"python -m venv v && v/bin/pip install 'scikit-learn=={want[:-2]}.*' jupyter_smops), where validation "
            f"loads the model and predicts the sample with it; or push without --framework-version to have the "
            f"endpoint install the model's own version at start.")
