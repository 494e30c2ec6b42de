"""Spot interruption notices reach the rules whose pattern matches; the reclaim then takes the instance out."""

import json
import urllib.error

import pytest
from conftest import make_group
from test_lifecycle_hooks import put_hook, states

PATTERN = {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]}


def _rule_to_queue(emulator, name: str, **rule) -> str:
    events, sqs = emulator.client("events"), emulator.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"{name}-q")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, State="ENABLED", **rule)
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": queue_arn}])
    return queue_url


def _received(emulator, queue_url: str) -> list:
    messages = emulator.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_the_notice_reaches_matching_rules_only_and_has_the_documented_shape(emulator):
    (instance, _) = make_group(emulator, size=2)
    spot_queue = _rule_to_queue(emulator, "spot", EventPattern=json.dumps(PATTERN))
    both_queue = _rule_to_queue(emulator, "both", EventPattern=json.dumps(PATTERN), ScheduleExpression="rate(1 hour)")
    schedule_queue = _rule_to_queue(emulator, "schedule", ScheduleExpression="rate(1 hour)")
    answered = emulator.control("spot_interruption", {"instance_ids": [instance], "reclaim_after_seconds": 3600})
    assert sorted(answered["notices"][0]["delivered_to"]) == ["both", "spot"]
    (event,) = _received(emulator, spot_queue)
    assert event["detail-type"] == "EC2 Spot Instance Interruption Warning" and event["source"] == "aws.ec2"
    assert event["detail"] == {"instance-id": instance, "instance-action": "terminate"}
    assert event["resources"] == [f"arn:aws:ec2:us-east-1:123456789012:instance/{instance}"]
    assert len(_received(emulator, both_queue)) == 1
    assert _received(emulator, schedule_queue) == []
    assert states(emulator)[instance] == "InService", "the notice alone changes nothing"


def test_the_reclaim_takes_an_in_service_instance_out_through_the_hooks(emulator):
    (instance, other) = make_group(emulator, size=2)
    put_hook(emulator, timeout=7200)
    emulator.control("spot_interruption", {"instance_ids": [instance], "reclaim_after_seconds": 0.2})
    emulator.wait_for(lambda: emulator.events("spot-interrupted"), what="the reclaim")
    (reclaimed,) = emulator.events("spot-interrupted")
    assert reclaimed["instance_id"] == instance and reclaimed["lifecycle_state"] == "InService"
    now = states(emulator)
    assert now[instance] == "Terminating:Wait" and now[other] == "InService"
    ec2 = emulator.client("ec2")
    described = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]
    assert described["State"]["Name"] == "terminated", "EC2 reclaims it whatever the hook says"


def test_bad_requests_name_the_field(emulator):
    (instance,) = make_group(emulator, size=1)
    for body, field in [({"instance_ids": []}, "instance_ids"),
                        ({"instance_ids": [instance], "instance_action": "reboot"}, "instance_action"),
                        ({"instance_ids": [instance], "reclaim_after_seconds": -1}, "reclaim_after_seconds"),
                        ({"instance_ids": ["i-00000000000000000"]}, "i-00000000000000000")]:
        with pytest.raises(urllib.error.HTTPError) as raised:
            emulator.control("spot_interruption", body)
        assert raised.value.code == 400 and field in raised.value.read().decode()
