//! delete: removes every piece in reverse dependency order, hooks first (so no instance is parked waiting for a
//! handler that is gone). A piece already gone is success.

use std::collections::BTreeSet;

use drain_contract::names::DerivedNames;

use crate::aws::{autoscaling, events, iam, lambda, logs, sns, ssm};
use crate::clients::Clients;
use crate::derive::DerivedArns;
use crate::error::{ProvisionError, StepError};
use crate::observed::ObservedResource;
use crate::read::{configured_groups, observe};

/// Deletes resource `name`. Hooks are removed from `groups` and from every group the deployed function's
/// configuration names.
pub async fn delete(clients: &Clients, name: &str, groups: &BTreeSet<String>) -> Result<(), ProvisionError> {
    match delete_pieces(clients, name, groups).await {
        Ok(()) => Ok(()),
        Err(error) => {
            // Report what is left, so the caller keeps it and a retry reaches it.
            let observed_so_far =
                observe(clients, name, groups).await.unwrap_or_else(|_| ObservedResource::empty(name));
            Err(ProvisionError { error, observed_so_far: Box::new(observed_so_far) })
        }
    }
}

async fn delete_pieces(clients: &Clients, name: &str, groups: &BTreeSet<String>) -> Result<(), StepError> {
    let names = DerivedNames::new(name);
    let location = clients.location().await?;
    let function = lambda::find_function_by_name(clients, &names.function).await?;
    let mut all_groups = groups.clone();
    all_groups.extend(configured_groups(&ObservedResource { function: function.clone(), ..Default::default() }));
    for group in &all_groups {
        autoscaling::delete_hook(clients, group, &names.hook).await?;
    }
    events::delete_rule(clients, &names.rule).await?;
    let topic_arn = DerivedArns::new(&location, &names, "/").topic;
    if let Some(function) = &function
        && let Some(subscription) = sns::find_subscription_by_endpoint(clients, &topic_arn, &function.arn).await?
    {
        sns::delete_subscription(clients, &subscription.arn).await?;
    }
    // The function's permissions go with it.
    lambda::delete_function(clients, &names.function).await?;
    logs::delete_log_group(clients, &names.log_group).await?;
    ssm::delete_document(clients, &names.document).await?;
    iam::delete_role(clients, &names.handler_role).await?;
    iam::delete_role(clients, &names.publisher_role).await?;
    sns::delete_topic(clients, &topic_arn).await?;
    Ok(())
}
