"""Token-bucket rate limits (rate_limits.py): a burst passes, the rest is throttled until tokens refill."""

import time
import urllib.error

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


def client(emulator, service):
    return boto3.client(service, endpoint_url=emulator.endpoint, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))


def outcomes(call, times: int) -> list:
    found = []
    for _ in range(times):
        try:
            call()
            found.append("ok")
        except ClientError as error:
            found.append(error.response["Error"]["Code"])
    return found


def test_a_burst_passes_then_calls_are_throttled_until_the_bucket_refills(emulator):
    ssm, asg = client(emulator, "ssm"), client(emulator, "autoscaling")
    emulator.control("rate_limits", {"limits": [{"service": "ssm", "action": "ListCommands", "burst": 3,
                                                 "per_second": 1}]})
    assert outcomes(ssm.list_commands, 5) == ["ok", "ok", "ok", "ThrottlingException", "ThrottlingException"]
    # Other actions and services have no bucket.
    assert outcomes(ssm.list_documents, 5) == ["ok"] * 5
    assert outcomes(asg.describe_auto_scaling_groups, 5) == ["ok"] * 5
    time.sleep(2.1)  # at least two tokens back (more only when the calls above were slow)
    again = outcomes(ssm.list_commands, 8)
    assert again[:2] == ["ok", "ok"] and "ThrottlingException" in again, again
    throttled = [e for e in emulator.events("fault-injected") if e["action"] == "ListCommands"]
    assert len(throttled) == 2 + again.count("ThrottlingException")
    emulator.control("rate_limits", {"limits": []})
    assert outcomes(ssm.list_commands, 5) == ["ok"] * 5


def test_a_service_wide_limit_keeps_one_bucket_per_action_and_answers_the_services_code(emulator):
    asg, lam = client(emulator, "autoscaling"), client(emulator, "lambda")
    emulator.control("rate_limits", {"limits": [{"service": "autoscaling", "burst": 1, "per_second": 0.01},
                                                {"service": "lambda", "burst": 1, "per_second": 0.01}]})
    assert outcomes(asg.describe_auto_scaling_groups, 2) == ["ok", "Throttling"]
    assert outcomes(asg.describe_launch_configurations, 2) == ["ok", "Throttling"]
    assert outcomes(lam.list_functions, 2) == ["ok", "TooManyRequestsException"]


def test_bad_limits_are_refused_naming_the_field(emulator):
    for body, field in [({"limits": {}}, "limits"), ({"limits": [{"burst": 1, "per_second": 1}]}, "limits[0].service"),
                        ({"limits": [{"service": "ssm", "burst": 0, "per_second": 1}]}, "limits[0].burst"),
                        ({"limits": [{"service": "ssm", "burst": 1, "per_second": 0}]}, "limits[0].per_second")]:
        with pytest.raises(urllib.error.HTTPError) as raised:
            emulator.control("rate_limits", body)
        assert raised.value.code == 400 and field in raised.value.read().decode()
