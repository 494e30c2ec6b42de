//! drift: the settings AWS holds that differ from what converge would set, one sentence each, for a refresh to
//! report (so `terraform plan` shows an out-of-band change that no attribute of the resource carries, such as a
//! deleted inline policy or a changed function timeout). Pieces that are missing are reported by their attributes.

use drain_contract::names::DerivedNames;

use crate::clients::Clients;
use crate::derive::{DerivedArns, handler_config, role_names};
use crate::desired::{DesiredResource, function_settings as settings};
use crate::error::StepError;
use crate::observed::{ObservedResource, ObservedRole};
use crate::policy;

/// Every setting of an existing piece that differs from `desired`.
pub async fn drift(
    clients: &Clients,
    desired: &DesiredResource,
    observed: &ObservedResource,
) -> Result<Vec<String>, StepError> {
    let location = clients.location().await?;
    let names = DerivedNames::new(&desired.name);
    let roles = role_names(&desired.name, desired.role_scope, &location)?;
    let arns = DerivedArns::new(&location, &names, &roles, &desired.iam_path);
    let mut found = Vec::new();

    if let Some(topic) = &observed.topic
        && topic.policy.as_ref() != Some(&policy::topic_policy(&location, &arns.topic, &arns.publisher_role))
    {
        found.push(format!("SNS topic {}: its access policy differs", names.topic));
    }
    if let Some(role) = &observed.publisher_role {
        let wanted = policy::publisher_policy(&arns.topic);
        role_drift(role, &policy::publisher_trust_policy(), settings::PUBLISHER_POLICY_NAME, &wanted, &mut found);
    }
    if let Some(role) = &observed.handler_role {
        let scope = policy::PolicyScope {
            location: &location,
            topic_arn: &arns.topic,
            publisher_role_arn: &arns.publisher_role,
            document_name: &names.document,
            document_arn: &arns.document,
            log_group_arn: &arns.log_group,
            autoscaling_group_names: desired.autoscaling_group_names.iter().map(String::as_str).collect(),
        };
        let wanted = policy::handler_policy(&scope);
        role_drift(role, &policy::handler_trust_policy(), settings::HANDLER_POLICY_NAME, &wanted, &mut found);
    }
    if let Some(document) = &observed.document {
        let content = drain_contract::document::render(&desired.preset, &desired.budget);
        let content: Option<serde_json::Value> = serde_json::from_str(&content).ok();
        if content.as_ref() != Some(&document.content) {
            found.push(format!("SSM document {}: its default version's content differs", names.document));
        }
    }
    if let Some(group) = &observed.log_group
        && group.retention_days != Some(desired.log_retention_days)
    {
        found.push(format!(
            "log group {}: retention is {:?} days, expected {}",
            names.log_group, group.retention_days, desired.log_retention_days
        ));
    }
    if let Some(function) = &observed.function {
        let mut differs = |what: &str, differs: bool| {
            if differs {
                found.push(format!("Lambda function {}: its {what} differs", names.function));
            }
        };
        differs("timeout", function.timeout_seconds != Some(settings::TIMEOUT_SECONDS));
        differs("memory size", function.memory_mb != Some(settings::MEMORY_MB));
        differs("runtime", function.runtime.as_deref() != Some(settings::RUNTIME));
        differs("handler", function.handler.as_deref() != Some(settings::HANDLER));
        differs("log format", function.log_format.as_deref() != Some(settings::LOG_FORMAT));
        differs("log group", function.log_group.as_deref() != Some(names.log_group.as_str()));
        differs("execution role", function.role_arn != arns.handler_role);
        let config = serde_json::to_value(handler_config(desired, &arns.topic, &arns.publisher_role))
            .expect("HandlerConfig serializes");
        differs("configuration (GRACEFUL_CONFIG)", function.config.as_ref() != Some(&config));
    }
    if let Some(rule) = &observed.rule {
        if rule.schedule_expression.as_deref() != Some(settings::SCHEDULE_EXPRESSION) {
            found.push(format!("EventBridge rule {}: its schedule differs", names.rule));
        }
        if rule.event_pattern != desired.spot.map(|_| drain_contract::spot::event_pattern()) {
            found.push(format!("EventBridge rule {}: its event pattern differs", names.rule));
        }
        if rule.state.as_deref() != Some("ENABLED") {
            found.push(format!("EventBridge rule {}: it is not enabled", names.rule));
        }
        if let Some(function) = &observed.function
            && rule.target_arn.as_deref() != Some(function.arn.as_str())
        {
            found.push(format!("EventBridge rule {}: it does not target the drain handler", names.rule));
        }
    }
    Ok(found)
}

fn role_drift(
    role: &ObservedRole,
    trust: &serde_json::Value,
    policy_name: &str,
    policy: &serde_json::Value,
    found: &mut Vec<String>,
) {
    if &role.trust_policy != trust {
        found.push(format!("IAM role {}: its trust policy differs", role.name));
    }
    match role.inline_policies.get(policy_name) {
        None => found.push(format!("IAM role {}: its inline policy {policy_name} is missing", role.name)),
        Some(observed) if observed != policy => {
            found.push(format!("IAM role {}: its inline policy {policy_name} differs", role.name))
        }
        Some(_) => {}
    }
}
