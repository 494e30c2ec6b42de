"""Fault knobs: fail the next N calls of an API with a given AWS error, throttle a fraction of calls, bad input."""

import json
import urllib.error

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import make_group


def test_fail_next_calls_with_the_given_error_then_recover(emulator):
    make_group(emulator)
    emulator.control("faults", {"action": "DescribeAutoScalingGroups", "count": 2, "code": "ServiceUnavailable",
                                "message": "try later", "status": 503})
    client = boto3.client("autoscaling", endpoint_url=emulator.endpoint, region_name="us-east-1",
                                        aws_access_key_id="test", aws_secret_access_key="test",
                                        config=Config(retries={"total_max_attempts": 1}))
    for _ in range(2):
        with pytest.raises(ClientError) as error:
            client.describe_auto_scaling_groups()
        assert error.value.response["Error"] == {"Type": "Sender", "Code": "ServiceUnavailable",
                                                 "Message": "try later"}
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert client.describe_auto_scaling_groups()["AutoScalingGroups"][0]["AutoScalingGroupName"] == "workers"
    assert [e["action"] for e in emulator.events("fault-injected")] == ["DescribeAutoScalingGroups"] * 2


def test_json_protocol_fault_and_throttling(emulator):
    ssm = boto3.client("ssm", endpoint_url=emulator.endpoint, region_name="us-east-1", aws_access_key_id="test",
                       aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))
    emulator.control("faults", {"action": "ListCommands", "count": 1, "code": "InternalServerError",
                                "message": "boom"})
    with pytest.raises(ClientError) as error:
        ssm.list_commands()
    assert error.value.response["Error"]["Code"] == "InternalServerError"
    assert ssm.list_commands()["Commands"] == []
    emulator.control("throttle", {"fraction": 0.5, "service": "ssm", "seed": 7})
    outcomes = []
    for _ in range(40):
        try:
            ssm.list_commands()
            outcomes.append("ok")
        except ClientError as throttled:
            assert throttled.response["Error"]["Code"] == "ThrottlingException"
            outcomes.append("throttled")
    assert 8 <= outcomes.count("throttled") <= 32
    emulator.control("throttle", {"fraction": 0})
    assert all(ssm.list_commands() for _ in range(5))


def test_throttle_a_list_of_services_spares_the_others(emulator):
    make_group(emulator)
    def client(service):
        return boto3.client(service, endpoint_url=emulator.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(retries={"total_max_attempts": 1}))

    ssm, asg, sns = client("ssm"), client("autoscaling"), client("sns")
    emulator.control("throttle", {"fraction": 1, "service": ["autoscaling", "ssm"]})
    for call in (ssm.list_commands, asg.describe_auto_scaling_groups):
        with pytest.raises(ClientError) as throttled:
            call()
        assert throttled.value.response["Error"]["Code"] in ("Throttling", "ThrottlingException")
    assert "Topics" in sns.list_topics()
    emulator.control("throttle", {"fraction": 0})


def test_control_api_names_the_bad_field(emulator):
    for path, body, wording in [("faults", {"action": "X", "code": "E"}, "'count'"),
                                ("throttle", {"fraction": 2}, "'fraction'"),
                                ("nomad", {"drain_secs": 1}, "drain_secs"),
                                ("agents", {"instance_id": "i-1", "ping_status": "Sleepy"}, "'ping_status'")]:
        with pytest.raises(urllib.error.HTTPError) as error:
            emulator.control(path, body)
        assert error.value.code == 400
        assert wording in json.loads(error.value.read())["error"]
