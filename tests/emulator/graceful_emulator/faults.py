"""Fault knobs applied in front of moto: fail the next N calls of an API, throttle a fraction of calls."""

import io
import re
from urllib.parse import parse_qs

from . import rate_limits, sigv4, state, wire_errors


# Lambda's REST API: (method, path pattern) → operation name, so faults name Lambda operations like any other.
_LAMBDA_OPERATIONS = [
    ("POST", re.compile(r"^/2015-03-31/functions/?$"), "CreateFunction"),
    ("GET", re.compile(r"^/2015-03-31/functions/?$"), "ListFunctions"),
    ("GET", re.compile(r"^/2015-03-31/functions/[^/]+/?$"), "GetFunction"),
    ("DELETE", re.compile(r"^/2015-03-31/functions/[^/]+/?$"), "DeleteFunction"),
    ("PUT", re.compile(r"^/2015-03-31/functions/[^/]+/code/?$"), "UpdateFunctionCode"),
    ("PUT", re.compile(r"^/2015-03-31/functions/[^/]+/configuration/?$"), "UpdateFunctionConfiguration"),
    ("GET", re.compile(r"^/2015-03-31/functions/[^/]+/configuration/?$"), "GetFunctionConfiguration"),
    ("POST", re.compile(r"^/2015-03-31/functions/[^/]+/policy/?$"), "AddPermission"),
    ("GET", re.compile(r"^/2015-03-31/functions/[^/]+/policy/?$"), "GetPolicy"),
    ("DELETE", re.compile(r"^/2015-03-31/functions/[^/]+/policy/[^/]+/?$"), "RemovePermission"),
    ("POST", re.compile(r"^/2015-03-31/functions/[^/]+/invocations/?$"), "Invoke"),
]


def _lambda_operation(method: str, path: str):
    for op_method, pattern, name in _LAMBDA_OPERATIONS:
        if method == op_method and pattern.match(path):
            return name
    return None


def identify(environ: dict) -> tuple:
    """(service, action) of an AWS request; buffers the body so moto can still read it."""
    signed = sigv4.scope(environ)
    service = signed.service if signed else None
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    if body and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        action = parse_qs(body.decode(errors="replace")).get("Action", [None])[0]
        if action:
            return service, action
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action", [None])[0]
    if not action and service == "lambda":
        action = _lambda_operation(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
    return service, action or f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"


def _matches(spec: dict, service, action) -> bool:
    wanted = spec.get("service")
    # One service name, or a list of them (e.g. throttle Auto Scaling and SSM together).
    if wanted and (service not in wanted if isinstance(wanted, list) else wanted != service):
        return False
    if spec.get("action") and spec["action"] != action and not (action or "").startswith(spec["action"]):
        return False
    return True


def throttle_error(service) -> tuple:
    """The throttling error each service answers (each API reference's common errors): Lambda's
    `TooManyRequestsException` (HTTP 429), the other JSON-protocol services' (SSM, EventBridge, CloudWatch Logs)
    `ThrottlingException`, the query-protocol services' (Auto Scaling, IAM, SNS, STS) `Throttling`. botocore's
    standard retry mode counts all three as throttling (`botocore/retries/standard.py` ThrottledRetryableChecker)."""
    if service == "lambda":
        return "TooManyRequestsException", "Rate exceeded", 429
    code = "ThrottlingException" if service in ("ssm", "events", "logs") else "Throttling"
    return code, "Rate exceeded", 400


def pick_fault(service, action):
    """The error to answer instead of calling moto, or None."""
    if not rate_limits.take(service, action):
        return throttle_error(service)
    if not state.FAULTS and not state.THROTTLE["fraction"]:
        return None  # the usual case, without queueing on the lock
    with state.LOCK:
        for spec in state.FAULTS:
            if spec["remaining"] > 0 and _matches(spec, service, action):
                spec["remaining"] -= 1
                return spec["code"], spec["message"], spec.get("status", 400)
        throttle = state.THROTTLE
        if throttle["fraction"] > 0 and _matches(throttle, service, action):
            if throttle["rng"].random() < throttle["fraction"]:
                return throttle_error(service)
    return None


def error_response(environ, start_response, service, action, code, message, status):
    state.log_event("fault-injected", service=service, action=action, code=code)
    return wire_errors.answer(environ, start_response, service, code, message, status)
