//! The provider's schemas as the protocol layer needs them: looked up by resource type name, with the value type of
//! each block computed once (it guides every DynamicValue decode and encode).

use crate::diag::{Diagnostic, Diagnostics};
use crate::schema::{ProviderSchema, Schema};
use crate::value::Type;
use std::collections::BTreeMap;

pub(crate) struct Schemas {
    pub(crate) schema: ProviderSchema,
    pub(crate) provider_type: Type,
    resource_types: BTreeMap<String, Type>,
}

impl Schemas {
    pub(crate) fn new(schema: ProviderSchema) -> Self {
        let provider_type = schema.provider.block.value_type();
        let resource_types =
            schema.resources.iter().map(|(name, resource)| (name.clone(), resource.block.value_type())).collect();
        Schemas { schema, provider_type, resource_types }
    }

    /// The schema and value type of resource type `type_name`, or an error diagnostic naming the known types.
    pub(crate) fn resource(&self, type_name: &str) -> Result<(&Schema, &Type), Diagnostics> {
        match (self.schema.resources.get(type_name), self.resource_types.get(type_name)) {
            (Some(schema), Some(ty)) => Ok((schema, ty)),
            _ => Err(unknown_type("resource", type_name, self.schema.resources.keys())),
        }
    }
}

/// The diagnostic for a type name this provider does not have (data sources: it has none).
pub(crate) fn unknown_type<'a>(kind: &str, type_name: &str, known: impl Iterator<Item = &'a String>) -> Diagnostics {
    let known: Vec<&str> = known.map(String::as_str).collect();
    let detail = if known.is_empty() {
        format!("This provider has no {kind} types.")
    } else {
        format!("This provider's {kind} types are: {}.", known.join(", "))
    };
    Diagnostic::error(format!("Unsupported {kind} type {type_name:?}"), detail).into()
}
