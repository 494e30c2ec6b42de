"""What SSM does not promise (ssm_consistency.py): a new command is listed late, a cancel lands late or never."""

import time
import urllib.error

import pytest
from botocore.exceptions import ClientError
from test_ssm_commands import document, instances, wait_status


def test_a_new_command_is_listed_only_after_its_lag(emulator):
    [instance] = instances(emulator)
    name = document(emulator, "lag-doc", ["sleep 30"])
    emulator.control("ssm_consistency", {"list_lag_seconds": [1.5, 1.5]})
    ssm = emulator.client("ssm")
    sent = ssm.send_command(DocumentName=name, InstanceIds=[instance])["Command"]
    assert sent["CommandId"]  # SendCommand itself answers the command
    assert ssm.list_commands(InstanceId=instance)["Commands"] == []
    assert ssm.list_command_invocations(InstanceId=instance)["CommandInvocations"] == []
    with pytest.raises(ClientError) as missing:
        ssm.get_command_invocation(CommandId=sent["CommandId"], InstanceId=instance)
    assert missing.value.response["Error"]["Code"] == "InvocationDoesNotExist"
    time.sleep(1.6)
    assert [c["CommandId"] for c in ssm.list_commands(InstanceId=instance)["Commands"]] == [sent["CommandId"]]
    assert emulator.events("command-listed-late")[0]["lag_seconds"] == 1.5
    ssm.cancel_command(CommandId=sent["CommandId"])


def test_lags_are_drawn_from_the_seeded_range(emulator):
    emulator.control("ssm_consistency", {"list_lag_seconds": [0.5, 2.0], "seed": 7})
    [instance] = instances(emulator)
    name = document(emulator, "seeded-doc", ["true"])
    ssm = emulator.client("ssm")
    for _ in range(3):
        ssm.send_command(DocumentName=name, InstanceIds=[instance])
    lags = [e["lag_seconds"] for e in emulator.events("command-listed-late")]
    assert len(lags) == 3 and all(0.5 <= lag <= 2.0 for lag in lags) and len(set(lags)) == 3


def test_a_cancel_lands_after_its_delay(emulator):
    [instance] = instances(emulator)
    name = document(emulator, "cancel-late-doc", ["sleep 30"])
    emulator.control("ssm_consistency", {"cancel_delay_seconds": 1.0})
    ssm = emulator.client("ssm")
    command_id = ssm.send_command(DocumentName=name, InstanceIds=[instance])["Command"]["CommandId"]
    ssm.cancel_command(CommandId=command_id)
    time.sleep(0.3)
    assert ssm.get_command_invocation(CommandId=command_id, InstanceId=instance)["Status"] != "Cancelled"
    assert wait_status(emulator, command_id, instance, timeout=10)["Status"] == "Cancelled"


def test_a_cancel_may_never_take_effect(emulator):
    [instance] = instances(emulator)
    name = document(emulator, "cancel-never-doc", ["sleep 1", "exit 0"])
    emulator.control("ssm_consistency", {"cancel_takes_effect": False})
    ssm = emulator.client("ssm")
    command_id = ssm.send_command(DocumentName=name, InstanceIds=[instance])["Command"]["CommandId"]
    ssm.cancel_command(CommandId=command_id)  # succeeds, as AWS's does
    assert wait_status(emulator, command_id, instance, timeout=10)["Status"] == "Success"
    assert [e["command_id"] for e in emulator.events("command-cancel-ignored")] == [command_id]


def test_bad_knobs_are_refused_naming_the_field(emulator):
    for body, field in [({"list_lag_seconds": [2, 1]}, "list_lag_seconds"),
                        ({"cancel_delay_seconds": -1}, "cancel_delay_seconds"),
                        ({"cancel_takes_effect": "no"}, "cancel_takes_effect")]:
        with pytest.raises(urllib.error.HTTPError) as raised:
            emulator.control("ssm_consistency", body)
        assert raised.value.code == 400 and field in raised.value.read().decode()
