"""Availability Zone rebalancing (az_rebalance.py): launches go to the least-populated zone; a change of zones
replaces the instances that unbalance the group, launching first and terminating through the hooks."""

from conftest import group_instances, make_group
from test_lifecycle_hooks import HOOK, put_hook, states


def zones(emulator, group="workers") -> dict:
    return {i["InstanceId"]: i["AvailabilityZone"] for i in group_instances(emulator, group)}


def test_launches_spread_over_the_zones_least_populated_first(emulator):
    make_group(emulator, size=0)
    asg = emulator.client("autoscaling")
    asg.update_auto_scaling_group(AutoScalingGroupName="workers", AvailabilityZones=["us-east-1a", "us-east-1b"])
    asg.set_desired_capacity(AutoScalingGroupName="workers", DesiredCapacity=4)
    assert sorted(zones(emulator).values()) == ["us-east-1a", "us-east-1a", "us-east-1b", "us-east-1b"]
    assert emulator.events("az-rebalance") == []  # nothing was unbalanced


def test_adding_a_zone_moves_the_surplus_launching_first_and_through_the_hook(emulator):
    old = make_group(emulator, size=2)
    put_hook(emulator, timeout=7200)
    asg = emulator.client("autoscaling")
    asg.update_auto_scaling_group(AutoScalingGroupName="workers", AvailabilityZones=["us-east-1a", "us-east-1b"])
    (event,) = emulator.events("az-rebalance")
    assert event["old"] == old[:1] and len(event["new"]) == 1
    (replacement,) = event["new"]
    now = states(emulator)
    # Launched first: the replacement serves in the new zone while the old instance waits in the hook.
    assert now == {old[0]: "Terminating:Wait", old[1]: "InService", replacement: "InService"}
    assert zones(emulator)[replacement] == "us-east-1b"
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK, InstanceId=old[0],
                                  LifecycleActionResult="CONTINUE")
    assert states(emulator) == {old[1]: "InService", replacement: "InService"}
    assert sorted(zones(emulator).values()) == ["us-east-1a", "us-east-1b"]


def test_leaving_a_zone_replaces_every_instance_in_it(emulator):
    old = make_group(emulator, size=2)
    asg = emulator.client("autoscaling")
    asg.update_auto_scaling_group(AutoScalingGroupName="workers", AvailabilityZones=["us-east-1b", "us-east-1c"])
    (event,) = emulator.events("az-rebalance")
    assert sorted(event["old"]) == sorted(old)
    # No hook: the old instances terminate at once, after their replacements launched.
    assert sorted(zones(emulator).values()) == ["us-east-1b", "us-east-1c"]
    assert not set(old) & set(states(emulator))


def test_a_suspended_az_rebalance_process_replaces_nothing(emulator):
    old = make_group(emulator, size=2)
    asg = emulator.client("autoscaling")
    asg.suspend_processes(AutoScalingGroupName="workers", ScalingProcesses=["AZRebalance"])
    asg.update_auto_scaling_group(AutoScalingGroupName="workers", AvailabilityZones=["us-east-1a", "us-east-1b"])
    assert emulator.events("az-rebalance") == []
    assert sorted(states(emulator)) == sorted(old)
