"""Request rate limits as token buckets, per service and action (the emulator serves one account at a time).

Source: Amazon EC2 API Reference, "Request throttling for the Amazon EC2 API": AWS throttles with the token bucket
algorithm; each bucket has a maximum capacity (the burst), every request takes one token, tokens refill at a fixed
rate up to the capacity, and a request that finds the bucket empty is throttled. That page publishes EC2's buckets
only; AWS publishes no per-API buckets for Auto Scaling, SSM Run Command, SNS or Lambda's control plane, so the
emulator sets none by default and tests choose them (`POST /_graceful/rate_limits`). A throttled call answers the
service's throttling error (faults.throttle_error), which the SDKs' standard retry mode retries.

Knobs: {"limits": [{"service": "ssm", "action": "SendCommand", "burst": 10, "per_second": 5}, ...]} replaces the
limits (`action` null or absent: every action of the service, one bucket per action);
{"limits": []} turns them off. Ledger: throttled calls are `fault-injected` events as other faults are.
"""

import time

from . import state

LIMITS: list = []  # [{"service", "action", "burst", "per_second"}]
_BUCKETS: dict = {}  # (service, action, burst, per_second) -> (tokens, last refill, monotonic)


def reset() -> None:
    with state.LOCK:
        LIMITS.clear()
        _BUCKETS.clear()


def configure(body: dict) -> list:
    limits = body.get("limits")
    if not isinstance(limits, list):
        raise ValueError("field 'limits' must be a list of {service, action, burst, per_second}")
    parsed = []
    for index, limit in enumerate(limits):
        where = f"limits[{index}]"
        if not isinstance(limit, dict) or not isinstance(limit.get("service"), str):
            raise ValueError(f"{where}.service must name a service, such as \"ssm\"")
        burst, rate = limit.get("burst"), limit.get("per_second")
        if not isinstance(burst, int) or burst < 1:
            raise ValueError(f"{where}.burst must be an integer >= 1, got {burst!r}")
        if not isinstance(rate, (int, float)) or rate <= 0:
            raise ValueError(f"{where}.per_second must be a number > 0, got {rate!r}")
        parsed.append({"service": limit["service"], "action": limit.get("action"),
                       "burst": burst, "per_second": float(rate)})
    with state.LOCK:
        LIMITS[:] = parsed
        _BUCKETS.clear()
    return parsed


def take(service, action) -> bool:
    """Takes a token for this call from every bucket it falls in; False when one of them is empty (throttled)."""
    if not LIMITS:
        return True
    now = time.monotonic()
    with state.LOCK:
        for limit in LIMITS:
            if limit["service"] != service or (limit["action"] and limit["action"] != action):
                continue
            key = (service, action, limit["burst"], limit["per_second"])
            tokens, last = _BUCKETS.get(key, (float(limit["burst"]), now))
            tokens = min(float(limit["burst"]), tokens + (now - last) * limit["per_second"])
            if tokens < 1:
                _BUCKETS[key] = (tokens, now)
                return False
            _BUCKETS[key] = (tokens - 1, now)
    return True
