"""Group settings moto 5.2.5 drops: InstanceLifecyclePolicy, MaxInstanceLifetime, InstanceMaintenancePolicy, and
CapacityRebalance on UpdateAutoScalingGroup (moto reads it only at create).

CreateAutoScalingGroup and UpdateAutoScalingGroup keep them on the group (moto's response code never reads them),
and DescribeAutoScalingGroups returns them: moto's serializer reads a model member from the object's snake_case
attribute (moto/core/serialize.py, XFormedAttributePicker), so storing `instance_lifecycle_policy` on the group is
enough. Their shapes and enums (RetentionTriggers.TerminateHookAbandon retain|terminate) are checked by
validation/gate.py against botocore's model.
"""

from moto.autoscaling import responses as asg_responses
from moto.autoscaling.exceptions import ValidationError

# member name -> attribute on moto's FakeAutoScalingGroup
MEMBERS = {"InstanceLifecyclePolicy": "instance_lifecycle_policy", "MaxInstanceLifetime": "max_instance_lifetime",
           "InstanceMaintenancePolicy": "instance_maintenance_policy", "CapacityRebalance": "capacity_rebalance"}

_original_create = asg_responses.AutoScalingResponse.create_auto_scaling_group
_original_update = asg_responses.AutoScalingResponse.update_auto_scaling_group


def _read(response) -> dict:
    found = {}
    for member in MEMBERS:
        value = response._get_param(member)
        if value is not None:
            found[member] = value
    if "CapacityRebalance" in found:
        found["CapacityRebalance"] = found["CapacityRebalance"] in (True, "true", "True")
    lifetime = found.get("MaxInstanceLifetime")
    if lifetime is not None:
        lifetime = int(lifetime)
        # https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-max-instance-lifetime.html: "You must specify a
        # value of at least 86,400 seconds (one day). To clear a previously set value, specify a new value of 0."
        # (The wording of the error is the emulator's; AWS's exact text is not documented.)
        if lifetime != 0 and lifetime < 86400:
            raise ValidationError(f"MaxInstanceLifetime must be 0 or at least 86400 seconds, got {lifetime}")
        found["MaxInstanceLifetime"] = lifetime
    return found


def _store(response, found: dict) -> None:
    group = response.autoscaling_backend.autoscaling_groups.get(response._get_param("AutoScalingGroupName"))
    if group is None:
        return
    for member, value in found.items():
        if member == "MaxInstanceLifetime" and value == 0:
            value = None  # 0 clears the setting
        setattr(group, MEMBERS[member], value)


def _create(self):
    found = _read(self)
    result = _original_create(self)
    _store(self, found)
    return result


def _update(self):
    found = _read(self)
    result = _original_update(self)
    _store(self, found)
    return result


def retains_on_abandon(group) -> bool:
    """The group's InstanceLifecyclePolicy says TerminateHookAbandon = retain."""
    policy = getattr(group, "instance_lifecycle_policy", None) or {}
    return (policy.get("RetentionTriggers") or {}).get("TerminateHookAbandon") == "retain"


def install() -> None:
    asg_responses.AutoScalingResponse.create_auto_scaling_group = _create
    asg_responses.AutoScalingResponse.update_auto_scaling_group = _update
