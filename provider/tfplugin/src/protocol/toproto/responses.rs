//! Provider answers in their wire form. A value the provider returns that does not fit its schema is a provider
//! bug; it becomes an error diagnostic rather than a malformed message.

use super::diagnostics::{attribute_path, diagnostics};
use crate::diag::Diagnostics;
use crate::protocol::dynamic_value;
use crate::protocol::schemas::Schemas;
use crate::protocol::tfplugin6 as proto;
use crate::provider::{ApplyResponse, ImportResponse, PlanResponse, ReadResponse, UpgradeResponse};
use crate::value::{Type, Value};

/// Encodes `value` as msgpack; on failure records an error diagnostic naming `what` and the attribute.
fn dynamic_value(value: &Value, ty: &Type, what: &str, problems: &mut Diagnostics) -> Option<proto::DynamicValue> {
    match dynamic_value::encode(value, ty) {
        Ok(msgpack) => Some(proto::DynamicValue { msgpack, json: vec![] }),
        Err(error) => {
            problems.push(error.to_diagnostic(&format!("Provider produced an invalid {what}")));
            None
        }
    }
}

pub(crate) fn upgrade_response(response: UpgradeResponse, ty: &Type) -> proto::upgrade_resource_state::Response {
    let mut all = response.diagnostics;
    let upgraded_state = dynamic_value(&response.upgraded_state, ty, "upgraded state", &mut all);
    proto::upgrade_resource_state::Response { upgraded_state, diagnostics: diagnostics(&all) }
}

pub(crate) fn read_response(response: ReadResponse, ty: &Type) -> proto::read_resource::Response {
    let mut all = response.diagnostics;
    let new_state = dynamic_value(&response.new_state, ty, "new state", &mut all);
    proto::read_resource::Response {
        new_state,
        diagnostics: diagnostics(&all),
        private: response.private,
        deferred: None,
    }
}

pub(crate) fn plan_response(response: PlanResponse, ty: &Type) -> proto::plan_resource_change::Response {
    let mut all = response.diagnostics;
    let planned_state = dynamic_value(&response.planned_state, ty, "planned state", &mut all);
    proto::plan_resource_change::Response {
        planned_state,
        requires_replace: response.requires_replace.iter().map(attribute_path).collect(),
        planned_private: response.planned_private,
        diagnostics: diagnostics(&all),
        legacy_type_system: false,
        deferred: None,
    }
}

pub(crate) fn apply_response(response: ApplyResponse, ty: &Type) -> proto::apply_resource_change::Response {
    let mut all = response.diagnostics;
    let new_state = dynamic_value(&response.new_state, ty, "new state", &mut all);
    proto::apply_resource_change::Response {
        new_state,
        private: response.private,
        diagnostics: diagnostics(&all),
        legacy_type_system: false,
    }
}

pub(crate) fn import_response(response: ImportResponse, schemas: &Schemas) -> proto::import_resource_state::Response {
    let mut all = response.diagnostics;
    let mut imported_resources = Vec::new();
    for imported in response.imported {
        let ty = match schemas.resource(&imported.type_name) {
            Ok((_, ty)) => ty,
            Err(problem) => {
                all.extend(problem);
                continue;
            }
        };
        let state = dynamic_value(&imported.state, ty, "imported state", &mut all);
        imported_resources.push(proto::import_resource_state::ImportedResource {
            type_name: imported.type_name,
            state,
            private: imported.private,
        });
    }
    proto::import_resource_state::Response { imported_resources, diagnostics: diagnostics(&all), deferred: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{AttributePath, Diagnostic};
    use std::collections::BTreeMap;

    fn ty() -> Type {
        Type::Object(BTreeMap::from([("name".to_string(), Type::String)]))
    }

    #[test]
    fn plan_response_table() {
        let empty = plan_response(PlanResponse::default(), &ty());
        assert_eq!(empty.planned_state.unwrap().msgpack, vec![0xc0], "a default plan is null (destroy)");
        assert!(empty.requires_replace.is_empty() && empty.diagnostics.is_empty() && !empty.legacy_type_system);

        let full = plan_response(
            PlanResponse {
                planned_state: Value::object([("name", Value::Unknown)]),
                requires_replace: vec![AttributePath::root("name")],
                planned_private: b"x".to_vec(),
                diagnostics: Diagnostic::warning("w", "").into(),
            },
            &ty(),
        );
        assert_eq!(full.planned_state.unwrap().msgpack, vec![0x81, 0xa4, b'n', b'a', b'm', b'e', 0xd4, 0, 0]);
        assert_eq!(full.requires_replace, vec![attribute_path(&AttributePath::root("name"))]);
        assert_eq!(full.planned_private, b"x");
        assert_eq!(full.diagnostics.len(), 1);
    }

    #[test]
    fn a_state_that_does_not_fit_the_schema_is_an_error_diagnostic() {
        let response = apply_response(
            ApplyResponse { new_state: Value::object([("name", Value::Bool(true))]), ..Default::default() },
            &ty(),
        );
        assert_eq!(response.new_state, None);
        assert_eq!(response.diagnostics[0].summary, "Provider produced an invalid new state");
        assert_eq!(response.diagnostics[0].detail, "name: expected a string, got a bool");
        assert_eq!(
            response.diagnostics[0].severity,
            proto::diagnostic::Severity::Error as i32,
            "Terraform must stop on a provider bug"
        );
    }
}
