"""Requests are checked against the botocore service model on the server side, with each service's error."""

import pytest
from botocore.exceptions import ClientError
from conftest import make_group, make_publisher_role, topic_with_queue

from graceful_emulator.validation import java_regex, service_models

TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"


def rejected(call, **params) -> dict:
    with pytest.raises(ClientError) as error:
        call(**params)
    return error.value.response


def hook_params(emulator, **change) -> dict:
    make_group(emulator)
    topic, _ = topic_with_queue(emulator)
    params = {"AutoScalingGroupName": "workers", "LifecycleHookName": "drain", "LifecycleTransition": TERMINATING,
              "HeartbeatTimeout": 60, "NotificationTargetARN": topic, "RoleARN": make_publisher_role(emulator)}
    params.update(change)
    return params


def test_query_maximum_length_answers_validation_error_in_aws_words(emulator):
    autoscaling = emulator.client("autoscaling", validate_locally=False)
    answer = rejected(autoscaling.put_lifecycle_hook, **hook_params(emulator, NotificationMetadata="m" * 4001))
    assert answer["Error"]["Code"] == "ValidationError"
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert answer["Error"]["Message"].startswith("1 validation error detected: Value 'mmm")
    assert answer["Error"]["Message"].endswith(
        "at 'notificationMetadata' failed to satisfy constraint: Member must have length less than or equal to 4000")
    fired = emulator.events("request-invalid")
    assert [(e["service"], e["action"], e["rule"], e["path"]) for e in fired] == [
        ("autoscaling", "PutLifecycleHook", "max", "notificationMetadata")]


def test_query_metadata_of_4000_characters_is_accepted(emulator):
    # The model allows 4,000 (an earlier emulator rule said 1,023).
    autoscaling = emulator.client("autoscaling")
    autoscaling.put_lifecycle_hook(**hook_params(emulator, NotificationMetadata="m" * 4000))
    hook = autoscaling.describe_lifecycle_hooks(AutoScalingGroupName="workers")["LifecycleHooks"][0]
    assert len(hook["NotificationMetadata"]) == 4000


def test_query_role_arn_over_255_and_hook_name_pattern(emulator):
    autoscaling = emulator.client("autoscaling", validate_locally=False)
    long_role = "arn:aws:iam::123456789012:role/" + "r" * 230
    answer = rejected(autoscaling.put_lifecycle_hook, **hook_params(emulator, RoleARN=long_role,
                                                                    LifecycleHookName="bad name!"))
    message = answer["Error"]["Message"]
    assert message.startswith("2 validation errors detected: ")
    assert ("Value 'bad name!' at 'lifecycleHookName' failed to satisfy constraint: Member must satisfy regular "
            "expression pattern: [A-Za-z0-9\\-_\\/]+") in message
    assert "at 'roleARN' failed to satisfy constraint: Member must have length less than or equal to 255" in message


def test_query_list_members_are_unflattened_by_shape(emulator):
    iam = emulator.client("iam", validate_locally=False)
    trust = '{"Version":"2012-10-17","Statement":[]}'
    iam.create_role(RoleName="tagged", AssumeRolePolicyDocument=trust,
                    Tags=[{"Key": "team", "Value": "infra"}, {"Key": "env", "Value": "ci"}])
    answer = rejected(iam.create_role, RoleName="tagged-2", AssumeRolePolicyDocument=trust,
                      Tags=[{"Key": "ok", "Value": "v"}, {"Key": "k" * 129, "Value": "v"}])
    assert answer["Error"]["Code"] == "ValidationError"
    assert ("at 'tags.2.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"
            in answer["Error"]["Message"])
    answer = rejected(iam.create_role, RoleName="tagged-3", AssumeRolePolicyDocument=trust, Tags=[{"Value": "v"}])
    assert "Value null at 'tags.1.member.key' failed to satisfy constraint: Member must not be null" in \
        answer["Error"]["Message"]


def test_query_maps_are_unflattened_by_shape(emulator):
    sns = emulator.client("sns", validate_locally=False)
    topic = sns.create_topic(Name="attributes")["TopicArn"]
    sns.publish(TopicArn=topic, Message="ok",
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "a"}})
    answer = rejected(sns.publish, TopicArn=topic, Message="no type",
                      MessageAttributes={"kind": {"StringValue": "a"}})
    assert answer["Error"]["Code"] == "ValidationError"
    assert "Value null at 'messageAttributes.kind.dataType' failed to satisfy constraint: Member must not be null" \
        in answer["Error"]["Message"]


def test_query_missing_required_member(emulator):
    sns = emulator.client("sns", validate_locally=False)
    topic = sns.create_topic(Name="required")["TopicArn"]
    answer = rejected(sns.publish, TopicArn=topic)
    assert answer["Error"]["Message"] == ("1 validation error detected: Value null at 'message' failed to satisfy "
                                          "constraint: Member must not be null")


def test_json_range_and_length_answer_validation_exception(emulator):
    ssm = emulator.client("ssm", validate_locally=False)
    answer = rejected(ssm.send_command, DocumentName="AWS-RunShellScript", InstanceIds=["i-0123456789abcdef0"],
                      TimeoutSeconds=29, Comment="c" * 101)
    assert answer["Error"]["Code"] == "ValidationException"
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400
    message = answer["Error"]["Message"]
    assert "Value '29' at 'timeoutSeconds' failed to satisfy constraint: Member must have value greater than or " \
           "equal to 30" in message
    assert "at 'comment' failed to satisfy constraint: Member must have length less than or equal to 100" in message


def test_json_missing_required_member_and_list_length(emulator):
    ssm = emulator.client("ssm", validate_locally=False)
    answer = rejected(ssm.send_command, InstanceIds=["i-0123456789abcdef0"])
    assert answer["Error"]["Message"] == ("1 validation error detected: Value null at 'documentName' failed to "
                                          "satisfy constraint: Member must not be null")
    answer = rejected(ssm.send_command, DocumentName="AWS-RunShellScript",
                      InstanceIds=[f"i-{n:017x}" for n in range(51)])
    assert "at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50" in \
        answer["Error"]["Message"]


def test_sensitive_values_are_not_echoed(emulator):
    # Lambda's EnvironmentVariables map is marked `sensitive` in the model: the error names the member, not the value.
    lam = emulator.client("lambda", validate_locally=False)
    answer = rejected(lam.update_function_configuration, FunctionName="f",
                      Environment={"Variables": {"1secret": "hunter2"}})
    message = answer["Error"]["Message"]
    assert "Value '***' at 'environment.variables.key' failed to satisfy constraint: Member must satisfy regular " \
           "expression pattern" in message
    assert "1secret" not in message and "hunter2" not in message


def test_json_wrong_type_answers_serialization_exception(emulator):
    ssm = emulator.client("ssm", validate_locally=False)
    answer = rejected(ssm.send_command, DocumentName="AWS-RunShellScript", InstanceIds=["i-0123456789abcdef0"],
                      TimeoutSeconds="soon")
    assert answer["Error"]["Code"] == "SerializationException"


def test_logs_pattern_answers_invalid_parameter_exception(emulator):
    logs = emulator.client("logs", validate_locally=False)
    answer = rejected(logs.create_log_group, logGroupName="/graceful/has space")
    assert answer["Error"]["Code"] == "InvalidParameterException"
    assert "Value '/graceful/has space' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular " \
           "expression pattern: [\\.\\-_/#A-Za-z0-9]+" in answer["Error"]["Message"]
    logs.create_log_group(logGroupName="/graceful/validation")


def test_events_pattern(emulator):
    events = emulator.client("events", validate_locally=False)
    answer = rejected(events.put_rule, Name="has space", ScheduleExpression="rate(1 minute)")
    assert answer["Error"]["Code"] == "ValidationException"
    assert "Value 'has space' at 'name' failed to satisfy constraint: Member must satisfy regular expression " \
           "pattern" in answer["Error"]["Message"]


def test_rest_json_body_uri_and_header_members(emulator):
    lam = emulator.client("lambda", validate_locally=False)
    answer = rejected(lam.create_function, FunctionName="f", Runtime="python9.9", Role="arn:aws:iam::1:role/r",
                      Handler="h", Code={"ZipFile": b"zip"})
    assert answer["Error"]["Code"] == "ValidationException"
    assert "Value 'python9.9' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set" in \
        answer["Error"]["Message"]
    answer = rejected(lam.get_function, FunctionName="x" * 257)
    assert "at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 256" in \
        answer["Error"]["Message"]
    answer = rejected(lam.invoke, FunctionName="f", InvocationType="Sometime")
    assert "Value 'Sometime' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set" \
        in answer["Error"]["Message"]
    # A valid request of the same operation reaches the service (moto answers "not found" for a missing function).
    answer = rejected(lam.get_function, FunctionName="missing")
    assert answer["Error"]["Code"] == "ResourceNotFoundException"


def test_validation_can_be_turned_off_for_one_test(emulator):
    autoscaling = emulator.client("autoscaling", validate_locally=False)
    params = hook_params(emulator, NotificationMetadata="m" * 4001)
    assert emulator.control("validation", {"enabled": False}) == {"validation": {"enabled": False}}
    autoscaling.put_lifecycle_hook(**params)  # reaches the service, which keeps no length rule of its own
    assert not emulator.events("request-invalid")
    emulator.control("reset", {})
    assert emulator.control("validation", {"enabled": True}) == {"validation": {"enabled": True}}


def test_every_model_pattern_of_the_validated_services_compiles():
    count = 0
    for service in service_models.VALIDATED_SERVICES:
        model = service_models.service_model(service)
        for name in model.shape_names:
            pattern = model.shape_for(name).metadata.get("pattern")
            if pattern:
                java_regex.compiled(pattern)
                count += 1
    assert count > 300


def test_java_surrogate_pairs_mean_supplementary_characters():
    # Auto Scaling's XmlString pattern: any XML character, including those beyond the BMP.
    xml_string = "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*"
    assert java_regex.matches(xml_string, "workers-\U0001F600")
    assert not java_regex.matches(xml_string, "bell\x07")
    assert java_regex.matches("[A-Za-z0-9\\-_\\/]+", "drain")
    assert not java_regex.matches("[A-Za-z0-9\\-_\\/]+", "drain!")  # the whole value must match


def test_rest_routes_pick_the_most_specific_operation():
    assert service_models.rest_operation("lambda", "GET", "/2015-03-31/functions/f/policy")[0] == "GetPolicy"
    assert service_models.rest_operation("lambda", "GET", "/2015-03-31/functions/f") == ("GetFunction",
                                                                                         {"FunctionName": "f"})
    assert service_models.rest_operation("lambda", "DELETE", "/2015-03-31/functions/f/policy/s")[0] == \
        "RemovePermission"
