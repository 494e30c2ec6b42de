"""The group and instances a request or a control call names, found once for every module that needs them."""

from moto.autoscaling import models as asg_models
from moto.autoscaling.exceptions import ValidationError


def requested_group(response):
    """The group of a request's AutoScalingGroupName, or AWS's ValidationError for a missing one."""
    name = response._get_param("AutoScalingGroupName")
    group = response.autoscaling_backend.autoscaling_groups.get(name)
    if group is None:
        raise ValidationError(f"AutoScalingGroup name not found - AutoScalingGroup {name} not found")
    return group


def control_group(account: str, region: str, group_name: str):
    """(backend, group) for a control call; ValueError naming a missing group."""
    backend = asg_models.autoscaling_backends[account][region]
    group = backend.autoscaling_groups.get(group_name)
    if group is None:
        raise ValueError(f"no Auto Scaling group {group_name!r}")
    return backend, group


def in_service(group, instance_ids: list) -> list:
    """The InService instance states of `instance_ids`; ValueError naming one that is not."""
    chosen = []
    for instance_id in instance_ids:
        found = next((s for s in group.instance_states if s.instance.id == instance_id), None)
        if found is None or found.lifecycle_state != "InService":
            raise ValueError(f"instance {instance_id!r} is not InService in group {group.name!r}")
        chosen.append(found)
    return chosen
