//! Typed reads of configuration values that may be null or unknown, and the fully known settings apply works from.

use super::schema::{
    DEFAULT_ARCHITECTURE, DEFAULT_IAM_PATH, DEFAULT_LOG_RETENTION_DAYS, DEFAULT_ON_FAILURE, DEFAULT_PRESET,
    DEFAULT_TIMEOUT, DEFAULT_WAIT_FOR_DRAINS,
};
use drain_contract::LifecycleResult;
use drain_contract::budget::{self, DrainBudget};
use drain_contract::document::DrainPreset;
use drain_contract::names::{RoleNames, RoleScope};
use drain_contract::nomad_settings::NomadSettingsInput;
use drain_contract::spot::SpotDrain;
use std::collections::{BTreeMap, BTreeSet};
use tfplugin::Value;

/// A configuration value as plan sees it: absent, not known until apply, or known.
#[derive(Clone, Debug, PartialEq)]
pub enum Field<T> {
    Null,
    Unknown,
    Known(T),
}

impl<T> Field<T> {
    pub fn known(self) -> Option<T> {
        match self {
            Field::Known(value) => Some(value),
            _ => None,
        }
    }
}

pub fn string_field(value: &Value) -> Field<String> {
    match value {
        Value::Null => Field::Null,
        Value::String(s) => Field::Known(s.clone()),
        _ => Field::Unknown,
    }
}

pub fn number_field(value: &Value) -> Field<f64> {
    match value {
        Value::Null => Field::Null,
        Value::Number(n) => Field::Known(*n),
        _ => Field::Unknown,
    }
}

/// A string, or `default` when null; `None` when unknown.
pub fn string_or<'a>(value: &'a Value, default: &'a str) -> Option<&'a str> {
    match value {
        Value::Null => Some(default),
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// Everything apply needs, fully known (apply only runs on a plan without unknowns).
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub name: String,
    pub autoscaling_group_names: BTreeSet<String>,
    pub on_failure: LifecycleResult,
    pub architecture: String,
    pub budget: DrainBudget,
    pub preset: DrainPreset,
    pub log_retention_days: i32,
    pub iam_path: String,
    pub permissions_boundary: Option<String>,
    pub kms_key_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// What every object carries: `tags` over the provider's `default_tags` (a planned state's `tags_all`; a
    /// configuration, which has none, uses `tags`).
    pub tags_all: BTreeMap<String, String>,
    pub wait_for_drains: bool,
    pub spot: Option<SpotDrain>,
    /// How the IAM roles are named, from the recorded role names (none recorded yet: per region).
    pub role_scope: RoleScope,
}

pub fn on_failure_result(text: &str) -> Option<LifecycleResult> {
    match text {
        "continue" => Some(LifecycleResult::Continue),
        "abandon" => Some(LifecycleResult::Abandon),
        _ => None,
    }
}

pub fn on_failure_text(result: LifecycleResult) -> &'static str {
    match result {
        LifecycleResult::Continue => "continue",
        LifecycleResult::Abandon => "abandon",
    }
}

impl Settings {
    /// Reads a validated configuration or planned state. `None` if anything is still unknown or invalid.
    pub fn from_value(value: &Value) -> Option<Settings> {
        let drain = value.get("drain");
        let timeout_seconds = budget::parse_duration(string_or(drain.get("timeout"), DEFAULT_TIMEOUT)?).ok()?;
        let heartbeat = match number_field(value.get("heartbeat_timeout")) {
            Field::Known(n) => Some(n as u64),
            Field::Null => None,
            Field::Unknown => return None,
        };
        let preset = match string_or(drain.get("preset"), DEFAULT_PRESET)? {
            "nomad" => DrainPreset::Nomad(nomad_input(drain.get(super::schema::NOMAD_BLOCK))?.parse().ok()?),
            "command" => DrainPreset::Command(string_field(drain.get("command")).known()?),
            _ => return None,
        };
        let mut autoscaling_group_names = BTreeSet::new();
        for element in value.get("autoscaling_group_names").elements() {
            autoscaling_group_names.insert(element.as_str()?.to_string());
        }
        let mut tags = BTreeMap::new();
        match value.get("tags") {
            Value::Null => {}
            Value::Map(entries) => {
                for (key, tag_value) in entries {
                    tags.insert(key.clone(), tag_value.as_str()?.to_string());
                }
            }
            _ => return None,
        }
        let tags_all = match value.get(super::tags::TAGS_ALL) {
            Value::Null => tags.clone(),
            other => super::tags::parse(other)?,
        };
        Some(Settings {
            name: value.get("name").as_str()?.to_string(),
            autoscaling_group_names,
            on_failure: on_failure_result(string_or(value.get("on_failure"), DEFAULT_ON_FAILURE)?)?,
            architecture: string_or(value.get("architecture"), DEFAULT_ARCHITECTURE)?.to_string(),
            budget: budget::derive(timeout_seconds, heartbeat).ok()?,
            preset,
            log_retention_days: match number_field(value.get("log_retention_days")) {
                Field::Known(n) => n as i32,
                Field::Null => DEFAULT_LOG_RETENTION_DAYS as i32,
                Field::Unknown => return None,
            },
            iam_path: string_or(value.get("iam_path"), DEFAULT_IAM_PATH)?.to_string(),
            permissions_boundary: optional_string(value.get("permissions_boundary"))?,
            kms_key_id: optional_string(value.get("kms_key_id"))?,
            tags,
            tags_all,
            wait_for_drains: wait_for_drains(value)?,
            spot: spot_drain(value.get(super::schema::SPOT_BLOCK))?.ok()?,
            role_scope: role_scope(value),
        })
    }
}

/// The `drain.nomad` block as the settings it holds (a missing block is every default); `None` while any of it is
/// unknown.
pub fn nomad_input(block: &Value) -> Option<NomadSettingsInput> {
    if block.is_unknown() {
        return None;
    }
    let text = |name: &str| match string_field(block.get(name)) {
        Field::Null => Some(None),
        Field::Known(value) => Some(Some(value)),
        Field::Unknown => None,
    };
    Some(NomadSettingsInput {
        address: text("address")?,
        ca_file: text("ca_file")?,
        client_cert_file: text("client_cert_file")?,
        client_key_file: text("client_key_file")?,
        tls_server_name: text("tls_server_name")?,
        token_file: text("token_file")?,
        token_parameter: text("token_parameter")?,
    })
}

/// The `spot` block as the drain it starts (`Ok(None)`: notices ignored); `None` while any of it is unknown; the
/// error names the attribute.
pub fn spot_drain(block: &Value) -> Option<Result<Option<SpotDrain>, (&'static str, String)>> {
    if block.is_null() {
        return Some(Ok(None));
    }
    let on_interruption = string_or(block.get("on_interruption"), super::schema::DEFAULT_ON_INTERRUPTION)?;
    let deadline = string_or(block.get("deadline"), drain_contract::spot::DEFAULT_DEADLINE)?;
    Some(match on_interruption {
        "ignore" => Ok(None),
        "drain" => SpotDrain::from_deadline(deadline).map(Some).map_err(|e| ("deadline", e)),
        other => Err(("on_interruption", format!("on_interruption is {other:?}, expected \"drain\" or \"ignore\""))),
    })
}

/// `wait_for_drains` of a config or state; `None` while unknown. A state written before the attribute existed reads
/// as the default.
pub fn wait_for_drains(value: &Value) -> Option<bool> {
    match value.get("wait_for_drains") {
        Value::Null => Some(DEFAULT_WAIT_FOR_DRAINS),
        other => other.as_bool(),
    }
}

/// How the roles of a state or plan are named: `RoleNames::recorded_scope` of its recorded handler role name.
pub fn role_scope(value: &Value) -> RoleScope {
    let name = value.get("name").as_str().unwrap_or_default();
    RoleNames::recorded_scope(name, value.get(super::schema::HANDLER_ROLE_NAME).as_str())
}

/// `Some(None)` for null, `Some(Some(s))` for a string, `None` for unknown.
fn optional_string(value: &Value) -> Option<Option<String>> {
    match value {
        Value::Null => Some(None),
        Value::String(s) => Some(Some(s.clone())),
        _ => None,
    }
}

/// The known Auto Scaling group names of a state or config (unknown and null elements skipped).
pub fn group_names(value: &Value) -> BTreeSet<String> {
    value.get("autoscaling_group_names").elements().iter().filter_map(|g| g.as_str().map(str::to_string)).collect()
}
