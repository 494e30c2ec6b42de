//! One converter per RPC request that carries values: look up the schema, decode each DynamicValue.

use super::dynamic_value;
use crate::diag::Diagnostics;
use crate::protocol::schemas::Schemas;
use crate::protocol::tfplugin6 as proto;
use crate::provider::{ApplyRequest, PlanRequest, ReadRequest};
use crate::value::{Type, Value};

pub(crate) fn provider_config(schemas: &Schemas, config: Option<&proto::DynamicValue>) -> Result<Value, Diagnostics> {
    dynamic_value(config, &schemas.provider_type, "provider configuration")
}

pub(crate) fn resource_config(
    schemas: &Schemas,
    request: &proto::validate_resource_config::Request,
) -> Result<Value, Diagnostics> {
    let (_, ty) = schemas.resource(&request.type_name)?;
    dynamic_value(request.config.as_ref(), ty, "resource configuration")
}

pub(crate) fn read_request(
    schemas: &Schemas,
    request: proto::read_resource::Request,
) -> Result<(ReadRequest, &Type), Diagnostics> {
    let (_, ty) = schemas.resource(&request.type_name)?;
    let current_state = dynamic_value(request.current_state.as_ref(), ty, "current state")?;
    Ok((ReadRequest { type_name: request.type_name, current_state, private: request.private }, ty))
}

pub(crate) fn plan_request(
    schemas: &Schemas,
    request: proto::plan_resource_change::Request,
) -> Result<(PlanRequest, &Type), Diagnostics> {
    let (_, ty) = schemas.resource(&request.type_name)?;
    let prior_state = dynamic_value(request.prior_state.as_ref(), ty, "prior state")?;
    let proposed_new_state = dynamic_value(request.proposed_new_state.as_ref(), ty, "proposed new state")?;
    let config = dynamic_value(request.config.as_ref(), ty, "resource configuration")?;
    let plan = PlanRequest {
        type_name: request.type_name,
        prior_state,
        proposed_new_state,
        config,
        prior_private: request.prior_private,
    };
    Ok((plan, ty))
}

pub(crate) fn apply_request(
    schemas: &Schemas,
    request: proto::apply_resource_change::Request,
) -> Result<(ApplyRequest, &Type), Diagnostics> {
    let (_, ty) = schemas.resource(&request.type_name)?;
    let prior_state = dynamic_value(request.prior_state.as_ref(), ty, "prior state")?;
    let planned_state = dynamic_value(request.planned_state.as_ref(), ty, "planned state")?;
    let config = dynamic_value(request.config.as_ref(), ty, "resource configuration")?;
    let apply = ApplyRequest {
        type_name: request.type_name,
        prior_state,
        planned_state,
        config,
        planned_private: request.planned_private,
    };
    Ok((apply, ty))
}

/// The stored state as JSON bytes; the legacy flatmap form predates protocol 6 and is refused.
pub(crate) fn raw_state_json(request: &proto::upgrade_resource_state::Request) -> Result<&[u8], Diagnostics> {
    match &request.raw_state {
        Some(raw) if !raw.json.is_empty() => Ok(&raw.json),
        Some(raw) if !raw.flatmap.is_empty() => Err(crate::diag::Diagnostic::error(
            "Unsupported state format",
            "The stored state is in the legacy flatmap format, which this provider cannot read.",
        )
        .into()),
        _ => Ok(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{AttributePath, Diagnostic};
    use crate::protocol::dynamic_value as msgpack;
    use crate::schema::{Attribute, Block, ProviderSchema, Schema};
    use std::collections::BTreeMap;

    fn schemas() -> Schemas {
        let block =
            Block { attributes: vec![Attribute::required("name", Type::String, "The name.")], ..Block::default() };
        let resource = Schema { version: 0, block };
        Schemas::new(ProviderSchema {
            provider: Schema { version: 0, block: Block::default() },
            resources: BTreeMap::from([("thing".to_string(), resource)]),
        })
    }

    fn name_value(name: Value) -> Option<proto::DynamicValue> {
        let ty = Type::Object(BTreeMap::from([("name".to_string(), Type::String)]));
        let msgpack = msgpack::encode(&Value::object([("name", name)]), &ty).unwrap();
        Some(proto::DynamicValue { msgpack, json: vec![] })
    }

    #[test]
    fn plan_request_table() {
        let schemas = schemas();
        // Nothing set: create of a null config decodes as nulls.
        let (plan, _) = plan_request(
            &schemas,
            proto::plan_resource_change::Request { type_name: "thing".into(), ..Default::default() },
        )
        .unwrap();
        assert_eq!((plan.prior_state, plan.proposed_new_state, plan.config), (Value::Null, Value::Null, Value::Null));

        // Every field.
        let (plan, ty) = plan_request(
            &schemas,
            proto::plan_resource_change::Request {
                type_name: "thing".into(),
                prior_state: name_value(Value::string("old")),
                proposed_new_state: name_value(Value::Unknown),
                config: Some(proto::DynamicValue { msgpack: vec![], json: br#"{"name":"new"}"#.to_vec() }),
                prior_private: b"p".to_vec(),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(ty, &Type::Object(BTreeMap::from([("name".to_string(), Type::String)])));
        assert_eq!(plan.type_name, "thing");
        assert_eq!(plan.prior_state.get("name"), &Value::string("old"));
        assert_eq!(plan.proposed_new_state.get("name"), &Value::Unknown);
        assert_eq!(plan.config.get("name"), &Value::string("new"));
        assert_eq!(plan.prior_private, b"p");
    }

    #[test]
    fn unknown_type_and_bad_values_become_diagnostics() {
        let schemas = schemas();
        let Err(unknown) = plan_request(
            &schemas,
            proto::plan_resource_change::Request { type_name: "nope".into(), ..Default::default() },
        ) else {
            panic!("an unknown type name must not convert")
        };
        assert_eq!(
            unknown.0,
            vec![Diagnostic::error("Unsupported resource type \"nope\"", "This provider's resource types are: thing.")]
        );

        let bad = Some(proto::DynamicValue { msgpack: vec![0x81, 0xa4, b'n', b'a', b'm', b'e', 0x05], json: vec![] });
        let Err(diagnostics) = read_request(
            &schemas,
            proto::read_resource::Request { type_name: "thing".into(), current_state: bad, ..Default::default() },
        ) else {
            panic!("a number where a string belongs must not convert")
        };
        assert_eq!(
            diagnostics.0,
            vec![
                Diagnostic::error(
                    "Invalid current state received from Terraform",
                    "name: expected a string, got an integer"
                )
                .at(AttributePath::root("name"))
            ]
        );
    }

    #[test]
    fn raw_state_table() {
        let mut request = proto::upgrade_resource_state::Request::default();
        assert_eq!(raw_state_json(&request).unwrap(), b"null");
        request.raw_state = Some(proto::RawState { json: b"{}".to_vec(), flatmap: Default::default() });
        assert_eq!(raw_state_json(&request).unwrap(), b"{}");
        request.raw_state =
            Some(proto::RawState { json: vec![], flatmap: [("a".to_string(), "b".to_string())].into() });
        assert_eq!(raw_state_json(&request).unwrap_err().0[0].summary, "Unsupported state format");
    }
}
