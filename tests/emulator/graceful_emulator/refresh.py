"""Instance refresh and maximum instance lifetime: replacing instances through the TERMINATING hooks.

StartInstanceRefresh (Strategy Rolling) replaces the group's InService instances in batches. Each batch's old
instances go through the group's TERMINATING hooks (Terminating:Wait, as any termination); the next batch starts only
once every old instance of the batch has finished terminating (or is retained), its replacements are InService, and
the instance warmup (Preferences.InstanceWarmup, else the group's HealthCheckGracePeriod; emulated seconds) has
passed. With MaxHealthyPercentage 100 (the default) a batch is terminate-and-launch: its instances leave service and
their replacements launch at the same time, as many at once as MinHealthyPercentage (default 90, or the group's
InstanceMaintenancePolicy) leaves room for, at least one; above 100 the batch launches its replacements first (up
to MaxHealthyPercentage) and then takes the old instances out. SkipMatching skips instances launched from the
desired launch template version. CheckpointPercentages pause the refresh for CheckpointDelay (default 3600 emulated
seconds) once that share is replaced. DescribeInstanceRefreshes shows Status (InProgress, Successful, Cancelling,
Cancelled), PercentageComplete, InstancesToUpdate; CancelInstanceRefresh lets the batch in flight finish.

Maximum instance lifetime: POST /_graceful/instance_lifetime {"group", "instance_ids": [...]} marks InService
instances of a group that has MaxInstanceLifetime as past it; each is terminated through the TERMINATING hooks and
its replacement launched while it terminates, or first when the group's InstanceMaintenancePolicy has
MinHealthyPercentage 100.

Ledger: `instance-refresh` (id, group, status, percentage), `instance-refresh-batch` (id, old instances, new
instances), `instance-lifetime-expired` (group, instance_id), plus the usual lifecycle events.

Not modelled: the DesiredConfiguration is applied to the group when the refresh starts (AWS applies it after
success; replacements use it either way), ReplaceRootVolume, rollbacks, alarms, bake time, Standby and
ScaleInProtectedInstances preferences (protected instances are simply skipped), warm pool instances, refresh of a
mixed instances policy; instances do not age on their own (the control call marks them).
"""

import datetime
import math
import time
import uuid

from moto.autoscaling import models as asg_models
from moto.autoscaling import responses as asg_responses
from moto.autoscaling.exceptions import AutoscalingClientError, ValidationError
from moto.autoscaling.responses import ActionResult

from . import asg_lookup, autoscaling_hooks as hooks
from . import state

REFRESHES: list = []  # newest last
ACTIVE = ("Pending", "InProgress", "Cancelling")
_original_replace = asg_models.FakeAutoScalingGroup.replace_autoscaling_group_instances


def reset() -> None:
    with state.LOCK:
        REFRESHES.clear()


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _spec(group) -> tuple:
    """(launch template id, version number) the group launches from now."""
    template = group.ec2_launch_template
    if template is None:
        return (None, None)
    return (template.id, template.get_version(group.launch_template_version).number)


def _replace_autoscaling_group_instances(self, count_needed, propagated_tags):
    before = {s.instance.id for s in self.instance_states}
    _original_replace(self, count_needed, propagated_tags)
    spec = _spec(self)
    for instance_state in self.instance_states:
        if instance_state.instance.id not in before:
            instance_state.instance.graceful_launch_spec = spec  # what SkipMatching compares


def _take_out(backend, group, instance_state) -> None:
    """One old instance leaves service: through the TERMINATING hooks, or terminated at once without any."""
    if instance_state.lifecycle_state != "InService":
        return
    if not hooks.begin(backend, group, instance_state, "terminate"):
        group.instance_states.remove(instance_state)
        backend.ec2_backend.terminate_instances([instance_state.instance.id])
        state.log_event("instance-terminated", group=group.name, instance_id=instance_state.instance.id)


def _launch(group, count: int) -> list:
    before = {s.instance.id for s in group.instance_states}
    group.replace_autoscaling_group_instances(count, group.get_propagated_tags())
    return [s.instance.id for s in group.instance_states if s.instance.id not in before]


def replace(backend, group, instance_states: list, launch_first: bool) -> list:
    """Replaces instances: their replacements launch first, or while they terminate. Answers the new IDs."""
    if launch_first:
        new = _launch(group, len(instance_states))
        for instance_state in instance_states:
            _take_out(backend, group, instance_state)
        return new
    before = {s.instance.id for s in group.instance_states}
    for instance_state in instance_states:
        _take_out(backend, group, instance_state)
    # https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-max-instance-lifetime.html: "By default, Amazon EC2
    # Auto Scaling creates a new scaling activity for terminating the instance and then terminates it. While the
    # instance is terminating, another scaling activity launches a new instance."
    group.set_desired_capacity(group.desired_capacity)
    return [s.instance.id for s in group.instance_states if s.instance.id not in before]


def _gone(group, instance_id: str) -> bool:
    """Finished terminating: out of the group, or retained (its lifecycle actions are over)."""
    return all(s.instance.id != instance_id or s.lifecycle_state == "Terminating:Retained"
               for s in group.instance_states)


def _in_service(group, instance_id: str) -> bool:
    return any(s.instance.id == instance_id and s.lifecycle_state == "InService" for s in group.instance_states)


def _maintenance(group) -> dict:
    return getattr(group, "instance_maintenance_policy", None) or {}


def _log(refresh) -> None:
    state.log_event("instance-refresh", id=refresh["InstanceRefreshId"], group=refresh["AutoScalingGroupName"],
                    status=refresh["Status"], percentage=refresh["PercentageComplete"])


def _finish(refresh, status: str, reason: str) -> None:
    refresh.update(Status=status, StatusReason=reason, EndTime=_now())
    _log(refresh)


def _advance(refresh) -> None:
    """Moves one refresh on: closes the batch in flight when it is done, then starts the next (under state.LOCK)."""
    run = refresh["_run"]
    backend = asg_models.autoscaling_backends[run["account"]][run["region"]]
    group = backend.autoscaling_groups.get(refresh["AutoScalingGroupName"])
    if group is None:
        _finish(refresh, "Failed", "The Auto Scaling group was deleted.")
        return
    now = time.monotonic()
    batch = run["batch"]
    if batch:
        if not all(_gone(group, i) for i in batch["old"]) or not all(_in_service(group, i) for i in batch["new"]):
            return
        if batch.get("warm_until") is None:
            batch["warm_until"] = now + state.emulated_seconds_to_real(run["warmup"])
        # Cancelling waits for in-flight launches and terminations only, not for the warmup.
        if now < batch["warm_until"] and refresh["Status"] != "Cancelling":
            return
        run["replaced"] += len(batch["old"])
        run["batch"] = None
        total = run["total"]
        refresh["PercentageComplete"] = 100 if not total else min(100, run["replaced"] * 100 // total)
        refresh["InstancesToUpdate"] = total - run["replaced"]
        refresh["ProgressDetails"] = {"LivePoolProgress": {"PercentageComplete": refresh["PercentageComplete"],
                                                           "InstancesToUpdate": refresh["InstancesToUpdate"]}}
        _log(refresh)
        due = [c for c in run["checkpoints"] if c <= refresh["PercentageComplete"]]
        if due and refresh["PercentageComplete"] < 100:
            run["checkpoints"] = [c for c in run["checkpoints"] if c > refresh["PercentageComplete"]]
            run["paused_until"] = now + state.emulated_seconds_to_real(run["checkpoint_delay"])
            refresh["StatusReason"] = f"Waiting for the checkpoint at {max(due)} percent to pass."
    if refresh["Status"] == "Cancelling":
        _finish(refresh, "Cancelled", "The instance refresh was cancelled.")
        return
    if now < run.get("paused_until", 0):
        return
    remaining = [s for s in group.instance_states
                 if s.instance.id in run["old"] and s.lifecycle_state == "InService" and not s.protected_from_scale_in]
    if not remaining:
        refresh.update(PercentageComplete=100, InstancesToUpdate=0)
        _finish(refresh, "Successful", "")
        return
    desired = group.desired_capacity or 0
    # https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-overview.html: instances are replaced in
    # batches within the minimum and maximum healthy percentage; with a maximum above 100 new instances launch
    # before old ones terminate. The minimum is "a percentage of the desired capacity of the Auto Scaling group
    # (rounded up to the nearest integer)" (https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-instance-refresh.html).
    launch_first = run["max_healthy"] > 100
    if launch_first:
        size = max(1, math.floor(desired * run["max_healthy"] / 100) - desired)
    else:
        size = max(1, desired - math.ceil(desired * run["min_healthy"] / 100))
    chosen = remaining[:size]
    refresh["StatusReason"] = ""
    new = replace(backend, group, chosen, launch_first)
    run["batch"] = {"old": [s.instance.id for s in chosen], "new": new}
    state.log_event("instance-refresh-batch", id=refresh["InstanceRefreshId"], group=group.name,
                    old=run["batch"]["old"], new=new, launch_first=launch_first)


def advance_all() -> None:
    """Called by the ticker."""
    if not any(r["Status"] in ACTIVE for r in REFRESHES):
        return
    with state.LOCK:
        for refresh in [r for r in REFRESHES if r["Status"] in ACTIVE]:
            _advance(refresh)


def _public(refresh) -> dict:
    return {k: v for k, v in refresh.items() if not k.startswith("_") and v is not None}


# --- response patches ------------------------------------------------------------------------------------------

def _start_instance_refresh(self):
    group = asg_lookup.requested_group(self)
    strategy = self._get_param("Strategy") or "Rolling"
    if strategy != "Rolling":
        raise ValidationError(f"The emulator models only the Rolling strategy, not {strategy}")
    prefs = dict(self._get_param("Preferences") or {})
    desired_config = self._get_param("DesiredConfiguration")
    backend = self.autoscaling_backend
    with state.LOCK:
        if any(r["AutoScalingGroupName"] == group.name and r["Status"] in ACTIVE for r in REFRESHES):
            raise AutoscalingClientError("InstanceRefreshInProgress",
                                         f"An Instance Refresh is already in progress for group {group.name}.")
        if desired_config and desired_config.get("LaunchTemplate"):
            group._set_launch_configuration(None, desired_config["LaunchTemplate"], None)
        maintenance = _maintenance(group)
        # https://docs.aws.amazon.com/autoscaling/ec2/userguide/understand-instance-refresh-default-values.html:
        # minimum healthy 90 percent and maximum 100 unless the instance maintenance policy says otherwise;
        # checkpoint delay 1 hour; instance warmup the default instance warmup, else the health check grace period.
        min_healthy = int(prefs.get("MinHealthyPercentage", maintenance.get("MinHealthyPercentage", 90)))
        max_healthy = int(prefs.get("MaxHealthyPercentage", maintenance.get("MaxHealthyPercentage", 100)))
        warmup = prefs.get("InstanceWarmup")
        warmup = int(warmup) if warmup is not None else int(group.health_check_grace_period or 0)
        spec = _spec(group)
        skip = prefs.get("SkipMatching") in (True, "true", "True")
        old = [s.instance.id for s in group.instance_states if s.lifecycle_state == "InService"
               and not (skip and getattr(s.instance, "graceful_launch_spec", None) == spec)]
        refresh = {
            "InstanceRefreshId": str(uuid.uuid4()), "AutoScalingGroupName": group.name, "Status": "InProgress",
            "StatusReason": "", "StartTime": _now(), "EndTime": None, "PercentageComplete": 0,
            "InstancesToUpdate": len(old), "Preferences": prefs or None, "DesiredConfiguration": desired_config,
            "Strategy": strategy,
            "ProgressDetails": {"LivePoolProgress": {"PercentageComplete": 0, "InstancesToUpdate": len(old)}},
            "_run": {"account": backend.account_id, "region": backend.region_name, "old": set(old),
                     "total": len(old), "replaced": 0, "batch": None, "min_healthy": min_healthy,
                     "max_healthy": max_healthy, "warmup": warmup,
                     "checkpoints": sorted(int(c) for c in prefs.get("CheckpointPercentages") or []),
                     "checkpoint_delay": int(prefs.get("CheckpointDelay", 3600))},
        }
        REFRESHES.append(refresh)
        _log(refresh)
        _advance(refresh)
    return ActionResult({"InstanceRefreshId": refresh["InstanceRefreshId"]})


def _describe_instance_refreshes(self):
    group = asg_lookup.requested_group(self)
    wanted = self._get_param("InstanceRefreshIds") or []
    with state.LOCK:
        found = [_public(r) for r in reversed(REFRESHES) if r["AutoScalingGroupName"] == group.name
                 and (not wanted or r["InstanceRefreshId"] in wanted)]
    return ActionResult({"InstanceRefreshes": found[: int(self._get_param("MaxRecords") or 50)]})


def _cancel_instance_refresh(self):
    group = asg_lookup.requested_group(self)
    with state.LOCK:
        active = next((r for r in REFRESHES if r["AutoScalingGroupName"] == group.name and r["Status"] in ACTIVE),
                      None)
        if active is None:
            raise AutoscalingClientError("ActiveInstanceRefreshNotFound",
                                         f"No in progress or pending Instance Refresh found for Auto Scaling group "
                                         f"{group.name}")
        # CancelInstanceRefresh, WaitForTransitioningInstances (botocore's model): by default it waits for in-flight
        # launches and terminations to complete.
        active["Status"] = "Cancelling"
        _log(active)
        _advance(active)
    return ActionResult({"InstanceRefreshId": active["InstanceRefreshId"]})


# --- maximum instance lifetime (control API) -------------------------------------------------------------------

def expire_lifetime(account: str, region: str, group_name: str, instance_ids: list) -> list:
    with state.LOCK:
        backend, group = asg_lookup.control_group(account, region, group_name)
        if not getattr(group, "max_instance_lifetime", None):
            raise ValueError(f"group {group_name!r} has no MaxInstanceLifetime")
        chosen = asg_lookup.in_service(group, instance_ids)
        for instance_state in chosen:
            state.log_event("instance-lifetime-expired", group=group_name, instance_id=instance_state.instance.id)
        # asg-max-instance-lifetime.html (above): terminate, and launch while it terminates, unless an instance
        # maintenance policy asks to launch before terminating (MinHealthyPercentage 100).
        launch_first = int(_maintenance(group).get("MinHealthyPercentage", 0) or 0) >= 100
        return replace(backend, group, chosen, launch_first)


def install() -> None:
    asg_models.FakeAutoScalingGroup.replace_autoscaling_group_instances = _replace_autoscaling_group_instances
    asg_responses.AutoScalingResponse.start_instance_refresh = _start_instance_refresh
    asg_responses.AutoScalingResponse.describe_instance_refreshes = _describe_instance_refreshes
    asg_responses.AutoScalingResponse.cancel_instance_refresh = _cancel_instance_refresh
