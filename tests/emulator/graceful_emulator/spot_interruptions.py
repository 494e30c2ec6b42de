"""Spot Instance interruptions: EC2's two-minute notice on EventBridge, then the interruption itself.

What AWS documents, and this module does:
- The notice. "When Amazon EC2 is going to interrupt your Spot Instance, it emits an event two minutes prior to the
  actual interruption" (EC2 User Guide, "Spot Instance interruption notices"): detail-type "EC2 Spot Instance
  Interruption Warning", source "aws.ec2", resources [the instance's ARN], detail {"instance-id", "instance-action":
  "terminate" | "stop" | "hibernate"}. It goes to the account's default event bus, where every enabled rule whose
  pattern matches delivers it to its targets (schedules._send_to_targets does the matching and Lambda delivery).
- The interruption. "A lifecycle hook does not prevent an instance from terminating in the event that capacity is no
  longer available, which can happen at any time with a two-minute interruption notice" (EC2 Auto Scaling User Guide,
  "Amazon EC2 Auto Scaling lifecycle hooks", considerations): at the reclaim time EC2 terminates the instance,
  whatever its lifecycle state.
- The group's reaction. "When you don't use Capacity Rebalancing, Amazon EC2 Auto Scaling doesn't replace Spot
  Instances until after the Amazon EC2 Spot service interrupts the instances and their health check fails" (EC2 Auto
  Scaling User Guide, "Use Capacity Rebalancing to handle Amazon EC2 Spot interruptions"): an InService instance is
  then taken out of the group through its TERMINATING hooks, as every termination the group starts (the user guide's
  "Lifecycle hook availability": all launches and terminations, "whether initiated automatically or manually").

POST /_graceful/spot_interruption {"instance_ids": [...], "instance_action": "terminate",
"reclaim_after_seconds": 120 (emulated seconds; AWS's two minutes unless a test shortens them)}.
Ledger: `spot-interruption-notice` (instance_id, action, delivered_to), `spot-interrupted` (instance_id, group,
lifecycle_state), then the usual lifecycle and termination events.

Not modelled: the rebalance recommendation that precedes the notice (see rebalance.py for Capacity Rebalancing), the
replacement launch after the health check, stop and hibernate behaviours (every interruption terminates), and what
SSM reports for a command still running when its instance vanishes (a drain script still running is left to finish,
as for any terminated instance here).
"""

import time
import uuid

from moto.autoscaling import models as asg_models
from moto.ec2.models import ec2_backends
from moto.events.models import events_backends

from . import autoscaling_hooks, state

NOTICE_SECONDS = 120
ACTIONS = ("terminate", "stop", "hibernate")
_DUE: list = []  # [{"at": monotonic, "account", "region", "instance_id"}]


def reset() -> None:
    with state.LOCK:
        _DUE.clear()


def _running_instance(account: str, region: str, instance_id: str):
    for reservation in ec2_backends[account][region].reservations.values():
        for instance in reservation.instances:
            if instance.id == instance_id and instance.state == "running":
                return instance
    raise ValueError(f"instance {instance_id!r} is not a running instance of {account}/{region}")


def _deliver(account: str, region: str, event: dict) -> list:
    """Offers the event to every enabled rule of the default bus; answers the rules it matched."""
    bus = events_backends[account][region].event_buses.get("default")
    matched = []
    for rule in list(bus.rules.values()) if bus else []:
        if rule.state != "ENABLED" or not rule.event_pattern.get_pattern():
            continue
        if rule.event_pattern.matches_event(event):
            matched.append(rule.name)
            # In the shape moto's PutEvents hands its rules: epoch "time" and its own "ingestion-time" (Lambda targets
            # get AWS's shape back, see schedules._send_to_targets).
            now = time.time()
            rule.send_to_targets({**event, "time": now, "ingestion-time": now})
    return matched


def notify(account: str, region: str, instance_ids: list, action: str, reclaim_after_seconds: float) -> list:
    if action not in ACTIONS:
        raise ValueError(f"field 'instance_action' must be one of {list(ACTIONS)}, got {action!r}")
    if not isinstance(reclaim_after_seconds, (int, float)) or reclaim_after_seconds < 0:
        raise ValueError(f"field 'reclaim_after_seconds' must be a number >= 0, got {reclaim_after_seconds!r}")
    notices = []
    for instance_id in instance_ids:
        _running_instance(account, region, instance_id)
        event = {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": "EC2 Spot Instance Interruption Warning",
            "source": "aws.ec2", "account": account, "time": state.now_iso()[:19] + "Z", "region": region,
            "resources": [f"arn:aws:ec2:{region}:{account}:instance/{instance_id}"],
            "detail": {"instance-id": instance_id, "instance-action": action},
        }
        with state.LOCK:
            _DUE.append({"at": time.monotonic() + state.emulated_seconds_to_real(reclaim_after_seconds),
                         "account": account, "region": region, "instance_id": instance_id})
        delivered = _deliver(account, region, event)
        state.log_event("spot-interruption-notice", instance_id=instance_id, action=action, delivered_to=delivered)
        notices.append({"instance_id": instance_id, "delivered_to": delivered})
    return notices


def _interrupt(account: str, region: str, instance_id: str) -> None:
    backend = asg_models.autoscaling_backends[account][region]
    for group in list(backend.autoscaling_groups.values()):
        for instance_state in list(group.instance_states):
            if instance_state.instance.id != instance_id:
                continue
            lifecycle_state = instance_state.lifecycle_state
            state.log_event("spot-interrupted", instance_id=instance_id, group=group.name,
                            lifecycle_state=lifecycle_state)
            backend.ec2_backend.terminate_instances([instance_id])
            if lifecycle_state == "InService":
                # The health check fails; the group takes the instance out through its hooks.
                if not autoscaling_hooks.begin(backend, group, instance_state, "terminate"):
                    group.instance_states.remove(instance_state)
                    state.log_event("instance-terminated", group=group.name, instance_id=instance_id)
            return
    state.log_event("spot-interrupted", instance_id=instance_id, group=None, lifecycle_state=None)
    ec2_backends[account][region].terminate_instances([instance_id])


def interrupt_due() -> None:
    """Interrupts every instance whose notice has run out; called by the ticker."""
    now = time.monotonic()
    with state.LOCK:
        due = [entry for entry in _DUE if entry["at"] <= now]
        for entry in due:
            _DUE.remove(entry)
            _interrupt(entry["account"], entry["region"], entry["instance_id"])


def control(body: dict) -> dict:
    instance_ids = body.get("instance_ids")
    if not isinstance(instance_ids, list) or not instance_ids or not all(isinstance(i, str) for i in instance_ids):
        raise ValueError("field 'instance_ids' must be a non-empty list of instance ids")
    notices = notify(body.get("account", "123456789012"), body.get("region", "us-east-1"), instance_ids,
                     body.get("instance_action", "terminate"), body.get("reclaim_after_seconds", NOTICE_SECONDS))
    return {"notices": notices}

