//! The contract between the protocol layer and the provider's own logic. Nothing here knows about gRPC or msgpack.

use crate::diag::{AttributePath, Diagnostics};
use crate::schema::ProviderSchema;
use crate::value::Value;
use std::future::Future;

pub struct PlanRequest {
    pub type_name: String,
    /// `Null` on create.
    pub prior_state: Value,
    /// `Null` on destroy (sent because the server announces `plan_destroy`).
    pub proposed_new_state: Value,
    pub config: Value,
    pub prior_private: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct PlanResponse {
    pub planned_state: Value,
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct ApplyRequest {
    pub type_name: String,
    /// `Null` on create.
    pub prior_state: Value,
    /// `Null` on destroy.
    pub planned_state: Value,
    pub config: Value,
    pub planned_private: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct ApplyResponse {
    /// What exists after the call, also when it failed midway (Terraform keeps it, tainted on create).
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

pub struct ReadRequest {
    pub type_name: String,
    pub current_state: Value,
    pub private: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct ReadResponse {
    /// `Null` when the remote object is gone: Terraform then drops it from state.
    pub new_state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug)]
pub struct ImportedResource {
    pub type_name: String,
    pub state: Value,
    pub private: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct ImportResponse {
    pub imported: Vec<ImportedResource>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, Default)]
pub struct UpgradeResponse {
    pub upgraded_state: Value,
    pub diagnostics: Diagnostics,
}

/// A Terraform provider as the protocol server drives it. Every method gets and returns domain values;
/// a user problem is a diagnostic, never a panic or a transport error.
pub trait Provider: Send + Sync + 'static {
    fn schema(&self) -> ProviderSchema;

    fn validate_provider_config(&self, config: &Value) -> Diagnostics;

    fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics;

    /// `raw_state_json` is the stored state as JSON, written under schema `version`.
    fn upgrade_resource_state(&self, type_name: &str, version: i64, raw_state_json: &[u8]) -> UpgradeResponse;

    fn configure(&self, terraform_version: &str, config: &Value) -> impl Future<Output = Diagnostics> + Send;

    fn read(&self, request: ReadRequest) -> impl Future<Output = ReadResponse> + Send;

    fn plan(&self, request: PlanRequest) -> impl Future<Output = PlanResponse> + Send;

    fn apply(&self, request: ApplyRequest) -> impl Future<Output = ApplyResponse> + Send;

    fn import(&self, type_name: &str, id: &str) -> impl Future<Output = ImportResponse> + Send;

    /// Terraform asks to stop (Ctrl-C): in-flight work should wind down and return what it has.
    fn stop(&self) -> impl Future<Output = ()> + Send;
}
