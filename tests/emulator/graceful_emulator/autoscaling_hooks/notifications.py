"""What Auto Scaling publishes to a lifecycle hook's notification target, as the hook's role: the lifecycle action
message when an instance starts waiting, and the test notification of PutLifecycleHook."""

import json
import uuid

from .. import publish, state

# The service principal Auto Scaling assumes a hook's RoleARN as.
AUTOSCALING_PRINCIPAL = "autoscaling.amazonaws.com"


def _message(backend, group, hook, instance_id: str, token: str, origin: str, destination: str) -> dict:
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


def lifecycle_action(backend, group, hook, instance_id: str, token: str, origin: str, destination: str) -> None:
    """Tells the hook's target (if any) that the instance waits for the action `token`."""
    target = getattr(hook, "notification_target_arn", None)
    if not target:
        return
    message = _message(backend, group, hook, instance_id, token, origin, destination)
    subject = f"Auto Scaling:  Lifecycle action 'TERMINATING' for instance {instance_id} in progress."
    try:
        publish.publish(target, json.dumps(message), subject,
                        as_role=(AUTOSCALING_PRINCIPAL, getattr(hook, "role_arn", None)))
        state.log_event("lifecycle-notification", target=target, instance_id=instance_id, hook=hook.name,
                        token=token, message=message)
    except Exception as error:  # AWS keeps the wait even when the target is gone
        state.log_event("lifecycle-notification-failed", target=target, instance_id=instance_id,
                        error=str(error))


def test_notification(backend, group, hook_name: str, target: str, role: str | None) -> None:
    """PutLifecycleHook's autoscaling:TEST_NOTIFICATION to a hook's (new) target."""
    test = {
        "AccountId": backend.account_id, "RequestId": str(uuid.uuid4()), "AutoScalingGroupARN": group.arn,
        "AutoScalingGroupName": group.name, "Service": "AWS Auto Scaling", "Event": "autoscaling:TEST_NOTIFICATION",
        "Time": state.now_iso(),
    }
    publish.publish(target, json.dumps(test), f'Auto Scaling: test notification for group "{group.name}"',
                    as_role=(AUTOSCALING_PRINCIPAL, role))
    state.log_event("lifecycle-test-notification", group=group.name, hook=hook_name, target=target)
