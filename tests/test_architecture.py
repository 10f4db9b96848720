"""Who may import whom (docs/architecture.md): arrows point down only, and no circles.

The import graph is read from the source with ``ast`` (every import, including the lazy ones
inside functions, counts for the floors; only module-level ones count for circles, since a lazy
import is how a module deliberately defers a dependency).
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "jupyter_smops"

# The ground floor: imports nothing of the project above it.
GROUND = {"core.types", "core.errors", "core.names", "core.files", "core.version", "core.limits",
          "core.durations", "core.procs", "core.serving.contract"}
# Faces: parse, call the service, render. They may reach the core only through these.
FACES = ("handlers", "magics", "cli", "commands", "extension", "views")
FACE_MAY_IMPORT = {"core", "core.api", "core.config", "core.payload"} | GROUND
BACKEND_FLOOR = ("core.registry", "core.endpoints", "core.serving", "core.packaging")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """Project modules an ``from ... import`` names (relative to the package root, '' = the package)."""
    if node.level:
        base = importer.split(".") if importer else []
        if not is_package:
            base = base[:-1]
        base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
        target = ".".join(base + ([node.module] if node.module else []))
    elif node.module and (node.module == "jupyter_smops" or node.module.startswith("jupyter_smops.")):
        target = node.module[len("jupyter_smops"):].lstrip(".")
    else:
        return []
    found = []
    for alias in node.names:
        candidate = f"{target}.{alias.name}" if target else alias.name
        if (PKG / (candidate.replace(".", "/") + ".py")).exists() or (PKG / candidate.replace(".", "/")).is_dir():
            found.append(candidate)
        else:
            found.append(target)
    return found


def _graph(module_level_only: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PKG.rglob("*.py"):
        if "labextension" in path.parts:
            continue
        name = _module_name(path)
        tree = ast.parse(path.read_text(), str(path))
        nodes = tree.body if module_level_only else list(ast.walk(tree))
        targets: set[str] = set()
        for node in nodes:
            if isinstance(node, ast.ImportFrom):
                targets.update(_resolve(name, path.name == "__init__.py", node))
            elif isinstance(node, ast.Import):
                targets.update(a.name[len("jupyter_smops"):].lstrip(".") for a in node.names
                               if a.name == "jupyter_smops" or a.name.startswith("jupyter_smops."))
        targets.discard(name)
        graph[name] = targets
    return graph


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


GRAPH = _graph(module_level_only=False)


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m in GROUND))
def test_ground_floor_imports_nothing_above_it(module):
    above = sorted(t for t in GRAPH[module] if t not in GROUND and t != "core")
    assert not above, f"{module} (ground floor) imports {above}"


def test_the_core_never_imports_a_face():
    bad = {m: sorted(t for t in ts if t == "" or any(_under(t, f) for f in FACES + ("cli_admin",)))
           for m, ts in GRAPH.items() if _under(m, "core")}
    assert not {m: ts for m, ts in bad.items() if ts}


def test_faces_reach_the_core_only_through_the_service_and_the_ground_floor():
    bad = {}
    for module, targets in GRAPH.items():
        if not any(_under(module, f) for f in FACES):
            continue
        wrong = sorted(t for t in targets if _under(t, "core") and t not in FACE_MAY_IMPORT)
        if wrong:
            bad[module] = wrong
    assert not bad, f"faces importing backends or internals: {bad}"


def test_registry_and_endpoints_do_not_know_each_other():
    for module, targets in GRAPH.items():
        if _under(module, "core.registry"):
            assert not any(_under(t, "core.endpoints") for t in targets), module
        if _under(module, "core.endpoints"):
            assert not any(_under(t, "core.registry") for t in targets), module


def test_backends_never_import_the_service():
    for module, targets in GRAPH.items():
        if any(_under(module, b) for b in BACKEND_FLOOR):
            above = sorted(t for t in targets if t in ("core", "core.api", "core.push", "core.deploy_plan", "core.rules"))
            assert not above, f"{module} imports the service layer: {above}"


def test_the_container_contract_is_standard_library_only():
    tree = ast.parse((PKG / "core" / "serving" / "contract.py").read_text())
    third_party = set()
    for node in ast.walk(tree):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else [])
        third_party.update(n.split(".")[0] for n in names if n.split(".")[0] not in sys.stdlib_module_names)
    assert not third_party - {"__future__"}, third_party


def test_no_import_circles_at_module_level():
    graph = _graph(module_level_only=True)
    # A package's __init__ importing its own submodules is how packages re-export, not a circle.
    edges = {m: {t for t in ts if t in graph and not (m and _under(t, m) and m != t)} for m, ts in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)
    assert not cycles, cycles
