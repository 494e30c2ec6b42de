"""AWS's documented limits that the service models do not carry, and the SSM document rules the agent applies."""

import json

import pytest
from botocore.exceptions import ClientError
from conftest import make_role, zip_bytes
from test_ssm_commands import instances, wait_status

POLICY_STATEMENT = {"Effect": "Allow", "Action": "ssm:SendCommand", "Resource": "*"}


def rejected(call, **params) -> dict:
    with pytest.raises(ClientError) as error:
        call(**params)
    return error.value.response


def create_function(emulator, variables: dict):
    return emulator.client("lambda").create_function(
        FunctionName="env-limit", Runtime="provided.al2023", Handler="bootstrap", Role=make_role(emulator, "env-role"),
        Code={"ZipFile": zip_bytes({"bootstrap": ("#!/bin/sh\n", 0o755)})}, Environment={"Variables": variables})


def test_lambda_environment_over_4_kb_in_aggregate_is_refused(emulator):
    # {"AA":"<4087 x>"} is 4,096 bytes: the limit itself is allowed (names need 2+ characters: model pattern).
    create_function(emulator, {"AA": "x" * 4087})
    lam = emulator.client("lambda")
    answer = rejected(lam.update_function_configuration, FunctionName="env-limit",
                      Environment={"Variables": {"AA": "x" * 2000, "BB": "y" * 2082}})
    assert answer["Error"]["Code"] == "InvalidParameterValueException"
    assert answer["Error"]["Message"].startswith(
        "Lambda was unable to configure your environment variables because the environment variables you have "
        "provided exceeded the 4KB limit. String measured: {\"AA\":\"xxx")
    assert [e["rule"] for e in emulator.events("request-invalid")] == ["lambda-environment-4kb"]


def policy_of_characters(count: int) -> str:
    """A policy document of exactly `count` non-whitespace characters (a Sid pads it)."""
    base = {"Version": "2012-10-17", "Statement": [dict(POLICY_STATEMENT, Sid="")]}
    padding = count - len(json.dumps(base, separators=(",", ":")))
    base["Statement"][0]["Sid"] = "P" * padding
    return json.dumps(base, separators=(",", ":"))


def test_inline_role_policies_over_10240_characters_in_aggregate_are_refused(emulator):
    iam = emulator.client("iam")
    make_role(emulator, "sized")
    iam.put_role_policy(RoleName="sized", PolicyName="first", PolicyDocument=policy_of_characters(6000))
    iam.put_role_policy(RoleName="sized", PolicyName="second", PolicyDocument=policy_of_characters(4240))
    answer = rejected(iam.put_role_policy, RoleName="sized", PolicyName="third",
                      PolicyDocument=policy_of_characters(100))
    assert answer["Error"]["Code"] == "LimitExceeded"
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert answer["Error"]["Message"] == "Maximum policy size of 10240 bytes exceeded for role sized"
    # Replacing a policy counts its new size, not both; whitespace is not counted.
    spaced = json.dumps(json.loads(policy_of_characters(4240)), indent=8)
    assert len(spaced) > 4240
    iam.put_role_policy(RoleName="sized", PolicyName="second", PolicyDocument=spaced)


def command_document(steps_extra: dict | None = None, parameters: dict | None = None) -> str:
    step = {"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["echo ran {{ seconds }}"]}}
    step.update(steps_extra or {})
    return json.dumps({"schemaVersion": "2.2", "description": "t", "parameters": parameters or {},
                       "mainSteps": [step]})


def test_document_over_64_kb_is_refused_on_create_and_update(emulator):
    ssm = emulator.client("ssm")
    big = json.dumps({"schemaVersion": "2.2", "description": "d" * (64 * 1024), "mainSteps": []})
    answer = rejected(ssm.create_document, Name="big-doc", Content=big, DocumentType="Command")
    assert answer["Error"]["Code"] == "MaxDocumentSizeExceeded"
    ssm.create_document(Name="big-doc", Content=command_document(), DocumentType="Command")
    answer = rejected(ssm.update_document, Name="big-doc", Content=big, DocumentVersion="$LATEST")
    assert answer["Error"]["Code"] == "MaxDocumentSizeExceeded"


@pytest.mark.parametrize("name", ["aws-drain", "amazon-drain", "amzn-drain", "AWSEC2-drain",
                                  "AWSConfigRemediation-drain", "AWSSupport-drain"])
def test_reserved_document_prefixes_are_refused(emulator, name):
    answer = rejected(emulator.client("ssm").create_document, Name=name, Content=command_document(),
                      DocumentType="Command")
    assert answer["Error"]["Code"] == "ValidationException"
    assert "reserved prefix" in answer["Error"]["Message"]


def test_an_unreserved_prefix_that_only_looks_similar_is_accepted(emulator):
    emulator.client("ssm").create_document(Name="graceful-amzn-drain", Content=command_document(),
                                           DocumentType="Command")


def test_document_version_1001_is_refused(emulator):
    ssm = emulator.client("ssm")
    ssm.create_document(Name="versions", Content=command_document(), DocumentType="Command")
    for version in range(2, 1001):
        ssm.update_document(Name="versions", DocumentVersion="$LATEST",
                            Content=command_document({"name": f"run{version}"}))
    answer = rejected(ssm.update_document, Name="versions", DocumentVersion="$LATEST",
                      Content=command_document({"name": "run1001"}))
    assert answer["Error"]["Code"] == "DocumentVersionLimitExceeded"


def test_parameters_must_match_allowed_pattern(emulator):
    [instance] = instances(emulator)
    ssm = emulator.client("ssm")
    ssm.create_document(Name="patterned", DocumentType="Command", Content=command_document(
        parameters={"seconds": {"type": "String", "default": "5", "allowedPattern": "^[0-9]{1,6}$"}}))
    answer = rejected(ssm.send_command, DocumentName="patterned", InstanceIds=[instance],
                      Parameters={"seconds": ["5; reboot"]})
    assert answer["Error"]["Code"] == "InvalidParameters"
    assert "\"seconds\"" in answer["Error"]["Message"] and "allowedPattern ^[0-9]{1,6}$" in answer["Error"]["Message"]
    command = ssm.send_command(DocumentName="patterned", InstanceIds=[instance], Parameters={"seconds": ["42"]})
    result = wait_status(emulator, command["Command"]["CommandId"], instance)
    assert result["Status"] == "Success" and result["StandardOutputContent"].strip() == "ran 42"


def test_a_step_whose_platform_precondition_fails_is_skipped_and_reported_success(emulator):
    ssm = emulator.client("ssm")
    ssm.create_document(Name="linux-only", DocumentType="Command", Content=command_document(
        {"precondition": {"StringEquals": ["platformType", "Linux"]}},
        parameters={"seconds": {"type": "String", "default": "1"}}))
    [linux] = instances(emulator)
    windows = emulator.client("ec2").run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)  # moto: Windows
    [windows] = [i["InstanceId"] for i in windows["Instances"]]
    command = ssm.send_command(DocumentName="linux-only", InstanceIds=[linux, windows])["Command"]
    ran = wait_status(emulator, command["CommandId"], linux)
    assert ran["Status"] == "Success" and ran["StandardOutputContent"].strip() == "ran 1"
    skipped = wait_status(emulator, command["CommandId"], windows)
    # The agent skips the step (no aws:runShellScript handler on Windows, checked before the precondition:
    # runpluginutil.go `getStepExecutionOperation`) and the command reports Success.
    assert skipped["Status"] == "Success"
    assert "ran" not in skipped["StandardOutputContent"].splitlines()
    assert "skipped due to unsupported plugin: aws:runShellScript" in skipped["StandardOutputContent"]
