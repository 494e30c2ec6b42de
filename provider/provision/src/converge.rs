//! converge: creates what is missing and corrects what differs, in dependency order. One function serves create,
//! update and drift correction: it observes AWS first, then acts only where AWS differs from the desired resource.

use std::collections::BTreeSet;

use drain_contract::names::{DerivedNames, check_hook_role_arn, notification_metadata};

use crate::aws::{autoscaling, events, iam, lambda, logs, sns, ssm};
use crate::clients::Clients;
use crate::derive::{DerivedArns, handler_config};
use crate::desired::{DesiredResource, function_settings as settings};
use crate::drain_wait::{self, DrainWatch};
use crate::error::{Cause, ProvisionError, Step, StepError};
use crate::observed::{ObservedPermission, ObservedResource};
use crate::ownership::NotOwned;
use crate::policy;
use crate::read::{Observation, observe};

/// Brings AWS to `desired` and returns every piece as it now is.
///
/// `prior` is what the caller recorded last time (if anything): hooks on groups it lists that are no longer desired
/// are deleted (so are hooks on groups the deployed function is still configured with). On failure the error
/// carries every piece that exists at that point (`observed_so_far`).
pub async fn converge(
    clients: &Clients,
    desired: &DesiredResource,
    prior: Option<&ObservedResource>,
) -> Result<ObservedResource, ProvisionError> {
    let recorded = prior.map(ObservedResource::hooked_groups).unwrap_or_default();
    let known = prior.cloned().unwrap_or_else(|| ObservedResource::empty(&desired.name));
    converge_from(clients, desired, &recorded, known, std::future::pending()).await
}

/// [`converge`] for a caller that recorded only group names: hooks on `recorded_groups` that are no longer desired
/// are deleted.
pub async fn converge_with_groups(
    clients: &Clients,
    desired: &DesiredResource,
    recorded_groups: &BTreeSet<String>,
) -> Result<ObservedResource, ProvisionError> {
    converge_until(clients, desired, recorded_groups, std::future::pending()).await
}

/// [`converge_with_groups`] that stops when `interrupt` resolves (Ctrl-C, the operation's timeout) with its reason:
/// the AWS call in flight is abandoned and the error carries every piece that exists by then.
pub async fn converge_until(
    clients: &Clients,
    desired: &DesiredResource,
    recorded_groups: &BTreeSet<String>,
    interrupt: impl Future<Output = String>,
) -> Result<ObservedResource, ProvisionError> {
    converge_from(clients, desired, recorded_groups, ObservedResource::empty(&desired.name), interrupt).await
}

/// `known` is returned as `observed_so_far` when even the first observation fails (nothing was changed then).
async fn converge_from(
    clients: &Clients,
    desired: &DesiredResource,
    recorded_groups: &BTreeSet<String>,
    known: ObservedResource,
    interrupt: impl Future<Output = String>,
) -> Result<ObservedResource, ProvisionError> {
    let mut groups: BTreeSet<String> = desired.autoscaling_group_names.clone();
    groups.extend(recorded_groups.iter().cloned());
    tokio::pin!(interrupt);
    let watch = DrainWatch::default();
    let interrupted = |reason: String| {
        StepError::new(
            Step::Converging,
            &desired.name,
            Cause::Interrupted(drain_wait::interrupted_message(&reason, &watch)),
        )
    };
    let observed = tokio::select! {
        observed = observe(clients, &desired.name, desired.role_scope, &groups, &desired.ownership) => observed,
        reason = &mut interrupt => Err(interrupted(reason)),
    };
    let Observation { owned: mut state, foreign } = match observed {
        Ok(observation) => observation,
        Err(error) => {
            return Err(ProvisionError { error, observed_so_far: Box::new(known) });
        }
    };
    if !foreign.is_empty() {
        // Refused before any write: a create adopts nothing, an update overwrites nothing of someone else's.
        let refusal = NotOwned { name: desired.name.clone(), pieces: foreign };
        let error = StepError::new(Step::CheckingOwnership, &desired.name, Cause::NotOwned(refusal));
        return Err(ProvisionError { error, observed_so_far: Box::new(state) });
    }
    // `state` records each piece as soon as it exists, so an interrupted apply still reports all of them.
    let outcome = {
        let run = apply(clients, desired, &mut state, &watch);
        tokio::pin!(run);
        tokio::select! {
            outcome = &mut run => outcome,
            reason = &mut interrupt => Err(interrupted(reason)),
        }
    };
    match outcome {
        Ok(()) => Ok(state),
        Err(error) => Err(ProvisionError { error, observed_so_far: Box::new(state) }),
    }
}

/// The steps, in dependency order; each records its piece in `state` as soon as it exists.
async fn apply(
    clients: &Clients,
    desired: &DesiredResource,
    state: &mut ObservedResource,
    watch: &DrainWatch,
) -> Result<(), StepError> {
    let names = DerivedNames::new(&desired.name);
    let location = clients.location().await?;
    let roles = state.role_names.clone();
    let arns = DerivedArns::new(&location, &names, &roles, &desired.iam_path);
    // Refused before any write: AWS would refuse only the hook, the last piece, after all the others exist.
    check_hook_role_arn(&arns.publisher_role, &desired.iam_path)
        .map_err(|why| StepError::new(Step::NamingRoles, &desired.name, Cause::InvalidName(why)))?;
    let tags = desired.ownership.tags_with_owner(&desired.tags);

    // Hooks on groups no longer managed go first: nothing new may park instances for a group we stop serving. Their
    // running drains finish first: deleting a hook lets its waiting instances terminate.
    let obsolete: BTreeSet<String> =
        state.hooks.keys().filter(|g| !desired.autoscaling_group_names.contains(*g)).cloned().collect();
    if desired.wait_for_drains && !obsolete.is_empty() {
        drain_wait::until_released(clients, &obsolete, watch, drain_wait::POLL_INTERVAL).await?;
    }
    for group in obsolete {
        autoscaling::delete_hook(clients, &group, &names.hook).await?;
        state.hooks.remove(&group);
    }

    let topic = sns::ensure_topic(
        clients,
        &sns::DesiredTopic {
            name: &names.topic,
            arn: &arns.topic,
            policy: policy::topic_policy(&location, &arns.topic, &arns.publisher_role),
            kms_key_id: desired.kms_key_id.as_deref(),
            tags: &tags,
        },
        state.topic.as_ref(),
    )
    .await?;
    let topic_arn = topic.arn.clone();
    state.topic = Some(topic);

    let publisher = iam::ensure_role(
        clients,
        &iam::DesiredRole {
            name: &roles.publisher,
            path: &desired.iam_path,
            trust_policy: policy::publisher_trust_policy(),
            policy_name: settings::PUBLISHER_POLICY_NAME,
            policy: policy::publisher_policy(&topic_arn),
            permissions_boundary: desired.permissions_boundary.as_deref(),
            tags: &tags,
        },
        state.publisher_role.as_ref(),
    )
    .await?;
    let publisher_arn = publisher.arn.clone();
    state.publisher_role = Some(publisher);

    let scope = policy::PolicyScope {
        location: &location,
        topic_arn: &topic_arn,
        publisher_role_arn: &publisher_arn,
        document_name: &names.document,
        document_arn: &arns.document,
        log_group_arn: &arns.log_group,
        autoscaling_group_names: desired.autoscaling_group_names.iter().map(String::as_str).collect(),
    };
    let handler_role = iam::ensure_role(
        clients,
        &iam::DesiredRole {
            name: &roles.handler,
            path: &desired.iam_path,
            trust_policy: policy::handler_trust_policy(),
            policy_name: settings::HANDLER_POLICY_NAME,
            policy: policy::handler_policy(&scope),
            permissions_boundary: desired.permissions_boundary.as_deref(),
            tags: &tags,
        },
        state.handler_role.as_ref(),
    )
    .await?;
    let handler_role_arn = handler_role.arn.clone();
    state.handler_role = Some(handler_role);

    let content = drain_contract::document::render(&desired.preset, &desired.budget);
    let document = ssm::ensure_document(
        clients,
        &ssm::DesiredDocument { name: &names.document, arn: &arns.document, content: &content, tags: &tags },
        state.document.as_ref(),
    )
    .await?;
    state.document = Some(document);

    let log_group = logs::ensure_log_group(
        clients,
        &names.log_group,
        &arns.log_group,
        desired.log_retention_days,
        &tags,
        state.log_group.as_ref(),
    )
    .await?;
    state.log_group = Some(log_group);

    let config = handler_config(desired, &topic_arn, &publisher_arn);
    let config = serde_json::to_value(&config).expect("HandlerConfig serializes");
    let function = lambda::ensure_function(
        clients,
        &lambda::DesiredFunction {
            name: &names.function,
            role_arn: &handler_role_arn,
            architecture: desired.architecture,
            zip: desired.handler_zip,
            code_sha256: &desired.handler_code_sha256,
            config,
            log_group: &names.log_group,
            tags: &tags,
        },
        state.function.as_ref(),
    )
    .await;
    let function = match function {
        Ok(function) => function,
        Err(error) => {
            // A create that failed after Lambda accepted it (e.g. while waiting) still left a function behind.
            if state.function.is_none() {
                state.function = lambda::find_function_by_name(clients, &names.function).await.ok().flatten();
            }
            return Err(error);
        }
    };
    let function_arn = function.arn.clone();
    state.function = Some(function);

    let subscription =
        sns::ensure_subscription(clients, &topic_arn, &function_arn, state.subscription.as_ref()).await?;
    state.subscription = Some(subscription);
    let sns_permission = ObservedPermission {
        statement_id: settings::SNS_PERMISSION_SID.to_owned(),
        principal: "sns.amazonaws.com".to_owned(),
        source_arn: Some(topic_arn.clone()),
    };
    let sns_permission =
        lambda::ensure_permission(clients, &names.function, &sns_permission, state.sns_permission.as_ref()).await?;
    state.sns_permission = Some(sns_permission);

    let event_pattern = desired.spot.map(|_| drain_contract::spot::event_pattern());
    let rule =
        events::ensure_rule(clients, &names.rule, &function_arn, event_pattern.as_ref(), &tags, state.rule.as_ref())
            .await?;
    let rule_arn = rule.arn.clone();
    state.rule = Some(rule);
    let schedule_permission = ObservedPermission {
        statement_id: settings::SCHEDULE_PERMISSION_SID.to_owned(),
        principal: "events.amazonaws.com".to_owned(),
        source_arn: Some(rule_arn),
    };
    let schedule_permission =
        lambda::ensure_permission(clients, &names.function, &schedule_permission, state.schedule_permission.as_ref())
            .await?;
    state.schedule_permission = Some(schedule_permission);

    let metadata = notification_metadata(&desired.name);
    let heartbeat = i32::try_from(desired.budget.heartbeat_timeout_seconds).unwrap_or(i32::MAX);
    for group in &desired.autoscaling_group_names {
        let wanted = autoscaling::desired_hook(
            group,
            &names.hook,
            &topic_arn,
            &publisher_arn,
            &metadata,
            heartbeat,
            desired.on_failure.as_aws_str(),
        );
        let hook = autoscaling::ensure_hook(clients, &wanted, state.hooks.get(group)).await?;
        state.hooks.insert(group.clone(), hook);
    }
    Ok(())
}
