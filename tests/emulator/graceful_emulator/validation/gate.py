"""The request gate: reads a request's members by its operation's input shape, checks them, and answers the
service's validation error (logging which rule fired) instead of passing an invalid request to moto."""

import dataclasses
import io
import threading

from .. import state
from ..iam import authorize
from . import service_limits, service_models, shape_rules, wire
from .rejection import Rejection

# Each service's answer to a request that breaks its model constraints (code, HTTP status).
# - Query services: `ValidationError`, 400: "The input fails to satisfy the constraints specified by an AWS
#   service" (Common Errors in the Auto Scaling, IAM, SNS and STS API references).
# - SSM, EventBridge, KMS, Lambda: `ValidationException`, 400 (Common Errors of the SSM, EventBridge and KMS API
#   references; Lambda answers "ValidationException: 1 validation error detected: ..." for constraint failures).
# - CloudWatch Logs: `InvalidParameterException`, 400 ("InvalidParameterException: 1 validation error detected:
#   Value null at 'logEvents.1.member.timestamp' failed to satisfy constraint", answers quoted in
#   lazywithclass/winston-cloudwatch#55 and amazon-archives/cloudwatch-logs-centralize-logs#5).
_VALIDATION_ERROR = {
    "autoscaling": ("ValidationError", 400), "iam": ("ValidationError", 400), "sns": ("ValidationError", 400),
    "sts": ("ValidationError", 400), "ssm": ("ValidationException", 400), "events": ("ValidationException", 400),
    "kms": ("ValidationException", 400), "lambda": ("ValidationException", 400),
    "logs": ("InvalidParameterException", 400),
}
# A JSON body that is not JSON, or a member of the wrong JSON type: `SerializationException`, 400 (the awsJson1_1 /
# restJson1 framework error, e.g. "Start of structure or map found where not expected").
_SERIALIZATION_ERROR = ("SerializationException", 400)


@dataclasses.dataclass
class Settings:
    enabled: bool = True  # model constraints and limits: strict by default; the control API can turn it off
    iam_enforced: bool = True  # IAM for role sessions (a Lambda function's role): on by default


SETTINGS = Settings()
_LOCK = threading.Lock()


def reset() -> None:
    with _LOCK:
        SETTINGS.enabled = True
        SETTINGS.iam_enforced = True


def set_enabled(enabled: bool) -> None:
    with _LOCK:
        SETTINGS.enabled = enabled


def set_iam_enforced(enforced: bool) -> None:
    with _LOCK:
        SETTINGS.iam_enforced = enforced


def _body(environ: dict) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _headers(environ: dict) -> dict:
    return {key[5:].replace("_", "-"): value for key, value in environ.items() if key.startswith("HTTP_")}


def _operation(service: str, action: str, environ: dict):
    """(operation model, uri labels) of the request, or (None, {}) when the model has no such operation."""
    model = service_models.service_model(service)
    if model.protocol == "rest-json":
        name, labels = service_models.rest_operation(service, environ.get("REQUEST_METHOD", ""),
                                                     environ.get("PATH_INFO", ""))
        return (model.operation_model(name), labels) if name else (None, {})
    return service_models.operation_model(service, action), {}


def _members(model_protocol: str, operation, environ: dict, labels: dict) -> dict:
    body = _body(environ)
    query_string = environ.get("QUERY_STRING", "")
    if model_protocol == "query":
        return wire.query_members(operation.input_shape, body, query_string)
    if model_protocol == "json":
        return wire.json_members(operation.input_shape, body)
    return wire.rest_json_members(operation.input_shape, body, query_string, _headers(environ), labels)


def _message(violations: list) -> str:
    count = len(violations)
    noun = "validation error" if count == 1 else "validation errors"
    return f"{count} {noun} detected: " + "; ".join(v.sentence() for v in violations)


def check(environ: dict, service, action):
    """A Rejection for a request that breaks its operation's model constraints, a documented limit, or IAM (for a
    role session's credentials), else None."""
    if service not in service_models.VALIDATED_SERVICES:
        return None
    operation, labels = _operation(service, action, environ)
    if operation is None or operation.input_shape is None:
        return None  # moto answers unknown operations itself
    protocol = service_models.service_model(service).protocol
    try:
        members = _members(protocol, operation, environ, labels)
    except wire.BodyNotJson as error:
        if not SETTINGS.enabled:
            return None
        code, status = _SERIALIZATION_ERROR
        state.log_event("request-invalid", service=service, action=operation.name, rule="json", path="",
                        code=code)
        return Rejection(code, status, f"Could not parse the request body as JSON: {error}")
    if SETTINGS.enabled:
        rejection = _validation_rejection(service, protocol, operation, members, environ)
        if rejection:
            return rejection
    if SETTINGS.iam_enforced:
        return authorize.check(environ, service, operation.name, members)
    return None


def _validation_rejection(service, protocol, operation, members: dict, environ: dict):
    violations = []
    shape_rules.check_structure(operation.input_shape, members, "", violations)
    if not violations:
        limit = service_limits.check(service, operation.name, members, environ)
        if limit:
            state.log_event("request-invalid", service=service, action=operation.name, rule=limit.rule, path="",
                            code=limit.code)
        return limit
    type_errors = [v for v in violations if v.rule == "type"]
    if type_errors and protocol != "query":
        code, status = _SERIALIZATION_ERROR
    else:
        code, status = _VALIDATION_ERROR[service]
    first = violations[0]
    state.log_event("request-invalid", service=service, action=operation.name, rule=first.rule, path=first.path,
                    code=code, rules=[f"{v.rule} {v.path}" for v in violations])
    return Rejection(code, status, _message(violations))
