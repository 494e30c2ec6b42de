"""Instance refresh and maximum instance lifetime replace instances through the TERMINATING hooks, batch by batch."""

import time

import pytest
from botocore.exceptions import ClientError
from conftest import make_group
from test_lifecycle_hooks import HOOK, put_hook, states


def refresh_of(emulator, refresh_id) -> dict:
    found = emulator.client("autoscaling").describe_instance_refreshes(
        AutoScalingGroupName="workers", InstanceRefreshIds=[refresh_id])["InstanceRefreshes"]
    return found[0]


def test_a_wave_waits_for_each_lifecycle_action(emulator):
    old = make_group(emulator, size=2)
    put_hook(emulator, timeout=7200)
    asg = emulator.client("autoscaling")
    # MinHealthyPercentage 50 of 2: one instance at a time.
    refresh_id = asg.start_instance_refresh(AutoScalingGroupName="workers", Preferences={
        "MinHealthyPercentage": 50, "InstanceWarmup": 0})["InstanceRefreshId"]
    first = [i for i, s in states(emulator).items() if s == "Terminating:Wait"]
    assert len(first) == 1 and first[0] in old
    assert list(states(emulator).values()).count("InService") == 2  # its replacement launched alongside
    time.sleep(0.5)  # the ticker runs every 50 ms: nothing moves while the action is open
    assert states(emulator)[first[0]] == "Terminating:Wait"
    assert [i for i in old if states(emulator).get(i) == "Terminating:Wait"] == first
    assert refresh_of(emulator, refresh_id)["Status"] == "InProgress"
    assert refresh_of(emulator, refresh_id)["PercentageComplete"] == 0
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK, InstanceId=first[0],
                                  LifecycleActionResult="CONTINUE")
    (second,) = [i for i in old if i != first[0]]
    emulator.wait_for(lambda: states(emulator).get(second) == "Terminating:Wait", timeout=5, what="second batch")
    assert refresh_of(emulator, refresh_id)["PercentageComplete"] == 50
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK, InstanceId=second,
                                  LifecycleActionResult="CONTINUE")
    emulator.wait_for(lambda: refresh_of(emulator, refresh_id)["Status"] == "Successful", timeout=5, what="success")
    done = refresh_of(emulator, refresh_id)
    assert done["PercentageComplete"] == 100 and done["InstancesToUpdate"] == 0 and done["EndTime"]
    now = states(emulator)
    assert len(now) == 2 and not set(now) & set(old) and set(now.values()) == {"InService"}
    batches = emulator.events("instance-refresh-batch")
    assert [b["old"] for b in batches] == [first, [second]]
    terminated = [e["seq"] for e in emulator.events("instance-terminated") if e["instance_id"] == first[0]]
    assert terminated[0] < batches[1]["seq"]  # the second batch started only after the first had terminated


def test_launch_before_terminating_and_skip_matching(emulator):
    make_group(emulator, size=2)
    put_hook(emulator, timeout=7200)
    asg = emulator.client("autoscaling")
    ec2 = emulator.client("ec2")
    template = ec2.describe_launch_templates(LaunchTemplateNames=["workers-lt"])["LaunchTemplates"][0]
    ec2.create_launch_template_version(LaunchTemplateId=template["LaunchTemplateId"], SourceVersion="1",
                                       LaunchTemplateData={"InstanceType": "t3.small"})
    refresh_id = asg.start_instance_refresh(
        AutoScalingGroupName="workers", DesiredConfiguration={"LaunchTemplate": {
            "LaunchTemplateId": template["LaunchTemplateId"], "Version": "2"}},
        Preferences={"MinHealthyPercentage": 100, "MaxHealthyPercentage": 150, "InstanceWarmup": 0,
                     "SkipMatching": True})["InstanceRefreshId"]
    (batch,) = emulator.events("instance-refresh-batch")
    assert batch["launch_first"] and len(batch["old"]) == len(batch["new"]) == 1
    # MaxHealthyPercentage 150 of 2: the replacement is InService while the old one still waits.
    assert states(emulator)[batch["new"][0]] == "InService"
    assert states(emulator)[batch["old"][0]] == "Terminating:Wait"
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK,
                                  InstanceId=batch["old"][0], LifecycleActionResult="CONTINUE")
    emulator.wait_for(lambda: len(emulator.events("instance-refresh-batch")) == 2, timeout=5, what="second batch")
    second = emulator.events("instance-refresh-batch")[1]
    assert batch["new"][0] not in second["old"]  # launched from version 2: skipped
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK,
                                  InstanceId=second["old"][0], LifecycleActionResult="CONTINUE")
    emulator.wait_for(lambda: refresh_of(emulator, refresh_id)["Status"] == "Successful", timeout=5, what="success")
    types = {i["InstanceType"] for r in ec2.describe_instances(InstanceIds=list(states(emulator)))["Reservations"]
             for i in r["Instances"]}
    assert types == {"t3.small"}


def test_one_refresh_at_a_time_and_cancel(emulator):
    make_group(emulator, size=2)
    put_hook(emulator, timeout=7200)
    asg = emulator.client("autoscaling")
    refresh_id = asg.start_instance_refresh(AutoScalingGroupName="workers",
                                            Preferences={"MinHealthyPercentage": 50})["InstanceRefreshId"]
    with pytest.raises(ClientError) as error:
        asg.start_instance_refresh(AutoScalingGroupName="workers")
    assert error.value.response["Error"]["Code"] == "InstanceRefreshInProgress"
    asg.cancel_instance_refresh(AutoScalingGroupName="workers")
    assert refresh_of(emulator, refresh_id)["Status"] == "Cancelling"  # the batch in flight finishes first
    (held,) = [i for i, s in states(emulator).items() if s == "Terminating:Wait"]
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK, InstanceId=held,
                                  LifecycleActionResult="CONTINUE")
    emulator.wait_for(lambda: refresh_of(emulator, refresh_id)["Status"] == "Cancelled", timeout=5, what="cancel")
    assert len(emulator.events("instance-refresh-batch")) == 1
    with pytest.raises(ClientError) as error:
        asg.cancel_instance_refresh(AutoScalingGroupName="workers")
    assert error.value.response["Error"]["Code"] == "ActiveInstanceRefreshNotFound"


def test_max_instance_lifetime_replaces_through_the_hook(emulator):
    old = make_group(emulator, size=2)
    put_hook(emulator, timeout=7200)
    asg = emulator.client("autoscaling")
    with pytest.raises(Exception):
        emulator.control("instance_lifetime", {"group": "workers", "instance_ids": old[:1]})  # no lifetime set
    with pytest.raises(ClientError):
        asg.update_auto_scaling_group(AutoScalingGroupName="workers", MaxInstanceLifetime=3600)
    asg.update_auto_scaling_group(AutoScalingGroupName="workers", MaxInstanceLifetime=86400)
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["workers"])["AutoScalingGroups"][0]
    assert group["MaxInstanceLifetime"] == 86400
    (replacement,) = emulator.control("instance_lifetime", {"group": "workers", "instance_ids": old[:1]})[
        "replacements"]
    now = states(emulator)
    assert now[old[0]] == "Terminating:Wait" and now[replacement] == "InService" and now[old[1]] == "InService"
    expired = emulator.events("instance-lifetime-expired")[0]["seq"]
    waiting = [e["seq"] for e in emulator.events("lifecycle-transition") if e["instance_id"] == old[0]][0]
    assert expired < waiting
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK, InstanceId=old[0],
                                  LifecycleActionResult="CONTINUE")
    assert old[0] not in states(emulator)
