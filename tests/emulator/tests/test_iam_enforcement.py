"""IAM is enforced for role sessions (a Lambda function's execution role): identity policies, permissions
boundaries, resource types and condition keys from the Service Authorization Reference."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from conftest import REGION, make_group, make_role
from test_lambda_delivery import finished, function, records, subscribed_topic
from test_ssm_commands import instances

from graceful_emulator.iam import policy_eval, sar

ACCOUNT = "123456789012"


def session_client(emulator, service: str, role_arn: str, session_name: str = "drain-handler"):
    session = emulator.control("sessions", {"role_arn": role_arn, "session_name": session_name})["session"]
    return boto3.client(service, endpoint_url=emulator.endpoint, region_name=REGION,
                        aws_access_key_id=session["access_key_id"], aws_secret_access_key=session["secret_access_key"],
                        aws_session_token=session["session_token"])


def role_with_policy(emulator, name: str, statements: list, boundary: list | None = None) -> str:
    arn = make_role(emulator, name)
    iam = emulator.client("iam")
    iam.put_role_policy(RoleName=name, PolicyName="inline",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    if boundary is not None:
        policy = iam.create_policy(PolicyName=f"{name}-boundary", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": boundary}))["Policy"]["Arn"]
        iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=policy)
    return arn


def denied(call, **params) -> dict:
    with pytest.raises(ClientError) as error:
        call(**params)
    return error.value.response


def test_an_action_no_identity_policy_allows_is_denied_in_aws_words(emulator):
    make_group(emulator)
    role = role_with_policy(emulator, "handler", [
        {"Effect": "Allow", "Action": "autoscaling:DescribeAutoScalingGroups", "Resource": "*"}])
    autoscaling = session_client(emulator, "autoscaling", role)
    autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["workers"])
    answer = denied(autoscaling.describe_scaling_activities, AutoScalingGroupName="workers")
    assert answer["Error"]["Code"] == "AccessDenied"
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert answer["Error"]["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/handler/drain-handler is not authorized to perform: "
        "autoscaling:DescribeScalingActivities on resource: * because no identity-based policy allows the "
        "autoscaling:DescribeScalingActivities action")
    [event] = emulator.events("access-denied")
    assert event["reason"] == "no-identity-allow"


def test_the_terraform_users_own_credentials_stay_unrestricted(emulator):
    make_group(emulator)
    emulator.client("autoscaling").describe_scaling_activities(AutoScalingGroupName="workers")
    assert not emulator.events("access-denied")


def test_resource_arns_and_group_tags_come_from_the_sar(emulator):
    make_group(emulator)
    group_arn = emulator.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=["workers"])["AutoScalingGroups"][0]["AutoScalingGroupARN"]
    role = role_with_policy(emulator, "completer", [
        {"Effect": "Allow", "Action": "autoscaling:CompleteLifecycleAction", "Resource": group_arn,
         "Condition": {"StringEquals": {"aws:ResourceTag/graceful": "yes"}}}])
    autoscaling = session_client(emulator, "autoscaling", role)
    params = {"AutoScalingGroupName": "workers", "LifecycleHookName": "drain", "LifecycleActionResult": "CONTINUE",
              "InstanceId": "i-0123456789abcdef0"}
    answer = denied(autoscaling.complete_lifecycle_action, **params)
    assert answer["Error"]["Code"] == "AccessDenied"
    assert f"on resource: {group_arn} because no identity-based policy allows" in answer["Error"]["Message"]
    emulator.client("autoscaling").create_or_update_tags(Tags=[{
        "ResourceId": "workers", "ResourceType": "auto-scaling-group", "Key": "graceful", "Value": "yes",
        "PropagateAtLaunch": False}])
    answer = denied(autoscaling.complete_lifecycle_action, **params)  # allowed now: the service answers itself
    assert answer["Error"]["Code"] == "ValidationError" and "No active Lifecycle Action" in answer["Error"]["Message"]


def send_command_role(emulator, name: str, tag_key: str) -> str:
    return role_with_policy(emulator, name, [
        {"Effect": "Allow", "Action": "ssm:SendCommand", "Resource": "arn:aws:ssm:*:*:document/drain-doc"},
        {"Effect": "Allow", "Action": "ssm:SendCommand", "Resource": "arn:aws:ec2:*:*:instance/*",
         "Condition": {"StringEquals": {tag_key: "workers"}}}])


@pytest.mark.parametrize("tag_key", ["aws:ResourceTag/group", "ssm:resourceTag/group"])
def test_send_command_is_authorised_per_instance_by_its_tags(emulator, tag_key):
    tagged, untagged = instances(emulator, 2)
    emulator.client("ec2").create_tags(Resources=[tagged], Tags=[{"Key": "group", "Value": "workers"}])
    emulator.client("ssm").create_document(Name="drain-doc", DocumentType="Command", Content=json.dumps(
        {"schemaVersion": "2.2", "description": "d", "mainSteps": [
            {"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["true"]}}]}))
    ssm = session_client(emulator, "ssm", send_command_role(emulator, "sender", tag_key))
    ssm.send_command(DocumentName="drain-doc", InstanceIds=[tagged])
    answer = denied(ssm.send_command, DocumentName="drain-doc", InstanceIds=[tagged, untagged])
    assert answer["Error"]["Code"] == "AccessDeniedException"
    assert (f"is not authorized to perform: ssm:SendCommand on resource: arn:aws:ec2:{REGION}:{ACCOUNT}:instance/"
            f"{untagged} because no identity-based policy allows the ssm:SendCommand action") in \
        answer["Error"]["Message"]


def test_permissions_boundary_and_explicit_deny(emulator):
    make_group(emulator)
    role = role_with_policy(emulator, "bounded", [{"Effect": "Allow", "Action": "autoscaling:Describe*",
                                                   "Resource": "*"}],
                            boundary=[{"Effect": "Allow", "Action": "autoscaling:DescribeAutoScalingGroups",
                                       "Resource": "*"}])
    autoscaling = session_client(emulator, "autoscaling", role)
    autoscaling.describe_auto_scaling_groups()
    answer = denied(autoscaling.describe_scaling_activities)
    assert answer["Error"]["Message"].endswith(
        "because no permissions boundary allows the autoscaling:DescribeScalingActivities action")
    deny = role_with_policy(emulator, "denied", [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "autoscaling:DescribeAutoScalingGroups", "Resource": "*"}])
    answer = denied(session_client(emulator, "autoscaling", deny).describe_auto_scaling_groups)
    assert answer["Error"]["Message"].endswith("with an explicit deny in an identity-based policy")


def test_a_lambda_environment_runs_with_its_roles_session_credentials(emulator, tmp_path):
    arn, record = function(emulator, tmp_path)
    topic = subscribed_topic(emulator, arn)
    emulator.client("sns").publish(TopicArn=topic, Message="{}")
    emulator.wait_for(lambda: finished(emulator), what="the invocation")
    [seen] = records(record)
    assert seen["env"]["AWS_ACCESS_KEY_ID"] != "test"
    sts = boto3.client("sts", endpoint_url=emulator.endpoint, region_name=REGION,
                       aws_access_key_id=seen["env"]["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=seen["env"]["AWS_SECRET_ACCESS_KEY"],
                       aws_session_token=seen["env"]["AWS_SESSION_TOKEN"])
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/probe-role/probe"
    # The probe's role has no policy: anything else it calls is denied.
    ssm = boto3.client("ssm", endpoint_url=emulator.endpoint, region_name=REGION,
                       aws_access_key_id=seen["env"]["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=seen["env"]["AWS_SECRET_ACCESS_KEY"],
                       aws_session_token=seen["env"]["AWS_SESSION_TOKEN"])
    assert denied(ssm.list_commands)["Error"]["Code"] == "AccessDeniedException"


# --- the evaluator alone (IAM user guide, "Policy evaluation logic" and "Condition operators") ----------------

def decide(statements: list, action="ssm:SendCommand", resource="arn:aws:ec2:us-east-1:1:instance/i-1",
           context=None, boundary=None) -> str:
    request = policy_eval.Request(action, resource, {k.lower(): v for k, v in (context or {}).items()})
    return policy_eval.evaluate([{"Statement": statements}], boundary, request).reason


def test_missing_condition_keys_follow_the_documented_operator_rules():
    allow = {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}
    assert decide([dict(allow, Condition={"StringEquals": {"aws:ResourceTag/g": "w"}})]) == "no-identity-allow"
    assert decide([dict(allow, Condition={"StringNotEquals": {"aws:ResourceTag/g": "w"}})]) == "allowed"
    assert decide([dict(allow, Condition={"StringEqualsIfExists": {"aws:ResourceTag/g": "w"}})]) == "allowed"
    assert decide([dict(allow, Condition={"Null": {"aws:ResourceTag/g": "true"}})]) == "allowed"
    assert decide([dict(allow, Condition={"StringLike": {"AWS:RESOURCETAG/G": "w*"}})],
                  context={"aws:ResourceTag/g": ["workers"]}) == "allowed"  # key names are case-insensitive


def test_action_and_resource_matching():
    assert decide([{"Effect": "Allow", "Action": "SSM:send*", "Resource": "arn:aws:ec2:*:*:instance/*"}]) == "allowed"
    assert decide([{"Effect": "Allow", "NotAction": "ssm:SendCommand", "Resource": "*"}]) == "no-identity-allow"
    assert decide([{"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:ec2:*:*:instance/i-1"}]) == \
        "no-identity-allow"
    assert decide([{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                  boundary={"Statement": [{"Effect": "Deny", "Action": "ssm:*", "Resource": "*"}]}) == \
        "explicit-deny-boundary"


def test_sar_maps_operations_to_actions():
    assert sar.action_for("lambda", "Invoke") == "InvokeFunction"
    assert sar.action_for("autoscaling", "DescribeScalingActivities") == "DescribeScalingActivities"
    assert "instance" in sar.privilege("ssm", "SendCommand")["resource_types"]


def test_group_instances_carry_the_aws_autoscaling_group_name_tag_a_condition_can_use(emulator):
    # "Amazon EC2 Auto Scaling adds a tag to instances: aws:autoscaling:groupName" (EC2 Auto Scaling user guide,
    # "Tag Auto Scaling groups and instances").
    [instance, *_] = make_group(emulator)
    emulator.client("ssm").create_document(Name="drain-doc", DocumentType="Command", Content=json.dumps(
        {"schemaVersion": "2.2", "description": "d", "mainSteps": [
            {"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["true"]}}]}))
    role = send_command_role(emulator, "group-sender", "aws:ResourceTag/aws:autoscaling:groupName")
    ssm = session_client(emulator, "ssm", role)
    ssm.send_command(DocumentName="drain-doc", InstanceIds=[instance])


def test_parameter_arns_drop_the_leading_slash(emulator):
    role = role_with_policy(emulator, "locker", [
        {"Effect": "Allow", "Action": ["ssm:PutParameter", "ssm:GetParametersByPath"],
         "Resource": [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/locks",
                      f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/locks/*"]}])
    ssm = session_client(emulator, "ssm", role)
    ssm.put_parameter(Name="/locks/token-1", Value="i-1", Type="String")
    assert [p["Name"] for p in ssm.get_parameters_by_path(Path="/locks")["Parameters"]] == ["/locks/token-1"]
    answer = denied(ssm.put_parameter, Name="/elsewhere/token-1", Value="i-1", Type="String")
    assert f"on resource: arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/elsewhere/token-1 because" in \
        answer["Error"]["Message"]
