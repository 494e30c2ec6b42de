"""Which botocore operation a request is: by `Action` (query), `X-Amz-Target` (JSON), or method + URI (REST-JSON).

Source: the service models bundled with botocore (pinned in requirements.txt); each operation's `http.method` and
`http.requestUri` (REST protocols), the JSON protocol's `X-Amz-Target: <targetPrefix>.<Operation>`, and the query
protocol's `Action=<Operation>` parameter (botocore/serialize.py QuerySerializer, JSONSerializer, RestJSONSerializer).
"""

import dataclasses
import functools
import re
import threading

import botocore.session

# The services the provider and the drain handler call (by SigV4 signing name, which equals the botocore name).
VALIDATED_SERVICES = ("autoscaling", "ssm", "sns", "iam", "lambda", "logs", "events", "sts", "kms")

_SESSION_LOCK = threading.Lock()
_SESSION = botocore.session.get_session()


@functools.lru_cache(maxsize=None)
def service_model(service: str):
    with _SESSION_LOCK:  # the botocore loader is not documented as thread-safe
        return _SESSION.get_service_model(service)


@dataclasses.dataclass(frozen=True)
class RestRoute:
    method: str
    path: re.Pattern
    literal_length: int  # more literal characters = more specific (GET /functions/{F}/policy beats /functions/{F})
    labels: tuple
    operation: str


def _route(operation) -> RestRoute:
    uri = operation.http["requestUri"].split("?", 1)[0]
    labels, parts, position = [], ["^"], 0
    for match in re.finditer(r"\{([^}+]+)(\+?)\}", uri):
        parts.append(re.escape(uri[position:match.start()]))
        labels.append(match.group(1))
        parts.append("(.+)" if match.group(2) else "([^/]+)")
        position = match.end()
    parts.append(re.escape(uri[position:].rstrip("/")) + "/?$")
    literal = len(re.sub(r"\{[^}]+\}", "", uri))
    return RestRoute(operation.http["method"], re.compile("".join(parts)), literal, tuple(labels), operation.name)


@functools.lru_cache(maxsize=None)
def _rest_routes(service: str) -> tuple:
    model = service_model(service)
    routes = [_route(model.operation_model(name)) for name in model.operation_names]
    return tuple(sorted(routes, key=lambda r: -r.literal_length))


def rest_operation(service: str, method: str, path: str):
    """(operation name, {uri label: raw segment}) of a REST request, or (None, {})."""
    for route in _rest_routes(service):
        if route.method != method:
            continue
        match = route.path.match(path)
        if match:
            return route.operation, dict(zip(route.labels, match.groups()))
    return None, {}


def operation_model(service: str, name: str):
    model = service_model(service)
    return model.operation_model(name) if name in model.operation_names else None
