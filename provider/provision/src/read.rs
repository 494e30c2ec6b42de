//! read: every piece of one resource as it is in AWS, by name (refresh, drift detection, import).

use std::collections::{BTreeMap, BTreeSet};

use drain_contract::names::{DerivedNames, RoleScope, notification_metadata};

use crate::aws::{autoscaling, events, iam, lambda, logs, sns, ssm};
use crate::clients::Clients;
use crate::derive::{DerivedArns, role_names};
use crate::desired::function_settings as settings;
use crate::error::{ProvisionError, StepError};
use crate::observed::ObservedResource;
use crate::ownership::{ForeignPiece, Ownership};

/// Reads every piece of resource `name` that `ownership` makes ours (a piece with our name that is someone else's
/// reads as absent). Hooks are looked up on the groups the deployed function's configuration lists (so an import by
/// name finds them); use [`read_with_groups`] to also check groups known from elsewhere.
/// `scope` says how its IAM roles are named.
pub async fn read(
    clients: &Clients,
    name: &str,
    scope: RoleScope,
    ownership: &Ownership,
) -> Result<ObservedResource, ProvisionError> {
    read_with_groups(clients, name, scope, &BTreeSet::new(), ownership).await
}

/// Like [`read`], also looking for this resource's hook on `groups` (e.g. the groups recorded in state).
/// With `iam_path` unknown the roles are found by name (IAM role names are unique regardless of path).
pub async fn read_with_groups(
    clients: &Clients,
    name: &str,
    scope: RoleScope,
    groups: &BTreeSet<String>,
    ownership: &Ownership,
) -> Result<ObservedResource, ProvisionError> {
    observe(clients, name, scope, groups, ownership)
        .await
        .map(|observation| observation.owned)
        .map_err(|error| ProvisionError { error, observed_so_far: Box::new(ObservedResource::empty(name)) })
}

/// The groups a deployed function's `GRACEFUL_CONFIG` names.
pub(crate) fn configured_groups(observed: &ObservedResource) -> BTreeSet<String> {
    observed
        .function
        .as_ref()
        .and_then(|f| f.config.as_ref())
        .and_then(|c| c["autoscaling_group_names"].as_array())
        .map(|names| names.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// What exists under our names, split into what is ours and what is someone else's.
pub(crate) struct Observation {
    pub owned: ObservedResource,
    pub foreign: Vec<ForeignPiece>,
}

/// Keeps `piece` when `ownership` makes it ours, otherwise records it in `foreign`.
fn sort_piece<T>(
    piece: Option<T>,
    ownership: &Ownership,
    kind: &'static str,
    id_and_tags: impl Fn(&T) -> (&str, &BTreeMap<String, String>),
    foreign: &mut Vec<ForeignPiece>,
) -> Option<T> {
    let piece = piece?;
    let (id, tags) = id_and_tags(&piece);
    if ownership.owns(tags) {
        return Some(piece);
    }
    foreign.push(ForeignPiece::tagged(kind, id, tags));
    None
}

pub(crate) async fn observe(
    clients: &Clients,
    name: &str,
    scope: RoleScope,
    groups: &BTreeSet<String>,
    ownership: &Ownership,
) -> Result<Observation, StepError> {
    let names = DerivedNames::new(name);
    let location = clients.location().await?;
    let roles = role_names(name, scope, &location)?;
    let arns = DerivedArns::new(&location, &names, &roles, "/");
    let (topic, publisher_role, handler_role, document, log_group, function, rule) = tokio::try_join!(
        sns::find_topic_by_arn(clients, &arns.topic),
        iam::find_role_by_name(clients, &roles.publisher),
        iam::find_role_by_name(clients, &roles.handler),
        ssm::find_document_by_name(clients, &names.document, &arns.document),
        logs::find_log_group_by_name(clients, &names.log_group),
        lambda::find_function_by_name(clients, &names.function),
        events::find_rule_by_name(clients, &names.rule),
    )?;
    let mut foreign = Vec::new();
    let f = &mut foreign;
    let topic_exists = topic.is_some();
    let topic = sort_piece(topic, ownership, "SNS topic", |t| (t.arn.as_str(), &t.tags), f);
    // A hook notifying a topic that is someone else's is theirs too, even with our metadata.
    let topic_is_foreign = topic_exists && topic.is_none();
    let publisher_role = sort_piece(publisher_role, ownership, "IAM role", |r| (r.name.as_str(), &r.tags), f);
    let handler_role = sort_piece(handler_role, ownership, "IAM role", |r| (r.name.as_str(), &r.tags), f);
    let document = sort_piece(document, ownership, "SSM document", |d| (d.name.as_str(), &d.tags), f);
    let function = sort_piece(function, ownership, "Lambda function", |l| (l.name.as_str(), &l.tags), f);
    let rule = sort_piece(rule, ownership, "EventBridge rule", |r| (r.name.as_str(), &r.tags), f);
    // Lambda creates `/aws/lambda/<function>` itself, untagged, when the function logs and the group is missing
    // (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html): such a group is our function's.
    let log_group = match log_group {
        Some(group) if function.is_some() && crate::ownership::owner_tag(&group.tags).is_none() => Some(group),
        other => sort_piece(other, ownership, "CloudWatch Logs log group", |g| (g.name.as_str(), &g.tags), f),
    };
    let mut observed = ObservedResource {
        name: name.to_owned(),
        role_names: roles,
        topic,
        publisher_role,
        handler_role,
        document,
        log_group,
        function,
        rule,
        ..Default::default()
    };
    if let Some(function) = &observed.function {
        let mut permissions = lambda::find_permissions_by_function(clients, &names.function).await?;
        observed.sns_permission = permissions.remove(settings::SNS_PERMISSION_SID);
        observed.schedule_permission = permissions.remove(settings::SCHEDULE_PERMISSION_SID);
        if let Some(topic) = &observed.topic {
            observed.subscription = sns::find_subscription_by_endpoint(clients, &topic.arn, &function.arn).await?;
        }
    }
    let mut all_groups = groups.clone();
    all_groups.extend(configured_groups(&observed));
    let metadata = notification_metadata(name);
    for group in all_groups {
        let Some(hook) = autoscaling::find_hook_by_group(clients, &group, &names.hook).await? else { continue };
        // Untaggable: a hook is ours when it names this resource in its metadata and notifies our topic.
        let ours = *ownership == Ownership::Any
            || (!topic_is_foreign
                && hook.notification_metadata.as_deref() == Some(metadata.as_str())
                && hook.notification_target_arn.as_deref() == Some(arns.topic.as_str()));
        if ours {
            observed.hooks.insert(group, hook);
        } else {
            foreign.push(ForeignPiece {
                kind: "Auto Scaling lifecycle hook",
                id: format!("{group}/{}", names.hook),
                reason: format!(
                    "it notifies {} with metadata {}, not this resource's topic {} with {metadata}",
                    hook.notification_target_arn.as_deref().unwrap_or("no target"),
                    hook.notification_metadata.as_deref().unwrap_or("none"),
                    arns.topic
                ),
            });
        }
    }
    Ok(Observation { owned: observed, foreign })
}
