//! Import by name (`terraform import graceful_shutdown_asg.x NAME` and `import {}` blocks): every attribute from AWS.
//! The handler's configuration (the function's `GRACEFUL_CONFIG`) holds the drain settings; roles, topic and log
//! group hold the rest.

use super::model::Settings;
use super::state;
use crate::provider::{GracefulProvider, handler_sha256};
use drain_contract::HandlerConfig;
use drain_contract::budget;
use drain_contract::document::DrainPreset;
use drain_contract::names::{RoleNames, RoleScope};
use drain_contract::nomad_settings::NomadConnection;
use graceful_provision::{Clients, ObservedResource, Ownership, ProvisionError};
use std::collections::{BTreeMap, BTreeSet};
use tfplugin::{Diagnostic, ImportResponse, ImportedResource};

pub async fn import(provider: &GracefulProvider, id: &str) -> ImportResponse {
    let clients = match provider.clients().await {
        Ok(clients) => clients,
        Err(diagnostics) => return ImportResponse { diagnostics, ..Default::default() },
    };
    // An import takes ownership explicitly: everything found by name, and the owner id the function carries.
    let read = tokio::select! {
        read = read_any_scope(clients, id) => read,
        _ = provider.stop.cancelled() => {
            return ImportResponse {
                diagnostics: Diagnostic::error("Stopped", "Terraform asked the provider to stop during an import").into(),
                ..Default::default()
            };
        }
    };
    let observed = match read {
        Ok(observed) => observed,
        Err(error) => {
            return ImportResponse {
                diagnostics: Diagnostic::error("Importing graceful_shutdown_asg failed", error.to_string()).into(),
                ..Default::default()
            };
        }
    };
    let default_tags = provider.settings().map(|s| s.default_tags.known_or_empty()).unwrap_or_default();
    match settings_from_aws(id, &observed, &default_tags) {
        Ok(settings) => {
            let state = state::from_import(&settings, &observed, &default_tags, handler_sha256(&settings.architecture));
            ImportResponse {
                imported: vec![ImportedResource {
                    type_name: super::schema::TYPE_NAME.to_string(),
                    state,
                    private: Vec::new(),
                }],
                ..Default::default()
            }
        }
        Err(detail) => ImportResponse {
            diagnostics: Diagnostic::error("Cannot import graceful_shutdown_asg", detail).into(),
            ..Default::default()
        },
    }
}

/// Reads resource `name` with whichever role names its function runs with: per region, or the account-wide names of
/// a resource created before regional role names (its function's role tells).
async fn read_any_scope(clients: &Clients, name: &str) -> Result<ObservedResource, ProvisionError> {
    let regional = graceful_provision::read(clients, name, RoleScope::Region, &Ownership::Any).await?;
    let function_role = regional.function.as_ref().and_then(|f| f.role_arn.rsplit('/').next());
    match RoleNames::recorded_scope(name, function_role) {
        RoleScope::Account => graceful_provision::read(clients, name, RoleScope::Account, &Ownership::Any).await,
        RoleScope::Region => Ok(regional),
    }
}

fn settings_from_aws(
    name: &str,
    observed: &ObservedResource,
    default_tags: &BTreeMap<String, String>,
) -> Result<Settings, String> {
    let names = drain_contract::names::DerivedNames::new(name);
    let function = observed.function.as_ref().ok_or_else(|| {
        format!(
            "no graceful_shutdown_asg named {name:?} found: its Lambda function {:?} does not exist (the import ID is \
the resource's name)",
            names.function
        )
    })?;
    let config: HandlerConfig =
        function.config.clone().and_then(|c| serde_json::from_value(c).ok()).ok_or_else(|| {
            format!(
                "the Lambda function {:?} has no readable GRACEFUL_CONFIG: was it created by this provider?",
                names.function
            )
        })?;
    let heartbeat = observed
        .hooks
        .values()
        .find_map(|h| h.heartbeat_timeout_seconds)
        .map(|s| s as u64)
        .unwrap_or(config.heartbeat_timeout_seconds);
    let drain_budget = budget::derive(config.drain_timeout_seconds, Some(heartbeat)).map_err(|e| e.to_string())?;
    let tags_all =
        observed.topic.as_ref().map(|t| graceful_provision::ownership::user_tags(&t.tags)).unwrap_or_default();
    Ok(Settings {
        name: name.to_string(),
        autoscaling_group_names: if observed.hooks.is_empty() {
            config.autoscaling_group_names.iter().cloned().collect()
        } else {
            observed.hooked_groups()
        },
        on_failure: config.on_failure,
        architecture: function.architecture.map(|a| a.as_aws_str().to_string()).unwrap_or_else(|| "x86_64".into()),
        budget: drain_budget,
        preset: match &config.drain_command {
            // The connection settings are document parameters, which the configuration carries for SendCommand.
            None => DrainPreset::Nomad(
                NomadConnection::from_document_parameters(|name| {
                    config.document_parameters.get(name).and_then(|values| values.first().cloned())
                })
                .unwrap_or_default(),
            ),
            Some(script) => DrainPreset::Command(script.clone()),
        },
        log_retention_days: observed.log_group.as_ref().and_then(|g| g.retention_days).unwrap_or(0),
        iam_path: observed.handler_role.as_ref().map(|r| r.path.clone()).unwrap_or_else(|| "/".into()),
        permissions_boundary: observed.handler_role.as_ref().and_then(|r| r.permissions_boundary.clone()),
        kms_key_id: observed.topic.as_ref().and_then(|t| t.kms_key_id.clone()),
        // The objects carry the defaults too: what equals a default is left to the provider's default_tags.
        tags: super::tags::own_among(&tags_all, default_tags, &BTreeSet::new()),
        tags_all,
        // Not an AWS fact: an import takes the default, as a new resource would.
        wait_for_drains: super::schema::DEFAULT_WAIT_FOR_DRAINS,
        spot: config.spot,
        role_scope: RoleNames::recorded_scope(name, Some(observed.role_names.handler.as_str())),
    })
}
