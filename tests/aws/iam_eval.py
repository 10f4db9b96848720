"""An offline evaluator of IAM identity policies: which statements apply to one request, and
the decision AWS documents (explicit Deny > Allow > implicit deny).

No maintained Python library evaluates conditions offline (parliament and policy_sentry lint or
generate; moto's access control skips Condition except on trust policies; principalmapper's
simulator is unmaintained), so this is written here and tested on the examples of the IAM User
Guide (tests/aws/test_iam_evaluator.py). Only identity policies of one account: no SCP, no
boundary, no resource policy, no session policy — what the ABAC user policy needs.

A request is ``Request(action, resource, context)``; ``context`` maps condition keys (any case)
to a string, or to a list of strings for multivalued keys (``aws:TagKeys``). Implemented:
Action/NotAction and Resource/NotResource with ``*``/``?`` wildcards (actions case-insensitive,
ARNs case-sensitive, the first five ARN fields matched one by one), policy variables
(``${aws:PrincipalTag/k}``, ``${*}``, ``${?}``, ``${$}``), the String, Numeric, Bool, Arn and Null
operators, ``...IfExists``, and the ``ForAllValues:``/``ForAnyValue:`` set operators. Any other
operator raises, so an unsupported policy is never silently read as "no match".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional, Union

Value = Union[str, list]


@dataclass
class Request:
    action: str
    resource: str
    context: dict = field(default_factory=dict)

    def get(self, key: str) -> Optional[Value]:
        """The context value of ``key`` (condition keys are case-insensitive), None when absent."""
        low = key.lower()
        for k, v in self.context.items():
            if k.lower() == low:
                return v
        return None


@dataclass
class Decision:
    effect: str  # "Allow", "ExplicitDeny" or "ImplicitDeny"
    allowed_by: list = field(default_factory=list)
    denied_by: list = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return self.effect == "Allow"


_VAR = re.compile(r"\$\{([^}]+)\}")
_NEGATED = {"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "numericnotequals",
            "arnnotequals", "arnnotlike", "notipaddress", "datenotequals"}


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcards: ``*`` any run of characters, ``?`` exactly one."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, re.S | (re.I if ignore_case else 0)) is not None


def _substitute(text: str, request: Request) -> Optional[str]:
    """Resolve policy variables; None when a variable's key is absent (the value then matches nothing)."""
    missing = False

    def repl(m):
        nonlocal missing
        name = m.group(1)
        if name in ("*", "?", "$"):
            return {"*": "\0STAR\0", "?": "\0QMARK\0", "$": "$"}[name]
        name, _, default = name.partition(",")  # ${key, 'default'}
        value = request.get(name.strip())
        if value is None or isinstance(value, list):
            default = default.strip()
            if default.startswith("'") and default.endswith("'"):
                return default[1:-1]
            missing = True
            return ""
        return value

    out = _VAR.sub(repl, text)
    return None if missing else out


def _literal_glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """``_glob`` where ``${*}``/``${?}`` (already substituted as markers) match themselves."""
    parts = re.split(r"(\0STAR\0|\0QMARK\0)", pattern)
    rx = ""
    for part in parts:
        if part == "\0STAR\0":
            rx += re.escape("*")
        elif part == "\0QMARK\0":
            rx += re.escape("?")
        else:
            rx += "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in part)
    return re.fullmatch(rx, value, re.S | (re.I if ignore_case else 0)) is not None


def _unmark(text: str) -> str:
    return text.replace("\0STAR\0", "*").replace("\0QMARK\0", "?")


def _arn_match(pattern: str, arn: str) -> bool:
    """ARN wildcards: the first five fields separately (a ``*`` does not cross a ``:``), then the rest."""
    if pattern == "*":
        return True
    p, a = pattern.split(":", 5), arn.split(":", 5)
    if len(p) != 6 or len(a) != 6:
        return _literal_glob(pattern, arn)
    return all(_literal_glob(pp, aa) for pp, aa in zip(p, a))


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _match_action(patterns, action: str) -> bool:
    return any(_glob(p, action, ignore_case=True) for p in _as_list(patterns))


def _match_resource(patterns, request: Request) -> bool:
    for p in _as_list(patterns):
        resolved = _substitute(p, request)
        if resolved is not None and _arn_match(resolved, request.resource):
            return True
    return False


def _compare(base: str, policy_value: str, value: str, request: Request) -> bool:
    """One policy value against one request value with the (positive) base operator."""
    if base in ("stringequals", "stringlike", "stringequalsignorecase", "arnequals", "arnlike"):
        resolved = _substitute(policy_value, request)
        if resolved is None:
            return False
        if base == "stringequals":
            return _unmark(resolved) == value
        if base == "stringequalsignorecase":
            return _unmark(resolved).lower() == value.lower()
        if base == "stringlike":
            return _literal_glob(resolved, value)
        return _arn_match(resolved, value)
    if base == "numericequals" or base.startswith("numeric"):
        try:
            a, b = float(value), float(policy_value)
        except ValueError:
            return False
        return {"numericequals": a == b, "numericlessthan": a < b, "numericlessthanequals": a <= b,
                "numericgreaterthan": a > b, "numericgreaterthanequals": a >= b}[base]
    if base == "bool":
        return str(value).lower() == str(policy_value).lower()
    raise ValueError(f"condition operator {base!r} is not supported by this evaluator")


_POSITIVE = {"stringnotequals": "stringequals", "stringnotequalsignorecase": "stringequalsignorecase",
             "stringnotlike": "stringlike", "numericnotequals": "numericequals", "arnnotequals": "arnequals",
             "arnnotlike": "arnlike"}
_KNOWN = {"stringequals", "stringlike", "stringequalsignorecase", "arnequals", "arnlike", "numericequals",
          "numericlessthan", "numericlessthanequals", "numericgreaterthan", "numericgreaterthanequals", "bool",
          *_POSITIVE}


def _operator(name: str) -> tuple[Optional[str], str, bool]:
    """``ForAnyValue:StringLikeIfExists`` -> ("foranyvalue", "stringlike", True)."""
    qualifier, _, op = name.rpartition(":")
    qualifier = qualifier.lower() or None
    if qualifier not in (None, "forallvalues", "foranyvalue"):
        raise ValueError(f"unknown set operator {qualifier!r}")
    op = op.lower()
    if_exists = op.endswith("ifexists")
    if if_exists:
        op = op[: -len("ifexists")]
    if op != "null" and op not in _KNOWN:
        raise ValueError(f"condition operator {name!r} is not supported by this evaluator")
    return qualifier, op, if_exists


def _one_key(op_name: str, key: str, policy_values, request: Request) -> bool:
    qualifier, op, if_exists = _operator(op_name)
    policy_values = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(policy_values)]
    value = request.get(key)
    present = value is not None and value != [] and value != ""
    if op == "null":
        return any((v.lower() == "true") == (not present) for v in policy_values)
    negated = op in _POSITIVE
    base = _POSITIVE.get(op, op)

    def matches(v: str) -> bool:
        hit = any(_compare(base, pv, v, request) for pv in policy_values)
        return not hit if negated else hit

    if qualifier == "forallvalues":
        return all(matches(v) for v in _as_list(value)) if present else True
    if qualifier == "foranyvalue":
        return any(matches(v) for v in _as_list(value)) if present else False
    if not present:
        return if_exists or negated
    if isinstance(value, list):
        raise ValueError(f"{key} is multivalued in this request: the policy must use ForAllValues/ForAnyValue")
    return matches(value)


def conditions_hold(condition: Optional[dict], request: Request) -> bool:
    """Every operator, every key of it (values of one key are alternatives)."""
    for op_name, keys in (condition or {}).items():
        for key, values in keys.items():
            if not _one_key(op_name, key, values, request):
                return False
    return True


def statement_applies(st: dict, request: Request) -> bool:
    """Action, Resource and Condition of one statement all match the request."""
    if "Action" in st and not _match_action(st["Action"], request.action):
        return False
    if "NotAction" in st and _match_action(st["NotAction"], request.action):
        return False
    if "Resource" in st and not _match_resource(st["Resource"], request):
        return False
    if "NotResource" in st and _match_resource(st["NotResource"], request):
        return False
    return conditions_hold(st.get("Condition"), request)


def evaluate(policies, request: Request) -> Decision:
    """The decision of identity policies (a document or a list of them) for one request."""
    docs = policies if isinstance(policies, list) else [policies]
    decision = Decision("ImplicitDeny")
    for doc in docs:
        statements = doc.get("Statement", [])
        for i, st in enumerate(statements if isinstance(statements, list) else [statements]):
            if statement_applies(st, request):
                sid = st.get("Sid") or f"#{i}"
                (decision.denied_by if st.get("Effect") == "Deny" else decision.allowed_by).append(sid)
    if decision.denied_by:
        decision.effect = "ExplicitDeny"
    elif decision.allowed_by:
        decision.effect = "Allow"
    return decision
