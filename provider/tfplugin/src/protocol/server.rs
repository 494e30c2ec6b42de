//! The `tfplugin6.Provider` gRPC service. Every RPC is the same thin recipe: convert the request (`fromproto`),
//! call the [`crate::Provider`], convert the answer (`toproto`). User problems travel as diagnostics; a gRPC error
//! status is never used for them.

use super::schemas::{Schemas, unknown_type};
use super::tfplugin6::{self as proto, provider_server};
use super::{fromproto, toproto};
use crate::diag::{Diagnostic, Diagnostics};
use crate::provider::Provider;
use std::sync::Arc;
use tonic::{Request, Response, Status};

type Answer<T> = Result<Response<T>, Status>;

pub(crate) struct ProviderService<P> {
    provider: Arc<P>,
    schemas: Arc<Schemas>,
}

impl<P: Provider> ProviderService<P> {
    pub(crate) fn new(provider: Arc<P>) -> Self {
        let schemas = Arc::new(Schemas::new(provider.schema()));
        ProviderService { provider, schemas }
    }
}

fn not_supported(what: &str) -> Diagnostics {
    Diagnostic::error(format!("{what} is not supported"), format!("This provider does not implement {what}.")).into()
}

#[tonic::async_trait]
impl<P: Provider> provider_server::Provider for ProviderService<P> {
    async fn get_metadata(&self, _: Request<proto::get_metadata::Request>) -> Answer<proto::get_metadata::Response> {
        tracing::debug!("GetMetadata");
        let resources = self.schemas.schema.resources.keys();
        Ok(Response::new(proto::get_metadata::Response {
            server_capabilities: Some(toproto::server_capabilities()),
            resources: resources
                .map(|name| proto::get_metadata::ResourceMetadata { type_name: name.clone() })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<proto::get_provider_schema::Request>,
    ) -> Answer<proto::get_provider_schema::Response> {
        tracing::debug!("GetProviderSchema");
        Ok(Response::new(toproto::provider_schema(&self.schemas.schema)))
    }

    async fn validate_provider_config(
        &self,
        request: Request<proto::validate_provider_config::Request>,
    ) -> Answer<proto::validate_provider_config::Response> {
        tracing::debug!("ValidateProviderConfig");
        let diagnostics = match fromproto::provider_config(&self.schemas, request.get_ref().config.as_ref()) {
            Ok(config) => self.provider.validate_provider_config(&config),
            Err(problems) => problems,
        };
        Ok(Response::new(proto::validate_provider_config::Response { diagnostics: toproto::diagnostics(&diagnostics) }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<proto::validate_resource_config::Request>,
    ) -> Answer<proto::validate_resource_config::Response> {
        let request = request.into_inner();
        tracing::debug!(type_name = %request.type_name, "ValidateResourceConfig");
        let diagnostics = match fromproto::resource_config(&self.schemas, &request) {
            Ok(config) => self.provider.validate_resource_config(&request.type_name, &config),
            Err(problems) => problems,
        };
        Ok(Response::new(proto::validate_resource_config::Response { diagnostics: toproto::diagnostics(&diagnostics) }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<proto::validate_data_resource_config::Request>,
    ) -> Answer<proto::validate_data_resource_config::Response> {
        let type_name = &request.get_ref().type_name;
        tracing::debug!(%type_name, "ValidateDataResourceConfig");
        let diagnostics = unknown_type("data source", type_name, std::iter::empty());
        Ok(Response::new(proto::validate_data_resource_config::Response {
            diagnostics: toproto::diagnostics(&diagnostics),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<proto::upgrade_resource_state::Request>,
    ) -> Answer<proto::upgrade_resource_state::Response> {
        let request = request.into_inner();
        tracing::debug!(type_name = %request.type_name, version = request.version, "UpgradeResourceState");
        let converted = self.schemas.resource(&request.type_name).and_then(|(_, ty)| {
            let raw_state = fromproto::raw_state_json(&request)?;
            Ok((ty, raw_state))
        });
        let response = match converted {
            Ok((ty, raw_state)) => toproto::upgrade_response(
                self.provider.upgrade_resource_state(&request.type_name, request.version, raw_state),
                ty,
            ),
            Err(problems) => proto::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics: toproto::diagnostics(&problems),
            },
        };
        Ok(Response::new(response))
    }

    async fn configure_provider(
        &self,
        request: Request<proto::configure_provider::Request>,
    ) -> Answer<proto::configure_provider::Response> {
        let request = request.into_inner();
        tracing::debug!(terraform_version = %request.terraform_version, "ConfigureProvider");
        let diagnostics = match fromproto::provider_config(&self.schemas, request.config.as_ref()) {
            Ok(config) => self.provider.configure(&request.terraform_version, &config).await,
            Err(problems) => problems,
        };
        Ok(Response::new(proto::configure_provider::Response { diagnostics: toproto::diagnostics(&diagnostics) }))
    }

    async fn read_resource(
        &self,
        request: Request<proto::read_resource::Request>,
    ) -> Answer<proto::read_resource::Response> {
        let request = request.into_inner();
        tracing::debug!(type_name = %request.type_name, "ReadResource");
        let response = match fromproto::read_request(&self.schemas, request) {
            Ok((read, ty)) => toproto::read_response(self.provider.read(read).await, ty),
            Err(problems) => {
                proto::read_resource::Response { diagnostics: toproto::diagnostics(&problems), ..Default::default() }
            }
        };
        Ok(Response::new(response))
    }

    async fn plan_resource_change(
        &self,
        request: Request<proto::plan_resource_change::Request>,
    ) -> Answer<proto::plan_resource_change::Response> {
        let request = request.into_inner();
        tracing::debug!(type_name = %request.type_name, "PlanResourceChange");
        let response = match fromproto::plan_request(&self.schemas, request) {
            Ok((plan, ty)) => toproto::plan_response(self.provider.plan(plan).await, ty),
            Err(problems) => proto::plan_resource_change::Response {
                diagnostics: toproto::diagnostics(&problems),
                ..Default::default()
            },
        };
        Ok(Response::new(response))
    }

    async fn apply_resource_change(
        &self,
        request: Request<proto::apply_resource_change::Request>,
    ) -> Answer<proto::apply_resource_change::Response> {
        let request = request.into_inner();
        tracing::debug!(type_name = %request.type_name, "ApplyResourceChange");
        let response = match fromproto::apply_request(&self.schemas, request) {
            Ok((apply, ty)) => toproto::apply_response(self.provider.apply(apply).await, ty),
            Err(problems) => proto::apply_resource_change::Response {
                diagnostics: toproto::diagnostics(&problems),
                ..Default::default()
            },
        };
        Ok(Response::new(response))
    }

    async fn import_resource_state(
        &self,
        request: Request<proto::import_resource_state::Request>,
    ) -> Answer<proto::import_resource_state::Response> {
        let request = request.into_inner();
        tracing::debug!(type_name = %request.type_name, id = %request.id, "ImportResourceState");
        let response = match self.schemas.resource(&request.type_name) {
            Ok(_) => {
                toproto::import_response(self.provider.import(&request.type_name, &request.id).await, &self.schemas)
            }
            Err(problems) => proto::import_resource_state::Response {
                diagnostics: toproto::diagnostics(&problems),
                ..Default::default()
            },
        };
        Ok(Response::new(response))
    }

    async fn move_resource_state(
        &self,
        _: Request<proto::move_resource_state::Request>,
    ) -> Answer<proto::move_resource_state::Response> {
        tracing::debug!("MoveResourceState");
        let diagnostics = not_supported("Moving resource state between resource types");
        Ok(Response::new(proto::move_resource_state::Response {
            diagnostics: toproto::diagnostics(&diagnostics),
            ..Default::default()
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<proto::read_data_source::Request>,
    ) -> Answer<proto::read_data_source::Response> {
        let type_name = &request.get_ref().type_name;
        tracing::debug!(%type_name, "ReadDataSource");
        let diagnostics = unknown_type("data source", type_name, std::iter::empty());
        Ok(Response::new(proto::read_data_source::Response {
            diagnostics: toproto::diagnostics(&diagnostics),
            ..Default::default()
        }))
    }

    async fn get_functions(&self, _: Request<proto::get_functions::Request>) -> Answer<proto::get_functions::Response> {
        tracing::debug!("GetFunctions");
        Ok(Response::new(proto::get_functions::Response::default()))
    }

    async fn call_function(
        &self,
        request: Request<proto::call_function::Request>,
    ) -> Answer<proto::call_function::Response> {
        let name = &request.get_ref().name;
        tracing::debug!(%name, "CallFunction");
        let error = proto::FunctionError {
            text: format!("This provider has no functions, so it cannot call {name:?}."),
            function_argument: None,
        };
        Ok(Response::new(proto::call_function::Response { result: None, error: Some(error) }))
    }

    async fn stop_provider(&self, _: Request<proto::stop_provider::Request>) -> Answer<proto::stop_provider::Response> {
        tracing::info!("StopProvider: asking in-flight work to stop");
        self.provider.stop().await;
        Ok(Response::new(proto::stop_provider::Response { error: String::new() }))
    }
}
