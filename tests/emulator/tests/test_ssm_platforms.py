"""The SSM agent's platform rules on the drain document: a step is skipped on a platform whose agent has no handler
for its plugin or whose platformType precondition it does not meet, skipped counts as success, Failed outranks it
(amazon-ssm-agent runpluginutil.go `getStepExecutionOperation`, aggregator.go `DocumentResultAggregator`)."""

import json
import os

import pytest
from conftest import LINUX_AMI
from test_ssm_commands import wait_status

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "drain-document-command.json")
WINDOWS_AMI = "ami-12c6146b"  # moto's bundled Windows Server image: EC2 Platform "windows"


def drain_document() -> dict:
    """The handler's document for the command preset running `echo drained` (kept equal to the rendered document by
    drain-contract's document_fixture_for_the_emulator_is_the_rendered_document)."""
    with open(FIXTURE) as handle:
        return json.load(handle)


def the_document_before_the_fix() -> dict:
    """The same document as it was before: the Linux-only drain step alone."""
    content = drain_document()
    content["mainSteps"] = content["mainSteps"][:1]
    return content


def create(emulator, name: str, content: dict) -> str:
    emulator.client("ssm").create_document(Name=name, DocumentType="Command", DocumentFormat="JSON",
                                           Content=json.dumps(content))
    return name


def launch(emulator, image: str = LINUX_AMI, instance_type: str = "t3.micro") -> str:
    reservation = emulator.client("ec2").run_instances(ImageId=image, InstanceType=instance_type, MinCount=1,
                                                       MaxCount=1)
    return reservation["Instances"][0]["InstanceId"]


def run(emulator, document: str, instance: str) -> dict:
    command = emulator.client("ssm").send_command(DocumentName=document, InstanceIds=[instance])["Command"]
    return wait_status(emulator, command["CommandId"], instance)


def test_the_platform_ssm_reports_follows_the_instance(emulator):
    linux, windows, mac = launch(emulator), launch(emulator, WINDOWS_AMI), launch(emulator, instance_type="mac1.metal")
    infos = emulator.client("ssm").describe_instance_information()["InstanceInformationList"]
    platforms = {i["InstanceId"]: i["PlatformType"] for i in infos}
    assert [platforms[linux], platforms[windows], platforms[mac]] == ["Linux", "Windows", "MacOS"]


def test_linux_runs_the_drain_step_and_skips_the_other_platforms_steps(emulator):
    instance = launch(emulator)
    result = run(emulator, create(emulator, "drain", drain_document()), instance)
    assert result["Status"] == "Success" and result["ResponseCode"] == 0
    out = result["StandardOutputContent"]
    assert "drained" in out.splitlines() and "NOT DRAINED" not in out
    assert "unsatisfied preconditions" in out and "not_drained_windows" in out and "not_drained_macos" in out


def test_a_failing_linux_drain_still_fails_the_command_though_later_steps_are_skipped(emulator):
    content = drain_document()
    content["mainSteps"][0]["inputs"]["runCommand"] = ["echo stuck", "exit 3"]
    result = run(emulator, create(emulator, "drain-fails", content), launch(emulator))
    assert result["Status"] == "Failed" and result["ResponseCode"] == 3


def test_windows_with_the_document_before_the_fix_reports_success_the_bug(emulator):
    # The agent skips the only step (no aws:runShellScript handler on Windows) and "Skipped is a form of success".
    result = run(emulator, create(emulator, "drain-old", the_document_before_the_fix()), launch(emulator, WINDOWS_AMI))
    assert result["Status"] == "Success"
    assert "drained" not in result["StandardOutputContent"].splitlines()
    assert "skipped due to unsupported plugin: aws:runShellScript" in result["StandardOutputContent"]


@pytest.mark.parametrize("image,instance_type,platform", [(WINDOWS_AMI, "t3.micro", "Windows"),
                                                          (LINUX_AMI, "mac1.metal", "MacOS")])
def test_a_platform_that_cannot_drain_fails_the_command_saying_not_drained(emulator, image, instance_type,
                                                                           platform):
    result = run(emulator, create(emulator, "drain", drain_document()), launch(emulator, image, instance_type))
    assert result["Status"] == "Failed" and result["ResponseCode"] == 1
    lines = result["StandardOutputContent"].splitlines()
    assert "graceful-drain: NOT DRAINED: this document drains Linux instances only; this instance is " \
           f"{platform}" in lines
    assert "drained" not in lines


def test_a_macos_instance_would_run_the_drain_script_without_the_precondition(emulator):
    content = the_document_before_the_fix()
    del content["mainSteps"][0]["precondition"]
    result = run(emulator, create(emulator, "drain-anywhere", content), launch(emulator, instance_type="mac1.metal"))
    assert result["Status"] == "Success" and "drained" in result["StandardOutputContent"].splitlines()
    windows = run(emulator, "drain-anywhere", launch(emulator, WINDOWS_AMI))
    assert windows["Status"] == "Success" and "unsupported plugin" in windows["StandardOutputContent"]


def test_powershell_lines_the_emulator_cannot_run_are_refused(emulator):
    content = drain_document()
    content["mainSteps"][1]["inputs"]["runCommand"] = ["Get-Process", "exit 1"]
    create(emulator, "drain-ps", content)
    with pytest.raises(Exception) as raised:
        emulator.client("ssm").send_command(DocumentName="drain-ps", InstanceIds=[launch(emulator)])
    assert "InvalidDocument" in str(raised.value)
