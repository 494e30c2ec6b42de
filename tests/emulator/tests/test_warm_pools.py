"""Warm pools: scale-in returns instances to the pool through the TERMINATING hooks; the pool sheds instances."""

import pytest
from botocore.exceptions import ClientError
from conftest import drain_queue, group_instances, make_group
from test_lifecycle_hooks import HOOK, put_hook, states


def warm_states(emulator, group="workers") -> dict:
    pool = emulator.client("autoscaling").describe_warm_pool(AutoScalingGroupName=group)
    return {i["InstanceId"]: i["LifecycleState"] for i in pool["Instances"]}


def ec2_state(emulator, instance_id) -> str:
    reservations = emulator.client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"]
    return reservations[0]["Instances"][0]["State"]["Name"]


def reuse_pool(emulator, pool_state="Stopped", **extra):
    emulator.client("autoscaling").put_warm_pool(AutoScalingGroupName="workers", PoolState=pool_state,
                                                 InstanceReusePolicy={"ReuseOnScaleIn": True}, **extra)


@pytest.mark.parametrize("pool_state, ec2", [("Stopped", "stopped"), ("Running", "running"),
                                             ("Hibernated", "stopped")])
def test_scale_in_returns_to_the_pool_after_the_hook_continues(emulator, pool_state, ec2):
    make_group(emulator, size=2)
    _, _, queue = put_hook(emulator)
    reuse_pool(emulator, pool_state)
    drain_queue(emulator, queue)
    asg = emulator.client("autoscaling")
    asg.set_desired_capacity(AutoScalingGroupName="workers", DesiredCapacity=1)
    (returning, wait_state), = warm_states(emulator).items()
    assert wait_state == "Warmed:Pending:Wait"
    assert returning not in states(emulator)  # out of the group's Instances, in the pool's
    assert ec2_state(emulator, returning) == "running"  # still running while the hook holds it
    (message,) = drain_queue(emulator, queue)
    body = message["Message"]
    assert (body["Origin"], body["Destination"]) == ("AutoScalingGroup", "WarmPool")
    assert body["EC2InstanceId"] == returning and body["LifecycleTransition"] == "autoscaling:EC2_INSTANCE_TERMINATING"
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK,
                                  LifecycleActionToken=body["LifecycleActionToken"], LifecycleActionResult="CONTINUE")
    assert warm_states(emulator) == {returning: f"Warmed:{pool_state}"}
    assert ec2_state(emulator, returning) == ec2
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["workers"])["AutoScalingGroups"][0]
    assert group["WarmPoolSize"] == 1 and group["DesiredCapacity"] == 1 and len(group["Instances"]) == 1
    assert [e["state"] for e in emulator.events("lifecycle-transition") if e["instance_id"] == returning] == [
        "Warmed:Pending:Wait", "Warmed:Pending:Proceed", f"Warmed:{pool_state}"]


def test_abandon_on_the_way_back_terminates(emulator):
    make_group(emulator, size=2)
    put_hook(emulator, timeout=30, default="ABANDON")
    reuse_pool(emulator)
    emulator.control("clock", {"scale": 60})
    emulator.client("autoscaling").set_desired_capacity(AutoScalingGroupName="workers", DesiredCapacity=1)
    (returning,) = warm_states(emulator)
    emulator.wait_for(lambda: not warm_states(emulator), timeout=5, what="heartbeat timeout")
    assert ec2_state(emulator, returning) == "terminated"
    assert emulator.events("lifecycle-action-completed")[-1]["reason"] == "heartbeat timeout"


def test_scale_in_without_reuse_terminates(emulator):
    make_group(emulator, size=2)
    _, _, queue = put_hook(emulator)
    emulator.client("autoscaling").put_warm_pool(AutoScalingGroupName="workers", PoolState="Stopped")
    drain_queue(emulator, queue)
    emulator.client("autoscaling").set_desired_capacity(AutoScalingGroupName="workers", DesiredCapacity=1)
    assert sorted(states(emulator).values()) == ["InService", "Terminating:Wait"]
    (message,) = drain_queue(emulator, queue)
    assert (message["Message"]["Origin"], message["Message"]["Destination"]) == ("AutoScalingGroup", "EC2")
    assert warm_states(emulator) == {}


def test_shrinking_the_pool_terminates_through_the_hook(emulator):
    make_group(emulator, size=1)
    _, _, queue = put_hook(emulator)
    asg = emulator.client("autoscaling")
    asg.put_warm_pool(AutoScalingGroupName="workers", PoolState="Stopped", MaxGroupPreparedCapacity=4)
    warm_ids = emulator.control("warm_pool", {"group": "workers", "instances": 3, "state": "Warmed:Stopped"})[
        "instance_ids"]
    assert warm_states(emulator) == {i: "Warmed:Stopped" for i in warm_ids}
    assert all(ec2_state(emulator, i) == "stopped" for i in warm_ids)
    drain_queue(emulator, queue)
    asg.put_warm_pool(AutoScalingGroupName="workers", PoolState="Stopped", MaxGroupPreparedCapacity=3)  # room for 2
    now = warm_states(emulator)
    leaving = [i for i, s in now.items() if s == "Warmed:Terminating:Wait"]
    assert len(leaving) == 1 and len(now) == 3
    (message,) = drain_queue(emulator, queue)
    assert (message["Message"]["Origin"], message["Message"]["Destination"]) == ("WarmPool", "EC2")
    assert message["Message"]["EC2InstanceId"] == leaving[0]
    assert ec2_state(emulator, leaving[0]) == "stopped"  # held: not terminated yet
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK, InstanceId=leaving[0],
                                  LifecycleActionResult="CONTINUE")
    assert leaving[0] not in warm_states(emulator) and len(warm_states(emulator)) == 2
    assert ec2_state(emulator, leaving[0]) == "terminated"
    assert [e["state"] for e in emulator.events("lifecycle-transition") if e["instance_id"] == leaving[0]][-3:] == [
        "Warmed:Terminating:Wait", "Warmed:Terminating:Proceed", "Warmed:Terminated"]


def test_terminate_instance_api_refuses_warm_instances(emulator):
    make_group(emulator, size=1)
    emulator.client("autoscaling").put_warm_pool(AutoScalingGroupName="workers", MaxGroupPreparedCapacity=3)
    (warm_id,) = emulator.control("warm_pool", {"group": "workers", "instances": 1, "state": "Warmed:Running"})[
        "instance_ids"]
    with pytest.raises(ClientError) as error:
        emulator.client("autoscaling").terminate_instance_in_auto_scaling_group(
            InstanceId=warm_id, ShouldDecrementDesiredCapacity=False)
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert "warm pool" in error.value.response["Error"]["Message"]
    assert warm_states(emulator) == {warm_id: "Warmed:Running"} and ec2_state(emulator, warm_id) == "running"


def test_delete_waits_for_the_hook_unless_forced(emulator):
    make_group(emulator, size=1)
    put_hook(emulator)
    asg = emulator.client("autoscaling")
    asg.put_warm_pool(AutoScalingGroupName="workers", MaxGroupPreparedCapacity=3)
    first, second = emulator.control("warm_pool", {"group": "workers", "instances": 2})["instance_ids"]
    asg.delete_warm_pool(AutoScalingGroupName="workers")
    pool = asg.describe_warm_pool(AutoScalingGroupName="workers")
    assert pool["WarmPoolConfiguration"]["Status"] == "PendingDelete"
    assert {i["LifecycleState"] for i in pool["Instances"]} == {"Warmed:Terminating:Wait"}
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK, InstanceId=first,
                                  LifecycleActionResult="CONTINUE")
    assert asg.describe_warm_pool(AutoScalingGroupName="workers")["WarmPoolConfiguration"]["Status"] == "PendingDelete"
    asg.delete_warm_pool(AutoScalingGroupName="workers", ForceDelete=True)
    assert "WarmPoolConfiguration" not in asg.describe_warm_pool(AutoScalingGroupName="workers")
    assert ec2_state(emulator, second) == "terminated"
    with pytest.raises(ClientError):
        asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK, InstanceId=second,
                                      LifecycleActionResult="CONTINUE")


def test_a_stopped_warm_instance_is_not_a_managed_node(emulator):
    # DescribeInstanceInformation "does not return information for nodes that are either Stopped or Terminated".
    make_group(emulator, size=1)
    emulator.client("autoscaling").put_warm_pool(AutoScalingGroupName="workers", MaxGroupPreparedCapacity=3)
    (stopped,) = emulator.control("warm_pool", {"group": "workers", "instances": 1})["instance_ids"]
    (running,) = emulator.control("warm_pool", {"group": "workers", "instances": 1, "state": "Warmed:Running"})[
        "instance_ids"]
    listed = {i["InstanceId"] for i in emulator.client("ssm").describe_instance_information()[
        "InstanceInformationList"]}
    assert running in listed and stopped not in listed
    assert group_instances(emulator, "workers")[0]["InstanceId"] in listed


def test_control_endpoint_needs_a_pool(emulator):
    make_group(emulator, size=1)
    with pytest.raises(Exception) as error:
        emulator.control("warm_pool", {"group": "workers", "instances": 1})
    assert "PutWarmPool" in error.value.read().decode()
