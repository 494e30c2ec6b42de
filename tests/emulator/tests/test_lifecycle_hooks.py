"""Lifecycle hooks: stored, validated, Terminating:Wait on scale-in, notifications, complete/heartbeat, timeouts."""

import json

import pytest
from botocore.exceptions import ClientError
from conftest import drain_queue, group_instances, make_group, make_publisher_role, topic_with_queue

HOOK = "drain"
TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"


def put_hook(emulator, group="workers", name=HOOK, timeout=300, default="ABANDON", metadata="graceful"):
    topic, queue = topic_with_queue(emulator, f"{group}-{name}")
    role = make_publisher_role(emulator, f"{group}-{name}-role")
    emulator.client("autoscaling").put_lifecycle_hook(
        AutoScalingGroupName=group, LifecycleHookName=name, LifecycleTransition=TERMINATING,
        HeartbeatTimeout=timeout, DefaultResult=default, NotificationTargetARN=topic, RoleARN=role,
        NotificationMetadata=metadata)
    return topic, role, queue


def states(emulator, group="workers") -> dict:
    return {i["InstanceId"]: i["LifecycleState"] for i in group_instances(emulator, group)}


def test_hook_keeps_target_role_metadata_and_sends_test_notification(emulator):
    make_group(emulator)
    topic, role, queue = put_hook(emulator, timeout=120)
    hook = emulator.client("autoscaling").describe_lifecycle_hooks(AutoScalingGroupName="workers")["LifecycleHooks"][0]
    assert hook["NotificationTargetARN"] == topic
    assert hook["RoleARN"] == role
    assert hook["NotificationMetadata"] == "graceful"
    assert hook["HeartbeatTimeout"] == 120
    assert hook["GlobalTimeout"] == 12000
    assert hook["DefaultResult"] == "ABANDON"
    messages = drain_queue(emulator, queue)
    assert len(messages) == 1
    assert messages[0]["Message"]["Event"] == "autoscaling:TEST_NOTIFICATION"
    assert messages[0]["Message"]["AutoScalingGroupName"] == "workers"
    assert messages[0]["Subject"] == 'Auto Scaling: test notification for group "workers"'


@pytest.mark.parametrize("change, wording", [
    ({"HeartbeatTimeout": 10}, "between 30 and 7200"),
    ({"HeartbeatTimeout": 7201}, "between 30 and 7200"),
    ({"DefaultResult": "MAYBE"}, "DefaultResult"),
    ({"AutoScalingGroupName": "nope"}, "AutoScalingGroup name not found"),
    ({"NotificationTargetARN": "arn:aws:sns:us-east-1:123456789012:missing"}, "Unable to publish test message"),
    ({"RoleARN": "arn:aws:iam::123456789012:role/missing"}, "Unable to publish test message"),
])
def test_hook_validation(emulator, change, wording):
    make_group(emulator)
    topic, _ = topic_with_queue(emulator)
    params = {"AutoScalingGroupName": "workers", "LifecycleHookName": HOOK, "LifecycleTransition": TERMINATING,
              "HeartbeatTimeout": 60, "NotificationTargetARN": topic, "RoleARN": make_publisher_role(emulator)}
    params.update(change)
    with pytest.raises(ClientError) as error:
        emulator.client("autoscaling").put_lifecycle_hook(**params)
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert wording in error.value.response["Error"]["Message"]


def test_scale_in_parks_instances_and_publishes_one_message_each(emulator):
    instances = make_group(emulator)
    _, _, queue = put_hook(emulator)
    drain_queue(emulator, queue)  # the test notification
    emulator.client("autoscaling").set_desired_capacity(AutoScalingGroupName="workers", DesiredCapacity=1)
    now = states(emulator)
    waiting = [i for i, s in now.items() if s == "Terminating:Wait"]
    assert len(waiting) == 2 and set(now) == set(instances)
    assert emulator.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=["workers"])["AutoScalingGroups"][0]["DesiredCapacity"] == 1
    messages = drain_queue(emulator, queue)
    assert sorted(m["Message"]["EC2InstanceId"] for m in messages) == sorted(waiting)
    for message in messages:
        body = message["Message"]
        assert body["LifecycleTransition"] == TERMINATING
        assert body["LifecycleHookName"] == HOOK and body["AutoScalingGroupName"] == "workers"
        assert body["NotificationMetadata"] == "graceful" and body["Service"] == "AWS Auto Scaling"
        assert body["LifecycleActionToken"] and body["AccountId"] == "123456789012"
        assert message["Subject"] == (f"Auto Scaling:  Lifecycle action 'TERMINATING' for instance "
                                      f"{body['EC2InstanceId']} in progress.")
    # Running instances stay running while they wait.
    reservations = emulator.client("ec2").describe_instances(InstanceIds=waiting)["Reservations"]
    assert {i["State"]["Name"] for r in reservations for i in r["Instances"]} == {"running"}


def test_complete_by_token_and_by_instance_id_terminates_and_removes(emulator):
    make_group(emulator)
    _, _, queue = put_hook(emulator)
    drain_queue(emulator, queue)
    asg = emulator.client("autoscaling")
    asg.update_auto_scaling_group(AutoScalingGroupName="workers", DesiredCapacity=1)
    first, second = drain_queue(emulator, queue)
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK,
                                  LifecycleActionToken=first["Message"]["LifecycleActionToken"],
                                  LifecycleActionResult="CONTINUE")
    assert first["Message"]["EC2InstanceId"] not in states(emulator)
    assert states(emulator)[second["Message"]["EC2InstanceId"]] == "Terminating:Wait"
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK,
                                  InstanceId=second["Message"]["EC2InstanceId"], LifecycleActionResult="ABANDON")
    assert list(states(emulator).values()) == ["InService"]
    gone = emulator.client("ec2").describe_instances(InstanceIds=[second["Message"]["EC2InstanceId"]])
    assert gone["Reservations"][0]["Instances"][0]["State"]["Name"] == "terminated"
    with pytest.raises(ClientError) as error:
        asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK,
                                      InstanceId=second["Message"]["EC2InstanceId"], LifecycleActionResult="CONTINUE")
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert error.value.response["Error"]["Message"] == (
        f"No active Lifecycle Action found with instance ID {second['Message']['EC2InstanceId']}")


def test_heartbeat_extends_and_timeout_applies_default_result(emulator):
    make_group(emulator, size=2)
    _, _, queue = put_hook(emulator, timeout=30, default="CONTINUE")
    emulator.control("clock", {"scale": 30})  # 30 s of hook time = 1 s real
    asg = emulator.client("autoscaling")
    asg.set_desired_capacity(AutoScalingGroupName="workers", DesiredCapacity=1)
    waiting = [i for i, s in states(emulator).items() if s == "Terminating:Wait"][0]
    import time
    for _ in range(4):  # 2 s of heartbeats every 0.5 s keep it waiting past one timeout
        time.sleep(0.5)
        asg.record_lifecycle_action_heartbeat(AutoScalingGroupName="workers", LifecycleHookName=HOOK,
                                              InstanceId=waiting)
    assert states(emulator)[waiting] == "Terminating:Wait"
    emulator.wait_for(lambda: waiting not in states(emulator), timeout=5, what="heartbeat timeout")
    completed = emulator.events("lifecycle-action-completed")
    assert completed[-1]["result"] == "CONTINUE" and completed[-1]["reason"] == "heartbeat timeout"
    with pytest.raises(ClientError) as error:
        asg.record_lifecycle_action_heartbeat(AutoScalingGroupName="workers", LifecycleHookName=HOOK,
                                              InstanceId=waiting)
    assert "No active Lifecycle Action found with instance ID" in error.value.response["Error"]["Message"]


def test_global_timeout_ends_the_wait_despite_heartbeats(emulator):
    import time
    make_group(emulator, size=1)
    put_hook(emulator, timeout=7200)
    asg = emulator.client("autoscaling")
    hook = asg.describe_lifecycle_hooks(AutoScalingGroupName="workers")["LifecycleHooks"][0]
    assert hook["GlobalTimeout"] == 172800  # 48 h caps 100 x 7200 s
    # Hook time runs 8640x: a heartbeat is due every 0.83 s, the 48 h global timeout comes after 20 s.
    emulator.control("clock", {"scale": 8640})
    asg.set_desired_capacity(AutoScalingGroupName="workers", DesiredCapacity=0)
    waiting = list(states(emulator))[0]
    started = time.monotonic()
    while time.monotonic() - started < 30:
        try:
            asg.record_lifecycle_action_heartbeat(AutoScalingGroupName="workers", LifecycleHookName=HOOK,
                                                  InstanceId=waiting)
        except ClientError:
            break
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    assert waiting not in states(emulator)
    assert [e["reason"] for e in emulator.events("lifecycle-action-completed")] == ["global timeout"]
    assert 19 <= elapsed <= 25, f"the wait ended after {elapsed:.1f} s, expected the 20 s global timeout"


def test_terminate_instance_in_group_waits_and_replaces_unless_decremented(emulator):
    instances = make_group(emulator, size=2)
    _, _, queue = put_hook(emulator)
    drain_queue(emulator, queue)
    asg = emulator.client("autoscaling")
    activity = asg.terminate_instance_in_auto_scaling_group(InstanceId=instances[0],
                                                            ShouldDecrementDesiredCapacity=False)["Activity"]
    assert instances[0] in activity["Description"]
    now = states(emulator)
    assert now[instances[0]] == "Terminating:Wait"
    assert list(now.values()).count("InService") == 2  # a replacement was launched
    asg.terminate_instance_in_auto_scaling_group(InstanceId=instances[1], ShouldDecrementDesiredCapacity=True)
    assert list(states(emulator).values()).count("InService") == 1
    assert [m["Message"]["EC2InstanceId"] for m in drain_queue(emulator, queue)] == instances[:2]


def test_several_hooks_all_notified_and_abandon_ends_the_rest(emulator):
    make_group(emulator, size=1)
    put_hook(emulator, name="first")
    put_hook(emulator, name="second")
    asg = emulator.client("autoscaling")
    asg.set_desired_capacity(AutoScalingGroupName="workers", DesiredCapacity=0)
    instance = list(states(emulator))[0]
    assert len(emulator.events("lifecycle-notification")) == 2
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName="first", InstanceId=instance,
                                  LifecycleActionResult="CONTINUE")
    assert states(emulator)[instance] == "Terminating:Wait"  # the second hook still holds it
    asg.put_lifecycle_hook(AutoScalingGroupName="workers", LifecycleHookName="third",
                           LifecycleTransition=TERMINATING)
    asg.set_desired_capacity(AutoScalingGroupName="workers", DesiredCapacity=0)
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName="second", InstanceId=instance,
                                  LifecycleActionResult="ABANDON")
    assert instance not in states(emulator)


def test_deleting_a_hook_completes_its_outstanding_actions_with_continue(emulator):
    # AWS: "If there are any outstanding lifecycle actions, they are completed first (... CONTINUE for terminating
    # instances)". Terraform destroy deletes hooks while instances may wait; none must stay stuck.
    make_group(emulator, size=2)
    put_hook(emulator, timeout=7200, default="ABANDON")
    asg = emulator.client("autoscaling")
    asg.set_desired_capacity(AutoScalingGroupName="workers", DesiredCapacity=1)
    waiting = [i for i, s in states(emulator).items() if s == "Terminating:Wait"]
    assert len(waiting) == 1
    asg.delete_lifecycle_hook(AutoScalingGroupName="workers", LifecycleHookName=HOOK)
    assert waiting[0] not in states(emulator)
    completed = emulator.events("lifecycle-action-completed")
    assert [(c["instance_id"], c["result"], c["reason"]) for c in completed] == [
        (waiting[0], "CONTINUE", "lifecycle hook deleted")]
    assert asg.describe_lifecycle_hooks(AutoScalingGroupName="workers")["LifecycleHooks"] == []


def test_scale_in_records_a_scaling_activity_per_held_instance(emulator):
    # The handler reads when an instance's wait began from these (bounded wait for an unreachable SSM agent).
    make_group(emulator, size=2)
    put_hook(emulator, timeout=7200)
    asg = emulator.client("autoscaling")
    asg.set_desired_capacity(AutoScalingGroupName="workers", DesiredCapacity=1)
    waiting = [i for i, s in states(emulator).items() if s == "Terminating:Wait"][0]
    activities = asg.describe_scaling_activities(AutoScalingGroupName="workers")["Activities"]
    assert [a["Description"] for a in activities] == [f"Terminating EC2 instance: {waiting}"]
    assert activities[0]["StatusCode"] == "MidLifecycleAction" and activities[0]["StartTime"]
    asg.complete_lifecycle_action(AutoScalingGroupName="workers", LifecycleHookName=HOOK, InstanceId=waiting,
                                  LifecycleActionResult="CONTINUE")
    done = asg.describe_scaling_activities(AutoScalingGroupName="workers")["Activities"][0]
    assert done["StatusCode"] == "Successful" and done["EndTime"] >= done["StartTime"]
    assert asg.describe_scaling_activities(AutoScalingGroupName="other")["Activities"] == []


def test_a_hook_whose_role_cannot_publish_to_its_target_is_refused(emulator):
    make_group(emulator)
    topic, _ = topic_with_queue(emulator, "unpublishable")
    iam = emulator.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "autoscaling.amazonaws.com"}}]}
    bare = iam.create_role(RoleName="no-publish", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    with pytest.raises(Exception) as refused:
        emulator.client("autoscaling").put_lifecycle_hook(
            AutoScalingGroupName="workers", LifecycleHookName="mute", LifecycleTransition=TERMINATING,
            NotificationTargetARN=topic, RoleARN=bare)
    assert "Unable to publish test message" in str(refused.value)
