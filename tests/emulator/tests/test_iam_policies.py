"""IAM keeps policy documents as written, so a provider reading them back sees no drift."""

import json

from conftest import make_role

POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Publish", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": "arn:aws:sns:us-east-1:123456789012:t"},
    {"Effect": "Allow", "Action": "ssm:SendCommand", "Resource": "*", "Condition": {
        "StringEquals": {"ssm:resourceTag/graceful": "true"}}}]}


def test_inline_and_managed_policies_round_trip(emulator):
    iam = emulator.client("iam")
    make_role(emulator, "reader")
    iam.put_role_policy(RoleName="reader", PolicyName="inline", PolicyDocument=json.dumps(POLICY))
    assert iam.get_role_policy(RoleName="reader", PolicyName="inline")["PolicyDocument"] == POLICY
    assert iam.list_role_policies(RoleName="reader")["PolicyNames"] == ["inline"]
    arn = iam.create_policy(PolicyName="managed", PolicyDocument=json.dumps(POLICY))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="reader", PolicyArn=arn)
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    assert iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"] == POLICY
    attached = iam.list_attached_role_policies(RoleName="reader")["AttachedPolicies"]
    assert attached == [{"PolicyName": "managed", "PolicyArn": arn}]
    trust = iam.get_role(RoleName="reader")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "autoscaling.amazonaws.com"}
