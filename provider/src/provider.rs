//! The provider: what Terraform calls, dispatched to the one resource. No protocol types here (see `tfplugin`).

use crate::config::{self, ProviderSettings};
use crate::resource::shutdown_asg::{plan, schema, validate};
use std::collections::BTreeMap;
use std::sync::RwLock;
use tfplugin::{
    ApplyRequest, ApplyResponse, Diagnostic, Diagnostics, ImportResponse, PlanRequest, PlanResponse, ProviderSchema,
    ReadRequest, ReadResponse, UpgradeResponse, Value,
};
use tokio_util::sync::CancellationToken;

/// The source address users put in `required_providers`.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/graceful-shutdown/graceful";

#[derive(Default)]
pub struct GracefulProvider {
    settings: RwLock<Option<ProviderSettings>>,
    /// Cancelled when Terraform sends StopProvider: in-flight applies stop between steps and return what exists.
    pub(crate) stop: CancellationToken,
    /// Built on first use: planning a create never contacts AWS.
    clients: tokio::sync::OnceCell<graceful_provision::Clients>,
}

impl GracefulProvider {
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn settings(&self) -> Option<ProviderSettings> {
        self.settings.read().expect("settings lock").clone()
    }

    /// The AWS clients, built once from the configured settings.
    pub(crate) async fn clients(&self) -> Result<&graceful_provision::Clients, Diagnostics> {
        let settings = self.settings().ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Provider not configured",
                "Terraform called the resource before configuring the provider; this is a bug in the provider",
            ))
        })?;
        self.clients.get_or_try_init(|| crate::aws::clients(&settings)).await.map_err(|problem| {
            Diagnostics::from(Diagnostic::error("AWS is not configured", format!("graceful provider: {problem}")))
        })
    }
}

fn unknown_type(type_name: &str) -> Diagnostics {
    Diagnostic::error(
        "Unknown resource type",
        format!("this provider serves only {}, not {type_name:?}", schema::TYPE_NAME),
    )
    .into()
}

pub(crate) fn handler_sha256(architecture: &str) -> Option<String> {
    crate::bundle::for_architecture(architecture).map(|bundle| bundle.code_sha256.to_string())
}

impl tfplugin::Provider for GracefulProvider {
    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            provider: config::schema(),
            resources: BTreeMap::from([(schema::TYPE_NAME.to_string(), schema::schema())]),
        }
    }

    fn validate_provider_config(&self, config: &Value) -> Diagnostics {
        config::validate(config)
    }

    fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        if type_name != schema::TYPE_NAME {
            return unknown_type(type_name);
        }
        validate::validate(config)
    }

    fn upgrade_resource_state(&self, type_name: &str, version: i64, raw_state_json: &[u8]) -> UpgradeResponse {
        if type_name != schema::TYPE_NAME {
            return UpgradeResponse { diagnostics: unknown_type(type_name), ..Default::default() };
        }
        crate::resource::shutdown_asg::upgrade::upgrade(version, raw_state_json)
    }

    async fn configure(&self, _terraform_version: &str, config: &Value) -> Diagnostics {
        let diags = config::validate(config);
        if !diags.has_errors() {
            *self.settings.write().expect("settings lock") = Some(config::settings(config));
        }
        diags
    }

    async fn read(&self, request: ReadRequest) -> ReadResponse {
        if request.type_name != schema::TYPE_NAME {
            return ReadResponse { diagnostics: unknown_type(&request.type_name), ..Default::default() };
        }
        crate::resource::shutdown_asg::read::read(self, request).await
    }

    async fn plan(&self, request: PlanRequest) -> PlanResponse {
        if request.type_name != schema::TYPE_NAME {
            return PlanResponse { diagnostics: unknown_type(&request.type_name), ..Default::default() };
        }
        let settings = self.settings();
        let default_tags = settings.as_ref().map(|s| s.default_tags.clone()).unwrap_or_default();
        let region = settings.as_ref().and_then(|s| s.region.as_deref());
        let mut response = plan::plan(&request.prior_state, &request.config, &default_tags, region, &handler_sha256);
        response.planned_private = request.prior_private;
        response
    }

    async fn apply(&self, request: ApplyRequest) -> ApplyResponse {
        if request.type_name != schema::TYPE_NAME {
            return ApplyResponse { diagnostics: unknown_type(&request.type_name), ..Default::default() };
        }
        crate::resource::shutdown_asg::apply::apply(self, request).await
    }

    async fn import(&self, type_name: &str, id: &str) -> ImportResponse {
        if type_name != schema::TYPE_NAME {
            return ImportResponse { diagnostics: unknown_type(type_name), ..Default::default() };
        }
        crate::resource::shutdown_asg::import::import(self, id).await
    }

    async fn stop(&self) {
        self.stop.cancel();
    }
}
