"""Which request and response content types a model's ``inference.py`` handles, read from its AST.

A fact recorded with each version at push, so the panel offers only the types the model reads.
Without ``input_fn``/``output_fn`` the SageMaker scikit-learn container's defaults serve
(sagemaker_containers' ``encoders``: JSON, CSV and NPY both ways; ``serving/default_functions``
follows them). With one, the answer is the content-type literals the function compares its
content-type parameter against (``==``, ``in``, ``startswith``, ``match``, the keys of a dict
indexed by it, helpers it passes it to), or None when it cannot tell: then every type is offered.
"""
from __future__ import annotations

import ast
import re
from typing import Optional

JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"
# The container's default decoder and encoder (sagemaker_containers.beta.framework.encoders).
DEFAULT_TYPES = (JSON, CSV, NPY)
# A full type/subtype; "*/*", "" and fragments such as "json" or "text/" do not name one.
_FULL_TYPE = re.compile(r"^[a-z0-9][\w.+-]*/[a-z0-9][\w.+-]*$")
# ``content_types.JSON`` and friends (sagemaker_inference, sagemaker_containers).
_TOOLKIT_CONSTANTS = {"JSON": JSON, "CSV": CSV, "NPY": NPY, "NPZ": "application/x-npz",
                      "OCTET_STREAM": "application/octet-stream"}
# Calls that hand the type to the container's own decoder/encoder.
_DEFAULT_CALLS = {"input": {"default_input_fn", "encoders.decode", "decoder.decode", "_encoders.decode"},
                  "output": {"default_output_fn", "encoders.encode", "encoder.encode", "_encoders.encode"}}
# Calls whose use of the type is only to report it: they say nothing about what is read.
_HARMLESS_CALLS = {"print", "str", "repr", "len", "isinstance", "format", "ValueError", "TypeError",
                   "RuntimeError", "Exception", "NotImplementedError", "KeyError", "UnsupportedFormat"}
_LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "write"}
# When the function never looks at the type: what the body is decoded (or encoded) with.
_BODY_READERS = {"json.loads": JSON, "json.load": JSON, "csv.reader": CSV, "pd.read_csv": CSV,
                 "pandas.read_csv": CSV, "np.loadtxt": CSV, "np.genfromtxt": CSV, "np.load": NPY,
                 "numpy.load": NPY}
_BODY_WRITERS = {"json.dumps": JSON, "json.dump": JSON, "csv.writer": CSV, "np.savetxt": CSV, "np.save": NPY,
                 "numpy.save": NPY}
_MAX_DEPTH = 3


class _Unsure(Exception):
    """The function uses the type in a way this reading cannot follow."""


def handled_types(tree: Optional[ast.Module]) -> tuple[Optional[list[str]], Optional[list[str]]]:
    """(request types the model reads, response types it writes), each None when unknown.

    ``transform_fn(model, body, content_type, accept)`` is read for both; otherwise ``input_fn``'s
    second parameter and ``output_fn``'s second, each falling back to the container's defaults."""
    if tree is None:
        return None, None
    reader = _Reader(tree)
    transform = reader.functions.get("transform_fn")
    if transform is not None:
        return reader.types(transform, 2, "input"), reader.types(transform, 3, "output")
    out = []
    for name, kind in (("input_fn", "input"), ("output_fn", "output")):
        fn = reader.functions.get(name)
        out.append(list(DEFAULT_TYPES) if fn is None else reader.types(fn, 1, kind))
    return out[0], out[1]


def _dotted(node: ast.AST) -> str:
    """``a.b.c`` for a name or attribute chain, "" otherwise."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _last_name(func: ast.AST) -> str:
    """``b`` of ``a.b(...)`` (also ``"...".format``), ``f`` of ``f(...)``."""
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _mentions(node: ast.AST, aliases: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in aliases for n in ast.walk(node))


class _Reader:
    """One module's functions and constants, and the reading of one function at a time."""

    def __init__(self, tree: ast.Module) -> None:
        self.functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.constants = self._assignments(tree.body)

    @staticmethod
    def _assignments(body: list) -> dict[str, ast.AST]:
        found: dict[str, ast.AST] = {}
        for node in body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
                found[node.target.id] = node.value
        return found

    def types(self, fn: ast.AST, index: int, kind: str) -> Optional[list[str]]:
        """The types ``fn`` handles through its positional parameter ``index``; None when unknown."""
        try:
            found = self._read(fn, index, kind, 0)
        except _Unsure:
            return None
        if not found:
            return None
        # JSON first when it is one of them: the panel offers the first and its sample is JSON.
        return sorted(dict.fromkeys(found), key=lambda t: t != JSON)

    def _read(self, fn: ast.AST, index: int, kind: str, depth: int) -> list[str]:
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or depth > _MAX_DEPTH:
            raise _Unsure
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        if index >= len(params):
            raise _Unsure
        constants = {**self.constants, **self._assignments(list(ast.walk(fn)))}
        aliases = _aliases(fn, params[index])
        found: list[str] = []
        used = False
        for node in ast.walk(fn):
            if isinstance(node, ast.Compare):
                used |= self._compare(node, aliases, constants, found)
            elif isinstance(node, ast.Call):
                used |= self._call(node, aliases, constants, kind, depth, found)
            elif isinstance(node, ast.Subscript) and _mentions(node.slice, aliases):
                used = True
                found += self._strings(node.value, constants)
            elif isinstance(node, ast.Match) and _mentions(node.subject, aliases):
                used = True
                found += [p for case in node.cases for p in _match_values(case.pattern)]
        # Names inside print, a logger or an exception only report the type: not a look at it.
        reported = {id(n) for call in ast.walk(fn) if isinstance(call, ast.Call)
                    and _last_name(call.func) in _HARMLESS_CALLS | _LOG_METHODS for n in ast.walk(call)}
        if not used and not any(isinstance(n, ast.Name) and n.id in aliases and id(n) not in reported
                                for n in ast.walk(fn) if not isinstance(getattr(n, "ctx", None), ast.Store)):
            return self._body_guess(fn, kind)
        return [t for t in found if _FULL_TYPE.match(t)]

    def _compare(self, node: ast.Compare, aliases: set[str], constants: dict, found: list[str]) -> bool:
        used = False
        sides = [node.left, *node.comparators]
        for left, op, right in zip(sides, node.ops, sides[1:]):
            for mine, other, mine_right in ((left, right, False), (right, left, True)):
                if not _mentions(mine, aliases) or _mentions(other, aliases):
                    continue
                used = True
                if isinstance(op, (ast.In, ast.NotIn)) and mine_right:  # "json" in content_type
                    found += _full_only(self._strings(other, constants))
                else:
                    found += self._strings(other, constants)
        return used

    def _call(self, node: ast.Call, aliases: set[str], constants: dict, kind: str, depth: int,
              found: list[str]) -> bool:
        func = node.func
        name = _dotted(func)
        if isinstance(func, ast.Attribute) and func.attr in ("startswith", "endswith") \
                and _mentions(func.value, aliases):
            found += _full_only([s for a in node.args for s in self._strings(a, constants)])
            return True
        if isinstance(func, ast.Attribute) and func.attr == "get" and node.args and _mentions(node.args[0], aliases):
            fallback = node.args[1:] + [k.value for k in node.keywords]
            if any(not (isinstance(f, ast.Constant) and f.value is None) for f in fallback):
                raise _Unsure  # DECODERS.get(ct, default): every other type goes to the default
            found += self._strings(func.value, constants)
            return True
        positions = [i for i, a in enumerate(node.args) if _mentions(a, aliases)]
        if not positions and not any(_mentions(k.value, aliases) for k in node.keywords):
            return False
        if name in _DEFAULT_CALLS[kind]:
            found += DEFAULT_TYPES
        elif name in self.functions and positions and not node.keywords:
            found += self._read(self.functions[name], positions[0], kind, depth + 1)
        elif _last_name(func) in _HARMLESS_CALLS or _last_name(func) in _LOG_METHODS \
                or (isinstance(func, ast.Attribute) and _mentions(func.value, aliases)):
            return False  # reporting it, or a string method (lower, split) in an expression
        else:
            raise _Unsure  # handed to code this reading cannot see
        return True

    def _strings(self, node: ast.AST, constants: dict, seen: int = 0) -> list[str]:
        """String literals ``node`` stands for: a literal, a tuple/list/set of them, a dict's keys,
        a module or local constant holding one, or a toolkit constant (``content_types.JSON``)."""
        if isinstance(node, ast.Constant):
            return [node.value.strip().lower()] if isinstance(node.value, str) else []
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return [s for e in node.elts for s in self._strings(e, constants, seen=seen)]
        if isinstance(node, ast.Dict):
            return [s for k in node.keys if k is not None for s in self._strings(k, constants, seen=seen)]
        if isinstance(node, ast.Name) and node.id in constants and seen < 5:
            return self._strings(constants[node.id], constants, seen + 1)
        if isinstance(node, ast.Attribute) and _dotted(node).split(".")[0] in ("content_types", "_content_types"):
            return [_TOOLKIT_CONSTANTS[node.attr]] if node.attr in _TOOLKIT_CONSTANTS else []
        if isinstance(node, ast.Call) and _dotted(node.func) in ("dict", "frozenset", "set", "tuple", "list") \
                and node.args:
            return self._strings(node.args[0], constants, seen + 1)
        raise _Unsure

    def _body_guess(self, fn: ast.AST, kind: str) -> list[str]:
        """The type never consulted: what the body is parsed (written) with, when that is plain."""
        table = _BODY_READERS if kind == "input" else _BODY_WRITERS
        found = [table[_dotted(n.func)] for n in ast.walk(fn)
                 if isinstance(n, ast.Call) and _dotted(n.func) in table]
        if kind == "output":  # return body, "text/csv"
            found += [r.value.elts[1].value for r in ast.walk(fn)
                      if isinstance(r, ast.Return) and isinstance(r.value, ast.Tuple) and len(r.value.elts) == 2
                      and isinstance(r.value.elts[1], ast.Constant) and isinstance(r.value.elts[1].value, str)]
        return [t for t in found if _FULL_TYPE.match(t)]


def _aliases(fn: ast.AST, param: str) -> set[str]:
    """``param`` and the local names computed from it (``ct = content_type.split(";")[0].lower()``)."""
    aliases = {param}
    changed = True
    while changed:
        changed = False
        for node in ast.walk(fn):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value is not None \
                    and _mentions(node.value, aliases):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name) and name.id not in aliases:
                            aliases.add(name.id)
                            changed = True
    return aliases


def _full_only(strings: list[str]) -> list[str]:
    """Prefix or substring tests: full types count, a fragment ("json", "text/") leaves it unknown."""
    if any(not _FULL_TYPE.match(s) for s in strings):
        raise _Unsure
    return strings


def _match_values(pattern: ast.AST) -> list[str]:
    if isinstance(pattern, ast.MatchValue) and isinstance(pattern.value, ast.Constant) \
            and isinstance(pattern.value.value, str):
        return [pattern.value.value.strip().lower()]
    if isinstance(pattern, ast.MatchOr):
        return [s for p in pattern.patterns for s in _match_values(p)]
    if isinstance(pattern, ast.MatchAs) and pattern.pattern is None:
        raise _Unsure  # "case _:" or "case other:": everything else is handled somehow
    return []
