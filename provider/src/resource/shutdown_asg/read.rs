//! Refresh: read every piece back from AWS. All pieces gone → the resource leaves the state.

use super::state;
use crate::provider::GracefulProvider;
use tfplugin::{Diagnostic, ReadRequest, ReadResponse, Value};

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
    match graceful_provision::read_with_groups(clients, &name, &groups).await {
        Ok(observed) if observed.is_absent() => ReadResponse { new_state: Value::Null, ..Default::default() },
        Ok(observed) => ReadResponse {
            new_state: state::from_read(&request.current_state, &observed),
            private: request.private,
            ..Default::default()
        },
        Err(error) => ReadResponse {
            new_state: request.current_state,
            private: request.private,
            diagnostics: Diagnostic::error("Reading graceful_shutdown_asg failed", error.to_string()).into(),
        },
    }
}
