//! Table tests of validation and planning: one row per rule, asserting the message and the attribute it points at.

use super::plan::plan;
use super::validate::validate;
use tfplugin::{Severity, Value};

fn config(overrides: &[(&str, Value)], drain: &[(&str, Value)]) -> Value {
    let mut drain_block = Value::object([
        ("preset", Value::Null),
        ("command", Value::Null),
        ("timeout", Value::Null),
        ("timeout_seconds", Value::Null),
        ("nomad_deadline_seconds", Value::Null),
    ]);
    if let Value::Object(attrs) = &mut drain_block {
        for (k, v) in drain {
            attrs.insert(k.to_string(), v.clone());
        }
    }
    let mut value = Value::object([
        ("name", Value::string("ci")),
        ("autoscaling_group_names", Value::Set(vec![Value::string("nomad-a")])),
        ("drain", drain_block),
    ]);
    if let Value::Object(attrs) = &mut value {
        for (k, v) in overrides {
            attrs.insert(k.to_string(), v.clone());
        }
    }
    value
}

fn errors_at(config: &Value) -> Vec<(String, String)> {
    validate(config)
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.attribute.as_ref().map(|p| p.to_string()).unwrap_or_default(), d.detail.clone()))
        .collect()
}

fn sha(arch: &str) -> Option<String> {
    Some(format!("sha-of-{arch}"))
}

#[test]
fn defaults_validate_clean() {
    assert!(errors_at(&config(&[], &[])).is_empty());
}

#[test]
fn each_invalid_input_points_at_its_attribute() {
    let long = "n".repeat(drain_contract::names::max_name_len() + 1);
    let cases: Vec<(Value, &str, &str)> = vec![
        (config(&[("name", Value::string(&long))], &[]), "name", "expected 1 to"),
        (config(&[("name", Value::string("ci builds"))], &[]), "name", "expected only letters"),
        (config(&[("name", Value::string("aws-ci"))], &[]), "name", "reserves"),
        (config(&[("autoscaling_group_names", Value::Set(vec![]))], &[]), "autoscaling_group_names", "at least one"),
        (
            config(&[("on_failure", Value::string("retry"))], &[]),
            "on_failure",
            "expected one of \"continue\", \"abandon\"",
        ),
        (config(&[("architecture", Value::string("i386"))], &[]), "architecture", "\"arm64\", \"x86_64\""),
        (config(&[("log_retention_days", Value::Number(10.0))], &[]), "log_retention_days", "expected one of 1, 3"),
        (config(&[("iam_path", Value::string("ci"))], &[]), "iam_path", "begins and ends with '/'"),
        (
            config(&[("permissions_boundary", Value::string("boundary"))], &[]),
            "permissions_boundary",
            "ARN of an IAM policy",
        ),
        (config(&[("heartbeat_timeout", Value::Number(10.0))], &[]), "heartbeat_timeout", "expected 120 to 7200"),
        // AWS accepts 60, but no budget can use it: the docs and the rule say 120 to 7200.
        (config(&[("heartbeat_timeout", Value::Number(60.0))], &[]), "heartbeat_timeout", "expected 120 to 7200"),
        (
            config(&[("heartbeat_timeout", Value::Number(300.0))], &[("timeout", Value::string("9h"))]),
            "heartbeat_timeout",
            "100 x heartbeat timeout",
        ),
        (config(&[], &[("timeout", Value::string("90 minutes"))]), "drain.timeout", "expected a duration like"),
        (config(&[], &[("timeout", Value::string("30s"))]), "drain.timeout", "expected at least 1m"),
        (config(&[], &[("timeout", Value::string("48h"))]), "drain.timeout", "at most 48h"),
        (config(&[], &[("preset", Value::string("consul"))]), "drain.preset", "expected \"nomad\" or \"command\""),
        (config(&[], &[("preset", Value::string("command"))]), "drain.command", "drain.command is required"),
        (
            config(&[], &[("preset", Value::string("command")), ("command", Value::string("  "))]),
            "drain.command",
            "is empty",
        ),
        (
            config(&[], &[("command", Value::string("true"))]),
            "drain.command",
            "only used with drain.preset = \"command\"",
        ),
        (
            config(&[], &[("preset", Value::string("command")), ("command", Value::string("echo {{ x }}"))]),
            "drain.command",
            "SSM reads as a document parameter",
        ),
        (
            config(&[("tags", Value::Map([("aws:owner".to_string(), Value::string("x"))].into()))], &[]),
            "tags[\"aws:owner\"]",
            "reserves",
        ),
    ];
    for (input, path, needle) in cases {
        let errors = errors_at(&input);
        assert!(
            errors.iter().any(|(at, detail)| at == path && detail.contains(needle)),
            "expected an error at {path} containing {needle:?}, got {errors:?}"
        );
    }
}

#[test]
fn unknown_inputs_validate_and_plan_as_unknown() {
    let input = config(
        &[("name", Value::Unknown), ("autoscaling_group_names", Value::Unknown), ("heartbeat_timeout", Value::Unknown)],
        &[("timeout", Value::Unknown)],
    );
    assert!(errors_at(&input).is_empty());
    let planned = plan(&Value::Null, &input, &sha).planned_state;
    for attribute in ["id", "lambda_function_name", "ssm_document_name", "lifecycle_hook_names", "heartbeat_timeout"] {
        assert_eq!(planned.get(attribute), &Value::Unknown, "{attribute}");
    }
    assert_eq!(planned.get("drain").get("timeout_seconds"), &Value::Unknown);
    assert_eq!(planned.get("handler_code_sha256"), &Value::string("sha-of-arm64"));
}

#[test]
fn create_plan_derives_defaults_and_leaves_arns_unknown() {
    let planned = plan(&Value::Null, &config(&[], &[("timeout", Value::string("90m"))]), &sha).planned_state;
    assert_eq!(planned.get("id"), &Value::string("ci"));
    assert_eq!(planned.get("on_failure"), &Value::string("continue"));
    assert_eq!(planned.get("architecture"), &Value::string("arm64"));
    assert_eq!(planned.get("iam_path"), &Value::string("/"));
    assert_eq!(planned.get("log_retention_days"), &Value::Number(30.0));
    assert_eq!(planned.get("drain").get("preset"), &Value::string("nomad"));
    assert_eq!(planned.get("drain").get("timeout_seconds"), &Value::Number(5400.0));
    assert_eq!(planned.get("drain").get("nomad_deadline_seconds"), &Value::Number(5400.0 - 300.0));
    // The hook's clock starts at Terminating:Wait: the agent wait (up to 5 min), the drain, then 3 min to complete.
    assert_eq!(planned.get("heartbeat_timeout"), &Value::Number(300.0 + 5400.0 + 180.0));
    assert_eq!(planned.get("lambda_function_name"), &Value::string("ci-drain-handler"));
    assert_eq!(planned.get("lifecycle_hook_names").get("nomad-a"), &Value::string("ci-drain"));
    for arn in ["sns_topic_arn", "lambda_function_arn", "publisher_role_arn", "handler_role_arn"] {
        assert_eq!(planned.get(arn), &Value::Unknown, "{arn}");
    }
}

#[test]
fn defaults_come_from_config_not_from_prior_state() {
    let first = plan(&Value::Null, &config(&[("on_failure", Value::string("abandon"))], &[]), &sha).planned_state;
    // The user removes on_failure: the plan must go back to the default, not keep the prior "abandon".
    let second = plan(&first, &config(&[], &[]), &sha);
    assert_eq!(second.planned_state.get("on_failure"), &Value::string("continue"));
    assert!(second.requires_replace.is_empty());
}

#[test]
fn in_place_changes_keep_arns_and_name_change_replaces() {
    let mut prior = plan(&Value::Null, &config(&[], &[]), &sha).planned_state;
    if let Value::Object(attrs) = &mut prior {
        for arn in ["sns_topic_arn", "lambda_function_arn", "publisher_role_arn", "handler_role_arn"] {
            attrs.insert(arn.into(), Value::string(format!("arn:{arn}")));
        }
    }
    let grown = config(
        &[("autoscaling_group_names", Value::Set(vec![Value::string("nomad-a"), Value::string("nomad-b")]))],
        &[("timeout", Value::string("2h"))],
    );
    let update = plan(&prior, &grown, &sha);
    assert!(update.requires_replace.is_empty());
    assert_eq!(update.planned_state.get("sns_topic_arn"), &Value::string("arn:sns_topic_arn"));
    assert_eq!(update.planned_state.get("lifecycle_hook_names").get("nomad-b"), &Value::string("ci-drain"));

    let renamed = plan(&prior, &config(&[("name", Value::string("ci2"))], &[]), &sha);
    assert_eq!(renamed.requires_replace.iter().map(|p| p.to_string()).collect::<Vec<_>>(), vec!["name"]);
    assert_eq!(renamed.planned_state.get("sns_topic_arn"), &Value::Unknown);
}

#[test]
fn a_piece_gone_out_of_band_plans_its_recreation() {
    let mut prior = plan(&Value::Null, &config(&[], &[]), &sha).planned_state;
    if let Value::Object(attrs) = &mut prior {
        attrs.insert("lambda_function_arn".into(), Value::Null);
        attrs.insert("sns_topic_arn".into(), Value::string("arn:topic"));
    }
    let update = plan(&prior, &config(&[], &[]), &sha);
    assert_eq!(update.planned_state.get("lambda_function_arn"), &Value::Unknown);
    assert_eq!(update.planned_state.get("sns_topic_arn"), &Value::string("arn:topic"));
}

#[test]
fn new_handler_bundle_shows_as_a_diff() {
    let prior = plan(&Value::Null, &config(&[], &[]), &sha).planned_state;
    let newer = |arch: &str| Some(format!("new-sha-of-{arch}"));
    let update = plan(&prior, &config(&[], &[]), &newer);
    assert_ne!(update.planned_state.get("handler_code_sha256"), prior.get("handler_code_sha256"));
}

#[test]
fn destroy_plans_null() {
    let prior = plan(&Value::Null, &config(&[], &[]), &sha).planned_state;
    assert_eq!(plan(&prior, &Value::Null, &sha).planned_state, Value::Null);
}

#[test]
fn refresh_keeps_the_spelling_of_no_tags_and_hides_the_owner_tag() {
    use graceful_provision::{OWNER_TAG, ObservedResource, ObservedTopic};
    let with_topic_tags = |tags: &[(&str, &str)]| ObservedResource {
        topic: Some(ObservedTopic {
            arn: "arn:aws:sns:us-east-1:123456789012:x-lifecycle".into(),
            policy: None,
            kms_key_id: None,
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }),
        ..ObservedResource::empty("x")
    };
    let only_owner = with_topic_tags(&[(OWNER_TAG, "id")]);
    let empty = Value::Map(Default::default());
    let prior_empty = Value::object([("name", Value::string("x")), ("tags", empty.clone())]);
    let prior_null = Value::object([("name", Value::string("x")), ("tags", Value::Null)]);
    assert_eq!(super::state::from_read(&prior_empty, &only_owner).get("tags"), &empty, "tags = {{}} must converge");
    assert_eq!(super::state::from_read(&prior_null, &only_owner).get("tags"), &Value::Null);
    let tagged = with_topic_tags(&[(OWNER_TAG, "id"), ("team", "ci")]);
    assert_eq!(
        super::state::from_read(&prior_empty, &tagged).get("tags"),
        &Value::Map([("team".to_string(), Value::string("ci"))].into()),
        "a tag added out of band shows, the owner tag never does"
    );
}
