"""Request rate limits as token buckets, per service and action (the emulator serves one account at a time).

Source: Amazon EC2 API Reference / EC2 Developer Guide, "Request throttling for the Amazon EC2 API": AWS throttles with
the token bucket algorithm; each bucket has a maximum capacity (the burst), every request takes one token, tokens
refill at a fixed rate up to the capacity, and a request that finds the bucket empty is throttled. That page publishes
EC2's buckets only (a non-mutating action such as DescribeHosts: 100 tokens, refilled at 20 per second).

On by default, as AWS is (`DEFAULT_LIMITS`, restored by every reset):
- Auto Scaling: one bucket shared by every action. AWS Knowledge Center, "Why are my Amazon EC2 Auto Scaling API calls
  throttled?" (knowledge-center/autoscaling-api-calls-throttled): "all Amazon EC2 Auto Scaling API calls have a single,
  shared API limit", per account and Region.
- SSM: one bucket per action, the model EC2's page describes; AWS publishes no SSM request buckets.
- Sizes: AWS publishes none for Auto Scaling or SSM, so both take EC2's published non-mutating bucket (100, 20/s) as a
  stand-in: a figure AWS uses for a comparable API, not one it promises for these. SNS, Lambda's control plane, IAM and
  the rest get no default bucket.

Knobs: {"limits": [{"service": "ssm", "action": "SendCommand", "burst": 10, "per_second": 5}, ...]} replaces the
limits, defaults included (`action` null or absent: every action of the service, one bucket per action, or one bucket
for them all with `"shared": true`); {"limits": []} turns them off until the next reset. Ledger: throttled calls are
`fault-injected` events as other faults are. A throttled call answers the service's throttling error
(faults.throttle_error), which the SDKs' standard retry mode retries.
"""

import time

from . import state

# EC2's published bucket for a non-mutating action (the page above): the stand-in size for Auto Scaling and SSM.
EC2_NON_MUTATING_BURST = 100
EC2_NON_MUTATING_PER_SECOND = 20.0
DEFAULT_LIMITS: tuple = (
    {"service": "autoscaling", "action": None, "shared": True,
     "burst": EC2_NON_MUTATING_BURST, "per_second": EC2_NON_MUTATING_PER_SECOND},
    {"service": "ssm", "action": None, "shared": False,
     "burst": EC2_NON_MUTATING_BURST, "per_second": EC2_NON_MUTATING_PER_SECOND},
)

LIMITS: list = [dict(limit) for limit in DEFAULT_LIMITS]  # [{"service", "action", "shared", "burst", "per_second"}]
_BUCKETS: dict = {}  # (service, action or None when shared, burst, per_second) -> (tokens, last refill, monotonic)


def reset() -> None:
    with state.LOCK:
        LIMITS[:] = [dict(limit) for limit in DEFAULT_LIMITS]
        _BUCKETS.clear()


def configure(body: dict) -> list:
    limits = body.get("limits")
    if not isinstance(limits, list):
        raise ValueError("field 'limits' must be a list of {service, action, shared, burst, per_second}")
    parsed = []
    for index, limit in enumerate(limits):
        where = f"limits[{index}]"
        if not isinstance(limit, dict) or not isinstance(limit.get("service"), str):
            raise ValueError(f"{where}.service must name a service, such as \"ssm\"")
        burst, rate, shared = limit.get("burst"), limit.get("per_second"), limit.get("shared", False)
        if not isinstance(burst, int) or burst < 1:
            raise ValueError(f"{where}.burst must be an integer >= 1, got {burst!r}")
        if not isinstance(rate, (int, float)) or rate <= 0:
            raise ValueError(f"{where}.per_second must be a number > 0, got {rate!r}")
        if not isinstance(shared, bool) or (shared and limit.get("action")):
            raise ValueError(f"{where}.shared must be true or false, and true only without an action, got {shared!r}")
        parsed.append({"service": limit["service"], "action": limit.get("action"), "shared": shared,
                       "burst": burst, "per_second": float(rate)})
    with state.LOCK:
        LIMITS[:] = parsed
        _BUCKETS.clear()
    return parsed


def current() -> list:
    with state.LOCK:
        return [dict(limit) for limit in LIMITS]


def take(service, action) -> bool:
    """Takes a token for this call from every bucket it falls in; False when one of them is empty (throttled)."""
    if not LIMITS:
        return True
    now = time.monotonic()
    with state.LOCK:
        for limit in LIMITS:
            if limit["service"] != service or (limit["action"] and limit["action"] != action):
                continue
            key = (service, None if limit["shared"] else action, limit["burst"], limit["per_second"])
            tokens, last = _BUCKETS.get(key, (float(limit["burst"]), now))
            tokens = min(float(limit["burst"]), tokens + (now - last) * limit["per_second"])
            if tokens < 1:
                _BUCKETS[key] = (tokens, now)
                return False
            _BUCKETS[key] = (tokens - 1, now)
    return True
