//! A tiny provider served by the plugin child: one resource whose apply waits until StopProvider reaches
//! `Provider::stop`, so the tests can observe the stop from outside the process.

use std::collections::BTreeMap;
use std::time::Duration;
use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, Block, Diagnostic, Diagnostics, ImportResponse, PlanRequest, PlanResponse,
    Provider, ProviderSchema, ReadRequest, ReadResponse, Schema, Type, UpgradeResponse, Value,
};
use tokio_util::sync::CancellationToken;

pub const RESOURCE_TYPE: &str = "fixture_thing";
pub const STOPPED_SUMMARY: &str = "Apply interrupted by StopProvider";

#[derive(Default)]
pub struct Fixture {
    stopped: CancellationToken,
}

impl Provider for Fixture {
    fn schema(&self) -> ProviderSchema {
        let provider =
            Block { attributes: vec![Attribute::optional("region", Type::String, "Region.")], ..Block::default() };
        let resource = Block {
            attributes: vec![
                Attribute::required("name", Type::String, "Name."),
                Attribute::computed("id", Type::String, "Id."),
            ],
            ..Block::default()
        };
        ProviderSchema {
            provider: Schema { version: 0, block: provider },
            resources: BTreeMap::from([(RESOURCE_TYPE.to_string(), Schema { version: 0, block: resource })]),
        }
    }

    fn validate_provider_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    fn validate_resource_config(&self, _type_name: &str, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    fn upgrade_resource_state(&self, _type_name: &str, _version: i64, raw_state_json: &[u8]) -> UpgradeResponse {
        let ty = self.schema().resources[RESOURCE_TYPE].block.value_type();
        match tfplugin::value_from_json(raw_state_json, &ty) {
            Ok(upgraded_state) => UpgradeResponse { upgraded_state, diagnostics: Diagnostics::new() },
            Err(error) => {
                UpgradeResponse { diagnostics: error.to_diagnostic("Invalid state").into(), ..Default::default() }
            }
        }
    }

    async fn configure(&self, _terraform_version: &str, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    async fn read(&self, request: ReadRequest) -> ReadResponse {
        ReadResponse { new_state: request.current_state, private: request.private, diagnostics: Diagnostics::new() }
    }

    async fn plan(&self, request: PlanRequest) -> PlanResponse {
        let planned_state = match request.proposed_new_state {
            Value::Object(mut attributes) => {
                attributes.insert("id".to_string(), Value::Unknown);
                Value::Object(attributes)
            }
            other => other,
        };
        PlanResponse { planned_state, ..Default::default() }
    }

    async fn apply(&self, request: ApplyRequest) -> ApplyResponse {
        // Stands in for long-running AWS work that must wind down when Terraform is interrupted.
        let stopped = tokio::time::timeout(Duration::from_secs(30), self.stopped.cancelled()).await.is_ok();
        let diagnostic = if stopped {
            Diagnostic::error(STOPPED_SUMMARY, "The provider was asked to stop.")
        } else {
            Diagnostic::error("Apply was never stopped", "StopProvider did not arrive within 30 s.")
        };
        ApplyResponse { new_state: request.prior_state, private: vec![], diagnostics: diagnostic.into() }
    }

    async fn import(&self, _type_name: &str, _id: &str) -> ImportResponse {
        ImportResponse::default()
    }

    async fn stop(&self) {
        self.stopped.cancel();
    }
}
