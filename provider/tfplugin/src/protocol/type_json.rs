//! Terraform (cty) types as their JSON encoding: `"string"`, `["set","string"]`, `["object",{"a":"number"}]`,
//! `"dynamic"`. Used in schema attributes and in the type half of a dynamically typed value.

use crate::value::{Type, Value};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// The cty type JSON of `ty`.
pub(crate) fn to_json(ty: &Type) -> Json {
    match ty {
        Type::Bool => json!("bool"),
        Type::Number => json!("number"),
        Type::String => json!("string"),
        Type::Dynamic => json!("dynamic"),
        Type::List(element) => json!(["list", to_json(element)]),
        Type::Set(element) => json!(["set", to_json(element)]),
        Type::Map(element) => json!(["map", to_json(element)]),
        Type::Object(attributes) => {
            let attributes: serde_json::Map<String, Json> =
                attributes.iter().map(|(name, ty)| (name.clone(), to_json(ty))).collect();
            json!(["object", attributes])
        }
    }
}

/// The cty type JSON of `ty`, as the bytes the protocol carries.
pub(crate) fn to_bytes(ty: &Type) -> Vec<u8> {
    to_json(ty).to_string().into_bytes()
}

/// Parses cty type JSON. Tuple types have no counterpart in [`Type`] and are refused.
pub(crate) fn from_json(json: &Json) -> Result<Type, String> {
    match json {
        Json::String(name) => match name.as_str() {
            "bool" => Ok(Type::Bool),
            "number" => Ok(Type::Number),
            "string" => Ok(Type::String),
            "dynamic" => Ok(Type::Dynamic),
            other => Err(format!("unknown primitive type {other:?}")),
        },
        Json::Array(parts) if parts.len() == 2 => {
            let kind = parts[0].as_str().ok_or_else(|| format!("type kind must be a string, got {}", parts[0]))?;
            match kind {
                "list" => Ok(Type::List(Box::new(from_json(&parts[1])?))),
                "set" => Ok(Type::Set(Box::new(from_json(&parts[1])?))),
                "map" => Ok(Type::Map(Box::new(from_json(&parts[1])?))),
                "object" => {
                    let attributes = parts[1]
                        .as_object()
                        .ok_or_else(|| format!("object attribute types must be a JSON object, got {}", parts[1]))?;
                    let attributes = attributes
                        .iter()
                        .map(|(name, ty)| Ok((name.clone(), from_json(ty)?)))
                        .collect::<Result<BTreeMap<_, _>, String>>()?;
                    Ok(Type::Object(attributes))
                }
                "tuple" => Err("tuple types are not supported".to_string()),
                other => Err(format!("unknown type kind {other:?}")),
            }
        }
        // Objects with optional attributes carry a third element; they only appear in type constraints.
        Json::Array(parts) if parts.len() == 3 && parts[0] == "object" => from_json(&json!(["object", parts[1]])),
        other => Err(format!("not a type: {other}")),
    }
}

/// Parses cty type JSON from bytes.
pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Type, String> {
    let json: Json = serde_json::from_slice(bytes).map_err(|e| format!("type JSON is not valid JSON: {e}"))?;
    from_json(&json)
}

/// The concrete type a value of a `dynamic` attribute has, as far as the value shows it. Element types of
/// collections come from their first element that is neither null nor unknown; empty collections get `dynamic`.
pub(crate) fn implied_type(value: &Value) -> Type {
    fn first_known<'a>(mut items: impl Iterator<Item = &'a Value>) -> Type {
        items.find(|v| !v.is_null() && !v.is_unknown()).map(implied_type).unwrap_or(Type::Dynamic)
    }
    match value {
        Value::Null | Value::Unknown => Type::Dynamic,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(items) => Type::List(Box::new(first_known(items.iter()))),
        Value::Set(items) => Type::Set(Box::new(first_known(items.iter()))),
        Value::Map(entries) => Type::Map(Box::new(first_known(entries.values()))),
        Value::Object(attributes) => {
            Type::Object(attributes.iter().map(|(name, value)| (name.clone(), implied_type(value))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(pairs: &[(&str, Type)]) -> Type {
        Type::Object(pairs.iter().map(|(n, t)| (n.to_string(), t.clone())).collect())
    }

    #[test]
    fn encodes_every_type_as_cty_json() {
        let cases: Vec<(Type, &str)> = vec![
            (Type::Bool, r#""bool""#),
            (Type::Number, r#""number""#),
            (Type::String, r#""string""#),
            (Type::Dynamic, r#""dynamic""#),
            (Type::List(Box::new(Type::String)), r#"["list","string"]"#),
            (Type::Set(Box::new(Type::String)), r#"["set","string"]"#),
            (Type::Map(Box::new(Type::Number)), r#"["map","number"]"#),
            (object(&[("b", Type::Bool), ("a", Type::String)]), r#"["object",{"a":"string","b":"bool"}]"#),
            (
                Type::List(Box::new(object(&[("n", Type::Set(Box::new(Type::Number)))]))),
                r#"["list",["object",{"n":["set","number"]}]]"#,
            ),
        ];
        for (ty, expected) in cases {
            assert_eq!(String::from_utf8(to_bytes(&ty)).unwrap(), expected, "{ty:?}");
            assert_eq!(from_bytes(expected.as_bytes()).unwrap(), ty, "{expected}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_represent() {
        for (input, message) in [
            (r#"["tuple",["string"]]"#, "tuple types are not supported"),
            (r#""float""#, "unknown primitive type \"float\""),
            (r#"["object","a"]"#, "object attribute types must be a JSON object"),
            (r#"{"a":1}"#, "not a type"),
            ("nope", "type JSON is not valid JSON"),
        ] {
            let error = from_bytes(input.as_bytes()).unwrap_err();
            assert!(error.contains(message), "{input}: {error}");
        }
    }

    #[test]
    fn implies_types_from_values() {
        let value = Value::object([
            ("names", Value::Set(vec![Value::Unknown, Value::string("a")])),
            ("empty", Value::List(vec![])),
            ("n", Value::Number(1.0)),
        ]);
        assert_eq!(
            implied_type(&value),
            object(&[
                ("names", Type::Set(Box::new(Type::String))),
                ("empty", Type::List(Box::new(Type::Dynamic))),
                ("n", Type::Number),
            ])
        );
    }
}
