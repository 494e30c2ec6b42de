"""Reads a request's members back out of the wire format, guided by the operation's input shape.

Sources (how the AWS SDKs put members on the wire; botocore/serialize.py and the AWS protocol specs):
- query (Auto Scaling, IAM, SNS, STS): form fields; a structure member is `Prefix.Name`, a list is
  `Prefix.member.N` (or `Prefix.N` when the list is `flattened`; the member's `locationName` replaces `member`),
  an empty list is `Prefix=`, a map is `Prefix.entry.N.key` / `.value` (key/value `locationName`s override),
  booleans are `true`/`false`, N counts from 1.
- JSON 1.1 (SSM, Logs, EventBridge, KMS): the body is the input structure as JSON, keyed by member name.
- REST-JSON (Lambda): members bound to the URI (`location: uri`), the query string (`querystring`), headers
  (`header`, `headers` for a prefixed map), the body (a `payload` member, or the remaining members as JSON).
"""

import dataclasses
import json
from urllib.parse import parse_qs, unquote

_MISSING = object()


@dataclasses.dataclass(frozen=True)
class Malformed:
    """A value that could not be read as its shape's type (reported as a type error, not passed on)."""
    raw: object
    expected: str


def _from_text(shape, text: str):
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return Malformed(text, kind)
    if kind in ("double", "float"):
        try:
            return float(text)
        except ValueError:
            return Malformed(text, kind)
    if kind == "boolean":
        if text in ("true", "false"):
            return text == "true"
        return Malformed(text, kind)
    return text  # string, timestamp, blob (base64) stay text


# --- query protocol -------------------------------------------------------------------------------------------

def _query_name(member_name: str, shape) -> str:
    return shape.serialization.get("name", member_name)


def _has_prefix(params: dict, prefix: str) -> bool:
    dotted = prefix + "."
    return prefix in params or any(key.startswith(dotted) for key in params)


def _indexes(params: dict, prefix: str) -> list:
    dotted, found = prefix + ".", set()
    for key in params:
        if key.startswith(dotted):
            head = key[len(dotted):].split(".", 1)[0]
            if head.isdigit():
                found.add(int(head))
    return sorted(found)


def _query_value(shape, prefix: str, params: dict):
    kind = shape.type_name
    if kind == "structure":
        if not any(key.startswith(prefix + ".") for key in params):
            return _MISSING
        return _query_structure(shape, prefix + ".", params)
    if kind == "list":
        if params.get(prefix) == "":
            return []
        if shape.serialization.get("flattened"):
            items_prefix = prefix
        else:
            items_prefix = f"{prefix}.{shape.member.serialization.get('name', 'member')}"
        if not _has_prefix(params, items_prefix):
            return _MISSING
        return [_query_value(shape.member, f"{items_prefix}.{n}", params) for n in _indexes(params, items_prefix)]
    if kind == "map":
        entries = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        if not _has_prefix(params, entries):
            return _MISSING
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        result = {}
        for n in _indexes(params, entries):
            key = params.get(f"{entries}.{n}.{key_name}")
            value = _query_value(shape.value, f"{entries}.{n}.{value_name}", params)
            result[key] = None if value is _MISSING else value
        return result
    if prefix not in params:
        return _MISSING
    return _from_text(shape, params[prefix])


def _query_structure(shape, prefix: str, params: dict) -> dict:
    members = {}
    for name, member in shape.members.items():
        value = _query_value(member, prefix + _query_name(name, member), params)
        if value is not _MISSING:
            members[name] = value
    return members


def query_members(input_shape, body: bytes, query_string: str) -> dict:
    params = {}
    for source in (query_string, body.decode("utf-8", errors="replace")):
        for key, values in parse_qs(source, keep_blank_values=True).items():
            params.setdefault(key, values[0])
    return _query_structure(input_shape, "", params) if input_shape is not None else {}


# --- JSON protocols -------------------------------------------------------------------------------------------

class BodyNotJson(ValueError):
    pass


def _json_body(body: bytes):
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except ValueError as error:
        raise BodyNotJson(str(error)) from None


def json_members(input_shape, body: bytes) -> dict:
    if input_shape is None:
        return {}
    document = _json_body(body)
    if not isinstance(document, dict):
        raise BodyNotJson("the request body must be a JSON object")
    return {name: document[member.serialization.get("name", name)] for name, member in input_shape.members.items()
            if member.serialization.get("name", name) in document}


def rest_json_members(input_shape, body: bytes, query_string: str, headers: dict, uri_labels: dict) -> dict:
    if input_shape is None:
        return {}
    query = {key: values[0] for key, values in parse_qs(query_string, keep_blank_values=True).items()}
    lowered = {key.lower(): value for key, value in headers.items()}
    members, body_members = {}, {}
    payload = input_shape.serialization.get("payload")
    for name, member in input_shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            if wire_name in uri_labels:
                members[name] = _from_text(member, unquote(uri_labels[wire_name]))
        elif location == "querystring":
            if member.type_name == "list":
                values = parse_qs(query_string, keep_blank_values=True).get(wire_name)
                if values is not None:
                    members[name] = [_from_text(member.member, v) for v in values]
            elif wire_name in query:
                members[name] = _from_text(member, query[wire_name])
        elif location == "header":
            if wire_name.lower() in lowered:
                members[name] = _from_text(member, lowered[wire_name.lower()])
        elif location == "headers":
            prefix = wire_name.lower()
            found = {k[len(prefix):]: v for k, v in lowered.items() if k.startswith(prefix)}
            if found:
                members[name] = found
        elif name == payload:
            if body:
                members[name] = _json_body(body) if member.type_name == "structure" else body.decode(errors="replace")
        else:
            body_members[name] = member
    if body_members and payload is None:
        document = _json_body(body)
        if not isinstance(document, dict):
            raise BodyNotJson("the request body must be a JSON object")
        for name, member in body_members.items():
            wire_name = member.serialization.get("name", name)
            if wire_name in document:
                members[name] = document[wire_name]
    return members
