"""Done-when of the offline world: the REAL drain handler (`cargo xtask lambda`'s x86_64 zip) drains a scale-in.

A 3-instance group scales to 1 with a hook whose topic is subscribed by a Lambda running the real `bootstrap`; the
messages reach that process, and the instances leave the group only once their lifecycle action is completed.
"""

import json
import os
import time

import pytest
from conftest import group_instances, make_group, make_publisher_role, make_role

WORKSPACE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
HANDLER_ZIP = os.environ.get("GRACEFUL_HANDLER_ZIP",
                             os.path.join(WORKSPACE, "target", "lambda", "x86_64", "bootstrap.zip"))
DRAIN_DOCUMENT = {
    "schemaVersion": "2.2", "description": "drain a Nomad client (emulator test)", "parameters": {},
    "mainSteps": [{"action": "aws:runShellScript", "name": "drain", "inputs": {"timeoutSeconds": "60", "runCommand": [
        "set -e", "nomad node eligibility -disable -self", "nomad node drain -enable -self -yes -deadline 1m"]}}]}


def handler_zip() -> bytes:
    if not os.path.isfile(HANDLER_ZIP):
        pytest.fail(f"the real handler zip is missing at {HANDLER_ZIP}: build it with `cargo xtask lambda` "
                    "(or point GRACEFUL_HANDLER_ZIP at one)")
    with open(HANDLER_ZIP, "rb") as handle:
        return handle.read()


def test_real_handler_drains_a_scale_in_from_three_to_one(emulator):
    code = handler_zip()
    sns, asg = emulator.client("sns"), emulator.client("autoscaling")
    instances = make_group(emulator, "nomad-clients", size=3)
    lifecycle_topic = sns.create_topic(Name="graceful-lifecycle")["TopicArn"]
    status_topic = sns.create_topic(Name="graceful-command-status")["TopicArn"]
    hook_role = make_publisher_role(emulator, "graceful-hook")
    ssm_role = make_publisher_role(emulator, "graceful-ssm-notify", "ssm.amazonaws.com")
    emulator.client("ssm").create_document(Name="graceful-drain", DocumentType="Command", DocumentFormat="JSON",
                                           Content=json.dumps(DRAIN_DOCUMENT))
    config = {
        "resource_name": "graceful", "hook_name": "graceful-drain", "notification_metadata": "graceful",
        "autoscaling_group_names": ["nomad-clients"], "document_name": "graceful-drain", "document_parameters": {},
        "notification_topic_arn": status_topic, "notification_role_arn": ssm_role, "command_log_group_name": None,
        "drain_timeout_seconds": 60, "heartbeat_timeout_seconds": 300, "on_failure": "ABANDON",
        "agent_wait_seconds": 30,
    }
    handler_role = make_role(emulator, "graceful-lambda")
    # The emulator enforces IAM for the handler's role session. This test is about the drain flow, so the role may
    # do anything on Auto Scaling and SSM and pass roles; the provider's least-privilege policy is checked by the
    # Rust acceptance suites, where the provider writes it.
    drain_flow = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["autoscaling:*", "ssm:*", "iam:PassRole"], "Resource": "*"}]}
    emulator.client("iam").put_role_policy(RoleName="graceful-lambda", PolicyName="drain-flow",
                                           PolicyDocument=json.dumps(drain_flow))
    function_arn = emulator.client("lambda").create_function(
        FunctionName="graceful-handler", Runtime="provided.al2023", Handler="bootstrap", Architectures=["x86_64"],
        Role=handler_role, Code={"ZipFile": code}, Timeout=120, MemorySize=128,
        Environment={"Variables": {"GRACEFUL_CONFIG": json.dumps(config)}})["FunctionArn"]
    for index, topic in enumerate((lifecycle_topic, status_topic)):
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn)
        emulator.client("lambda").add_permission(FunctionName=function_arn, StatementId=f"sns-{index}",
                                                 Action="lambda:InvokeFunction", Principal="sns.amazonaws.com",
                                                 SourceArn=topic)
    asg.put_lifecycle_hook(AutoScalingGroupName="nomad-clients", LifecycleHookName="graceful-drain",
                           LifecycleTransition="autoscaling:EC2_INSTANCE_TERMINATING", HeartbeatTimeout=300,
                           DefaultResult="ABANDON", NotificationTargetARN=lifecycle_topic, RoleARN=hook_role,
                           NotificationMetadata="graceful")
    emulator.control("nomad", {"drain_seconds": 2})

    asg.set_desired_capacity(AutoScalingGroupName="nomad-clients", DesiredCapacity=1)
    held = {i["InstanceId"] for i in group_instances(emulator, "nomad-clients")
            if i["LifecycleState"] == "Terminating:Wait"}
    assert len(held) == 2 and held < set(instances)
    time.sleep(1)  # the drain takes 2 s: both are still held by the hook
    assert held <= {i["InstanceId"] for i in group_instances(emulator, "nomad-clients")}

    emulator.wait_for(lambda: len(group_instances(emulator, "nomad-clients")) == 1, timeout=90,
                      what="the handler to drain and complete both instances")
    events = emulator.events()
    delivered = {}
    for event in events:
        if event["kind"] == "lambda-delivery" and event["function"] == "graceful-handler":
            message = json.loads(event["event"]["Records"][0]["Sns"]["Message"])
            if message.get("LifecycleTransition"):
                delivered[message["EC2InstanceId"]] = event["seq"]
    assert set(delivered) == held, "each held instance's lifecycle message reached the handler process"
    answered = [e for e in events if e["kind"] == "lambda-invocation-finished" and e["outcome"] == "response"]
    assert answered, "the real bootstrap answered through the Runtime API"
    for instance in held:
        completed = [e for e in events if e["kind"] == "lifecycle-action-completed"
                     and e["instance_id"] == instance]
        terminated = [e for e in events if e["kind"] == "instance-terminated" and e["instance_id"] == instance]
        assert [c["reason"] for c in completed] == ["CompleteLifecycleAction"], completed
        assert terminated and completed[0]["seq"] < terminated[0]["seq"]
        drains = [e for e in events if e["kind"] == "nomad-call" and e["instance_id"] == instance
                  and e["argv"][:2] == ["node", "drain"]]
        assert drains and drains[0]["seq"] < completed[0]["seq"], "the drain ran before the action was completed"
