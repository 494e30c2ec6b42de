"""IAM policy evaluation for one principal in one account: a pure function of the policies and the request.

Source: IAM user guide, "Policy evaluation logic" (reference_policies_evaluation-logic): an explicit Deny in any
policy wins; otherwise the request must be allowed by an identity-based policy and, when the principal has one, by
its permissions boundary (a resource-based policy naming the principal can allow on its own). Matching rules:
"IAM JSON policy elements": Action/NotAction (case-insensitive, `*` and `?` wildcards), Resource/NotResource (ARN
wildcards, case-sensitive), and "Condition operators": a key absent from the request context makes a condition
false, except the negated operators (StringNotEquals, StringNotLike, ArnNotEquals, ArnNotLike...) which are then
true, `...IfExists` which is then true, and `Null`; condition key names are case-insensitive, values are not
(except the ...IgnoreCase operators); a statement's conditions are ANDed, a key's values ORed.
"""

import dataclasses
import re


@dataclasses.dataclass(frozen=True)
class Request:
    action: str          # "ssm:SendCommand"
    resource: str        # one ARN (or "*"); a request naming several resources is evaluated once per resource
    context: dict        # lower-cased condition key -> list of string values


@dataclasses.dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # "explicit-deny-identity", "explicit-deny-boundary", "no-identity-allow", "no-boundary-allow",
                 # "allowed"


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _action_matches(statement: dict, action: str) -> bool:
    if "Action" in statement:
        return any(_wildcard(p, action, True) for p in as_list(statement["Action"]))
    if "NotAction" in statement:
        return not any(_wildcard(p, action, True) for p in as_list(statement["NotAction"]))
    return False


def _resource_matches(statement: dict, resource: str) -> bool:
    if "Resource" in statement:
        return any(p == "*" or _wildcard(p, resource, False) for p in as_list(statement["Resource"]))
    if "NotResource" in statement:
        return not any(p == "*" or _wildcard(p, resource, False) for p in as_list(statement["NotResource"]))
    return False


def _compare(base: str, expected: str, actual: str) -> bool:
    if base in ("StringEquals", "ArnEquals"):
        return actual == expected if base == "StringEquals" else _wildcard(expected, actual, False)
    if base == "StringEqualsIgnoreCase":
        return actual.lower() == expected.lower()
    if base in ("StringLike", "ArnLike"):
        return _wildcard(expected, actual, False)
    if base == "Bool":
        return actual.lower() == str(expected).lower()
    if base.startswith("Numeric"):
        a, e = float(actual), float(expected)
        return {"NumericEquals": a == e, "NumericLessThan": a < e, "NumericLessThanEquals": a <= e,
                "NumericGreaterThan": a > e, "NumericGreaterThanEquals": a >= e}.get(base, False)
    raise ValueError(f"condition operator {base} is not supported by the emulator")


_NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
            "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
            "NumericNotEquals": "NumericEquals"}


def _condition_holds(operator: str, key: str, expected: list, context: dict) -> bool:
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    operator = operator[:-len("IfExists")] if if_exists else operator
    actual = context.get(key.lower())
    if operator == "Null":
        return (actual is None) == (str(expected[0]).lower() == "true")
    negated = operator in _NEGATED
    base = _NEGATED.get(operator, operator)
    if actual is None:
        return if_exists or negated
    expected = [str(e) for e in expected]

    def one(value):
        matched = any(_compare(base, e, value) for e in expected)
        return not matched if negated else matched
    if qualifier == "ForAllValues":
        return all(one(v) for v in actual)
    return any(one(v) for v in actual)  # single-valued keys and ForAnyValue


def _conditions_hold(statement: dict, context: dict) -> bool:
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, expected in keys.items():
            if not _condition_holds(operator, key, as_list(expected), context):
                return False
    return True


def effects(policies: list, request: Request) -> set:
    found = set()
    for policy in policies:
        for statement in as_list(policy.get("Statement") or []):
            if (_action_matches(statement, request.action) and _resource_matches(statement, request.resource)
                    and _conditions_hold(statement, request.context)):
                found.add(statement.get("Effect"))
    return found


def evaluate(identity_policies: list, boundary, request: Request) -> Decision:
    identity = effects(identity_policies, request)
    bounded = effects([boundary], request) if boundary is not None else {"Allow"}
    if "Deny" in identity:
        return Decision(False, "explicit-deny-identity")
    if "Deny" in bounded:
        return Decision(False, "explicit-deny-boundary")
    if "Allow" not in identity:
        return Decision(False, "no-identity-allow")
    if "Allow" not in bounded:
        return Decision(False, "no-boundary-allow")
    return Decision(True, "allowed")
