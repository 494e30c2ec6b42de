//! CloudWatch embedded metric format (EMF) lines: one JSON object per metric, printed on stdout, which Lambda's log
//! pipeline turns into CloudWatch metrics without any API call.

use serde_json::{Map, Value, json};

/// The CloudWatch namespace of every metric the handler emits.
pub const NAMESPACE: &str = "graceful_shutdown_asg";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Seconds from the drain command's start to the lifecycle action's completion.
    DrainSeconds,
    /// One per completed lifecycle action; the `drain_outcome` dimension says how it ended.
    Outcome,
    /// One per heartbeat sent.
    Heartbeats,
    /// One per instance whose SSM agent could not be reached.
    AgentUnreachable,
    /// One per `SendCommand` that IAM refused (`AccessDenied`): a permission problem, not an unreachable agent.
    SendRefused,
}

impl Metric {
    fn name_and_unit(self) -> (&'static str, &'static str) {
        match self {
            Metric::DrainSeconds => ("drain_seconds", "Seconds"),
            Metric::Outcome => ("outcome", "Count"),
            Metric::Heartbeats => ("heartbeats", "Count"),
            Metric::AgentUnreachable => ("agent_unreachable", "Count"),
            Metric::SendRefused => ("send_refused", "Count"),
        }
    }
}

/// One EMF line. `dimensions` become CloudWatch dimensions besides `resource`; `context` rides along as searchable
/// properties (instance id, group) without becoming dimensions.
pub fn line(
    resource: &str,
    metric: Metric,
    value: f64,
    dimensions: &[(&str, &str)],
    context: &[(&str, &str)],
    timestamp_ms: u128,
) -> String {
    let (name, unit) = metric.name_and_unit();
    let mut dimension_names = vec!["resource"];
    dimension_names.extend(dimensions.iter().map(|(key, _)| *key));
    let mut object = Map::new();
    object.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms as u64,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimension_names],
                "Metrics": [{ "Name": name, "Unit": unit }],
            }],
        }),
    );
    object.insert("resource".into(), Value::from(resource));
    for (key, text) in dimensions.iter().chain(context) {
        object.insert((*key).into(), Value::from(*text));
    }
    object.insert(name.into(), json!(value));
    Value::Object(object).to_string()
}

/// Prints one EMF line on stdout (a line of its own, so Lambda's log pipeline recognises it).
pub fn emit(resource: &str, metric: Metric, value: f64, dimensions: &[(&str, &str)], context: &[(&str, &str)]) {
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    println!("{}", line(resource, metric, value, dimensions, context, now_ms));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_is_a_valid_emf_document() {
        let text = line(
            "ci",
            Metric::Outcome,
            1.0,
            &[("drain_outcome", "drained")],
            &[("instance_id", "i-1"), ("asg", "ci-a")],
            1_700_000_000_123,
        );
        let parsed: Value = serde_json::from_str(&text).unwrap();
        let directive = &parsed["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(parsed["_aws"]["Timestamp"], 1_700_000_000_123u64);
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["resource", "drain_outcome"]]));
        assert_eq!(directive["Metrics"][0], json!({"Name": "outcome", "Unit": "Count"}));
        // Every dimension and metric named in the directive is a top-level member, as EMF requires.
        assert_eq!(parsed["outcome"], 1.0);
        assert_eq!(parsed["drain_outcome"], "drained");
        assert_eq!(parsed["resource"], "ci");
        assert_eq!(parsed["instance_id"], "i-1");
        assert!(!text.contains('\n'));
    }

    #[test]
    fn every_metric_has_its_documented_name() {
        for (metric, name) in [
            (Metric::DrainSeconds, "drain_seconds"),
            (Metric::Outcome, "outcome"),
            (Metric::Heartbeats, "heartbeats"),
            (Metric::AgentUnreachable, "agent_unreachable"),
        ] {
            let parsed: Value = serde_json::from_str(&line("r", metric, 2.0, &[], &[], 0)).unwrap();
            assert_eq!(parsed["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], name);
            assert_eq!(parsed[name], 2.0);
        }
    }
}
