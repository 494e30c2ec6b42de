//! Converters from generated request messages to the domain requests the [`crate::Provider`] receives. A request
//! that cannot be converted (unknown type name, value not matching the schema) becomes error diagnostics.

mod requests;

pub(crate) use requests::*;

use super::{dynamic_value, json_value, tfplugin6 as proto};
use crate::diag::Diagnostics;
use crate::value::{Type, Value};

/// Decodes a DynamicValue of type `ty`; `what` names the value in the error ("config", "prior state", ...).
pub(crate) fn dynamic_value(value: Option<&proto::DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostics> {
    let decoded = match value {
        None => return Ok(Value::Null),
        Some(value) if !value.msgpack.is_empty() => dynamic_value::decode(&value.msgpack, ty),
        Some(value) if !value.json.is_empty() => json_value::decode(&value.json, ty),
        Some(_) => return Ok(Value::Null),
    };
    decoded.map_err(|error| error.to_diagnostic(&format!("Invalid {what} received from Terraform")).into())
}
