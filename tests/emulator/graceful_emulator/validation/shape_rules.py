"""The constraints of a botocore shape, checked on a request's members after they are read off the wire.

Source: the botocore service model traits (`required`, `min`, `max`, `pattern`, `enum`, and the shape's type), the
same constraints AWS's own request validation enforces. The wording of each violation is AWS's: "Value '<v>' at
'<path>' failed to satisfy constraint: Member must ..." (e.g. "Value null at 'logEvents.1.member.timestamp' failed
to satisfy constraint: Member must not be null", "Value '[]' at 'logEvents' failed to satisfy constraint: Member must
have length greater than or equal to 1", both real CloudWatch Logs answers). Note that botocore's client-side
validation checks only required members, types and minimums (botocore/validate.py), not maxima, patterns or enums:
this is the server side.
"""

import base64
import dataclasses
import datetime
import numbers

from . import java_regex
from .wire import Malformed

_SHOWN_VALUE_LIMIT = 200  # characters of a value quoted in an error (AWS quotes the value; keep logs readable)


@dataclasses.dataclass(frozen=True)
class Violation:
    path: str        # AWS's member path: lowerCamel member names, list items as `name.N.member` (N from 1)
    value: object
    rule: str        # "required", "type", "min", "max", "pattern", "enum"
    constraint: str  # the "Member must ..." sentence
    sensitive: bool = False  # inside a member marked `sensitive`: the value is not echoed back

    def sentence(self) -> str:
        shown = _shown(self.value, self.sensitive)
        return f"Value {shown} at '{self.path}' failed to satisfy constraint: {self.constraint}"


def _shown(value, sensitive: bool) -> str:
    if value is None:
        return "null"
    if sensitive:
        return "'***'"  # sensitive members are not echoed back (model trait `sensitive`)
    if isinstance(value, list):
        text = "[" + ", ".join(str(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k}={v}" for k, v in value.items()) + "}"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    if len(text) > _SHOWN_VALUE_LIMIT:
        text = text[:_SHOWN_VALUE_LIMIT] + "..."
    return f"'{text}'"


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _join(path: str, name: str) -> str:
    return f"{path}.{_lower_camel(name)}" if path else _lower_camel(name)


_JSON_TYPES = {
    "string": (str,), "blob": (str,), "timestamp": (str, numbers.Real), "boolean": (bool,),
    "integer": (int,), "long": (int,), "double": (numbers.Real,), "float": (numbers.Real,),
    "list": (list,), "map": (dict,), "structure": (dict,),
}


def _type_ok(shape, value) -> bool:
    expected = _JSON_TYPES.get(shape.type_name)
    if expected is None:
        return True
    if isinstance(value, bool) and shape.type_name != "boolean":
        return False
    return isinstance(value, expected)


def _length(shape, value) -> int:
    if shape.type_name == "blob":
        try:
            return len(base64.b64decode(value, validate=False))
        except ValueError:
            return len(value)
    return len(value)


def _timestamp_ok(value) -> bool:
    if not isinstance(value, str):
        return True
    try:
        float(value)
        return True
    except ValueError:
        pass
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def check(shape, value, path: str, violations: list, sensitive: bool = False) -> None:
    """Appends every violation of `shape`'s constraints by `value` (already present) to `violations`."""
    sensitive = sensitive or bool(shape.metadata.get("sensitive"))

    def violated(rule: str, constraint: str) -> None:
        violations.append(Violation(path, value, rule, constraint, sensitive))
    if isinstance(value, Malformed):
        violations.append(Violation(path, value.raw, "type", f"Member must be of type {value.expected}", sensitive))
        return
    if value is None:
        return  # JSON null is "not set"; `required` is checked by the parent structure
    if not _type_ok(shape, value) or shape.type_name == "timestamp" and not _timestamp_ok(value):
        violated("type", f"Member must be of type {shape.type_name}")
        return
    metadata = shape.metadata
    kind = shape.type_name
    if kind in ("string", "blob", "list", "map"):
        length = _length(shape, value)
        if "min" in metadata and length < metadata["min"]:
            violated("min", f"Member must have length greater than or equal to {metadata['min']}")
        if "max" in metadata and length > metadata["max"]:
            violated("max", f"Member must have length less than or equal to {metadata['max']}")
    elif kind in ("integer", "long", "double", "float"):
        if "min" in metadata and value < metadata["min"]:
            violated("min", f"Member must have value greater than or equal to {metadata['min']}")
        if "max" in metadata and value > metadata["max"]:
            violated("max", f"Member must have value less than or equal to {metadata['max']}")
    if kind == "string":
        if metadata.get("pattern") and not java_regex.matches(metadata["pattern"], value):
            violated("pattern", f"Member must satisfy regular expression pattern: {metadata['pattern']}")
        enum = getattr(shape, "enum", None) or []
        if enum and value not in enum:
            violated("enum", f"Member must satisfy enum value set: [{', '.join(enum)}]")
    elif kind == "structure":
        check_structure(shape, value, path, violations, sensitive)
    elif kind == "list":
        for index, item in enumerate(value, start=1):
            check(shape.member, item, f"{path}.{index}.member", violations, sensitive)
    elif kind == "map":
        for key, item in value.items():
            check(shape.key, key, f"{path}.key", violations, sensitive)
            check(shape.value, item, f"{path}.{key}", violations, sensitive)


def check_structure(shape, members: dict, path: str, violations: list, sensitive: bool = False) -> None:
    for name in shape.required_members:
        if members.get(name) is None:
            violations.append(Violation(_join(path, name), None, "required", "Member must not be null"))
    for name, value in members.items():
        if name in shape.members and value is not None:
            check(shape.members[name], value, _join(path, name), violations, sensitive)

