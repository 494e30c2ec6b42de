//! Table tests of validation and planning: one row per rule, asserting the message and the attribute it points at.

use super::validate::validate;
use crate::config::DefaultTags;
use std::collections::BTreeMap;
use tfplugin::{PlanResponse, Severity, Value};

/// A plan with no provider `default_tags`.
fn plan(prior: &Value, config: &Value, sha: &dyn Fn(&str) -> Option<String>) -> PlanResponse {
    super::plan::plan(prior, config, &DefaultTags::default(), None, sha)
}

/// A plan with the provider block's `region` set.
fn plan_in(region: &str, prior: &Value, config: &Value) -> PlanResponse {
    super::plan::plan(prior, config, &DefaultTags::default(), Some(region), &sha)
}

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
    // As Terraform sends it: every attribute of the schema, null unless set.
    value.conformed(&super::schema::declared().block.value_type())
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
        (config(&[("name", Value::string("amzn-ci"))], &[]), "name", "starts with \"amzn\", which SSM reserves"),
        (config(&[("autoscaling_group_names", Value::Set(vec![]))], &[]), "autoscaling_group_names", "at least one"),
        (
            config(&[("on_failure", Value::string("retry"))], &[]),
            "on_failure",
            "expected one of \"continue\", \"abandon\"",
        ),
        (config(&[("architecture", Value::string("i386"))], &[]), "architecture", "\"arm64\", \"x86_64\""),
        (config(&[("log_retention_days", Value::Number(10.0))], &[]), "log_retention_days", "expected one of 1, 3"),
        (config(&[("iam_path", Value::string("ci"))], &[]), "iam_path", "begins and ends with '/'"),
        // Valid for IAM, refused by Lambda's RoleArn pattern.
        (config(&[("iam_path", Value::string("/team#1/"))], &[]), "iam_path", "which Lambda accepts in the role ARN"),
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
        (config(&[], &[("preset", Value::string("consul"))]), "drain.preset", "expected one of \"nomad\", \"command\""),
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
    // The hook's clock starts at Terminating:Wait: the agent wait (up to 5 min), 3 min for a start held back by a
    // crashed invocation, the drain, then 3 min to complete.
    assert_eq!(planned.get("heartbeat_timeout"), &Value::Number(300.0 + 180.0 + 5400.0 + 180.0));
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
fn a_new_resources_role_names_carry_the_region_and_an_update_keeps_the_recorded_ones() {
    let created = plan_in("eu-west-1", &Value::Null, &config(&[], &[])).planned_state;
    assert_eq!(created.get("publisher_role_name"), &Value::string("ci-eu-west-1-publisher"));
    assert_eq!(created.get("handler_role_name"), &Value::string("ci-eu-west-1-handler"));
    // Without a region in the provider block, apply names them (the region comes from the environment).
    let unnamed = plan(&Value::Null, &config(&[], &[]), &sha).planned_state;
    assert_eq!(unnamed.get("handler_role_name"), &Value::Unknown);

    // A state upgraded from version 0 keeps the account-wide names it recorded.
    let mut legacy = created.clone();
    if let Value::Object(attrs) = &mut legacy {
        attrs.insert("publisher_role_name".into(), Value::string("ci-publisher"));
        attrs.insert("handler_role_name".into(), Value::string("ci-handler"));
    }
    let update = plan_in("eu-west-1", &legacy, &config(&[("on_failure", Value::string("abandon"))], &[]));
    assert_eq!(update.planned_state.get("handler_role_name"), &Value::string("ci-handler"));
    assert_eq!(update.planned_state.get("publisher_role_name"), &Value::string("ci-publisher"));
    // A replacement creates new roles, under the regional names.
    let renamed = plan_in("eu-west-1", &legacy, &config(&[("name", Value::string("ci2"))], &[])).planned_state;
    assert_eq!(renamed.get("handler_role_name"), &Value::string("ci2-eu-west-1-handler"));
}

#[test]
fn a_name_whose_regional_role_names_exceed_iams_limit_is_refused_at_plan() {
    // 50 characters pass validation (the function name's bound) but not "<name>-ap-southeast-7-publisher".
    let long = "n".repeat(drain_contract::names::max_name_len());
    let refused = plan_in("ap-southeast-7", &Value::Null, &config(&[("name", Value::string(long.clone()))], &[]));
    assert!(refused.diagnostics.has_errors());
    let error = &refused.diagnostics.0[0];
    assert_eq!(error.attribute.as_ref().map(|p| p.to_string()).as_deref(), Some("name"));
    assert!(
        error.detail.contains("over IAM's limit of 64") && error.detail.contains("ap-southeast-7"),
        "{}",
        error.detail
    );
    let ok = plan_in("ap-southeast-7", &Value::Null, &config(&[("name", Value::string(long[..33].to_string()))], &[]));
    assert!(!ok.diagnostics.has_errors(), "{:?}", ok.diagnostics);
}

#[test]
fn an_iam_path_that_makes_the_hooks_role_arn_too_long_is_refused_at_plan() {
    // PutLifecycleHook takes a RoleARN of at most 255 characters; IAM itself takes paths up to 512.
    let path = format!("/{}/", "p".repeat(220));
    let refused = plan_in("us-east-1", &Value::Null, &config(&[("iam_path", Value::string(path))], &[]));
    let error = &refused.diagnostics.0[0];
    assert_eq!(error.attribute.as_ref().map(|p| p.to_string()).as_deref(), Some("iam_path"));
    assert!(error.detail.contains("RoleARN of at most 255"), "{}", error.detail);
    let fits = format!("/{}/", "p".repeat(150));
    let ok = plan_in("us-east-1", &Value::Null, &config(&[("iam_path", Value::string(fits))], &[]));
    assert!(!ok.diagnostics.has_errors(), "{:?}", ok.diagnostics);
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
    assert_eq!(
        super::state::from_read(&prior_empty, &only_owner, &BTreeMap::new()).get("tags"),
        &empty,
        "tags = {{}} must converge"
    );
    assert_eq!(super::state::from_read(&prior_null, &only_owner, &BTreeMap::new()).get("tags"), &Value::Null);
    let tagged = with_topic_tags(&[(OWNER_TAG, "id"), ("team", "ci")]);
    assert_eq!(
        super::state::from_read(&prior_empty, &tagged, &BTreeMap::new()).get("tags"),
        &Value::Map([("team".to_string(), Value::string("ci"))].into()),
        "a tag added out of band shows, the owner tag never does"
    );

    // With the provider's default_tags, a refresh reads every tag into tags_all and leaves the defaults out of tags.
    let defaulted = with_topic_tags(&[(OWNER_TAG, "id"), ("team", "ci"), ("env", "prod")]);
    let defaults: BTreeMap<String, String> = [("env".to_string(), "prod".to_string())].into();
    let prior_team = Value::object([
        ("name", Value::string("x")),
        ("tags", Value::Map([("team".to_string(), Value::string("ci"))].into())),
    ]);
    let read = super::state::from_read(&prior_team, &defaulted, &defaults);
    assert_eq!(read.get("tags"), &Value::Map([("team".to_string(), Value::string("ci"))].into()));
    assert_eq!(
        read.get("tags_all"),
        &Value::Map([("env".to_string(), Value::string("prod")), ("team".to_string(), Value::string("ci"))].into())
    );
}

#[test]
fn tags_all_plans_the_provider_defaults_under_the_resources_tags() {
    let sha = |_: &str| Some("sha".to_string());
    let own = Value::Map([("team".to_string(), Value::string("ci"))].into());
    let defaults = DefaultTags::Known(
        [("team".to_string(), "platform".to_string()), ("env".to_string(), "prod".to_string())].into(),
    );
    let planned = super::plan::plan(&Value::Null, &config(&[("tags", own.clone())], &[]), &defaults, None, &sha);
    assert_eq!(planned.planned_state.get("tags"), &own);
    assert_eq!(
        planned.planned_state.get("tags_all"),
        &Value::Map([("env".to_string(), Value::string("prod")), ("team".to_string(), Value::string("ci"))].into())
    );
    let unknown = super::plan::plan(&Value::Null, &config(&[("tags", own)], &[]), &DefaultTags::Unknown, None, &sha);
    assert_eq!(unknown.planned_state.get("tags_all"), &Value::Unknown);
}

fn nomad(attributes: &[(&str, &str)]) -> Value {
    let names = [
        "address",
        "ca_file",
        "client_cert_file",
        "client_key_file",
        "tls_server_name",
        "token_file",
        "token_parameter",
    ];
    Value::object(names.map(|name| {
        let value = attributes.iter().find(|(k, _)| *k == name).map(|(_, v)| Value::string(*v));
        (name, value.unwrap_or(Value::Null))
    }))
}

#[test]
fn impossible_nomad_connections_are_refused_naming_the_attribute() {
    let https = ("address", "https://127.0.0.1:4646");
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            config(&[], &[("nomad", nomad(&[("token_file", "/etc/nomad.d/t"), ("token_parameter", "/nomad/t")]))]),
            "drain.nomad.token_parameter",
            "either token_file or token_parameter, not both",
        ),
        (
            config(&[], &[("nomad", nomad(&[https, ("client_cert_file", "/etc/nomad.d/cli.pem")]))]),
            "drain.nomad.client_key_file",
            "is required with client_cert_file",
        ),
        (
            config(&[], &[("nomad", nomad(&[("ca_file", "/etc/nomad.d/ca.pem")]))]),
            "drain.nomad.ca_file",
            "is a TLS setting, but address \"http://127.0.0.1:4646\" is not https://",
        ),
        (
            config(&[], &[("nomad", nomad(&[("address", "nomad:4646")]))]),
            "drain.nomad.address",
            "expected http://host:port or https://host:port",
        ),
        (
            config(&[], &[("nomad", nomad(&[("token_file", "/etc/nomad token")]))]),
            "drain.nomad.token_file",
            "contains ' '",
        ),
        (
            config(
                &[],
                &[
                    ("preset", Value::string("command")),
                    ("command", Value::string("true")),
                    ("nomad", nomad(&[("token_file", "/etc/nomad.d/t")])),
                ],
            ),
            "drain.nomad",
            "drain.preset is \"command\"",
        ),
    ];
    for (input, attribute, message) in cases {
        let errors = errors_at(&input);
        assert_eq!(errors.len(), 1, "{attribute}: {errors:?}");
        assert_eq!(errors[0].0, attribute, "{errors:?}");
        assert!(errors[0].1.contains(message), "{attribute}: {errors:?}");
        assert!(plan(&Value::Null, &input, &sha).diagnostics.has_errors(), "{attribute}: plan must refuse it");
    }
}

#[test]
fn a_nomad_block_plans_its_default_address_and_reaches_the_document_parameters() {
    let tls = nomad(&[
        ("address", "https://127.0.0.1:4646"),
        ("ca_file", "/etc/nomad.d/tls/ca.pem"),
        ("token_file", "/etc/nomad.d/drain.token"),
    ]);
    let planned = plan(&Value::Null, &config(&[], &[("nomad", tls)]), &sha).planned_state;
    let settings = super::model::Settings::from_value(&planned).expect("a known plan gives settings");
    let parameters = drain_contract::document::default_parameters(&settings.preset, &settings.budget);
    assert_eq!(parameters["nomadCaFile"], ["/etc/nomad.d/tls/ca.pem"]);
    assert_eq!(parameters["nomadTokenFile"], ["/etc/nomad.d/drain.token"]);
    assert_eq!(parameters["nomadTokenParameter"], [""]);

    let token_only = nomad(&[("token_parameter", "/nomad/drain-token")]);
    let planned = plan(&Value::Null, &config(&[], &[("nomad", token_only)]), &sha).planned_state;
    assert_eq!(planned.get("drain").get("nomad").get("address"), &Value::string("http://127.0.0.1:4646"));
    // No block plans no block (Terraform does not allow a provider to add one).
    let planned = plan(&Value::Null, &config(&[], &[]), &sha).planned_state;
    assert_eq!(planned.get("drain").get("nomad"), &Value::Null);
    let settings = super::model::Settings::from_value(&planned).unwrap();
    assert_eq!(settings.preset, drain_contract::document::DrainPreset::nomad());
}

/// Import reads the settings back from the document parameters: the block it writes gives the same connection.
#[test]
fn an_imported_nomad_block_reads_back_as_the_same_connection() {
    use drain_contract::nomad_settings::NomadConnection;
    let connection = drain_contract::nomad_settings::NomadSettingsInput {
        address: Some("https://nomad.internal:4646".into()),
        ca_file: Some("/etc/nomad.d/ca.pem".into()),
        token_parameter: Some("/nomad/drain-token".into()),
        ..Default::default()
    }
    .parse()
    .unwrap();
    let parameters: std::collections::BTreeMap<_, _> = connection.document_parameters().into_iter().collect();
    let read = NomadConnection::from_document_parameters(|name| parameters.get(name).cloned()).unwrap();
    let block = super::state::nomad_block(&read);
    assert_eq!(block.get("token_parameter"), &Value::string("/nomad/drain-token"));
    assert_eq!(block.get("token_file"), &Value::Null);
    assert_eq!(super::model::nomad_input(&block).unwrap().parse(), Ok(connection));
    // The defaults import as no block, as a configuration without one plans.
    assert_eq!(super::state::nomad_block(&NomadConnection::default()), Value::Null);
}

fn spot(on_interruption: Option<&str>, deadline: Option<&str>) -> Value {
    let text = |v: Option<&str>| v.map(Value::string).unwrap_or(Value::Null);
    Value::object([("on_interruption", text(on_interruption)), ("deadline", text(deadline))])
}

#[test]
fn a_spot_deadline_that_cannot_fit_the_notice_is_refused_naming_the_attribute() {
    for (block, attribute, message) in [
        (spot(None, Some("2m")), "spot.deadline", "expected 5s to 45s"),
        (spot(None, Some("soon")), "spot.deadline", "expected a duration"),
        (spot(Some("stop"), None), "spot.on_interruption", "expected \"drain\" or \"ignore\""),
    ] {
        let input = config(&[("spot", block)], &[]);
        let errors = errors_at(&input);
        assert_eq!(errors.len(), 1, "{attribute}: {errors:?}");
        assert_eq!(errors[0].0, attribute, "{errors:?}");
        assert!(errors[0].1.contains(message), "{attribute}: {errors:?}");
    }
}

#[test]
fn the_spot_block_becomes_the_handlers_notice_drain() {
    use drain_contract::spot::SpotDrain;
    let settings = |block: Value| {
        let planned = plan(&Value::Null, &config(&[("spot", block)], &[]), &sha).planned_state;
        super::model::Settings::from_value(&planned).expect("known settings").spot
    };
    assert_eq!(settings(spot(None, None)), Some(SpotDrain { deadline_seconds: 30, grace_seconds: 40 }));
    assert_eq!(settings(spot(Some("drain"), Some("45s"))), Some(SpotDrain { deadline_seconds: 45, grace_seconds: 40 }));
    assert_eq!(settings(spot(Some("ignore"), Some("10s"))), None);
    assert_eq!(settings(Value::Null), None);
    // An import shows the block as a configuration would write it.
    assert_eq!(super::state::spot_block(Some(SpotDrain { deadline_seconds: 30, grace_seconds: 40 })), spot(None, None));
    assert_eq!(super::state::spot_block(None), Value::Null);
}

#[test]
fn a_budget_spelt_another_way_is_no_change() {
    let timeout = |text: &str| config(&[], &[("timeout", Value::string(text))]);
    let prior = plan(&Value::Null, &timeout("1h"), &sha).planned_state;
    let respelt = plan(&prior, &timeout("60m"), &sha).planned_state;
    assert_eq!(respelt, prior, "\"1h\" then \"60m\": the prior spelling is kept, so nothing changes");
    let changed = plan(&prior, &timeout("61m"), &sha).planned_state;
    assert_eq!(changed.get("drain").get("timeout"), &Value::string("61m"));
    assert_eq!(changed.get("drain").get("timeout_seconds"), &Value::Number(3660.0));
}
