//! Terraform state from what AWS holds: the user's settings as planned, and every computed attribute as observed.
//! A piece that is missing in AWS leaves its attribute null, so the next plan shows it being re-created.

use super::model::{Settings, on_failure_text};
use super::schema::{HANDLER_ROLE_NAME, OUT_OF_BAND_CHANGES, PUBLISHER_ROLE_NAME};
use drain_contract::LifecycleResult;
use drain_contract::budget::{format_duration, parse_duration};
use drain_contract::document::DrainPreset;
use drain_contract::names::DerivedNames;
use drain_contract::nomad_settings::{NomadConnection, TokenSource};
use drain_contract::spot::SpotDrain;
use graceful_provision::ObservedResource;
use graceful_provision::ownership::{owner_tag, user_tags};
use std::collections::{BTreeMap, BTreeSet};
use tfplugin::Value;

fn opt_string(value: Option<&str>) -> Value {
    value.map(Value::string).unwrap_or(Value::Null)
}

/// The state after apply: `planned` (the user's values and derivations) with the computed attributes from AWS.
pub fn from_apply(planned: &Value, observed: &ObservedResource) -> Value {
    let Value::Object(mut attrs) = planned.clone() else { return Value::Null };
    set_computed(&mut attrs, observed);
    Value::Object(attrs)
}

fn set_computed(attrs: &mut BTreeMap<String, Value>, observed: &ObservedResource) {
    attrs.insert("id".into(), Value::string(observed.name.clone()));
    attrs.insert("sns_topic_arn".into(), opt_string(observed.topic.as_ref().map(|t| t.arn.as_str())));
    attrs.insert("publisher_role_arn".into(), opt_string(observed.publisher_role.as_ref().map(|r| r.arn.as_str())));
    attrs.insert("handler_role_arn".into(), opt_string(observed.handler_role.as_ref().map(|r| r.arn.as_str())));
    // Names, not presence: they stay when a role is gone, so the next apply re-creates it under the same name.
    // (A failure before the first read leaves them unset; the planned or prior value stands.)
    if !observed.role_names.handler.is_empty() {
        attrs.insert(PUBLISHER_ROLE_NAME.into(), Value::string(observed.role_names.publisher.clone()));
        attrs.insert(HANDLER_ROLE_NAME.into(), Value::string(observed.role_names.handler.clone()));
    }
    attrs.insert("ssm_document_name".into(), opt_string(observed.document.as_ref().map(|d| d.name.as_str())));
    attrs.insert("log_group_name".into(), opt_string(observed.log_group.as_ref().map(|g| g.name.as_str())));
    // The function counts as present only with both its triggers: without them it would never run.
    let function_complete = observed.function.is_some()
        && observed.subscription.is_some()
        && observed.sns_permission.is_some()
        && observed.rule.is_some()
        && observed.schedule_permission.is_some();
    let function = observed.function.as_ref().filter(|_| function_complete);
    attrs.insert("lambda_function_arn".into(), opt_string(function.map(|f| f.arn.as_str())));
    attrs.insert("lambda_function_name".into(), opt_string(function.map(|f| f.name.as_str())));
    attrs.insert(
        "lifecycle_hook_names".into(),
        Value::Map(
            observed.hooks.iter().map(|(group, hook)| (group.clone(), Value::string(hook.name.clone()))).collect(),
        ),
    );
}

/// The state after a refresh: the prior state with everything AWS can tell read back from AWS, so that drift (a
/// deleted piece, a changed setting) shows in the next plan.
pub fn from_read(prior: &Value, observed: &ObservedResource, default_tags: &BTreeMap<String, String>) -> Value {
    let Value::Object(mut attrs) = prior.clone() else { return Value::Null };
    set_computed(&mut attrs, observed);
    if let Some(function) = &observed.function {
        attrs.insert("handler_code_sha256".into(), Value::string(function.code_sha256.clone()));
        if let Some(architecture) = function.architecture {
            attrs.insert("architecture".into(), Value::string(architecture.as_aws_str()));
        }
        if let Some(config) = function
            .config
            .as_ref()
            .and_then(|c| serde_json::from_value::<drain_contract::HandlerConfig>(c.clone()).ok())
        {
            read_drain_timeout(&mut attrs, config.drain_timeout_seconds);
        }
    }
    if let Some(group) = &observed.log_group
        && let Some(days) = group.retention_days
    {
        attrs.insert("log_retention_days".into(), Value::Number(days as f64));
    }
    if let Some(role) = &observed.handler_role {
        attrs.insert("iam_path".into(), Value::string(role.path.clone()));
        attrs.insert("permissions_boundary".into(), opt_string(role.permissions_boundary.as_deref()));
    }
    if let Some(topic) = &observed.topic {
        attrs.insert("kms_key_id".into(), opt_string(topic.kms_key_id.as_deref()));
        let all = user_tags(&topic.tags);
        attrs.insert(super::tags::TAGS_ALL.into(), super::tags::to_value(&all));
        let own_before: BTreeSet<String> = match attrs.get("tags") {
            Some(Value::Map(recorded)) => recorded.keys().cloned().collect(),
            _ => BTreeSet::new(),
        };
        let tags = super::tags::own_among(&all, default_tags, &own_before);
        // No tags in AWS reads back as the state's own spelling of "none" (`null` or `{}`), so `tags = {}` converges.
        let none_recorded = own_before.is_empty();
        let read_back = if tags.is_empty() && none_recorded {
            attrs.get("tags").cloned().unwrap_or(Value::Null)
        } else {
            Value::Map(tags.into_iter().map(|(k, v)| (k, Value::string(v))).collect())
        };
        attrs.insert("tags".into(), read_back);
    }
    if let Some(hook) = observed.hooks.values().next() {
        if let Some(seconds) = hook.heartbeat_timeout_seconds {
            attrs.insert("heartbeat_timeout".into(), Value::Number(seconds as f64));
        }
        match hook.default_result.as_deref() {
            Some("CONTINUE") => {
                attrs.insert("on_failure".into(), Value::string(on_failure_text(LifecycleResult::Continue)))
            }
            Some("ABANDON") => {
                attrs.insert("on_failure".into(), Value::string(on_failure_text(LifecycleResult::Abandon)))
            }
            _ => None,
        };
    }
    if !observed.hooks.is_empty() {
        attrs.insert(
            "autoscaling_group_names".into(),
            Value::Set(observed.hooks.keys().map(|group| Value::string(group.clone())).collect()),
        );
    }
    Value::Object(attrs)
}

/// Records the drift a refresh found; none keeps the state's own spelling (`null` or `[]`), so nothing changes.
pub fn set_out_of_band_changes(state: &mut Value, changes: Vec<String>) {
    let Value::Object(attrs) = state else { return };
    if changes.is_empty() {
        if let Some(Value::List(recorded)) = attrs.get_mut(OUT_OF_BAND_CHANGES) {
            recorded.clear();
        }
        return;
    }
    attrs.insert(OUT_OF_BAND_CHANGES.into(), Value::List(changes.into_iter().map(Value::String).collect()));
}

/// Keeps the user's spelling of `drain.timeout` ("90m") unless AWS holds another budget.
fn read_drain_timeout(attrs: &mut BTreeMap<String, Value>, seconds: u64) {
    let Some(Value::Object(drain)) = attrs.get_mut("drain") else { return };
    let current = drain.get("timeout").and_then(Value::as_str).and_then(|t| parse_duration(t).ok());
    if current != Some(seconds) {
        drain.insert("timeout".into(), Value::string(format_duration(seconds)));
        drain.insert("timeout_seconds".into(), Value::Number(seconds as f64));
    }
}

/// The `drain.nomad` block recovered from the document parameters: none for a plain local agent's defaults.
pub(super) fn nomad_block(connection: &NomadConnection) -> Value {
    if *connection == NomadConnection::default() {
        return Value::Null;
    }
    let (token_file, token_parameter) = match &connection.token {
        TokenSource::None => (None, None),
        TokenSource::File(path) => (Some(path.as_str()), None),
        TokenSource::SecureStringParameter(name) => (None, Some(name.as_str())),
    };
    Value::object([
        ("address", Value::string(connection.address.clone())),
        ("ca_file", opt_string(connection.ca_file.as_deref())),
        ("client_cert_file", opt_string(connection.client_cert_file.as_deref())),
        ("client_key_file", opt_string(connection.client_key_file.as_deref())),
        ("tls_server_name", opt_string(connection.tls_server_name.as_deref())),
        ("token_file", opt_string(token_file)),
        ("token_parameter", opt_string(token_parameter)),
    ])
}

/// The `spot` block recovered from the handler's configuration: none when notices are ignored, and defaults left out
/// as a configuration would leave them.
pub(super) fn spot_block(spot: Option<SpotDrain>) -> Value {
    let Some(spot) = spot else { return Value::Null };
    let default = SpotDrain::from_deadline(drain_contract::spot::DEFAULT_DEADLINE).ok();
    let deadline =
        if Some(spot) == default { Value::Null } else { Value::string(format_duration(spot.deadline_seconds)) };
    Value::object([("on_interruption", Value::Null), ("deadline", deadline)])
}

/// The full state of an imported resource: settings recovered from AWS, then the computed attributes.
pub fn from_import(
    settings: &Settings,
    observed: &ObservedResource,
    default_tags: &BTreeMap<String, String>,
    handler_sha256: Option<String>,
) -> Value {
    let names = DerivedNames::new(&settings.name);
    let (preset, command, nomad) = match &settings.preset {
        DrainPreset::Nomad(connection) => ("nomad", Value::Null, nomad_block(connection)),
        DrainPreset::Command(script) => ("command", Value::string(script.clone()), Value::Null),
    };
    let budget = settings.budget;
    let planned = Value::object([
        ("name", Value::string(settings.name.clone())),
        (
            "autoscaling_group_names",
            Value::Set(settings.autoscaling_group_names.iter().map(|g| Value::string(g.clone())).collect()),
        ),
        ("on_failure", Value::string(on_failure_text(settings.on_failure))),
        ("heartbeat_timeout", Value::Number(budget.heartbeat_timeout_seconds as f64)),
        ("architecture", Value::string(settings.architecture.clone())),
        ("wait_for_drains", Value::Bool(settings.wait_for_drains)),
        ("log_retention_days", Value::Number(settings.log_retention_days as f64)),
        ("iam_path", Value::string(settings.iam_path.clone())),
        ("permissions_boundary", opt_string(settings.permissions_boundary.as_deref())),
        ("kms_key_id", opt_string(settings.kms_key_id.as_deref())),
        (
            "tags",
            if settings.tags.is_empty() {
                Value::Null
            } else {
                Value::Map(settings.tags.iter().map(|(k, v)| (k.clone(), Value::string(v.clone()))).collect())
            },
        ),
        (super::tags::TAGS_ALL, super::tags::to_value(&settings.tags_all)),
        (
            "drain",
            Value::object([
                ("preset", Value::string(preset)),
                ("command", command),
                ("timeout", Value::string(format_duration(budget.drain_timeout_seconds))),
                ("timeout_seconds", Value::Number(budget.drain_timeout_seconds as f64)),
                ("nomad_deadline_seconds", Value::Number(budget.nomad_deadline_seconds as f64)),
                (super::schema::NOMAD_BLOCK, nomad),
            ]),
        ),
        (super::schema::SPOT_BLOCK, spot_block(settings.spot)),
        ("handler_code_sha256", opt_string(handler_sha256.as_deref())),
        // The import adopts the owner id of what it imports (none on objects made before owner ids existed).
        ("owner_id", opt_string(observed.function.as_ref().and_then(|f| owner_tag(&f.tags)))),
        ("lambda_function_name", Value::string(names.function)),
    ]);
    // Every attribute present, as in a state Terraform sends back (the rest are null).
    let planned = planned.conformed(&super::schema::declared().block.value_type());
    from_read(&from_apply(&planned, observed), observed, default_tags)
}
