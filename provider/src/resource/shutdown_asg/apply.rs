//! Apply: decides the operation from prior and planned state (null prior = create, null planned = delete), and
//! returns what exists afterwards even when a step failed, so Terraform keeps it and nothing is orphaned.

use super::model::Settings;
use super::state;
use crate::bundle;
use crate::provider::GracefulProvider;
use graceful_provision::{Architecture, DesiredResource, ObservedResource};
use tfplugin::{ApplyRequest, ApplyResponse, Diagnostic, Value};

pub async fn apply(provider: &GracefulProvider, request: ApplyRequest) -> ApplyResponse {
    let clients = match provider.clients().await {
        Ok(clients) => clients,
        Err(diagnostics) => return ApplyResponse { new_state: request.prior_state, diagnostics, ..Default::default() },
    };
    if request.planned_state.is_null() {
        return delete(clients, request.prior_state).await;
    }
    let Some(settings) = Settings::from_value(&request.planned_state) else {
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
    let Some(desired) = desired_resource(&settings) else {
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
    let run = graceful_provision::converge_with_groups(clients, &desired, &recorded_groups);
    let outcome = tokio::select! {
        outcome = run => outcome,
        // Ctrl-C: AWS is left as it is after the step in flight; refresh + apply converges from there.
        _ = provider.stop.cancelled() => {
            let observed = graceful_provision::read_with_groups(clients, &settings.name, &recorded_groups)
                .await
                .unwrap_or_else(|_| ObservedResource::empty(&settings.name));
            return partial(
                &request.prior_state,
                &request.planned_state,
                &observed,
                "Stopped",
                "Terraform asked the provider to stop; what was created so far is in the state".into(),
            );
        }
    };
    match outcome {
        Ok(observed) => {
            ApplyResponse { new_state: state::from_apply(&request.planned_state, &observed), ..Default::default() }
        }
        Err(error) => partial(
            &request.prior_state,
            &request.planned_state,
            &error.observed_so_far,
            "Applying graceful_shutdown_asg failed",
            error.to_string(),
        ),
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

pub(super) fn desired_resource(settings: &Settings) -> Option<DesiredResource> {
    let bundle = bundle::for_architecture(&settings.architecture)?;
    Some(DesiredResource {
        name: settings.name.clone(),
        autoscaling_group_names: settings.autoscaling_group_names.clone(),
        budget: settings.budget,
        preset: settings.preset.clone(),
        on_failure: settings.on_failure,
        architecture: Architecture::from_aws_str(&settings.architecture)?,
        handler_zip: bundle.zip,
        handler_code_sha256: bundle.code_sha256.to_string(),
        tags: settings.tags.clone(),
        permissions_boundary: settings.permissions_boundary.clone(),
        iam_path: settings.iam_path.clone(),
        kms_key_id: settings.kms_key_id.clone(),
        log_retention_days: settings.log_retention_days,
    })
}

async fn delete(clients: &graceful_provision::Clients, prior: Value) -> ApplyResponse {
    let Some(name) = prior.get("name").as_str().map(str::to_string) else {
        return ApplyResponse::default();
    };
    let groups = super::model::group_names(&prior);
    match graceful_provision::delete(clients, &name, &groups).await {
        Ok(()) => ApplyResponse { new_state: Value::Null, ..Default::default() },
        Err(error) => ApplyResponse {
            new_state: prior,
            diagnostics: Diagnostic::error("Deleting graceful_shutdown_asg failed", error.to_string()).into(),
            ..Default::default()
        },
    }
}
