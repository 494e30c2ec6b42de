"""EventBridge schedule rules that fire: `rate(...)` rules deliver a Scheduled Event to their Lambda targets."""

import datetime
import json
import re
import time
import uuid

from moto.events import models as events_models
from moto.events.models import events_backends

from . import lambda_runtime, state

UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
NEXT_FIRE: dict = {}  # rule arn -> monotonic time of the next firing


def reset() -> None:
    with state.LOCK:
        NEXT_FIRE.clear()


def rate_seconds(expression: str | None) -> int | None:
    match = re.fullmatch(r"rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)", expression or "")
    return int(match.group(1)) * UNITS[match.group(2)] if match else None


def _rules():
    for account, regions in list(events_backends.items()):
        for region, backend in list(regions.items()):
            for bus in list(backend.event_buses.values()):
                for rule in list(bus.rules.values()):
                    yield account, region, rule


def fire(account: str, region: str, rule) -> None:
    for target in rule.targets:
        arn = target.get("Arn", "")
        if ":lambda:" not in arn or ":function:" not in arn:
            continue
        if target.get("Input"):
            event = json.loads(target["Input"])
        else:
            event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                     "source": "aws.events", "account": account, "time": state.now_iso()[:19] + "Z",
                     "region": region, "resources": [rule.arn], "detail": {}}
        state.log_event("schedule-fired", rule=rule.name, target=arn)
        lambda_runtime.deliver_async(account, region, arn.split(":")[6], event, source=f"events:{rule.arn}")


def fire_due() -> None:
    """Fires every enabled rate() rule whose period (in emulated time) has passed; called by the ticker."""
    now = time.monotonic()
    seen = set()
    for account, region, rule in _rules():
        period = rate_seconds(rule.scheduled_expression)
        if period is None or rule.state != "ENABLED":
            continue
        seen.add(rule.arn)
        with state.LOCK:
            due = NEXT_FIRE.setdefault(rule.arn, now + state.emulated_seconds_to_real(period))
            if now < due:
                continue
            NEXT_FIRE[rule.arn] = now + state.emulated_seconds_to_real(period)
        fire(account, region, rule)
    with state.LOCK:
        for arn in [a for a in NEXT_FIRE if a not in seen]:
            NEXT_FIRE.pop(arn)


def fire_now(rule_name: str) -> int:
    fired = 0
    for account, region, rule in _rules():
        if rule.name == rule_name:
            fire(account, region, rule)
            fired += 1
    return fired


# --- PutEvents into rules with Lambda targets (moto raises NotImplementedError, so PutEvents answers 500) --------

def _send_to_targets(self, original_event, transform_input=True):
    if self.scheduled_expression and not self.event_pattern.get_pattern():
        return  # a schedule rule matches no events
    if not self.event_pattern.matches_event(original_event):
        return
    lambda_targets = [t for t in self.targets if ":lambda:" in t.get("Arn", "")]
    others = [t for t in self.targets if t not in lambda_targets]
    for target in lambda_targets:
        # moto keeps "time" as epoch seconds plus its own "ingestion-time"; AWS delivers "time" as an RFC 3339
        # timestamp (EventBridge User Guide, "Amazon EventBridge events": event structure) and no ingestion time.
        delivered = {key: value for key, value in original_event.items() if key != "ingestion-time"}
        if isinstance(delivered.get("time"), (int, float)):
            delivered["time"] = datetime.datetime.fromtimestamp(delivered["time"], datetime.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ")
        event = json.loads(target["Input"]) if target.get("Input") else delivered
        parts = target["Arn"].split(":")
        lambda_runtime.deliver_async(parts[4], parts[3], parts[6], event, source=f"events:{self.arn}")
    if others:
        saved = self.targets
        self.targets = others
        try:
            _original_send_to_targets(self, original_event, transform_input)
        finally:
            self.targets = saved


_original_send_to_targets = events_models.Rule.send_to_targets


def install() -> None:
    events_models.Rule.send_to_targets = _send_to_targets
