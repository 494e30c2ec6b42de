"""Capacity Rebalancing launches the replacement first, then terminates the at-risk instance through the hooks."""

import pytest
from conftest import make_group
from test_lifecycle_hooks import HOOK, put_hook, states


def test_rebalance_launches_first_then_holds_the_old_instance_in_the_hook(emulator):
    old = make_group(emulator, size=2)
    put_hook(emulator, timeout=7200)
    asg = emulator.client("autoscaling")
    with pytest.raises(Exception):
        emulator.control("rebalance_recommendation", {"group": "workers", "instance_ids": old[:1]})  # not on
    asg.update_auto_scaling_group(AutoScalingGroupName="workers", CapacityRebalance=True)
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["workers"])["AutoScalingGroups"][0]
    assert group["CapacityRebalance"] is True
    (replacement,) = emulator.control("rebalance_recommendation", {"group": "workers", "instance_ids": old[:1]})[
        "replacements"]
    now = states(emulator)
    # Launched first: the replacement is already in service while the old instance waits in the hook.
    assert now[old[0]] == "Terminating:Wait" and now[replacement] == "InService" and now[old[1]] == "InService"
    assert emulator.events("rebalance-recommendation")[0]["instance_id"] == old[0]
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK, InstanceId=old[0],
                                  LifecycleActionResult="CONTINUE")
    assert old[0] not in states(emulator)
    assert sorted(states(emulator)) == sorted([old[1], replacement])
