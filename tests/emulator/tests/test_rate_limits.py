"""Token-bucket rate limits (rate_limits.py): a burst passes, the rest is throttled until tokens refill; on by default."""

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


def test_by_default_auto_scaling_shares_one_bucket_and_ssm_has_one_per_action(emulator):
    """The defaults (rate_limits.DEFAULT_LIMITS): on after every reset, Auto Scaling's one shared bucket (AWS Knowledge
    Center: "a single, shared API limit") and SSM's per-action buckets, 100 tokens refilled at 20/s."""
    asg, ssm = client(emulator, "autoscaling"), client(emulator, "ssm")
    calls = [asg.describe_auto_scaling_groups, asg.describe_auto_scaling_instances] * 150
    found = outcomes_of(calls)
    throttled = {name for name, outcome in found if outcome == "Throttling"}
    # 300 calls outrun 100 tokens plus 20/s unless they take over 10 s; both actions draw on the one bucket.
    assert throttled == {"describe_auto_scaling_groups", "describe_auto_scaling_instances"}, found[-10:]
    # SSM's buckets are per action: one action's burst leaves another's bucket full.
    listed = outcomes(ssm.list_commands, 300)
    assert "ThrottlingException" in listed
    assert outcomes(ssm.list_documents, 50) == ["ok"] * 50
    # Turned off for a test that wants none; the next reset brings the defaults back.
    emulator.control("rate_limits", {"limits": []})
    assert outcomes(asg.describe_auto_scaling_groups, 150) == ["ok"] * 150


def test_a_shared_limit_is_one_bucket_for_every_action_of_the_service(emulator):
    asg = client(emulator, "autoscaling")
    emulator.control("rate_limits", {"limits": [{"service": "autoscaling", "shared": True, "burst": 2,
                                                 "per_second": 0.01}]})
    assert outcomes(asg.describe_auto_scaling_groups, 1) == ["ok"]
    assert outcomes(asg.describe_launch_configurations, 1) == ["ok"]
    assert outcomes(asg.describe_auto_scaling_instances, 1) == ["Throttling"]


def outcomes_of(calls) -> list:
    found = []
    for call in calls:
        try:
            call()
            found.append((call.__name__, "ok"))
        except ClientError as error:
            found.append((call.__name__, error.response["Error"]["Code"]))
    return found
