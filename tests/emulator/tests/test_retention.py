"""Retention: with InstanceLifecyclePolicy retain, an abandoned termination keeps the instance until terminated."""

import pytest
from conftest import drain_queue, make_group
from test_lifecycle_hooks import HOOK, put_hook, states
from test_warm_pools import ec2_state, reuse_pool, warm_states

RETAIN = {"RetentionTriggers": {"TerminateHookAbandon": "retain"}}


def retain(emulator, policy=RETAIN):
    emulator.client("autoscaling").update_auto_scaling_group(AutoScalingGroupName="workers",
                                                             InstanceLifecyclePolicy=policy)


def group(emulator) -> dict:
    return emulator.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=["workers"])["AutoScalingGroups"][0]


def test_policy_is_kept_and_described(emulator):
    make_group(emulator, size=0)
    assert "InstanceLifecyclePolicy" not in group(emulator)
    retain(emulator)
    assert group(emulator)["InstanceLifecyclePolicy"] == RETAIN
    emulator.client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="other", MinSize=0, MaxSize=1, AvailabilityZones=["us-east-1a"],
        LaunchTemplate={"LaunchTemplateName": "workers-lt"},
        InstanceLifecyclePolicy={"RetentionTriggers": {"TerminateHookAbandon": "terminate"}})
    other = emulator.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["other"])
    assert other["AutoScalingGroups"][0]["InstanceLifecyclePolicy"]["RetentionTriggers"] == {
        "TerminateHookAbandon": "terminate"}


@pytest.mark.parametrize("how", ["explicit", "heartbeat timeout"])
def test_abandon_retains_until_terminated_by_the_api(emulator, how):
    make_group(emulator, size=2)
    put_hook(emulator, timeout=30, default="ABANDON")
    retain(emulator)
    if how == "heartbeat timeout":
        emulator.control("clock", {"scale": 60})
    asg = emulator.client("autoscaling")
    asg.terminate_instance_in_auto_scaling_group(InstanceId=list(states(emulator))[0],
                                                 ShouldDecrementDesiredCapacity=False)
    (held,) = [i for i, s in states(emulator).items() if s == "Terminating:Wait"]
    if how == "explicit":
        asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK, InstanceId=held,
                                      LifecycleActionResult="ABANDON")
    else:
        emulator.wait_for(lambda: states(emulator)[held] != "Terminating:Wait", timeout=5, what="heartbeat timeout")
    now = states(emulator)
    assert now[held] == "Terminating:Retained"
    assert list(now.values()).count("InService") == 2  # not counted: the group keeps two in service
    assert group(emulator)["DesiredCapacity"] == 2
    assert ec2_state(emulator, held) == "running"
    assert [e["state"] for e in emulator.events("lifecycle-transition") if e["instance_id"] == held] == [
        "Terminating:Wait", "Terminating:Proceed", "Terminating:Retained"]
    asg.terminate_instance_in_auto_scaling_group(InstanceId=held, ShouldDecrementDesiredCapacity=True)
    assert held not in states(emulator)
    assert ec2_state(emulator, held) == "terminated"
    assert group(emulator)["DesiredCapacity"] == 2 and list(states(emulator).values()) == ["InService"] * 2


def test_without_the_policy_abandon_terminates(emulator):
    make_group(emulator, size=2)
    put_hook(emulator)
    retain(emulator, {"RetentionTriggers": {"TerminateHookAbandon": "terminate"}})
    asg = emulator.client("autoscaling")
    asg.set_desired_capacity(AutoScalingGroupName="workers", DesiredCapacity=1)
    (held,) = [i for i, s in states(emulator).items() if s == "Terminating:Wait"]
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK, InstanceId=held,
                                  LifecycleActionResult="ABANDON")
    assert held not in states(emulator) and ec2_state(emulator, held) == "terminated"
    assert not emulator.events("instance-retained")


def test_continue_is_never_retained(emulator):
    make_group(emulator, size=1)
    put_hook(emulator)
    retain(emulator)
    asg = emulator.client("autoscaling")
    asg.set_desired_capacity(AutoScalingGroupName="workers", DesiredCapacity=0)
    (held,) = states(emulator)
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK, InstanceId=held,
                                  LifecycleActionResult="CONTINUE")
    assert states(emulator) == {} and ec2_state(emulator, held) == "terminated"


def test_warm_pool_paths_retain_in_the_pool(emulator):
    make_group(emulator, size=2)
    _, _, queue = put_hook(emulator)
    retain(emulator)
    reuse_pool(emulator, MaxGroupPreparedCapacity=4)
    (warm_id,) = emulator.control("warm_pool", {"group": "workers", "instances": 1})["instance_ids"]
    asg = emulator.client("autoscaling")
    asg.set_desired_capacity(AutoScalingGroupName="workers", DesiredCapacity=1)  # one returns to the pool
    (returning,) = [i for i, s in warm_states(emulator).items() if s == "Warmed:Pending:Wait"]
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK, InstanceId=returning,
                                  LifecycleActionResult="ABANDON")
    assert warm_states(emulator)[returning] == "Warmed:Pending:Retained"
    asg.put_warm_pool(AutoScalingGroupName="workers", MaxGroupPreparedCapacity=1)  # room for none: warm_id leaves
    assert warm_states(emulator)[warm_id] == "Warmed:Terminating:Wait"
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK, InstanceId=warm_id,
                                  LifecycleActionResult="ABANDON")
    assert warm_states(emulator) == {returning: "Warmed:Pending:Retained", warm_id: "Warmed:Terminating:Retained"}
    assert group(emulator)["WarmPoolSize"] == 0  # retained instances are not counted
    for instance_id in (returning, warm_id):
        asg.terminate_instance_in_auto_scaling_group(InstanceId=instance_id, ShouldDecrementDesiredCapacity=False)
        assert ec2_state(emulator, instance_id) == "terminated"
    assert warm_states(emulator) == {}
    drain_queue(emulator, queue)
