"""Auto Scaling lifecycle hooks with AWS semantics: stored hooks, Terminating:Wait, notifications, complete/heartbeat.

Several TERMINATING hooks on one group: all are notified at once, each with its own token; the instance proceeds
when every action is complete, and an ABANDON (explicit or by timeout) ends the remaining actions at once.
LAUNCHING hooks are stored and validated but do not hold launches.

Other ways out of a group (warm_pools.py, retention.py, refresh.py) reuse this engine through PATHS and FINISHERS:
a path names the wait state and the notification's Origin/Destination, and its finisher decides what happens to the
instance once every action of it is complete.
"""

import datetime
import json
import time
import uuid

from moto.autoscaling import models as asg_models
from moto.autoscaling import responses as asg_responses
from moto.autoscaling.exceptions import ValidationError
from moto.autoscaling.responses import ActionResult, EmptyResult
from moto.iam.models import iam_backends

from . import publish, state
from .iam import service_roles
from .validation import gate

# The service principal Auto Scaling assumes a hook's RoleARN as.
AUTOSCALING_PRINCIPAL = "autoscaling.amazonaws.com"

TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"
LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
MAX_GLOBAL_TIMEOUT = 172800

# token -> action dict; an action is one hook waiting on one instance.
ACTIONS: dict = {}
# Scaling activities of hook-held terminations, newest last (plain moto answers DescribeScalingActivities with none).
ACTIVITIES: list = []
_bypass_hooks = {"on": False}
# The earliest heartbeat or global deadline of any action (may be early, never late): the ticker looks at ACTIONS only
# once it has passed, instead of scanning every action under the lock 20 times a second.
_NEXT_DUE = {"at": float("inf")}

# path -> (wait state, Origin, Destination, scaling-activity description or None). "terminate" is the plain way out;
# other modules register theirs.
PATHS: dict = {"terminate": ("Terminating:Wait", "AutoScalingGroup", "EC2", "Terminating EC2 instance: {}")}
# path -> finisher(backend, group_name, instance_id, result): runs once every action of the instance is complete.
FINISHERS: dict = {}


def reset() -> None:
    with state.LOCK:
        ACTIONS.clear()
        ACTIVITIES.clear()
        _NEXT_DUE["at"] = float("inf")


def _hooks_for(backend, group_name: str, transition: str) -> list:
    return [h for h in backend.lifecycle_hooks.values()
            if h.auto_scaling_group_name == group_name and h.lifecycle_transition == transition]


def _message(backend, group, hook, instance_id: str, token: str, path: str = "terminate") -> dict:
    _, origin, destination, _ = PATHS[path]
    body = {
        "Origin": origin,
        "Destination": destination,
        "LifecycleHookName": hook.name,
        "AccountId": backend.account_id,
        "RequestId": str(uuid.uuid4()),
        "LifecycleTransition": hook.lifecycle_transition,
        "AutoScalingGroupName": group.name,
        "Service": "AWS Auto Scaling",
        "Time": state.now_iso(),
        "EC2InstanceId": instance_id,
        "LifecycleActionToken": token,
    }
    if getattr(hook, "notification_metadata", None):
        body["NotificationMetadata"] = hook.notification_metadata
    return body


def _begin_termination(backend, group, instance_state, hooks: list, path: str = "terminate") -> None:
    """Parks one instance in its path's wait state (Terminating:Wait) and notifies every TERMINATING hook's target."""
    wait_state, _, _, activity = PATHS[path]
    instance_state.lifecycle_state = wait_state
    instance_id = instance_state.instance.id
    state.log_event("lifecycle-transition", group=group.name, instance_id=instance_id, state=wait_state)
    started = time.monotonic()
    if activity:
        ACTIVITIES.append({
            "ActivityId": str(uuid.uuid4()), "AutoScalingGroupName": group.name,
            "Description": activity.format(instance_id),
            "Cause": f"At {state.now_iso()} an instance was taken out of service in response to a difference between "
                     "desired and actual capacity, shrinking the capacity.",
            "StartTime": datetime.datetime.now(datetime.timezone.utc), "StatusCode": "MidLifecycleAction",
            "Progress": 50, "Details": "{}", "instance_id": instance_id})
    for hook in hooks:
        token = str(uuid.uuid4())
        global_timeout = min(MAX_GLOBAL_TIMEOUT, 100 * hook.heartbeat_timeout)
        action = {
            "token": token, "instance_id": instance_id, "group": group.name, "hook": hook.name, "path": path,
            "account": backend.account_id, "region": backend.region_name,
            "default_result": hook.default_result, "heartbeat_timeout": hook.heartbeat_timeout,
            "heartbeat_deadline": started + state.emulated_seconds_to_real(hook.heartbeat_timeout),
            "global_deadline": started + state.emulated_seconds_to_real(global_timeout),
        }
        ACTIONS[token] = action
        _NEXT_DUE["at"] = min(_NEXT_DUE["at"], action["heartbeat_deadline"], action["global_deadline"])
        state.log_event("lifecycle-action-started", group=group.name, instance_id=instance_id, hook=hook.name,
                        token=token)
        target = getattr(hook, "notification_target_arn", None)
        if target:
            message = _message(backend, group, hook, instance_id, token, path)
            subject = f"Auto Scaling:  Lifecycle action 'TERMINATING' for instance {instance_id} in progress."
            try:
                publish.publish(target, json.dumps(message), subject,
                                as_role=(AUTOSCALING_PRINCIPAL, getattr(hook, "role_arn", None)))
                state.log_event("lifecycle-notification", target=target, instance_id=instance_id, hook=hook.name,
                                token=token, message=message)
            except Exception as error:  # AWS keeps the wait even when the target is gone
                state.log_event("lifecycle-notification-failed", target=target, instance_id=instance_id,
                                error=str(error))


def begin(backend, group, instance_state, path: str) -> bool:
    """Takes one instance out along `path` through the group's TERMINATING hooks; False when the group has none."""
    hooks = _hooks_for(backend, group.name, TERMINATING)
    if hooks:
        with state.LOCK:
            _begin_termination(backend, group, instance_state, hooks, path)
    return bool(hooks)


def close_activity(instance_id: str) -> None:
    for activity in ACTIVITIES:
        if activity["instance_id"] == instance_id and activity["StatusCode"] == "MidLifecycleAction":
            activity.update(StatusCode="Successful", Progress=100, EndTime=datetime.datetime.now(datetime.timezone.utc))


def _finish_instance(backend, group_name: str, instance_id: str, result: str, path: str = "terminate") -> None:
    FINISHERS.get(path, _finish_terminate)(backend, group_name, instance_id, result)


def _finish_terminate(backend, group_name: str, instance_id: str, result: str) -> None:
    """Every action of the instance is done: Terminating:Proceed, then out of the group and terminated."""
    group = backend.autoscaling_groups.get(group_name)
    if group is None:
        return
    for instance_state in list(group.instance_states):
        if instance_state.instance.id == instance_id:
            instance_state.lifecycle_state = "Terminating:Proceed"
            state.log_event("lifecycle-transition", group=group_name, instance_id=instance_id,
                            state="Terminating:Proceed", result=result)
            group.instance_states.remove(instance_state)
            close_activity(instance_id)
            backend.ec2_backend.terminate_instances([instance_id])
            state.log_event("instance-terminated", group=group_name, instance_id=instance_id)


def complete_action(backend, token: str, result: str, reason: str) -> None:
    """Completes one action; ABANDON ends the instance's other actions too."""
    with state.LOCK:
        action = ACTIONS.pop(token, None)
        if action is None:
            return
        state.log_event("lifecycle-action-completed", group=action["group"], instance_id=action["instance_id"],
                        hook=action["hook"], token=token, result=result, reason=reason)
        siblings = [t for t, a in ACTIONS.items() if a["instance_id"] == action["instance_id"]]
        if result == "ABANDON":
            for sibling in siblings:
                ACTIONS.pop(sibling)
                state.log_event("lifecycle-action-completed", instance_id=action["instance_id"], token=sibling,
                                result="ABANDON", reason="another hook abandoned")
            siblings = []
        if not siblings:
            _finish_instance(backend, action["group"], action["instance_id"], result, action.get("path", "terminate"))


def expire_due_actions() -> None:
    """Applies the default result to actions whose heartbeat or global timeout ran out (called by the ticker)."""
    now = time.monotonic()
    if now < _NEXT_DUE["at"]:
        return
    with state.LOCK:
        due = [(t, a) for t, a in ACTIONS.items() if now >= min(a["heartbeat_deadline"], a["global_deadline"])]
        _NEXT_DUE["at"] = min((min(a["heartbeat_deadline"], a["global_deadline"]) for a in ACTIONS.values()
                               if now < min(a["heartbeat_deadline"], a["global_deadline"])), default=float("inf"))
    for token, action in due:
        reason = "global timeout" if now >= action["global_deadline"] else "heartbeat timeout"
        backend = asg_models.autoscaling_backends[action["account"]][action["region"]]
        complete_action(backend, token, action["default_result"], reason)


def _find_action(group_name: str, hook_name: str, token: str | None, instance_id: str | None) -> dict:
    for action in ACTIONS.values():
        if action["group"] != group_name or action["hook"] != hook_name:
            continue
        if (token and action["token"] == token) or (not token and action["instance_id"] == instance_id):
            return action
    if token:
        raise ValidationError(f"No active Lifecycle Action found with token {token}")
    raise ValidationError(f"No active Lifecycle Action found with instance ID {instance_id}")


# --- backend patches -------------------------------------------------------------------------------------------

_original_set_desired_capacity = asg_models.FakeAutoScalingGroup.set_desired_capacity
_original_terminate_instance = asg_models.AutoScalingBackend.terminate_instance
_original_delete_group = asg_models.AutoScalingBackend.delete_auto_scaling_group
_original_delete_hook = asg_models.AutoScalingBackend.delete_lifecycle_hook


def _set_desired_capacity(self, new_capacity):
    backend = self.autoscaling_backend
    hooks = [] if _bypass_hooks["on"] else _hooks_for(backend, self.name, TERMINATING)
    if hooks and not self.mixed_instances_policy:
        target = self.min_size if new_capacity is None else new_capacity
        active = self.active_instances()
        if len(active) > (target or 0):
            with state.LOCK:
                leaving = [s for s in active if not s.protected_from_scale_in][: len(active) - (target or 0)]
                for instance_state in leaving:
                    _begin_termination(backend, self, instance_state, hooks)
    return _original_set_desired_capacity(self, new_capacity)


def _terminate_instance(self, instance_id, should_decrement):
    instance_state = next((s for g in self.autoscaling_groups.values() for s in g.instance_states
                           if s.instance.id == instance_id), None)
    if instance_state is None:
        raise ValidationError(f"Instance Id not found - No managed instance found for instance ID: {instance_id}")
    group = instance_state.auto_scaling_group
    hooks = _hooks_for(self, group.name, TERMINATING)
    if not hooks:
        return _original_terminate_instance(self, instance_id, should_decrement)
    original_size = group.desired_capacity
    with state.LOCK:
        if instance_state.lifecycle_state == "InService":
            _begin_termination(self, group, instance_state, hooks)
        if should_decrement:
            group.desired_capacity -= 1
    # Without decrement the group launches a replacement for the instance that left service.
    _original_set_desired_capacity(group, group.desired_capacity)
    return asg_models.TerminateInstanceActivity(instance_state.instance, original_size)


def _delete_group(self, group_name):
    # Deleting a group (moto behaves like ForceDelete) bypasses lifecycle hooks, as AWS's ForceDelete does.
    _bypass_hooks["on"] = True
    try:
        _original_delete_group(self, group_name)
    finally:
        _bypass_hooks["on"] = False
    with state.LOCK:
        for token in [t for t, a in ACTIONS.items() if a["group"] == group_name]:
            ACTIONS.pop(token)
        for key in [k for k, h in self.lifecycle_hooks.items() if h.auto_scaling_group_name == group_name]:
            self.lifecycle_hooks.pop(key)


# --- response patches ------------------------------------------------------------------------------------------

def _delete_lifecycle_hook(self, as_name, name):
    # AWS (API_DeleteLifecycleHook): "If there are any outstanding lifecycle actions, they are completed first
    # (ABANDON for launching instances, CONTINUE for terminating instances)." Only terminating hooks hold instances here.
    with state.LOCK:
        outstanding = [t for t, a in ACTIONS.items() if a["group"] == as_name and a["hook"] == name]
    for token in outstanding:
        complete_action(self, token, "CONTINUE", "lifecycle hook deleted")
    _original_delete_hook(self, as_name, name)


def _describe_scaling_activities(self):
    """The activities of hook-held terminations, newest first, as AWS lists them."""
    group_name = self._get_param("AutoScalingGroupName")
    wanted_ids = self._get_param("ActivityIds", []) or []
    limit = int(self._get_param("MaxRecords") or 100)
    with state.LOCK:
        found = [{k: v for k, v in a.items() if k != "instance_id"} for a in reversed(ACTIVITIES)
                 if (not group_name or a["AutoScalingGroupName"] == group_name)
                 and (not wanted_ids or a["ActivityId"] in wanted_ids)]
    return ActionResult({"Activities": found[:limit]})


def _put_lifecycle_hook(self):
    backend = self.autoscaling_backend
    group_name = self._get_param("AutoScalingGroupName")
    name = self._get_param("LifecycleHookName")
    if group_name not in backend.autoscaling_groups:
        raise ValidationError(f"AutoScalingGroup name not found - AutoScalingGroup {group_name} not found")
    existing = backend.lifecycle_hooks.get(f"{group_name}_{name}")
    transition = self._get_param("LifecycleTransition") or (existing.lifecycle_transition if existing else None)
    if transition not in (TERMINATING, LAUNCHING):
        raise ValidationError(f"Invalid value for LifecycleTransition: {transition!r}; expected {LAUNCHING} or "
                              f"{TERMINATING}")
    timeout = self._get_int_param("HeartbeatTimeout")
    if timeout is None:
        timeout = existing.heartbeat_timeout if existing else 3600
    # The model has no range on HeartbeatTimeout; its documentation does: "The range is from 30 to 7200 seconds"
    # (PutLifecycleHook, HeartbeatTimeout).
    if not 30 <= timeout <= 7200:
        raise ValidationError(f"Heartbeat timeout must be between 30 and 7200 seconds, got {timeout}")
    result = self._get_param("DefaultResult") or (existing.default_result if existing else "ABANDON")
    if result not in ("CONTINUE", "ABANDON"):
        raise ValidationError(f"Invalid value for DefaultResult: {result!r}; expected CONTINUE or ABANDON")
    # NotificationMetadata's length (1..4000) and charset are the model's (validation/gate.py checks them).
    metadata = self._get_param("NotificationMetadata")
    if metadata is None and existing:
        metadata = getattr(existing, "notification_metadata", None)
    target = self._get_param("NotificationTargetARN")
    role = self._get_param("RoleARN")
    if existing and target is None:
        target = getattr(existing, "notification_target_arn", None)
    if existing and role is None:
        role = getattr(existing, "role_arn", None)
    if target:
        role_name = (role or "").rsplit("/", 1)[-1]
        role_known = bool(role) and any(r.name == role_name for r in iam_backends[backend.account_id]["aws"]
                                         .roles.values())
        may_publish = not gate.SETTINGS.iam_enforced or service_roles.may_deliver(
            backend.account_id, role, AUTOSCALING_PRINCIPAL, target)[0]
        if not role_known or not publish.target_exists(target) or not may_publish:
            raise ValidationError(f"Unable to publish test message to notification target {target} using IAM role "
                                  f"{role}. Please check your target and role configuration and try to put "
                                  "lifecycle hook again.")
    with state.LOCK:
        hook = backend.create_lifecycle_hook(name=name, as_name=group_name, transition=transition, timeout=timeout,
                                             result=result)
        hook.notification_target_arn = target
        hook.role_arn = role
        hook.notification_metadata = metadata
        hook.global_timeout = min(MAX_GLOBAL_TIMEOUT, 100 * timeout)
    state.log_event("lifecycle-hook-put", group=group_name, hook=name, transition=transition, target=target)
    if target:
        group = backend.autoscaling_groups[group_name]
        test = {
            "AccountId": backend.account_id, "RequestId": str(uuid.uuid4()), "AutoScalingGroupARN": group.arn,
            "AutoScalingGroupName": group_name, "Service": "AWS Auto Scaling", "Event": "autoscaling:TEST_NOTIFICATION",
            "Time": state.now_iso(),
        }
        publish.publish(target, json.dumps(test), f'Auto Scaling: test notification for group "{group_name}"',
                        as_role=(AUTOSCALING_PRINCIPAL, role))
        state.log_event("lifecycle-test-notification", group=group_name, hook=name, target=target)
    return EmptyResult()


def _complete_lifecycle_action(self):
    backend = self.autoscaling_backend
    result = self._get_param("LifecycleActionResult")
    if result not in ("CONTINUE", "ABANDON"):
        raise ValidationError(f"Invalid value for LifecycleActionResult: {result!r}; expected CONTINUE or ABANDON")
    with state.LOCK:
        action = _find_action(self._get_param("AutoScalingGroupName"), self._get_param("LifecycleHookName"),
                              self._get_param("LifecycleActionToken"), self._get_param("InstanceId"))
        complete_action(backend, action["token"], result, "CompleteLifecycleAction")
    return EmptyResult()


def _record_lifecycle_action_heartbeat(self):
    with state.LOCK:
        action = _find_action(self._get_param("AutoScalingGroupName"), self._get_param("LifecycleHookName"),
                              self._get_param("LifecycleActionToken"), self._get_param("InstanceId"))
        action["heartbeat_deadline"] = time.monotonic() + state.emulated_seconds_to_real(action["heartbeat_timeout"])
        # After a clock change the new deadline can come before the one the ticker waits for.
        _NEXT_DUE["at"] = min(_NEXT_DUE["at"], action["heartbeat_deadline"])
    state.log_event("lifecycle-heartbeat", group=action["group"], instance_id=action["instance_id"],
                    hook=action["hook"], token=action["token"])
    return EmptyResult()


FINISHERS["terminate"] = _finish_terminate


def install() -> None:
    asg_models.FakeAutoScalingGroup.set_desired_capacity = _set_desired_capacity
    asg_models.AutoScalingBackend.terminate_instance = _terminate_instance
    asg_models.AutoScalingBackend.delete_auto_scaling_group = _delete_group
    asg_models.AutoScalingBackend.delete_lifecycle_hook = _delete_lifecycle_hook
    asg_responses.AutoScalingResponse.put_lifecycle_hook = _put_lifecycle_hook
    asg_responses.AutoScalingResponse.describe_scaling_activities = _describe_scaling_activities
    asg_responses.AutoScalingResponse.complete_lifecycle_action = _complete_lifecycle_action
    asg_responses.AutoScalingResponse.record_lifecycle_action_heartbeat = _record_lifecycle_action_heartbeat
