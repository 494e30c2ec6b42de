//! delete: removes every piece this instance owns in reverse dependency order, hooks first (so no instance is
//! parked waiting for a handler that is gone), once no drain runs on their groups ([`crate::drain_wait`]) unless
//! the caller opts out. A piece already gone is success; a piece with our name that is someone else's is left alone.

use std::collections::BTreeSet;

use drain_contract::names::{DerivedNames, RoleScope};

use crate::aws::{autoscaling, events, iam, lambda, logs, sns, ssm};
use crate::clients::Clients;
use crate::drain_wait::{self, DrainWatch};
use crate::error::{Cause, ProvisionError, Step, StepError};
use crate::observed::ObservedResource;
use crate::ownership::Ownership;
use crate::read::observe;

/// Deletes what `ownership` makes ours of resource `name`. Hooks are removed from `groups` and from every group the
/// deployed function's configuration names; with `wait_for_drains`, only once none of those groups' instances is
/// held in a lifecycle wait. `scope` says how its IAM roles are named.
pub async fn delete(
    clients: &Clients,
    name: &str,
    scope: RoleScope,
    groups: &BTreeSet<String>,
    ownership: &Ownership,
    wait_for_drains: bool,
) -> Result<(), ProvisionError> {
    delete_until(clients, name, scope, groups, ownership, wait_for_drains, std::future::pending()).await
}

/// [`delete`] that stops when `interrupt` resolves (Ctrl-C, the operation's timeout) with its reason.
pub async fn delete_until(
    clients: &Clients,
    name: &str,
    scope: RoleScope,
    groups: &BTreeSet<String>,
    ownership: &Ownership,
    wait_for_drains: bool,
    interrupt: impl Future<Output = String>,
) -> Result<(), ProvisionError> {
    let watch = DrainWatch::default();
    let outcome = tokio::select! {
        outcome = delete_pieces(clients, name, scope, groups, ownership, wait_for_drains.then_some(&watch)) => outcome,
        reason = interrupt => {
            // What is left is unknown without another AWS call: the caller keeps its record, a refresh corrects it.
            let message = drain_wait::interrupted_message(&reason, &watch);
            let error = StepError::new(Step::Deleting, name, Cause::Interrupted(message));
            return Err(ProvisionError { error, observed_so_far: Box::new(ObservedResource::empty(name)) });
        }
    };
    match outcome {
        Ok(()) => Ok(()),
        Err(error) => {
            // Report what is left, so the caller keeps it and a retry reaches it.
            let observed_so_far = observe(clients, name, scope, groups, ownership)
                .await
                .map(|observation| observation.owned)
                .unwrap_or_else(|_| ObservedResource::empty(name));
            Err(ProvisionError { error, observed_so_far: Box::new(observed_so_far) })
        }
    }
}

async fn delete_pieces(
    clients: &Clients,
    name: &str,
    scope: RoleScope,
    groups: &BTreeSet<String>,
    ownership: &Ownership,
    wait: Option<&DrainWatch>,
) -> Result<(), StepError> {
    let names = DerivedNames::new(name);
    let owned = observe(clients, name, scope, groups, ownership).await?.owned;
    if let Some(watch) = wait {
        let hooked: BTreeSet<String> = owned.hooks.keys().cloned().collect();
        drain_wait::until_released(clients, &hooked, watch, drain_wait::POLL_INTERVAL).await?;
    }
    for group in owned.hooks.keys() {
        autoscaling::delete_hook(clients, group, &names.hook).await?;
    }
    if owned.rule.is_some() {
        events::delete_rule(clients, &names.rule).await?;
    }
    if let Some(subscription) = &owned.subscription {
        sns::delete_subscription(clients, &subscription.arn).await?;
    }
    // The function's permissions go with it.
    if owned.function.is_some() {
        lambda::delete_function(clients, &names.function).await?;
    }
    if owned.log_group.is_some() {
        logs::delete_log_group(clients, &names.log_group).await?;
    }
    if owned.document.is_some() {
        ssm::delete_document(clients, &names.document).await?;
    }
    if owned.handler_role.is_some() {
        iam::delete_role(clients, &owned.role_names.handler).await?;
    }
    if owned.publisher_role.is_some() {
        iam::delete_role(clients, &owned.role_names.publisher).await?;
    }
    if let Some(topic) = &owned.topic {
        sns::delete_topic(clients, &topic.arn).await?;
    }
    Ok(())
}
