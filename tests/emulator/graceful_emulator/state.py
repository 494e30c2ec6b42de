"""Shared state of the extension: one lock, the event log, the clock, fault knobs and stand-in behaviour."""

import bisect
import datetime
import itertools
import random
import threading
import time

from . import nomad_world

# One re-entrant lock guards every structure of the extension (and the moto objects it mutates from timer threads).
LOCK = threading.RLock()
# The event log and the call counts, touched on every request and state change, have their own short-held lock so
# they never queue behind LOCK.
LOG_LOCK = threading.Lock()

_EVENT_SEQ = itertools.count(1)
EVENTS: list = []

# Emulated seconds per real second for hook timeouts, schedules and Lambda retry delays.
CLOCK = {"scale": 1.0}

# Fault knobs, all set through the control API.
FAULTS: list = []  # [{"service", "action", "remaining", "code", "message", "status"}]
# AWS API calls received, per "service:Action" (benchmarks compare a workload's calls with the emulator's round trip).
CALLS: dict = {}
THROTTLE = {"fraction": 0.0, "service": None, "action": None, "rng": random.Random(0)}
DELIVERY = {"drop_next": 0, "duplicate_next": 0, "kill_next": 0, "kill_after_seconds": 0.2, "kill_on_call": None,
            "retry_delays": [1.0, 2.0]}
# "service:Action" -> callbacks run once, after the emulator has carried out the next such call and before it answers.
AFTER_CALL: dict = {}
AGENTS: dict = {}  # instance id -> {"ping_status": "Online"|"ConnectionLost"|"Inactive", "managed": bool}
NOMAD_DEFAULT = nomad_world.DEFAULTS  # the stand-in nomad's world: see nomad_world.py
NOMAD = {"default": dict(NOMAD_DEFAULT), "instances": {}}

# Bumped by every reset: background work started before a reset stops quietly instead of writing into the new run.
GENERATION = {"value": 0}

# Set at start-up: where the emulator listens, so the Lambda processes can call back.
SERVER = {"host": "127.0.0.1", "port": 5000}


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def emulated_seconds_to_real(seconds: float) -> float:
    """How long `seconds` of emulated time last in real time, at the current clock scale."""
    return float(seconds) / CLOCK["scale"]


def current_generation() -> int:
    return GENERATION["value"]


def log_event(kind: str, **fields) -> dict:
    """Appends one entry to the event log (returned by GET /_graceful/events) and echoes it to stderr."""
    with LOG_LOCK:  # numbered and appended together: readers resume from the last seq they saw, so none is skipped
        entry = {"seq": next(_EVENT_SEQ), "time": now_iso(), "monotonic": time.monotonic(), "kind": kind, **fields}
        EVENTS.append(entry)
    summary = " ".join(f"{k}={v}" for k, v in fields.items() if k not in ("message", "output", "event"))
    print(f"[graceful] {entry['time']} {kind} {summary}\n", end="", flush=True)  # one write: lines do not interleave
    return entry


def events_since(seq: int) -> list:
    with LOG_LOCK:
        return EVENTS[bisect.bisect_right(EVENTS, seq, key=lambda e: e["seq"]):]


def nomad_behaviour(instance_id: str) -> dict:
    with LOCK:
        merged = dict(NOMAD["default"])
        merged.update(NOMAD["instances"].get(instance_id, {}))
        return merged


def count_call(service, action) -> None:
    with LOG_LOCK:
        key = f"{service}:{action}"
        CALLS[key] = CALLS.get(key, 0) + 1


def after_call(key: str, access_key_id: str, callback):
    """Runs `callback` after each `key` ("service:Action") call signed with `access_key_id` has been carried out,
    before its answer, until `forget_call`: one caller's calls (a Lambda environment's role session), not those of
    whichever concurrent invocation happens to make one. Answers the token `forget_call` takes."""
    entry = (access_key_id, callback)
    with LOCK:
        AFTER_CALL.setdefault(key, []).append(entry)
    return entry


def forget_call(key: str, token) -> None:
    with LOCK:
        waiting = AFTER_CALL.get(key, [])
        if token in waiting:
            waiting.remove(token)
        if not waiting:
            AFTER_CALL.pop(key, None)


def run_after_call(service, action, access_key_id) -> None:
    key = f"{service}:{action}"
    if key not in AFTER_CALL:  # read without the lock: the common case costs nothing
        return
    with LOCK:
        due = [callback for caller, callback in AFTER_CALL.get(key, []) if caller == access_key_id]
    for callback in due:
        callback()


def reset_knobs() -> None:
    with LOCK:
        GENERATION["value"] += 1
        with LOG_LOCK:
            EVENTS.clear()
            CALLS.clear()
        CLOCK["scale"] = 1.0
        FAULTS.clear()
        THROTTLE.update({"fraction": 0.0, "service": None, "action": None, "rng": random.Random(0)})
        DELIVERY.update({"drop_next": 0, "duplicate_next": 0, "kill_next": 0, "kill_after_seconds": 0.2,
                         "kill_on_call": None, "retry_delays": [1.0, 2.0]})
        AFTER_CALL.clear()
        AGENTS.clear()
        NOMAD["default"] = dict(NOMAD_DEFAULT)
        NOMAD["instances"] = {}
