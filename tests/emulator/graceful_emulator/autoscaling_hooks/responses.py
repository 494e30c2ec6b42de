"""moto's Auto Scaling responses for lifecycle hooks and actions: each reads the request's parameters, calls the
rules (hooks.py, or the account and region's LifecycleActions in models.py) and renders the answer."""

from moto.autoscaling import responses as asg_responses
from moto.autoscaling.responses import ActionResult, EmptyResult

from . import hooks
from .models import actions_of


def _activity_view(activity) -> dict:
    view = {"ActivityId": activity.activity_id, "AutoScalingGroupName": activity.group_name,
            "Description": activity.description, "Cause": activity.cause, "StartTime": activity.start_time,
            "StatusCode": activity.status_code, "Progress": activity.progress, "Details": activity.details}
    if activity.end_time is not None:
        view["EndTime"] = activity.end_time
    return view


def _describe_scaling_activities(self):
    """The activities of hook-held terminations, newest first, as AWS lists them."""
    found = actions_of(self.autoscaling_backend).scaling_activities(
        self._get_param("AutoScalingGroupName"), self._get_param("ActivityIds", []) or [],
        int(self._get_param("MaxRecords") or 100))
    return ActionResult({"Activities": [_activity_view(a) for a in found]})


def _put_lifecycle_hook(self):
    hooks.put_lifecycle_hook(
        self.autoscaling_backend, self._get_param("AutoScalingGroupName"), self._get_param("LifecycleHookName"),
        transition=self._get_param("LifecycleTransition"), timeout=self._get_int_param("HeartbeatTimeout"),
        result=self._get_param("DefaultResult"), metadata=self._get_param("NotificationMetadata"),
        target=self._get_param("NotificationTargetARN"), role=self._get_param("RoleARN"))
    return EmptyResult()


def _complete_lifecycle_action(self):
    actions_of(self.autoscaling_backend).complete_lifecycle_action(
        self._get_param("AutoScalingGroupName"), self._get_param("LifecycleHookName"),
        self._get_param("LifecycleActionToken"), self._get_param("InstanceId"),
        self._get_param("LifecycleActionResult"))
    return EmptyResult()


def _record_lifecycle_action_heartbeat(self):
    actions_of(self.autoscaling_backend).record_heartbeat(
        self._get_param("AutoScalingGroupName"), self._get_param("LifecycleHookName"),
        self._get_param("LifecycleActionToken"), self._get_param("InstanceId"))
    return EmptyResult()


def install() -> None:
    asg_responses.AutoScalingResponse.put_lifecycle_hook = _put_lifecycle_hook
    asg_responses.AutoScalingResponse.describe_scaling_activities = _describe_scaling_activities
    asg_responses.AutoScalingResponse.complete_lifecycle_action = _complete_lifecycle_action
    asg_responses.AutoScalingResponse.record_lifecycle_action_heartbeat = _record_lifecycle_action_heartbeat
