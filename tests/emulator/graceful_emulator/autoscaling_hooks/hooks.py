"""Lifecycle hooks themselves: moto's records (FakeLifecycleHook, in moto's AutoScalingBackend), and PutLifecycleHook's
rules for them: validation, the upsert keeping target, role and metadata, GlobalTimeout, the test notification."""

from moto.autoscaling.exceptions import ValidationError
from moto.iam.models import iam_backends

from .. import publish, state
from ..iam import service_roles
from ..validation import gate
from . import notifications

TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"
LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
MAX_GLOBAL_TIMEOUT = 172800


def hooks_for(backend, group_name: str, transition: str) -> list:
    return [h for h in backend.lifecycle_hooks.values()
            if h.auto_scaling_group_name == group_name and h.lifecycle_transition == transition]


def put_lifecycle_hook(backend, group_name: str, name: str, transition: str | None, timeout: int | None,
                       result: str | None, metadata: str | None, target: str | None, role: str | None) -> None:
    """Validates and upserts a hook in moto's `backend` (a value not given keeps the existing hook's), then sends its
    target the test notification."""
    if group_name not in backend.autoscaling_groups:
        raise ValidationError(f"AutoScalingGroup name not found - AutoScalingGroup {group_name} not found")
    existing = backend.lifecycle_hooks.get(f"{group_name}_{name}")
    transition = transition or (existing.lifecycle_transition if existing else None)
    if transition not in (TERMINATING, LAUNCHING):
        raise ValidationError(f"Invalid value for LifecycleTransition: {transition!r}; expected {LAUNCHING} or "
                              f"{TERMINATING}")
    if timeout is None:
        timeout = existing.heartbeat_timeout if existing else 3600
    # The model has no range on HeartbeatTimeout; its documentation does: "The range is from 30 to 7200 seconds"
    # (PutLifecycleHook, HeartbeatTimeout).
    if not 30 <= timeout <= 7200:
        raise ValidationError(f"Heartbeat timeout must be between 30 and 7200 seconds, got {timeout}")
    result = result or (existing.default_result if existing else "ABANDON")
    if result not in ("CONTINUE", "ABANDON"):
        raise ValidationError(f"Invalid value for DefaultResult: {result!r}; expected CONTINUE or ABANDON")
    # NotificationMetadata's length (1..4000) and charset are the model's (validation/gate.py checks them).
    if metadata is None and existing:
        metadata = getattr(existing, "notification_metadata", None)
    if existing and target is None:
        target = getattr(existing, "notification_target_arn", None)
    if existing and role is None:
        role = getattr(existing, "role_arn", None)
    if target:
        role_name = (role or "").rsplit("/", 1)[-1]
        role_known = bool(role) and any(r.name == role_name for r in iam_backends[backend.account_id]["aws"]
                                         .roles.values())
        may_publish = not gate.SETTINGS.iam_enforced or service_roles.may_deliver(
            backend.account_id, role, notifications.AUTOSCALING_PRINCIPAL, target)[0]
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
        notifications.test_notification(backend, backend.autoscaling_groups[group_name], name, target, role)
