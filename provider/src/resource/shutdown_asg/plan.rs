//! Planning: the planned state from configuration (defaults derived from the config, never from the proposed
//! state), computed outputs unknown until apply knows them, and which changes force replacement.

use super::schema::{DEFAULT_IAM_PATH, HANDLER_ROLE_NAME, NOMAD_BLOCK, OUT_OF_BAND_CHANGES, PUBLISHER_ROLE_NAME};
use super::validate::validate;
use crate::config::DefaultTags;
use drain_contract::budget;
use drain_contract::names::{DerivedNames, RoleNames, RoleScope, check_hook_role_arn, role_arn};
use std::collections::BTreeMap;
use tfplugin::{AttributePath, Diagnostic, PlanResponse, Value};

/// ARNs only AWS knows: unknown on create, kept from the prior state on update unless that piece disappeared. The
/// role names are chosen at create (they carry the region, which apply knows) and kept after.
const CHOSEN_AT_CREATE: &[&str] = &[
    "sns_topic_arn",
    "lambda_function_arn",
    "publisher_role_arn",
    "handler_role_arn",
    PUBLISHER_ROLE_NAME,
    HANDLER_ROLE_NAME,
];

/// Plans a change. `default_tags` and `region` are the provider block's (`None`: the region comes from the
/// environment, which apply resolves); `handler_sha256(architecture)` is the embedded handler's Lambda `CodeSha256`.
pub fn plan(
    prior: &Value,
    config: &Value,
    default_tags: &DefaultTags,
    region: Option<&str>,
    handler_sha256: &dyn Fn(&str) -> Option<String>,
) -> PlanResponse {
    if config.is_null() {
        // Destroy (the server announces plan_destroy): nothing to derive.
        return PlanResponse { planned_state: Value::Null, ..Default::default() };
    }
    let mut diagnostics = validate(config);
    let (tags_all, tag_errors) = super::tags::planned(config.get("tags"), default_tags);
    diagnostics.extend(tag_errors);
    if diagnostics.has_errors() {
        return PlanResponse { planned_state: Value::Null, diagnostics, ..Default::default() };
    }

    let mut planned = BTreeMap::new();
    let copy = |planned: &mut BTreeMap<String, Value>, name: &str| {
        planned.insert(name.to_string(), config.get(name).clone());
    };
    planned.insert(super::tags::TAGS_ALL.into(), tags_all);
    for name in [
        "name",
        "autoscaling_group_names",
        "permissions_boundary",
        "kms_key_id",
        "tags",
        super::schema::SPOT_BLOCK,
        super::timeouts::BLOCK,
    ] {
        copy(&mut planned, name);
    }
    // on_failure, architecture, wait_for_drains, iam_path, log_retention_days: the defaults the schema declares.
    let schema = &super::schema::declared().block;
    planned.extend(schema.planned_defaults(config));

    let (drain, derived_budget) = plan_drain(config.get("drain"), prior.get("drain"), config.get("heartbeat_timeout"));
    planned.insert("drain".into(), drain);
    planned.insert(
        "heartbeat_timeout".into(),
        match (config.get("heartbeat_timeout"), derived_budget) {
            (Value::Null, Some(b)) => Value::Number(b.heartbeat_timeout_seconds as f64),
            (Value::Null, None) => Value::Unknown,
            (set, _) => set.clone(),
        },
    );

    let names = config.get("name").as_str().map(DerivedNames::new);
    let derived = |pick: fn(&DerivedNames) -> &String| match &names {
        Some(n) => Value::string(pick(n).clone()),
        None => Value::Unknown,
    };
    planned.insert("id".into(), config.get("name").clone());
    planned.insert("lambda_function_name".into(), derived(|n| &n.function));
    planned.insert("ssm_document_name".into(), derived(|n| &n.document));
    planned.insert("log_group_name".into(), derived(|n| &n.log_group));
    planned
        .insert("lifecycle_hook_names".into(), plan_hook_names(names.as_ref(), config.get("autoscaling_group_names")));
    planned.insert(
        "handler_code_sha256".into(),
        match planned["architecture"].as_str().and_then(handler_sha256) {
            Some(sha) => Value::String(sha),
            None => Value::Unknown,
        },
    );

    let requires_replace = schema.requires_replace(prior, &Value::Object(planned.clone()), &AttributePath::default());
    let replacing = !requires_replace.is_empty();
    for attribute in CHOSEN_AT_CREATE {
        let kept = match prior.get(attribute) {
            Value::String(value) if !replacing => Value::String(value.clone()),
            _ => Value::Unknown,
        };
        planned.insert(attribute.to_string(), kept);
    }
    if planned[HANDLER_ROLE_NAME].is_unknown()
        && let (Some(name), Some(region)) = (config.get("name").as_str(), region)
    {
        // A new resource's roles carry the region: with the region known now, so are their names, and what IAM or
        // Auto Scaling would refuse is refused here rather than at apply.
        match plan_role_names(name, region, planned["iam_path"].as_str().unwrap_or(DEFAULT_IAM_PATH)) {
            Ok(roles) => {
                planned.insert(PUBLISHER_ROLE_NAME.into(), Value::string(roles.publisher));
                planned.insert(HANDLER_ROLE_NAME.into(), Value::string(roles.handler));
            }
            Err(error) => {
                diagnostics.push(error);
                return PlanResponse { planned_state: Value::Null, diagnostics, ..Default::default() };
            }
        }
    }
    // The owner id is chosen at create; a state from before owner ids gets one at its next apply.
    let owner_id = match prior.get("owner_id") {
        Value::String(id) if !replacing => Value::String(id.clone()),
        _ => Value::Unknown,
    };
    planned.insert("owner_id".into(), owner_id);
    // Reported drift is planned away (apply corrects it); "none" keeps the prior spelling, null or [].
    let drift = match prior.get(OUT_OF_BAND_CHANGES) {
        Value::List(_) if !replacing => Value::List(Vec::new()),
        _ => Value::Null,
    };
    planned.insert(OUT_OF_BAND_CHANGES.into(), drift);

    PlanResponse { planned_state: Value::Object(planned), requires_replace, diagnostics, ..Default::default() }
}

/// A new resource's role names in `region`, or the error at the attribute to change: `name` when a role name would
/// exceed IAM's limit, `iam_path` when the publisher role's ARN would exceed the hook's.
fn plan_role_names(name: &str, region: &str, iam_path: &str) -> Result<RoleNames, Diagnostic> {
    let invalid = |attribute: &str, detail: String| {
        Diagnostic::error(format!("Invalid {attribute}"), detail).at(AttributePath::root(attribute))
    };
    let roles = RoleNames::new(name, region, RoleScope::Region)
        .map_err(|why| invalid("name", format!("name {name:?}: {why}")))?;
    // Every account id has 12 digits; the partition is the region's.
    let partition = graceful_provision::clients::partition_of(region);
    let arn = role_arn(partition, "123456789012", iam_path, &roles.publisher);
    check_hook_role_arn(&arn, iam_path).map_err(|why| invalid("iam_path", format!("iam_path {iam_path:?}: {why}")))?;
    Ok(roles)
}

/// A duration as planned: the prior state's spelling when it means the same seconds ("1h" then "60m" is no change).
/// Terraform accepts a planned value that differs from the configuration when it is the prior value unchanged, the
/// provider's way of saying both are equivalent (plans/objchange `assertPlannedValueValid`).
fn same_duration_as_prior(configured: Value, prior: &Value) -> Value {
    let seconds = |value: &Value| value.as_str().and_then(|text| budget::parse_duration(text).ok());
    match (seconds(&configured), seconds(prior)) {
        (Some(now), Some(before)) if now == before => prior.clone(),
        _ => configured,
    }
}

/// The `drain` block with its defaults and derived seconds, and the derived budget when everything is known.
fn plan_drain(drain: &Value, prior_drain: &Value, heartbeat: &Value) -> (Value, Option<budget::DrainBudget>) {
    if drain.is_unknown() {
        return (Value::Unknown, None);
    }
    let schema = super::schema::nested(&super::schema::declared().block, "drain");
    let mut defaults = schema.planned_defaults(drain);
    let preset = defaults.remove("preset").unwrap_or(Value::Unknown);
    let timeout = match drain.get("timeout") {
        Value::Null => defaults.remove("timeout").unwrap_or(Value::Unknown),
        other => same_duration_as_prior(other.clone(), prior_drain.get("timeout")),
    };
    let timeout_seconds = timeout.as_str().and_then(|t| budget::parse_duration(t).ok());
    let heartbeat_override = match heartbeat {
        Value::Null => Some(None),
        Value::Number(n) => Some(Some(*n as u64)),
        _ => None,
    };
    let derived = match (timeout_seconds, heartbeat_override) {
        (Some(seconds), Some(heartbeat)) => budget::derive(seconds, heartbeat).ok(),
        _ => None,
    };
    let seconds_value = |pick: fn(&budget::DrainBudget) -> u64| match (&derived, timeout_seconds) {
        (Some(b), _) => Value::Number(pick(b) as f64),
        _ => Value::Unknown,
    };
    let block = Value::object([
        ("preset", preset),
        ("command", drain.get("command").clone()),
        ("timeout", timeout),
        (
            "timeout_seconds",
            match timeout_seconds {
                Some(seconds) => Value::Number(seconds as f64),
                None => Value::Unknown,
            },
        ),
        ("nomad_deadline_seconds", seconds_value(|b| b.nomad_deadline_seconds)),
        (NOMAD_BLOCK, plan_nomad(drain.get(NOMAD_BLOCK), super::schema::nested(schema, NOMAD_BLOCK))),
    ]);
    (block, derived)
}

/// The `drain.nomad` block as configured (a block is never computed), with its declared defaults (the address).
fn plan_nomad(block: &Value, schema: &tfplugin::Block) -> Value {
    match block {
        Value::Object(attributes) => {
            let mut planned = attributes.clone();
            planned.extend(schema.planned_defaults(block));
            Value::Object(planned)
        }
        other => other.clone(),
    }
}

fn plan_hook_names(names: Option<&DerivedNames>, groups: &Value) -> Value {
    let Some(names) = names else { return Value::Unknown };
    if groups.contains_unknown() {
        return Value::Unknown;
    }
    Value::Map(
        groups
            .elements()
            .iter()
            .filter_map(|group| group.as_str())
            .map(|group| (group.to_string(), Value::string(names.hook.clone())))
            .collect(),
    )
}
