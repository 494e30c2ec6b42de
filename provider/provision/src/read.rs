//! read: every piece of one resource as it is in AWS, by name (refresh, drift detection, import).

use std::collections::BTreeSet;

use drain_contract::names::DerivedNames;

use crate::aws::{autoscaling, events, iam, lambda, logs, sns, ssm};
use crate::clients::Clients;
use crate::derive::DerivedArns;
use crate::desired::function_settings as settings;
use crate::error::{ProvisionError, StepError};
use crate::observed::ObservedResource;

/// Reads every piece of resource `name`. Hooks are looked up on the groups the deployed function's configuration
/// lists (so an import by name finds them); use [`read_with_groups`] to also check groups known from elsewhere.
pub async fn read(clients: &Clients, name: &str) -> Result<ObservedResource, ProvisionError> {
    read_with_groups(clients, name, &BTreeSet::new()).await
}

/// Like [`read`], also looking for this resource's hook on `groups` (e.g. the groups recorded in state).
/// With `iam_path` unknown the roles are found by name (IAM role names are unique regardless of path).
pub async fn read_with_groups(
    clients: &Clients,
    name: &str,
    groups: &BTreeSet<String>,
) -> Result<ObservedResource, ProvisionError> {
    observe(clients, name, groups)
        .await
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

pub(crate) async fn observe(
    clients: &Clients,
    name: &str,
    groups: &BTreeSet<String>,
) -> Result<ObservedResource, StepError> {
    let names = DerivedNames::new(name);
    let location = clients.location().await?;
    let arns = DerivedArns::new(&location, &names, "/");
    let (topic, publisher_role, handler_role, document, log_group, function, rule) = tokio::try_join!(
        sns::find_topic_by_arn(clients, &arns.topic),
        iam::find_role_by_name(clients, &names.publisher_role),
        iam::find_role_by_name(clients, &names.handler_role),
        ssm::find_document_by_name(clients, &names.document, &arns.document),
        logs::find_log_group_by_name(clients, &names.log_group),
        lambda::find_function_by_name(clients, &names.function),
        events::find_rule_by_name(clients, &names.rule),
    )?;
    let mut observed = ObservedResource {
        name: name.to_owned(),
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
    for group in all_groups {
        if let Some(hook) = autoscaling::find_hook_by_group(clients, &group, &names.hook).await? {
            observed.hooks.insert(group, hook);
        }
    }
    Ok(observed)
}
