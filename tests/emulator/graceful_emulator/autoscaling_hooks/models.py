"""Lifecycle actions' state and rules: a LifecycleActions per account and region owns the actions waiting on
instances and the scaling activities of held terminations (records: Action, Activity), and holds the start of a
wait, completion (CONTINUE, ABANDON), heartbeats and timeouts.

PATHS and FINISHERS are the registry other ways out of a group (warm_pools.py, retention.py, refresh.py) use: a path
names the wait state and the notification's Origin/Destination, and its finisher decides what happens to the
instance once every action of it is complete.
"""

import dataclasses
import datetime
import time
import uuid
from dataclasses import dataclass

from moto.autoscaling import models as asg_models
from moto.autoscaling.exceptions import ValidationError

from .. import state
from . import notifications
from .hooks import MAX_GLOBAL_TIMEOUT, TERMINATING, hooks_for

# path -> (wait state, Origin, Destination, scaling-activity description or None). "terminate" is the plain way out;
# other modules register theirs.
PATHS: dict = {"terminate": ("Terminating:Wait", "AutoScalingGroup", "EC2", "Terminating EC2 instance: {}")}
# path -> finisher(backend, group_name, instance_id, result): runs once every action of the instance is complete.
FINISHERS: dict = {}


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@dataclass
class Action:
    """One hook waiting on one instance."""
    token: str
    instance_id: str
    group: str
    hook: str
    path: str  # a key of PATHS
    default_result: str
    heartbeat_timeout: int  # emulated seconds
    heartbeat_deadline: float  # time.monotonic()
    global_deadline: float  # time.monotonic()

    @property
    def due_at(self) -> float:
        return min(self.heartbeat_deadline, self.global_deadline)


@dataclass
class Activity:
    """The scaling activity of one hook-held termination, as DescribeScalingActivities lists it."""
    activity_id: str
    group_name: str
    description: str
    cause: str
    start_time: datetime.datetime
    instance_id: str
    status_code: str = "MidLifecycleAction"
    progress: int = 50
    details: str = "{}"
    end_time: datetime.datetime | None = None


class LifecycleActions:
    """The lifecycle actions of Auto Scaling in one account and region."""

    def __init__(self, account_id: str, region_name: str):
        self.account_id = account_id
        self.region_name = region_name
        self.actions: dict = {}  # token -> Action
        # Newest last (plain moto answers DescribeScalingActivities with none).
        self.activities: list = []
        # The earliest heartbeat or global deadline of any action (may be early, never late): the ticker looks at the
        # actions only once it has passed, instead of scanning every action under the lock 20 times a second.
        self.next_due = float("inf")
        # While a group is deleted: scale-in then takes no hooks (see backend_patches._delete_group).
        self.bypass_hooks = False

    @property
    def _backend(self):
        return asg_models.autoscaling_backends[self.account_id][self.region_name]

    # --- the wait -----------------------------------------------------------------------------------------------

    def begin_termination(self, backend, group, instance_state, hooks: list, path: str = "terminate") -> None:
        """Parks one instance in its path's wait state (Terminating:Wait) and notifies every TERMINATING hook's
        target. The caller holds state.LOCK."""
        wait_state, origin, destination, activity = PATHS[path]
        instance_state.lifecycle_state = wait_state
        instance_id = instance_state.instance.id
        state.log_event("lifecycle-transition", group=group.name, instance_id=instance_id, state=wait_state)
        started = time.monotonic()
        if activity:
            self.activities.append(Activity(
                activity_id=str(uuid.uuid4()), group_name=group.name, description=activity.format(instance_id),
                cause=f"At {state.now_iso()} an instance was taken out of service in response to a difference "
                      "between desired and actual capacity, shrinking the capacity.",
                start_time=_utcnow(), instance_id=instance_id))
        for hook in hooks:
            token = str(uuid.uuid4())
            global_timeout = min(MAX_GLOBAL_TIMEOUT, 100 * hook.heartbeat_timeout)
            action = Action(
                token=token, instance_id=instance_id, group=group.name, hook=hook.name, path=path,
                default_result=hook.default_result, heartbeat_timeout=hook.heartbeat_timeout,
                heartbeat_deadline=started + state.emulated_seconds_to_real(hook.heartbeat_timeout),
                global_deadline=started + state.emulated_seconds_to_real(global_timeout))
            self.actions[token] = action
            self.next_due = min(self.next_due, action.due_at)
            state.log_event("lifecycle-action-started", group=group.name, instance_id=instance_id, hook=hook.name,
                            token=token)
            notifications.lifecycle_action(backend, group, hook, instance_id, token, origin, destination)

    def begin(self, backend, group, instance_state, path: str) -> bool:
        """Takes one instance out along `path` through the group's TERMINATING hooks; False when the group has
        none."""
        hooks = hooks_for(backend, group.name, TERMINATING)
        if hooks:
            with state.LOCK:
                self.begin_termination(backend, group, instance_state, hooks, path)
        return bool(hooks)

    def close_activity(self, instance_id: str) -> None:
        for activity in self.activities:
            if activity.instance_id == instance_id and activity.status_code == "MidLifecycleAction":
                activity.status_code, activity.progress, activity.end_time = "Successful", 100, _utcnow()

    def scaling_activities(self, group_name: str | None, activity_ids: list, max_records: int) -> list:
        """Copies of the activities of `group_name` (all without it) and `activity_ids` (all without any), newest
        first, at most max_records."""
        with state.LOCK:
            found = [dataclasses.replace(a) for a in reversed(self.activities)
                     if (not group_name or a.group_name == group_name)
                     and (not activity_ids or a.activity_id in activity_ids)]
        return found[:max_records]

    # --- the end of the wait ------------------------------------------------------------------------------------

    def complete_action(self, backend, token: str, result: str, reason: str) -> None:
        """Completes one action; ABANDON ends the instance's other actions too."""
        with state.LOCK:
            action = self.actions.pop(token, None)
            if action is None:
                return
            state.log_event("lifecycle-action-completed", group=action.group, instance_id=action.instance_id,
                            hook=action.hook, token=token, result=result, reason=reason)
            siblings = [t for t, a in self.actions.items() if a.instance_id == action.instance_id]
            if result == "ABANDON":
                for sibling in siblings:
                    self.actions.pop(sibling)
                    state.log_event("lifecycle-action-completed", instance_id=action.instance_id, token=sibling,
                                    result="ABANDON", reason="another hook abandoned")
                siblings = []
            if not siblings:
                FINISHERS.get(action.path, _finish_terminate)(backend, action.group, action.instance_id, result)

    def expire_due(self, now: float) -> None:
        """Applies the default result to actions whose heartbeat or global timeout ran out."""
        if now < self.next_due:
            return
        with state.LOCK:
            due = [(t, a) for t, a in self.actions.items() if now >= a.due_at]
            self.next_due = min((a.due_at for a in self.actions.values() if now < a.due_at), default=float("inf"))
        for token, action in due:
            reason = "global timeout" if now >= action.global_deadline else "heartbeat timeout"
            self.complete_action(self._backend, token, action.default_result, reason)

    def _find_action(self, group_name: str, hook_name: str, token: str | None, instance_id: str | None) -> Action:
        for action in self.actions.values():
            if action.group != group_name or action.hook != hook_name:
                continue
            if (token and action.token == token) or (not token and action.instance_id == instance_id):
                return action
        if token:
            raise ValidationError(f"No active Lifecycle Action found with token {token}")
        raise ValidationError(f"No active Lifecycle Action found with instance ID {instance_id}")

    def complete_lifecycle_action(self, group_name: str, hook_name: str, token: str | None,
                                  instance_id: str | None, result: str | None) -> None:
        if result not in ("CONTINUE", "ABANDON"):
            raise ValidationError(f"Invalid value for LifecycleActionResult: {result!r}; expected CONTINUE or "
                                  "ABANDON")
        with state.LOCK:
            action = self._find_action(group_name, hook_name, token, instance_id)
            self.complete_action(self._backend, action.token, result, "CompleteLifecycleAction")

    def record_heartbeat(self, group_name: str, hook_name: str, token: str | None, instance_id: str | None) -> None:
        with state.LOCK:
            action = self._find_action(group_name, hook_name, token, instance_id)
            action.heartbeat_deadline = time.monotonic() + state.emulated_seconds_to_real(action.heartbeat_timeout)
            # After a clock change the new deadline can come before the one the ticker waits for.
            self.next_due = min(self.next_due, action.heartbeat_deadline)
        state.log_event("lifecycle-heartbeat", group=action.group, instance_id=action.instance_id,
                        hook=action.hook, token=action.token)

    def outstanding(self, group_name: str, hook_name: str) -> list:
        """The tokens of the hook's actions."""
        with state.LOCK:
            return [t for t, a in self.actions.items() if a.group == group_name and a.hook == hook_name]

    def drop_group(self, group_name: str) -> None:
        """Forgets the group's actions without finishing them (its deletion bypasses the hooks)."""
        with state.LOCK:
            for token in [t for t, a in self.actions.items() if a.group == group_name]:
                self.actions.pop(token)

    def drop_instances(self, instance_ids: list) -> None:
        """Forgets the instances' actions without finishing them (a forced delete of their warm pool)."""
        with state.LOCK:
            for token in [t for t, a in self.actions.items() if a.instance_id in instance_ids]:
                self.actions.pop(token)


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
            actions_of(backend).close_activity(instance_id)
            backend.ec2_backend.terminate_instances([instance_id])
            state.log_event("instance-terminated", group=group_name, instance_id=instance_id)


FINISHERS["terminate"] = _finish_terminate

# (account id, region) -> LifecycleActions. Not moto's BackendDict: moto's reset clears those without state.LOCK
# while the ticker walks these; reset() below clears them under the lock, in the control reset's order.
_BACKENDS: dict = {}


def actions_of(backend) -> LifecycleActions:
    """The LifecycleActions of a moto backend's account and region."""
    key = (backend.account_id, backend.region_name)
    with state.LOCK:
        if key not in _BACKENDS:
            _BACKENDS[key] = LifecycleActions(*key)
        return _BACKENDS[key]


def begin(backend, group, instance_state, path: str) -> bool:
    return actions_of(backend).begin(backend, group, instance_state, path)


def close_activity(backend, instance_id: str) -> None:
    actions_of(backend).close_activity(instance_id)


def expire_due_actions() -> None:
    """The ticker's call: every account and region's due actions. Copies the registry without the lock (see
    LifecycleActions.next_due)."""
    now = time.monotonic()
    for actions in list(_BACKENDS.values()):
        actions.expire_due(now)


def reset() -> None:
    with state.LOCK:
        _BACKENDS.clear()
