//! Apply: decides the operation from prior and planned state (null prior = create, null planned = delete), and
//! returns what exists afterwards even when a step failed, so Terraform keeps it and nothing is orphaned.

use super::model::Settings;
use super::state;
use super::timeouts::{self, Operation};
use crate::bundle;
use crate::provider::GracefulProvider;
use graceful_provision::LifecycleResult;
use graceful_provision::{
    Architecture, Cause, DesiredResource, ObservedResource, Ownership, ProvisionError, new_owner_id,
};
use tfplugin::{ApplyRequest, ApplyResponse, AttributePath, Diagnostic, Diagnostics, Value};

pub async fn apply(provider: &GracefulProvider, request: ApplyRequest) -> ApplyResponse {
    let clients = match provider.clients().await {
        Ok(clients) => clients,
        Err(diagnostics) => return ApplyResponse { new_state: request.prior_state, diagnostics, ..Default::default() },
    };
    if request.planned_state.is_null() {
        return delete(provider, clients, request.prior_state).await;
    }
    let (ownership, owner_id) = ownership_for_apply(&request.prior_state, &request.planned_state);
    let planned = with_owner_id(&request.planned_state, &owner_id);
    let Some(settings) = Settings::from_value(&planned) else {
        return ApplyResponse {
            new_state: request.prior_state,
            diagnostics: Diagnostic::error(
                "Incomplete plan",
                "the planned graceful_shutdown_asg still has unknown or invalid values at apply time",
            )
            .into(),
            ..Default::default()
        };
    };
    let Some(desired) = desired_resource(&settings, ownership.clone()) else {
        return ApplyResponse {
            new_state: request.prior_state,
            diagnostics: Diagnostic::error(
                "No handler for this architecture",
                format!("this provider bundles no drain handler for architecture {:?}", settings.architecture),
            )
            .into(),
            ..Default::default()
        };
    };
    // The groups of the last apply: hooks on groups that left the configuration are found and removed.
    let recorded_groups = super::model::group_names(&request.prior_state);
    let operation = if request.prior_state.is_null() { Operation::Create } else { Operation::Update };
    let interrupt = timeouts::interruption(provider, operation, timeouts::limit(&planned, operation));
    // On Ctrl-C or the timeout, AWS is left as it is after the step in flight; refresh + apply converges from there.
    match graceful_provision::converge_until(clients, &desired, &recorded_groups, interrupt).await {
        Ok(observed) => ApplyResponse {
            new_state: state::from_apply(&planned, &observed),
            diagnostics: {
                let mut warnings = abandon_warnings(clients, &settings).await;
                warnings.extend(shared_group_warnings(clients, &settings).await);
                warnings
            },
            ..Default::default()
        },
        Err(error) => partial(
            &request.prior_state,
            &planned,
            &error.observed_so_far,
            failure_summary(provider, &error, "Applying graceful_shutdown_asg failed"),
            with_what_is_kept(&error),
        ),
    }
}

/// With `on_failure = "abandon"`, a warning naming the groups whose lifecycle policy does not retain abandoned
/// instances: there ABANDON terminates them as CONTINUE would.
async fn abandon_warnings(clients: &graceful_provision::Clients, settings: &Settings) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    if settings.on_failure != LifecycleResult::Abandon {
        return diagnostics;
    }
    match graceful_provision::groups_not_retaining_abandoned(clients, &settings.autoscaling_group_names).await {
        Ok(groups) if groups.is_empty() => {}
        Ok(groups) => diagnostics.push(
            Diagnostic::warning(
                "on_failure = \"abandon\" will not keep failed instances",
                format!(
                    "Auto Scaling group(s) {} have no instance lifecycle policy that retains instances whose \
terminate hook ends ABANDON, so an instance whose drain fails is terminated anyway. To keep it for inspection, set \
instance_lifecycle_policy {{ retention_triggers {{ terminate_hook_abandon = \"retain\" }} }} on each group.",
                    groups.join(", ")
                ),
            )
            .at(AttributePath::root("on_failure")),
        ),
        Err(error) => diagnostics
            .push(Diagnostic::warning("Could not check whether abandoned instances are retained", error.to_string())),
    }
    diagnostics
}

/// A warning for each managed group that another `graceful_shutdown_asg` also manages: both resources' handlers
/// drain every terminating instance, and the instance waits for both.
async fn shared_group_warnings(clients: &graceful_provision::Clients, settings: &Settings) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    for group in &settings.autoscaling_group_names {
        match graceful_provision::other_resources_on(clients, group, &settings.name).await {
            Ok(others) if others.is_empty() => {}
            Ok(others) => diagnostics.push(
                Diagnostic::warning(
                    format!("Auto Scaling group {group:?} is managed by more than one graceful_shutdown_asg"),
                    format!(
                        "graceful_shutdown_asg {:?} (this one) and {} each put a lifecycle hook on {group:?}: every \
terminating instance is drained once per resource and waits for all of them. Keep each group in one resource.",
                        settings.name,
                        others.iter().map(|o| format!("{o:?}")).collect::<Vec<_>>().join(", ")
                    ),
                )
                .at(AttributePath::root("autoscaling_group_names")),
            ),
            Err(error) => diagnostics.push(Diagnostic::warning(
                format!("Could not check whether another resource manages {group:?}"),
                error.to_string(),
            )),
        }
    }
    diagnostics
}

fn failure_summary(provider: &GracefulProvider, error: &ProvisionError, otherwise: &'static str) -> &'static str {
    match &error.error.cause {
        Cause::Interrupted(_) if provider.stop.is_cancelled() => "Stopped",
        Cause::Interrupted(_) => "Timed out",
        Cause::NotOwned(_) => "AWS objects with these names already exist",
        _ => otherwise,
    }
}

fn with_what_is_kept(error: &ProvisionError) -> String {
    match &error.error.cause {
        Cause::Interrupted(_) => format!("{error}; what exists so far is in the state"),
        _ => error.to_string(),
    }
}

/// The state of what exists after a failure. When the failure left nothing observed (e.g. the very first read
/// failed), the prior state stands: dropping a resource that exists would orphan it.
fn partial(
    prior: &Value,
    planned: &Value,
    observed: &ObservedResource,
    summary: &str,
    detail: String,
) -> ApplyResponse {
    let new_state = if observed.is_absent() { prior.clone() } else { state::from_apply(planned, observed) };
    ApplyResponse { new_state, diagnostics: Diagnostic::error(summary, detail).into(), ..Default::default() }
}

/// Which pieces this apply may touch. A create (or replacement) gets a fresh owner id and owns only what carries it;
/// an update keeps the id of its state; a state from before owner ids (or an import of untagged objects) claims the
/// untagged pieces under a fresh id.
fn ownership_for_apply(prior: &Value, planned: &Value) -> (Ownership, String) {
    match (prior, planned.get("owner_id")) {
        (_, Value::String(id)) => (Ownership::Tagged(id.clone()), id.clone()),
        (Value::Null, _) => {
            let id = new_owner_id();
            (Ownership::Tagged(id.clone()), id)
        }
        _ => {
            let id = new_owner_id();
            (Ownership::Untagged { claim: Some(id.clone()) }, id)
        }
    }
}

/// The ownership a recorded state grants to read and delete.
pub(super) fn ownership_of_state(state: &Value) -> Ownership {
    match state.get("owner_id") {
        Value::String(id) => Ownership::Tagged(id.clone()),
        _ => Ownership::Untagged { claim: None },
    }
}

fn with_owner_id(planned: &Value, owner_id: &str) -> Value {
    match planned.clone() {
        Value::Object(mut attrs) => {
            attrs.insert("owner_id".into(), Value::string(owner_id.to_owned()));
            Value::Object(attrs)
        }
        other => other,
    }
}

pub(super) fn desired_resource(settings: &Settings, ownership: Ownership) -> Option<DesiredResource> {
    let bundle = bundle::for_architecture(&settings.architecture)?;
    Some(DesiredResource {
        name: settings.name.clone(),
        role_scope: settings.role_scope,
        autoscaling_group_names: settings.autoscaling_group_names.clone(),
        budget: settings.budget,
        preset: settings.preset.clone(),
        on_failure: settings.on_failure,
        architecture: Architecture::from_aws_str(&settings.architecture)?,
        handler_zip: bundle.zip,
        handler_code_sha256: bundle.code_sha256.to_string(),
        tags: settings.tags_all.clone(),
        permissions_boundary: settings.permissions_boundary.clone(),
        iam_path: settings.iam_path.clone(),
        kms_key_id: settings.kms_key_id.clone(),
        log_retention_days: settings.log_retention_days,
        ownership,
        wait_for_drains: settings.wait_for_drains,
        spot: settings.spot,
    })
}

async fn delete(provider: &GracefulProvider, clients: &graceful_provision::Clients, prior: Value) -> ApplyResponse {
    let Some(name) = prior.get("name").as_str().map(str::to_string) else {
        return ApplyResponse::default();
    };
    let groups = super::model::group_names(&prior);
    let interrupt = timeouts::interruption(provider, Operation::Delete, timeouts::limit(&prior, Operation::Delete));
    let wait_for_drains = super::model::wait_for_drains(&prior).unwrap_or(true);
    let ownership = ownership_of_state(&prior);
    let scope = super::model::role_scope(&prior);
    match graceful_provision::delete_until(clients, &name, scope, &groups, &ownership, wait_for_drains, interrupt).await
    {
        Ok(()) => ApplyResponse { new_state: Value::Null, ..Default::default() },
        Err(error) => ApplyResponse {
            diagnostics: Diagnostic::error(
                failure_summary(provider, &error, "Deleting graceful_shutdown_asg failed"),
                error.to_string(),
            )
            .into(),
            new_state: prior,
            ..Default::default()
        },
    }
}
