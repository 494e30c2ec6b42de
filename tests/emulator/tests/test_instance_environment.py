"""What a script run by the emulated SSM agent finds on its instance: the AWS CLI on PATH, talking to the emulator, in
the instance's region, with its instance profile's credentials (a role session IAM is enforced on)."""

import json

from conftest import LINUX_AMI
from test_ssm_commands import document, wait_status

SECRET = "nomad-token-5e1f"


def _profile(emulator, name: str, parameter: str | None) -> str:
    """An instance profile whose role may ssm:GetParameter `parameter` (none: no permission at all)."""
    iam = emulator.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "ec2.amazonaws.com"}}]}
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    if parameter:
        arn = f"arn:aws:ssm:us-east-1:123456789012:parameter{parameter}"
        policy = {"Version": "2012-10-17",
                  "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": arn}]}
        iam.put_role_policy(RoleName=name, PolicyName="read-token", PolicyDocument=json.dumps(policy))
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return name


def _run(emulator, instance: str, commands: list, name: str) -> dict:
    document(emulator, name, commands)
    command = emulator.client("ssm").send_command(DocumentName=name, InstanceIds=[instance])["Command"]
    return wait_status(emulator, command["CommandId"], instance, timeout=60)


def test_the_aws_cli_reads_a_secure_string_with_the_instance_profiles_role(emulator):
    emulator.client("ssm").put_parameter(Name="/nomad/token", Value=SECRET, Type="SecureString")
    emulator.client("ssm").put_parameter(Name="/other/secret", Value="not-yours", Type="SecureString")
    profile = _profile(emulator, "nomad-client", "/nomad/token")
    ec2 = emulator.client("ec2")
    instance = ec2.run_instances(ImageId=LINUX_AMI, MinCount=1, MaxCount=1,
                                 IamInstanceProfile={"Name": profile})["Instances"][0]["InstanceId"]
    result = _run(emulator, instance, [
        "aws sts get-caller-identity --query Arn --output text",
        "aws ssm get-parameter --with-decryption --name /nomad/token --query Parameter.Value --output text",
        "aws ssm get-parameter --with-decryption --name /other/secret --query Parameter.Value --output text"
        " || echo denied: $?",
    ], "env-doc")
    lines = result["StandardOutputContent"].splitlines()
    assert lines[0] == f"arn:aws:sts::123456789012:assumed-role/nomad-client/{instance}", result
    assert lines[1] == SECRET, result
    assert lines[2].startswith("denied: "), result
    assert "AccessDeniedException" in result["StandardErrorContent"], result
    assert "is not authorized to perform: ssm:GetParameter" in result["StandardErrorContent"], result


def test_a_profile_associated_later_is_the_one_used(emulator):
    emulator.client("ssm").put_parameter(Name="/nomad/token", Value=SECRET, Type="SecureString")
    profile = _profile(emulator, "late-profile", "/nomad/token")
    ec2 = emulator.client("ec2")
    instance = ec2.run_instances(ImageId=LINUX_AMI, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.associate_iam_instance_profile(InstanceId=instance, IamInstanceProfile={"Name": profile})
    result = _run(emulator, instance, [
        "aws ssm get-parameter --with-decryption --name /nomad/token --query Parameter.Value --output text"],
        "late-doc")
    assert result["Status"] == "Success" and result["StandardOutputContent"].strip() == SECRET, result


def test_an_instance_without_a_profile_has_the_cli_and_its_region_but_no_credentials(emulator):
    instance = emulator.client("ec2").run_instances(ImageId=LINUX_AMI, MinCount=1,
                                                    MaxCount=1)["Instances"][0]["InstanceId"]
    result = _run(emulator, instance, [
        "command -v aws >/dev/null && echo cli-found",
        "echo region=$AWS_DEFAULT_REGION",
        "aws ssm get-parameter --name /nomad/token || echo exit: $?",
    ], "bare-doc")
    lines = result["StandardOutputContent"].splitlines()
    assert lines[:2] == ["cli-found", "region=us-east-1"], result
    assert lines[2].startswith("exit: "), result
    assert "Unable to locate credentials" in result["StandardErrorContent"], result
