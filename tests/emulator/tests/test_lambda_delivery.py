"""Lambda: SNS and schedules deliver AWS-shaped events to a real process under the Runtime API; retries; faults."""

import json
import os
import sys
import time
import urllib.error

import boto3
import pytest

from conftest import make_role, zip_bytes

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runtime_client_fixture.py")


def function(emulator, tmp_path, behaviour: str = "ok", name: str = "probe", extra_env: dict | None = None,
             **config) -> tuple:
    record = tmp_path / f"{name}.jsonl"
    bootstrap = f"#!{sys.executable}\n" + open(FIXTURE).read()
    arn = emulator.client("lambda").create_function(
        FunctionName=name, Runtime="provided.al2023", Handler="bootstrap", Role=make_role(emulator, f"{name}-role"),
        Code={"ZipFile": zip_bytes({"bootstrap": (bootstrap, 0o755)})}, Timeout=config.pop("Timeout", 10),
        Environment={"Variables": {"RECORD_FILE": str(record), "BEHAVIOUR": behaviour, **(extra_env or {})}},
        **config)["FunctionArn"]
    return arn, record


def records(path) -> list:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def allow(emulator, function_arn: str, service: str, source_arn: str, sid: str | None = None) -> None:
    """The function's resource-based policy lets `service` invoke it for `source_arn` (AddPermission)."""
    emulator.client("lambda").add_permission(
        FunctionName=function_arn,
        StatementId=sid or f"{service.split('.')[0]}-{source_arn.rsplit(':', 1)[-1].replace('/', '-')}",
        Action="lambda:InvokeFunction", Principal=service, SourceArn=source_arn)


def subscribed_topic(emulator, function_arn: str, permitted: bool = True) -> str:
    sns = emulator.client("sns")
    topic = sns.create_topic(Name=f"to-{function_arn.rsplit(':', 1)[-1]}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn)
    if permitted:
        allow(emulator, function_arn, "sns.amazonaws.com", topic)
    return topic


def finished(emulator) -> list:
    return emulator.events("lambda-invocation-finished")


def test_sns_delivers_an_aws_shaped_event_to_the_bootstrap_process(emulator, tmp_path):
    arn, record = function(emulator, tmp_path)
    topic = subscribed_topic(emulator, arn)
    emulator.client("sns").publish(TopicArn=topic, Message='{"hello":"world"}', Subject="greeting")
    emulator.wait_for(lambda: finished(emulator), what="the invocation")
    [seen] = records(record)
    sns = seen["event"]["Records"][0]["Sns"]
    assert seen["event"]["Records"][0]["EventSource"] == "aws:sns"
    assert sns["TopicArn"] == topic and sns["Message"] == '{"hello":"world"}' and sns["Subject"] == "greeting"
    assert sns["Type"] == "Notification" and sns["MessageId"]
    assert seen["env"]["AWS_ENDPOINT_URL"] == emulator.endpoint
    assert seen["env"]["AWS_LAMBDA_FUNCTION_NAME"] == "probe"
    assert seen["env"]["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert seen["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert int(seen["deadline"]) > time.time() * 1000
    assert [e["outcome"] for e in finished(emulator)] == ["response"]


def test_error_response_is_redelivered_twice(emulator, tmp_path):
    emulator.control("deliveries", {"retry_delays": [0.2, 0.2]})
    arn, record = function(emulator, tmp_path, behaviour="error")
    emulator.client("sns").publish(TopicArn=subscribed_topic(emulator, arn), Message="m")
    emulator.wait_for(lambda: emulator.events("lambda-delivery-exhausted"), what="three attempts")
    assert [e["outcome"] for e in finished(emulator)] == ["error", "error", "error"]
    assert "told to fail" in finished(emulator)[0]["detail"]
    assert len(records(record)) == 3


def test_crash_then_success_and_kill_mid_invocation(emulator, tmp_path):
    emulator.control("deliveries", {"retry_delays": [0.1, 0.1]})
    arn, record = function(emulator, tmp_path, behaviour="fail-first")
    topic = subscribed_topic(emulator, arn)
    emulator.client("sns").publish(TopicArn=topic, Message="m")
    emulator.wait_for(lambda: len(finished(emulator)) == 2, what="retry after error")
    assert [e["outcome"] for e in finished(emulator)] == ["error", "response"]

    slow_arn, slow_record = function(emulator, tmp_path, behaviour="slow", name="slow",
                                     extra_env={"SLOW_SECONDS": "1"})
    emulator.control("deliveries", {"kill_next": 1, "kill_after_seconds": 0.2})
    emulator.client("sns").publish(TopicArn=subscribed_topic(emulator, slow_arn), Message="m")
    emulator.wait_for(lambda: len([e for e in finished(emulator) if e["function"] == "slow"]) == 2,
                      what="killed invocation and its retry")
    outcomes = [e["outcome"] for e in finished(emulator) if e["function"] == "slow"]
    assert outcomes == ["crash", "response"] and emulator.events("lambda-killed")


def test_kill_on_call_kills_the_invocation_after_its_own_call_took_effect_and_before_it_is_answered(emulator,
                                                                                                     tmp_path):
    emulator.control("deliveries", {"retry_delays": [0.1, 0.1]})
    with pytest.raises(urllib.error.HTTPError) as refused:
        emulator.control("deliveries", {"kill_on_call": "SendCommand"})
    assert "kill_on_call" in refused.value.read().decode()
    arn, record = function(emulator, tmp_path, behaviour="slow", extra_env={"SLOW_SECONDS": "3"})
    listing = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:ListTopics", "Resource": "*"}]}
    emulator.client("iam").put_role_policy(RoleName="probe-role", PolicyName="list",
                                           PolicyDocument=json.dumps(listing))
    emulator.control("deliveries", {"kill_next": 1, "kill_on_call": "sns:ListTopics"})
    emulator.client("sns").publish(TopicArn=subscribed_topic(emulator, arn), Message="m")
    [started] = emulator.wait_for(lambda: records(record), what="the invocation to start")
    # Someone else's call (here the test's own credentials; in a scenario, a concurrent invocation) kills nothing.
    emulator.client("sns").list_topics()
    assert not emulator.events("lambda-killed"), "killed for a call the invocation did not make"
    # The same call signed with the invocation's own role session stands in for the handler's call.
    credentials = {k.lower(): started["env"][k.upper()]
                   for k in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")}
    own = boto3.client("sns", endpoint_url=emulator.endpoint, region_name=started["env"]["AWS_REGION"],
                       **credentials)
    own.list_topics()
    assert emulator.events("lambda-killed"), "killed before the call was answered"
    emulator.wait_for(lambda: len(finished(emulator)) == 2, what="the killed invocation and its retry")
    assert [e["outcome"] for e in finished(emulator)] == ["crash", "response"]
    assert len(emulator.events("lambda-killed")) == 1


def test_crash_is_retried_and_timeout_is_enforced(emulator, tmp_path):
    emulator.control("deliveries", {"retry_delays": [0.1, 0.1]})
    arn, _ = function(emulator, tmp_path, behaviour="crash")
    emulator.client("sns").publish(TopicArn=subscribed_topic(emulator, arn), Message="m")
    emulator.wait_for(lambda: emulator.events("lambda-delivery-exhausted"), what="three crashes")
    assert [e["outcome"] for e in finished(emulator)] == ["crash"] * 3
    slow_arn, _ = function(emulator, tmp_path, behaviour="slow", name="slow", Timeout=1,
                           extra_env={"SLOW_SECONDS": "5"})
    emulator.control("deliveries", {"retry_delays": [60, 60]})
    emulator.client("sns").publish(TopicArn=subscribed_topic(emulator, slow_arn), Message="m")
    emulator.wait_for(lambda: [e for e in finished(emulator) if e["function"] == "slow"], timeout=5,
                      what="the timeout")
    assert [e["outcome"] for e in finished(emulator) if e["function"] == "slow"] == ["timeout"]


def test_dropped_and_duplicated_deliveries(emulator, tmp_path):
    arn, record = function(emulator, tmp_path)
    topic = subscribed_topic(emulator, arn)
    emulator.control("deliveries", {"drop_next": 1, "duplicate_next": 1})
    emulator.client("sns").publish(TopicArn=topic, Message="dropped")
    emulator.client("sns").publish(TopicArn=topic, Message="twice")
    emulator.wait_for(lambda: len(finished(emulator)) == 2, what="the duplicated delivery")
    time.sleep(0.5)
    assert [r["event"]["Records"][0]["Sns"]["Message"] for r in records(record)] == ["twice", "twice"]


def test_logging_config_is_kept_and_reaches_the_process(emulator, tmp_path):
    arn, record = function(emulator, tmp_path, LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "INFO",
                                                              "LogGroup": "/graceful/probe"})
    client = emulator.client("lambda")
    config = client.get_function_configuration(FunctionName="probe")["LoggingConfig"]
    assert config == {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "LogGroup": "/graceful/probe"}
    client.update_function_configuration(FunctionName="probe", LoggingConfig={"LogFormat": "Text"})
    assert client.get_function(FunctionName="probe")["Configuration"]["LoggingConfig"] == {
        "LogFormat": "Text", "LogGroup": "/graceful/probe"}
    client.update_function_configuration(FunctionName="probe", LoggingConfig={"LogFormat": "JSON"})
    emulator.client("sns").publish(TopicArn=subscribed_topic(emulator, arn), Message="m")
    emulator.wait_for(lambda: records(record), what="the invocation")
    assert records(record)[0]["env"]["AWS_LAMBDA_LOG_FORMAT"] == "JSON"


def test_schedule_rule_fires_on_the_sped_up_clock(emulator, tmp_path):
    arn, record = function(emulator, tmp_path, name="ticker")
    events = emulator.client("events")
    emulator.control("clock", {"scale": 60})  # rate(1 minute) fires every second
    rule_arn = events.put_rule(Name="tick", ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule="tick", Targets=[{"Id": "fn", "Arn": arn}])
    allow(emulator, arn, "events.amazonaws.com", rule_arn)
    started = time.monotonic()
    emulator.wait_for(lambda: len(records(record)) >= 2, timeout=6, what="two schedule firings")
    assert time.monotonic() - started >= 1.5
    event = records(record)[0]["event"]
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"] == [rule_arn]
    events.disable_rule(Name="tick")
    time.sleep(0.3)
    count = len(records(record))
    time.sleep(1.5)
    assert len(records(record)) == count


def test_put_events_reaches_a_lambda_target_of_a_pattern_rule(emulator, tmp_path):
    arn, record = function(emulator, tmp_path, name="listener")
    events = emulator.client("events")
    commands_arn = events.put_rule(Name="commands", EventPattern=json.dumps({"source": ["aws.ssm"]}))["RuleArn"]
    events.put_targets(Rule="commands", Targets=[{"Id": "fn", "Arn": arn}])
    allow(emulator, arn, "events.amazonaws.com", commands_arn)
    events.put_rule(Name="tick", ScheduleExpression="rate(1 hour)")
    events.put_targets(Rule="tick", Targets=[{"Id": "fn", "Arn": arn}])
    answer = events.put_events(Entries=[{"Source": "aws.ssm", "DetailType": "EC2 Command Status-change Notification",
                                         "Detail": json.dumps({"status": "Success"})},
                                        {"Source": "other", "DetailType": "x", "Detail": "{}"}])
    assert answer["FailedEntryCount"] == 0
    emulator.wait_for(lambda: records(record), what="the rule's delivery")
    time.sleep(0.5)
    delivered = [r["event"] for r in records(record)]
    assert len(delivered) == 1 and delivered[0]["detail"] == {"status": "Success"}


def test_a_service_invokes_a_function_only_as_its_resource_based_policy_allows(emulator, tmp_path):
    arn, record = function(emulator, tmp_path, name="guarded")
    sns = emulator.client("sns")
    unpermitted = subscribed_topic(emulator, arn, permitted=False)
    sns.publish(TopicArn=unpermitted, Message="m")
    emulator.wait_for(lambda: emulator.events("lambda-delivery-denied"), what="the refused delivery")
    (denied,) = emulator.events("lambda-delivery-denied")
    assert denied["source"] == f"sns:{unpermitted}" and "sns.amazonaws.com" in denied["reason"]
    # A permission for another topic does not cover this one (AWS:SourceArn).
    other = sns.create_topic(Name="another")["TopicArn"]
    allow(emulator, arn, "sns.amazonaws.com", other)
    sns.publish(TopicArn=unpermitted, Message="m")
    emulator.wait_for(lambda: len(emulator.events("lambda-delivery-denied")) == 2, what="the second refusal")
    allow(emulator, arn, "sns.amazonaws.com", unpermitted)
    sns.publish(TopicArn=unpermitted, Message="m")
    emulator.wait_for(lambda: records(record), what="the permitted delivery")
    assert len(records(record)) == 1 and not finished(emulator)[1:]
