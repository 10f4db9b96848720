"""Checks made by reading ``inference.py`` (no import): syntax, handlers, the file model_fn opens."""
from __future__ import annotations

import ast
import difflib
import re
from pathlib import PurePosixPath
from typing import Optional

from ..types import Check

# Handler name -> positional parameters the SageMaker scikit-learn container passes.
HANDLER_ARITY = {"model_fn": 1, "input_fn": 2, "predict_fn": 2, "output_fn": 2, "transform_fn": 4}
# Only names with these extensions count as files model_fn opens: "sklearn.tree" or "my.logger"
# must not be mistaken for missing files (a false failure would block a valid artifact).
_FILE_EXTENSIONS = ("joblib", "pkl", "pickle", "skops", "sav", "bin", "model", "json", "npy", "npz", "h5",
                    "onnx", "pt", "pth", "cbm", "ubj", "xgb", "lgb", "dill", "csv", "parquet", "gz", "zip")
_FILE_LIKE = re.compile(r"^[\w.\-/]*\w\.(" + "|".join(_FILE_EXTENSIONS) + r")$", re.IGNORECASE)


def parse(source: str, filename: str = "code/inference.py") -> tuple[Optional[ast.Module], Check]:
    """The module's AST and the ``inference-syntax`` check."""
    try:
        return ast.parse(source, filename=filename), Check("inference-syntax", True, "parses")
    except SyntaxError as exc:
        where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        text = (exc.text or "").strip()
        return None, Check("inference-syntax", False,
                           f"{filename} has a syntax error at {where}: {exc.msg}"
                           + (f" ({text!r})" if text else "") + ". Fix it and package again.")


def _top_level_functions(tree: ast.Module) -> dict[str, ast.AST]:
    """Names bound at module level to functions (def, lambda assignment or import)."""
    found: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                found[(alias.asname or alias.name).split(".")[0]] = node
    return found


def _positional_count(node: ast.AST) -> Optional[tuple[int, int]]:
    """(required, maximum) positional parameters of a def, or None when unknowable."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    args = node.args
    total = len(args.posonlyargs) + len(args.args)
    required = total - len(args.defaults)
    return required, (10 ** 6 if args.vararg else total)


def check_handlers(tree: ast.Module) -> Check:
    """``handlers``: model_fn present; transform_fn alone or not at all; sensible signatures."""
    # The rules and their wording are the local endpoints' (which load the module and refuse the same
    # way); imported here, not at the top, because that module imports numpy.
    from ..serving.contract import rule_violations

    defined = _top_level_functions(tree)
    handlers = {name: defined[name] for name in HANDLER_ARITY if name in defined}
    problems = rule_violations(handlers)
    for name, node in handlers.items():
        counts = _positional_count(node)
        if counts and not counts[0] <= HANDLER_ARITY[name] <= counts[1]:
            problems.append(f"{name} takes {counts[0]} required argument(s) but the container calls it with "
                            f"{HANDLER_ARITY[name]}")
    if problems:
        return Check("handlers", False, "; ".join(problems) + ".")
    return Check("handlers", True, ", ".join(sorted(handlers)))


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "literal"`` assignments (e.g. MODEL_FILE = "model.joblib")."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value.value
    return out


def referenced_files(tree: ast.Module) -> list[str]:
    """File names written literally in model_fn (directly or via a module-level constant)."""
    defined = _top_level_functions(tree)
    fn = defined.get("model_fn")
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    constants = _module_strings(tree)
    names: list[str] = []
    for node in ast.walk(fn):
        value = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            value = node.value
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            value = constants.get(node.id)
        if value and _FILE_LIKE.match(value) and value not in names:
            names.append(value)
    return names


def _present(name: str, files: dict[str, int]) -> bool:
    name = str(PurePosixPath(name))
    return name in files or any(f.endswith("/" + name) for f in files)


def check_model_file(tree: Optional[ast.Module], files: dict[str, int]) -> Check:
    """``model-file``: the file model_fn opens is in the archive and is not empty."""
    top = {n: s for n, s in files.items() if "/" not in n}
    wanted = referenced_files(tree) if tree is not None else []
    # An empty marker file is harmless; an empty model file is a failed or interrupted save.
    empty = sorted(n for n, s in top.items() if s == 0 and (n in wanted or _FILE_LIKE.match(n)))
    if empty:
        return Check("model-file", False, f"{', '.join(empty)} is empty (0 bytes): the model was not saved "
                     f"completely. Save it again (joblib.dump(model, path)) and package again.")
    if not wanted:
        return Check("model-file", True, "model_fn names no file literally; the load test checks it")
    missing = [w for w in wanted if not _present(w, files)]
    if not missing:
        return Check("model-file", True, ", ".join(wanted))
    if len(missing) < len(wanted):  # e.g. a fallback list of names: one of them is enough
        return Check("model-file", True, f"found {', '.join(w for w in wanted if w not in missing)}; "
                     f"not in the archive: {', '.join(missing)}", severity="warning")
    return Check("model-file", False, _missing_message(missing, top))


def _missing_message(missing: list[str], top: dict[str, int]) -> str:
    held = sorted(top)
    first = missing[0]
    close = difflib.get_close_matches(first, held, n=1, cutoff=0.6)
    holds = f"it holds {', '.join(held)}" if held else "it holds no model file at the top level"
    message = f"model_fn opens {first!r}, which is not in the archive ({holds})."
    if close:
        message += (f" Did you mean {close[0]!r}? Rename the file to {first!r} or change model_fn to open "
                    f"{close[0]!r}.")
    else:
        message += f" Put {first!r} at the top of the archive or change the name in model_fn."
    return message
