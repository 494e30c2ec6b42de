//! The `timeouts { create, update, delete }` block, as in hashicorp/aws: how long one operation may take before it
//! stops with what exists so far in the state. Ctrl-C (StopProvider) interrupts the same way.

use crate::provider::GracefulProvider;
use drain_contract::budget::{agent_wait_seconds, format_duration, needed_wait_seconds, parse_duration};
use std::time::Duration;
use tfplugin::{Attribute, AttributePath, Block, Diagnostic, Diagnostics, NestedBlock, Nesting, Type, Value};

pub const BLOCK: &str = "timeouts";
/// Applies to each operation unless the block sets it.
pub const DEFAULT_SECONDS: u64 = 20 * 60;
/// Longer than any wait of ours; beyond it a typo ("2000h") is more likely than intent.
const MAX_SECONDS: u64 = 24 * 3600;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    pub fn attribute(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

const OPERATIONS: [Operation; 3] = [Operation::Create, Operation::Update, Operation::Delete];

pub fn block() -> NestedBlock {
    let describe = |operation: Operation| {
        Attribute::optional(
            operation.attribute(),
            Type::String,
            &format!(
                "How long a {} may take, e.g. `\"30m\"` (default `\"{}\"`{}, at most `\"{}\"`). When it passes, \
the operation stops and what exists so far is kept in the state; the next apply continues from there.",
                operation.attribute(),
                format_duration(DEFAULT_SECONDS),
                match operation {
                    Operation::Create => "",
                    _ => ", or the longest a drain can hold an instance if longer: it may wait for running drains",
                },
                format_duration(MAX_SECONDS)
            ),
        )
    };
    NestedBlock {
        type_name: BLOCK.into(),
        nesting: Nesting::Single,
        // Terraform requires MinItems = MaxItems for NestingSingle; 0/0 is an optional single block.
        min_items: 0,
        max_items: 0,
        block: Block {
            description: "Operation timeouts, as in the AWS provider's resources.".into(),
            attributes: OPERATIONS.into_iter().map(describe).collect(),
            blocks: vec![],
            deprecated: false,
        },
    }
}

pub fn validate(config: &Value, diags: &mut Diagnostics) {
    let block = config.get(BLOCK);
    for operation in OPERATIONS {
        let Value::String(text) = block.get(operation.attribute()) else { continue };
        let path = AttributePath::root(BLOCK).attr(operation.attribute());
        match parse_duration(text) {
            Ok(seconds) if (1..=MAX_SECONDS).contains(&seconds) => {}
            Ok(seconds) => diags.push(
                Diagnostic::error(
                    "Invalid timeout",
                    format!(
                        "{BLOCK}.{} is {seconds} seconds, expected 1s to {}",
                        operation.attribute(),
                        format_duration(MAX_SECONDS)
                    ),
                )
                .at(path),
            ),
            Err(error) => diags.push(
                Diagnostic::error("Invalid timeout", format!("{BLOCK}.{}: {error}", operation.attribute())).at(path),
            ),
        }
    }
}

/// The limit for `operation` from a planned or prior state.
pub fn limit(state: &Value, operation: Operation) -> Duration {
    let seconds = state
        .get(BLOCK)
        .get(operation.attribute())
        .as_str()
        .and_then(|text| parse_duration(text).ok())
        .filter(|seconds| (1..=MAX_SECONDS).contains(seconds))
        .unwrap_or_else(|| default_seconds(state, operation));
    Duration::from_secs(seconds)
}

/// Unless the block sets it: [`DEFAULT_SECONDS`]; an update or a delete may wait for running drains
/// (`wait_for_drains`), so for them at least the longest a drain can hold an instance
/// (`budget::needed_wait_seconds`).
fn default_seconds(state: &Value, operation: Operation) -> u64 {
    let drain_seconds = state.get("drain").get("timeout_seconds").as_f64().map(|seconds| seconds as u64);
    match (operation, drain_seconds) {
        (Operation::Update | Operation::Delete, Some(drain)) => {
            DEFAULT_SECONDS.max(needed_wait_seconds(drain, agent_wait_seconds(drain)))
        }
        _ => DEFAULT_SECONDS,
    }
}

/// Resolves, with the reason, when Terraform asks the provider to stop or `limit` passes.
pub async fn interruption(provider: &GracefulProvider, operation: Operation, limit: Duration) -> String {
    tokio::select! {
        _ = provider.stop.cancelled() => "Terraform asked the provider to stop".to_string(),
        _ = tokio::time::sleep(limit) => format!(
            "the {} timeout of {} passed (set {BLOCK} {{ {} = \"...\" }} to allow longer)",
            operation.attribute(),
            format_duration(limit.as_secs()),
            operation.attribute()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state as Terraform holds it: every attribute present, null unless given.
    fn state(value: Value) -> Value {
        value.conformed(&crate::resource::shutdown_asg::schema::declared().block.value_type())
    }

    fn with_timeouts(pairs: &[(&str, &str)]) -> Value {
        let block = Value::object(pairs.iter().map(|(k, v)| (*k, Value::string(*v))).collect::<Vec<_>>());
        state(Value::object([(BLOCK, block)]))
    }

    #[test]
    fn limits_come_from_the_block_or_the_default() {
        let state = with_timeouts(&[("create", "90s"), ("delete", "2h")]);
        assert_eq!(limit(&state, Operation::Create), Duration::from_secs(90));
        assert_eq!(limit(&state, Operation::Update), Duration::from_secs(DEFAULT_SECONDS));
        assert_eq!(limit(&state, Operation::Delete), Duration::from_secs(7200));
        assert_eq!(limit(&Value::Null, Operation::Delete), Duration::from_secs(DEFAULT_SECONDS));
    }

    #[test]
    fn update_and_delete_default_to_the_longest_a_drain_holds_an_instance() {
        let long = state(Value::object([("drain", Value::object([("timeout_seconds", Value::Number(3600.0))]))]));
        // 5 min agent wait + 3 min stale-lock takeover + 1 h drain + 3 min grace.
        assert_eq!(limit(&long, Operation::Delete), Duration::from_secs(4260));
        assert_eq!(limit(&long, Operation::Update), Duration::from_secs(4260));
        assert_eq!(limit(&long, Operation::Create), Duration::from_secs(DEFAULT_SECONDS));
        // A short drain keeps the general default.
        let short = state(Value::object([("drain", Value::object([("timeout_seconds", Value::Number(60.0))]))]));
        assert_eq!(limit(&short, Operation::Delete), Duration::from_secs(DEFAULT_SECONDS));
    }

    #[test]
    fn bad_timeouts_name_their_attribute() {
        let mut diags = Diagnostics::new();
        validate(&with_timeouts(&[("create", "soon"), ("update", "25h"), ("delete", "10m")]), &mut diags);
        let errors: Vec<String> = diags.iter().map(|d| format!("{}: {}", d.summary, d.detail)).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("timeouts.create"), "{errors:?}");
        assert!(errors[1].contains("timeouts.update is 90000 seconds, expected 1s to 24h"), "{errors:?}");
    }
}
