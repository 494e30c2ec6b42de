"""SSM Run Command: real local processes, real exit codes, timeouts, cancel, stand-in nomad, notifications."""

import json
import os
import re
import time

import pytest
from botocore.exceptions import ClientError
from conftest import LINUX_AMI, drain_queue, make_publisher_role, topic_with_queue


def document(emulator, name: str, commands: list, timeout: int = 3600, parameters: dict | None = None) -> str:
    content = {"schemaVersion": "2.2", "description": "test", "parameters": parameters or {},
               "mainSteps": [{"action": "aws:runShellScript", "name": "run",
                              "inputs": {"runCommand": commands, "timeoutSeconds": str(timeout)}}]}
    emulator.client("ssm").create_document(Name=name, DocumentType="Command", DocumentFormat="JSON",
                                           Content=json.dumps(content))
    return name


def instances(emulator, count: int = 1) -> list:
    reservation = emulator.client("ec2").run_instances(ImageId=LINUX_AMI, MinCount=count, MaxCount=count)
    return [i["InstanceId"] for i in reservation["Instances"]]


def wait_status(emulator, command_id: str, instance_id: str, timeout: float = 15) -> dict:
    ssm = emulator.client("ssm")

    def done():
        invocation = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        return invocation if invocation["Status"] in ("Success", "Failed", "TimedOut", "Cancelled") else None
    return emulator.wait_for(done, timeout=timeout, what=f"command {command_id} to finish")


def test_command_runs_with_parameters_and_reports_real_exit_code(emulator):
    [instance] = instances(emulator)
    name = document(emulator, "exit-doc", ["echo hello {{ who }} from $AWS_SSM_INSTANCE_ID", "pwd",
                                           "echo oops >&2", "exit {{code}}"],
                    parameters={"who": {"type": "String", "default": "world"}, "code": {"type": "String"}})
    ssm = emulator.client("ssm")
    command = ssm.send_command(DocumentName=name, InstanceIds=[instance], Parameters={"code": ["3"]})["Command"]
    assert command["Status"] == "Pending"
    result = wait_status(emulator, command["CommandId"], instance)
    assert result["Status"] == "Failed" and result["ResponseCode"] == 3
    lines = result["StandardOutputContent"].splitlines()
    assert lines[0] == f"hello world from {instance}"
    assert command["CommandId"] in lines[1] and lines[1] != os.getcwd()  # its own temp dir
    assert result["StandardErrorContent"].strip() == "oops"
    listed = ssm.list_commands(CommandId=command["CommandId"])["Commands"][0]
    assert listed["Status"] == "Failed" and listed["ErrorCount"] == 1 and listed["CompletedCount"] == 1
    statuses = [e["status"] for e in emulator.events("command-status")]
    assert statuses == ["InProgress", "Failed"]
    ok = ssm.send_command(DocumentName=name, InstanceIds=[instance], Parameters={"code": ["0"]})["Command"]
    assert wait_status(emulator, ok["CommandId"], instance)["Status"] == "Success"


def test_command_times_out_at_the_documents_timeout(emulator):
    [instance] = instances(emulator)
    name = document(emulator, "slow-doc", ["sleep 30"], timeout=1)
    started = time.monotonic()
    command = emulator.client("ssm").send_command(DocumentName=name, InstanceIds=[instance])["Command"]
    result = wait_status(emulator, command["CommandId"], instance)
    assert result["Status"] == "TimedOut" and result["StatusDetails"] == "ExecutionTimedOut"
    assert 0.9 <= time.monotonic() - started < 5


def test_cancel_kills_the_process(emulator, tmp_path):
    [instance] = instances(emulator)
    pid_file = tmp_path / "pid"
    name = document(emulator, "cancel-doc", [f"echo $$ > {pid_file}", "sleep 60 & wait"])
    ssm = emulator.client("ssm")
    command = ssm.send_command(DocumentName=name, InstanceIds=[instance])["Command"]
    emulator.wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), what="script to start")
    pid = int(pid_file.read_text())
    assert ssm.get_command_invocation(CommandId=command["CommandId"], InstanceId=instance)["Status"] == "InProgress"
    ssm.cancel_command(CommandId=command["CommandId"])
    assert wait_status(emulator, command["CommandId"], instance)["Status"] == "Cancelled"

    def gone():
        try:
            os.kill(pid, 0)
            return False
        except ProcessLookupError:
            return True
    emulator.wait_for(gone, timeout=3, what=f"process {pid} to be killed")


def test_background_processes_a_script_leaves_end_when_its_instance_terminates(emulator, tmp_path):
    [instance] = instances(emulator)
    pid_file = tmp_path / "pid"
    name = document(emulator, "leave-doc", [f"sleep 60 >/dev/null 2>&1 & echo $! > {pid_file}"])
    command = emulator.client("ssm").send_command(DocumentName=name, InstanceIds=[instance])["Command"]
    assert wait_status(emulator, command["CommandId"], instance)["Status"] == "Success"
    pid = int(pid_file.read_text())

    def alive():
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
    assert alive(), "the command ended; what it left running keeps running, as on a live instance"
    emulator.client("ec2").terminate_instances(InstanceIds=[instance])
    emulator.wait_for(lambda: not alive(), timeout=3, what=f"process {pid} to end with its instance")


def test_stand_in_nomad_follows_the_behaviour_a_test_sets(emulator):
    first, second = instances(emulator, 2)
    # One service allocation that takes 0.5 s to stop: the blocking drain migrates it and waits for it
    # (nomad/drainer/watch_jobs.go, api/nodes.go MonitorDrain).
    emulator.control("nomad", {"drain_seconds": 0.5})
    # Setting the drain on the second node is answered HTTP 500 (nomad/node_endpoint.go UpdateDrain failing).
    emulator.control("nomad", {"instance_id": second, "fail": True, "fail_message": "no leader"})
    name = document(emulator, "drain-doc", ["set -e", "open='{''{'", "nomad node eligibility -disable -self",
                                            "nomad node drain -enable -self -yes -deadline 1m",
                                            'nomad node status -self -t "${open} .SchedulingEligibility }} '
                                            '${open} .LastDrain.Status }}"'])
    ssm = emulator.client("ssm")
    started = time.monotonic()
    command = ssm.send_command(DocumentName=name, InstanceIds=[first, second])["Command"]
    ok = wait_status(emulator, command["CommandId"], first)
    assert time.monotonic() - started >= 0.5
    assert ok["Status"] == "Success" and ok["ResponseCode"] == 0, ok
    output = ok["StandardOutputContent"].splitlines()
    assert any("All allocations on node" in line for line in output), output
    assert output[-1] == "ineligible complete"
    failed = wait_status(emulator, command["CommandId"], second)
    assert failed["Status"] == "Failed" and failed["ResponseCode"] == 1
    assert "Error updating drain specification: Unexpected response code: 500 (no leader)" in \
        failed["StandardErrorContent"]
    calls = {instance: [(e["argv"][:2], e["exit_code"]) for e in emulator.events("nomad-call")
                        if e["instance_id"] == instance] for instance in (first, second)}
    assert calls[first] == [(["node", "eligibility"], 0), (["node", "drain"], 0), (["node", "status"], 0)]
    assert calls[second] == [(["node", "eligibility"], 0), (["node", "drain"], 1)]  # set -e stopped the script
    assert ssm.list_commands(CommandId=command["CommandId"])["Commands"][0]["Status"] == "Failed"


def test_send_command_validates_document_parameters_and_instances(emulator):
    [instance] = instances(emulator)
    ssm = emulator.client("ssm")
    name = document(emulator, "valid-doc", ["true"])
    cases = [({"DocumentName": "missing", "InstanceIds": [instance]}, "InvalidDocument"),
             ({"DocumentName": name, "InstanceIds": ["i-0000000000000dead"]}, "InvalidInstanceId"),
             ({"DocumentName": name, "InstanceIds": [instance], "Parameters": {"x": ["1"]}}, "InvalidParameters")]
    for params, code in cases:
        with pytest.raises(ClientError) as error:
            ssm.send_command(**params)
        assert error.value.response["Error"]["Code"] == code, params


def test_offline_or_unmanaged_agents(emulator):
    online, offline, unmanaged = instances(emulator, 3)
    emulator.control("agents", {"instance_id": offline, "ping_status": "ConnectionLost"})
    emulator.control("agents", {"instance_id": unmanaged, "managed": False})
    ssm = emulator.client("ssm")
    info = {i["InstanceId"]: i["PingStatus"] for i in ssm.describe_instance_information()["InstanceInformationList"]}
    assert info == {online: "Online", offline: "ConnectionLost"}
    only = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": [offline]}])
    assert [i["InstanceId"] for i in only["InstanceInformationList"]] == [offline]
    name = document(emulator, "agent-doc", ["true"])
    for instance in (offline, unmanaged):
        with pytest.raises(ClientError) as error:
            ssm.send_command(DocumentName=name, InstanceIds=[instance])
        assert error.value.response["Error"]["Code"] == "InvalidInstanceId"
    ssm.send_command(DocumentName=name, InstanceIds=[online])


def test_status_notifications_and_list_filters(emulator):
    [instance] = instances(emulator)
    topic, queue = topic_with_queue(emulator, "command-status")
    ssm = emulator.client("ssm")
    name = document(emulator, "notify-doc", ["exit 0"])
    other = document(emulator, "other-doc", ["sleep 5"])
    role = make_publisher_role(emulator, "ssm-notify", "ssm.amazonaws.com")
    command = ssm.send_command(DocumentName=name, InstanceIds=[instance], ServiceRoleArn=role,
                               NotificationConfig={"NotificationArn": topic,
                                                                     "NotificationEvents": ["All"],
                                                                     "NotificationType": "Invocation"})["Command"]
    wait_status(emulator, command["CommandId"], instance)
    running = ssm.send_command(DocumentName=other, InstanceIds=[instance])["Command"]
    emulator.wait_for(lambda: ssm.get_command_invocation(CommandId=running["CommandId"], InstanceId=instance)[
        "Status"] == "InProgress", what="second command to start")
    notes = [m["Message"] for m in drain_queue(emulator, queue)]
    assert [n["status"] for n in notes] == ["InProgress", "Success"]
    assert all(n["commandId"] == command["CommandId"] and n["instanceId"] == instance for n in notes)
    by_status = ssm.list_commands(Filters=[{"key": "Status", "value": "Success"}])["Commands"]
    assert [c["CommandId"] for c in by_status] == [command["CommandId"]]
    by_doc = ssm.list_commands(Filters=[{"key": "DocumentName", "value": other}])["Commands"]
    assert [c["CommandId"] for c in by_doc] == [running["CommandId"]]
    executing = ssm.list_commands(Filters=[{"key": "ExecutionStage", "value": "Executing"}])["Commands"]
    assert [c["CommandId"] for c in executing] == [running["CommandId"]]
    invocations = ssm.list_command_invocations(CommandId=command["CommandId"], Details=True)["CommandInvocations"]
    assert invocations[0]["Status"] == "Success" and invocations[0]["CommandPlugins"][0]["ResponseCode"] == 0
    ssm.cancel_command(CommandId=running["CommandId"])


def test_cloudwatch_output_config_writes_the_output_to_logs(emulator):
    [instance] = instances(emulator)
    name = document(emulator, "logged-doc", ["echo drained", "echo warn >&2"])
    command = emulator.client("ssm").send_command(
        DocumentName=name, InstanceIds=[instance],
        CloudWatchOutputConfig={"CloudWatchOutputEnabled": True, "CloudWatchLogGroupName": "/graceful/drain"})["Command"]
    assert command["CloudWatchOutputConfig"]["CloudWatchLogGroupName"] == "/graceful/drain"
    wait_status(emulator, command["CommandId"], instance)
    logs = emulator.client("logs")
    stream = f"{command['CommandId']}/{instance}/aws-runShellScript/stdout"
    events = logs.get_log_events(logGroupName="/graceful/drain", logStreamName=stream)["events"]
    assert [e["message"] for e in events] == ["drained"]


def test_stand_in_nomad_answers_go_templates_like_nomad(emulator):
    nodes = instances(emulator, 2)
    # The drain document splits the braces so SSM does not read them as a parameter; the shell joins them again.
    name = document(emulator, "template-doc", ["open='{''{'",
                                               'nomad node status -self -t "${open} .ID }} ${open} .Name }}"'])
    ssm = emulator.client("ssm")
    command = ssm.send_command(DocumentName=name, InstanceIds=nodes)["Command"]
    ids = []
    for instance in nodes:
        done = wait_status(emulator, command["CommandId"], instance)
        assert done["Status"] == "Success", done
        node_id, node_name = done["StandardOutputContent"].split()
        # client/client.go nodeID: a node ID is a UUID.
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", node_id), node_id
        assert node_name == instance
        ids.append(node_id)
    assert ids[0] != ids[1], "each instance is its own Nomad node"


@pytest.mark.parametrize("remaining", [0, 2])
def test_stand_in_nomad_operator_api_with_a_filter_lists_this_nodes_allocations(emulator, remaining):
    # The drain document's verification: `-filter EXPR` takes a value, which is not the API path; the filter sees the
    # whole Allocation, so the job's type is `Job.Type` (nomad/state/paginator next()).
    (instance,) = instances(emulator, 1)
    emulator.control("nomad", {"drain_seconds": 0, "remaining_allocations": remaining})
    name = document(emulator, f"filter-doc-{remaining}", [
        "id=$(nomad node status -self -t '{''{ .ID }}')",
        'echo "$id"',
        'nomad operator api -filter "NodeID == \\"$id\\" and (ClientStatus == \\"running\\" or '
        'ClientStatus == \\"pending\\") and Job.Type != \\"system\\"" /v1/allocations'])
    command = emulator.client("ssm").send_command(DocumentName=name, InstanceIds=[instance])["Command"]
    done = wait_status(emulator, command["CommandId"], instance)
    assert done["Status"] == "Success", done
    node_id, listing = done["StandardOutputContent"].split("\n", 1)
    allocations = json.loads(listing)
    assert [(a["NodeID"], a["ClientStatus"]) for a in allocations] == [(node_id, "running")] * remaining
    assert sorted(a["Name"] for a in allocations) == [f"job-{i}.run[0]" for i in range(remaining)]


def test_status_notifications_need_a_role_ssm_may_assume_and_publish_with(emulator):
    [instance] = instances(emulator)
    topic, queue = topic_with_queue(emulator, "refused-status")
    ssm = emulator.client("ssm")
    name = document(emulator, "refused-doc", ["exit 0"])
    # Trusts Auto Scaling, not SSM: SSM cannot assume it, so no notification is published.
    wrong_trust = make_publisher_role(emulator, "asg-only", "autoscaling.amazonaws.com")
    command = ssm.send_command(DocumentName=name, InstanceIds=[instance], ServiceRoleArn=wrong_trust,
                               NotificationConfig={"NotificationArn": topic, "NotificationEvents": ["All"],
                                                   "NotificationType": "Invocation"})["Command"]
    wait_status(emulator, command["CommandId"], instance)
    assert drain_queue(emulator, queue) == []
    failed = emulator.events("command-notification-failed")
    assert failed and "does not let ssm.amazonaws.com assume it" in failed[-1]["error"]
