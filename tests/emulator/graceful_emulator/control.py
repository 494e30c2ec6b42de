"""The control API under /_graceful/: reset, fault knobs, stand-in behaviour, clock, and the event log."""

import json

from moto.moto_api._internal.models import moto_api_backend
from werkzeug.wrappers import Request, Response

from . import (autoscaling_hooks, lambda_runtime, nomad_world, rebalance, refresh, schedules, spot_interruptions,
               rate_limits, ssm_consistency,
               ssm_commands, state, warm_pools)
from .iam import sessions
from .validation import gate

PREFIX = "/_graceful/"


def _json(value, status=200) -> Response:
    return Response(json.dumps(value, default=str), status=status, mimetype="application/json")


def _require(body: dict, field: str, kind):
    if field not in body:
        raise ValueError(f"field {field!r} is required")
    if not isinstance(body[field], kind) or isinstance(body[field], bool) and kind is not bool:
        raise ValueError(f"field {field!r} must be {getattr(kind, '__name__', kind)}, got {body[field]!r}")
    return body[field]


def reset() -> None:
    ssm_commands.reset()
    lambda_runtime.kill_all()
    autoscaling_hooks.reset()
    refresh.reset()
    schedules.reset()
    spot_interruptions.reset()
    ssm_consistency.reset()
    rate_limits.reset()
    state.reset_knobs()
    gate.reset()
    sessions.reset()
    moto_api_backend.reset()


def _route(request: Request) -> Response:
    path = request.path[len(PREFIX):].strip("/")
    body = request.get_json(silent=True) or {} if request.method == "POST" else {}
    if path == "health":
        return _json({"status": "ok"})
    if path == "events" and request.method == "GET":
        since = int(request.args.get("since", 0))
        return _json({"events": state.events_since(since)})
    if path == "calls" and request.method == "GET":
        with state.LOG_LOCK:
            calls = dict(state.CALLS)
        return _json({"calls": calls, "total": sum(calls.values())})
    if request.method != "POST":
        return _json({"error": f"{request.method} {request.path}: unknown control endpoint"}, 404)
    if path == "reset":
        reset()
        return _json({"reset": True})
    if path == "faults":
        spec = {"service": body.get("service"), "action": body.get("action"),
                "remaining": _require(body, "count", int), "code": _require(body, "code", str),
                "message": body.get("message", ""), "status": int(body.get("status", 400))}
        if not spec["action"] and not spec["service"]:
            raise ValueError("field 'action' or 'service' is required")
        with state.LOCK:
            state.FAULTS.append(spec)
        return _json({"fault": spec})
    if path == "faults/clear":
        with state.LOCK:
            cleared = len(state.FAULTS)
            state.FAULTS.clear()
        return _json({"cleared": cleared})
    if path == "throttle":
        fraction = float(_require(body, "fraction", (int, float)))
        if not 0 <= fraction <= 1:
            raise ValueError(f"field 'fraction' must be between 0 and 1, got {fraction}")
        with state.LOCK:
            state.THROTTLE.update({"fraction": fraction, "service": body.get("service"), "action": body.get("action")})
            if "seed" in body:
                state.THROTTLE["rng"].seed(body["seed"])
        return _json({"throttle": fraction})
    if path == "deliveries":
        with state.LOCK:
            for field in ("drop_next", "duplicate_next", "kill_next"):
                if field in body:
                    state.DELIVERY[field] = _require(body, field, int)
            if "kill_after_seconds" in body:
                state.DELIVERY["kill_after_seconds"] = float(body["kill_after_seconds"])
            if "kill_on_call" in body:
                operation = body["kill_on_call"]
                if operation is not None and (not isinstance(operation, str) or ":" not in operation):
                    raise ValueError("field 'kill_on_call' must be null or \"service:Action\", "
                                     f"such as \"ssm:SendCommand\", got {operation!r}")
                state.DELIVERY["kill_on_call"] = operation
            if "retry_delays" in body:
                delays = _require(body, "retry_delays", list)
                if len(delays) != 2:
                    raise ValueError("field 'retry_delays' must hold two numbers (seconds before retry 1 and 2)")
                state.DELIVERY["retry_delays"] = [float(d) for d in delays]
            current = dict(state.DELIVERY)
        return _json({"deliveries": current})
    if path == "rate_limits":
        return _json({"limits": rate_limits.configure(body)})
    if path == "ssm_consistency":
        return _json({"ssm_consistency": ssm_consistency.configure(body)})
    if path == "agents":
        instance_id = _require(body, "instance_id", str)
        ping = body.get("ping_status", "Online")
        if ping not in ("Online", "ConnectionLost", "Inactive"):
            raise ValueError(f"field 'ping_status' must be Online, ConnectionLost or Inactive, got {ping!r}")
        with state.LOCK:
            state.AGENTS[instance_id] = {"ping_status": ping, "managed": bool(body.get("managed", True))}
        return _json({"agent": state.AGENTS[instance_id]})
    if path == "nomad":
        settings = nomad_world.validate(body)
        with state.LOCK:
            if body.get("instance_id"):
                state.NOMAD["instances"].setdefault(body["instance_id"], {}).update(settings)
            else:
                state.NOMAD["default"].update(settings)
        return _json({"nomad": state.nomad_behaviour(body.get("instance_id", ""))})
    if path == "clock":
        scale = float(_require(body, "scale", (int, float)))
        if scale <= 0:
            raise ValueError(f"field 'scale' must be positive, got {scale}")
        state.CLOCK["scale"] = scale
        return _json({"scale": scale})
    if path == "sessions":
        session = sessions.assume(body.get("account", "123456789012"), body.get("region", "us-east-1"),
                                  _require(body, "role_arn", str), body.get("session_name", "graceful-test"))
        return _json({"session": {"arn": session.session_arn, "access_key_id": session.access_key_id,
                                  "secret_access_key": session.secret_access_key,
                                  "session_token": session.session_token}})
    if path == "iam":
        gate.set_iam_enforced(_require(body, "enforced", bool))
        return _json({"iam": {"enforced": gate.SETTINGS.iam_enforced}})
    if path == "validation":
        gate.set_enabled(_require(body, "enabled", bool))
        return _json({"validation": {"enabled": gate.SETTINGS.enabled}})
    if path == "warm_pool":
        ids = warm_pools.put_instances(body.get("account", "123456789012"), body.get("region", "us-east-1"),
                                       _require(body, "group", str), _require(body, "instances", int),
                                       body.get("state", "Warmed:Stopped"))
        return _json({"instance_ids": ids})
    if path == "instance_lifetime":
        new = refresh.expire_lifetime(body.get("account", "123456789012"), body.get("region", "us-east-1"),
                                      _require(body, "group", str), _require(body, "instance_ids", list))
        return _json({"replacements": new})
    if path == "rebalance_recommendation":
        new = rebalance.recommend(body.get("account", "123456789012"), body.get("region", "us-east-1"),
                                  _require(body, "group", str), _require(body, "instance_ids", list))
        return _json({"replacements": new})
    if path == "spot_interruption":
        return _json(spot_interruptions.control(body))
    if path == "schedules/fire":
        fired = schedules.fire_now(_require(body, "rule", str))
        return _json({"fired": fired})
    return _json({"error": f"POST {request.path}: unknown control endpoint"}, 404)


def app(environ, start_response):
    request = Request(environ)
    try:
        response = _route(request)
    except ValueError as error:
        response = _json({"error": str(error)}, 400)
    return response(environ, start_response)
