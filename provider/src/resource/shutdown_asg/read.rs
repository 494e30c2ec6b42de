//! Refresh: read every piece back from AWS. All pieces gone → the resource leaves the state.

use super::model::Settings;
use super::state;
use crate::provider::GracefulProvider;
use tfplugin::{Diagnostic, Diagnostics, ReadRequest, ReadResponse, Value};

pub async fn read(provider: &GracefulProvider, request: ReadRequest) -> ReadResponse {
    let Some(name) = request.current_state.get("name").as_str().map(str::to_string) else {
        return ReadResponse { new_state: request.current_state, private: request.private, ..Default::default() };
    };
    let clients = match provider.clients().await {
        Ok(clients) => clients,
        Err(diags) => {
            return ReadResponse { new_state: request.current_state, diagnostics: diags, ..Default::default() };
        }
    };
    let groups = super::model::group_names(&request.current_state);
    let ownership = super::apply::ownership_of_state(&request.current_state);
    let scope = super::model::role_scope(&request.current_state);
    let outcome = tokio::select! {
        outcome = graceful_provision::read_with_groups(clients, &name, scope, &groups, &ownership) => outcome,
        // Ctrl-C interrupts a refresh too (the state stays as it was).
        _ = provider.stop.cancelled() => {
            return ReadResponse {
                new_state: request.current_state,
                private: request.private,
                diagnostics: Diagnostic::error("Stopped", "Terraform asked the provider to stop during a refresh")
                    .into(),
            };
        }
    };
    match outcome {
        Ok(observed) if observed.is_absent() => ReadResponse { new_state: Value::Null, ..Default::default() },
        Ok(observed) => {
            let default_tags = provider.settings().map(|s| s.default_tags.known_or_empty()).unwrap_or_default();
            let mut new_state = state::from_read(&request.current_state, &observed, &default_tags);
            let mut diagnostics = Diagnostics::new();
            match out_of_band_changes(clients, &request.current_state, ownership, &observed).await {
                Ok(changes) => state::set_out_of_band_changes(&mut new_state, changes),
                Err(error) => diagnostics.push(Diagnostic::error("Reading graceful_shutdown_asg failed", error)),
            }
            ReadResponse { new_state, private: request.private, diagnostics }
        }
        Err(error) => ReadResponse {
            new_state: request.current_state,
            private: request.private,
            diagnostics: Diagnostic::error("Reading graceful_shutdown_asg failed", error.to_string()).into(),
        },
    }
}

/// What a refresh found changed out of band in the settings no attribute carries: the recorded state says what
/// converge set, so each piece is compared with that.
async fn out_of_band_changes(
    clients: &graceful_provision::Clients,
    recorded: &Value,
    ownership: graceful_provision::Ownership,
    observed: &graceful_provision::ObservedResource,
) -> Result<Vec<String>, String> {
    let Some(desired) = Settings::from_value(recorded).and_then(|s| super::apply::desired_resource(&s, ownership))
    else {
        return Ok(Vec::new());
    };
    graceful_provision::drift(clients, &desired, observed).await.map_err(|error| error.to_string())
}
