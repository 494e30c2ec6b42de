//! EventBridge: the reconcile schedule rule and its Lambda target.

use std::collections::BTreeMap;

use aws_sdk_eventbridge::types::{RuleState, Tag, Target};

use super::{none_if_not_found, ok_if_gone, tags};
use crate::clients::Clients;
use crate::desired::function_settings as settings;
use crate::error::{AwsError, Cause, Step, StepError};
use crate::observed::ObservedRule;

/// `DescribeRule` / `RemoveTargets` / `DeleteRule` on a missing rule: `ResourceNotFoundException: Rule x does not exist.`
fn rule_not_found(error: &AwsError) -> bool {
    error.code_is("ResourceNotFoundException")
}

pub async fn find_rule_by_name(clients: &Clients, name: &str) -> Result<Option<ObservedRule>, StepError> {
    let described = clients.events.describe_rule().name(name).send().await;
    let Some(rule) = none_if_not_found(described.map_err(StepError::aws(Step::ReadingRule, name)), rule_not_found)?
    else {
        return Ok(None);
    };
    let arn = rule.arn.unwrap_or_default();
    let targets = clients
        .events
        .list_targets_by_rule()
        .rule(name)
        .send()
        .await
        .map_err(StepError::aws(Step::ReadingRule, name))?
        .targets
        .unwrap_or_default();
    let tags = clients
        .events
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .map_err(StepError::aws(Step::ReadingRule, name))?
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    Ok(Some(ObservedRule {
        name: name.to_owned(),
        arn,
        schedule_expression: rule.schedule_expression,
        event_pattern: rule.event_pattern.as_deref().and_then(|text| serde_json::from_str(text).ok()),
        state: rule.state.map(|s| s.as_str().to_owned()),
        target_arn: targets.into_iter().find(|t| t.id == settings::RULE_TARGET_ID).map(|t| t.arn),
        tags,
    }))
}

fn event_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key and value are set")).collect()
}

/// Puts the rule (an upsert) when missing or its schedule, event pattern or state differ, points its target at the
/// function, and corrects tags. The schedule and the Spot notice pattern share the rule: "A rule can have both an
/// EventPattern and a ScheduleExpression, in which case the rule triggers on matching events as well as on a
/// schedule" (EventBridge API Reference, PutRule).
pub async fn ensure_rule(
    clients: &Clients,
    name: &str,
    function_arn: &str,
    event_pattern: Option<&serde_json::Value>,
    desired_tags: &BTreeMap<String, String>,
    observed: Option<&ObservedRule>,
) -> Result<ObservedRule, StepError> {
    let schedule_ok = observed.is_some_and(|r| {
        r.schedule_expression.as_deref() == Some(settings::SCHEDULE_EXPRESSION)
            && r.event_pattern.as_ref() == event_pattern
            && r.state.as_deref() == Some("ENABLED")
    });
    let mut current = match observed {
        Some(rule) if schedule_ok => rule.clone(),
        _ => {
            let put = clients
                .events
                .put_rule()
                .name(name)
                .schedule_expression(settings::SCHEDULE_EXPRESSION)
                .set_event_pattern(event_pattern.map(|pattern| pattern.to_string()))
                .state(RuleState::Enabled)
                .description(match event_pattern {
                    None => "graceful_shutdown_asg reconcile sweep: recovers lost notifications, sends heartbeats",
                    Some(_) => "graceful_shutdown_asg reconcile sweep, and the Spot interruption notices it drains at",
                })
                .set_tags(Some(event_tags(desired_tags)).filter(|t| !t.is_empty() && observed.is_none()))
                .send()
                .await
                .map_err(StepError::aws(Step::CreatingRule, name))?;
            let arn = put.rule_arn.ok_or_else(|| {
                StepError::new(Step::CreatingRule, name, Cause::Unexpected("PutRule returned no ARN".into()))
            })?;
            ObservedRule {
                name: name.to_owned(),
                arn,
                schedule_expression: Some(settings::SCHEDULE_EXPRESSION.to_owned()),
                event_pattern: event_pattern.cloned(),
                state: Some("ENABLED".to_owned()),
                target_arn: observed.and_then(|r| r.target_arn.clone()),
                tags: observed.map(|r| r.tags.clone()).unwrap_or_else(|| desired_tags.clone()),
            }
        }
    };
    if current.target_arn.as_deref() != Some(function_arn) {
        let target =
            Target::builder().id(settings::RULE_TARGET_ID).arn(function_arn).build().expect("id and arn are set");
        let put = clients
            .events
            .put_targets()
            .rule(name)
            .targets(target)
            .send()
            .await
            .map_err(StepError::aws(Step::PuttingRuleTarget, name))?;
        if put.failed_entry_count > 0 {
            let failures = put
                .failed_entries
                .unwrap_or_default()
                .into_iter()
                .map(|e| format!("{}: {}", e.error_code.unwrap_or_default(), e.error_message.unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(StepError::new(Step::PuttingRuleTarget, name, Cause::Unexpected(failures)));
        }
        current.target_arn = Some(function_arn.to_owned());
    }
    let changes = tags::changes(&current.tags, desired_tags);
    if !changes.remove.is_empty() {
        clients
            .events
            .untag_resource()
            .resource_arn(&current.arn)
            .set_tag_keys(Some(changes.remove))
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingRule, name))?;
    }
    if !changes.set.is_empty() {
        clients
            .events
            .tag_resource()
            .resource_arn(&current.arn)
            .set_tags(Some(event_tags(&changes.set)))
            .send()
            .await
            .map_err(StepError::aws(Step::UpdatingRule, name))?;
    }
    current.tags = desired_tags.clone();
    Ok(current)
}

/// Removes the targets, then the rule (EventBridge refuses to delete a rule that still has targets).
pub async fn delete_rule(clients: &Clients, name: &str) -> Result<(), StepError> {
    let listed = clients.events.list_targets_by_rule().rule(name).send().await;
    let Some(listed) = none_if_not_found(listed.map_err(StepError::aws(Step::DeletingRule, name)), rule_not_found)?
    else {
        return Ok(());
    };
    let ids: Vec<String> = listed.targets.unwrap_or_default().into_iter().map(|t| t.id).collect();
    if !ids.is_empty() {
        let result = clients.events.remove_targets().rule(name).set_ids(Some(ids)).send().await;
        ok_if_gone(result.map(|_| ()).map_err(StepError::aws(Step::DeletingRule, name)), rule_not_found)?;
    }
    let result = clients.events.delete_rule().name(name).send().await;
    ok_if_gone(result.map(|_| ()).map_err(StepError::aws(Step::DeletingRule, name)), rule_not_found)
}
