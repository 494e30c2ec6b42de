//! The JSON encoding of Terraform values (stored state in `UpgradeResourceState`, `DynamicValue.json`), guided by
//! the value's [`Type`]. JSON has no unknown values; a `dynamic` value is `{"value": ..., "type": ...}`.

use super::type_json;
use crate::diag::AttributePath;
use crate::value::{Type, Value};
use crate::value_error::ValueError;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Decodes JSON bytes as a value of type `ty`.
pub(crate) fn decode(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    let root = AttributePath::default();
    let json: Json = serde_json::from_slice(bytes).map_err(|e| ValueError::new(&root, format!("invalid JSON: {e}")))?;
    from_json(&json, ty, &root)
}

fn describe(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn child(path: &AttributePath, name: &str) -> AttributePath {
    if path.steps.is_empty() { AttributePath::root(name) } else { path.clone().attr(name) }
}

fn from_json(json: &Json, ty: &Type, path: &AttributePath) -> Result<Value, ValueError> {
    let mismatch = |expected: &str| ValueError::new(path, format!("expected {expected}, got {}", describe(json)));
    match (json, ty) {
        (Json::Null, _) => Ok(Value::Null),
        (Json::Object(pair), Type::Dynamic) => {
            let (Some(type_json), Some(value)) = (pair.get("type"), pair.get("value")) else {
                return Err(ValueError::new(path, "expected an object with \"type\" and \"value\""));
            };
            let ty = type_json::from_json(type_json).map_err(|e| ValueError::new(path, e))?;
            from_json(value, &ty, path)
        }
        (_, Type::Dynamic) => Err(mismatch("an object with \"type\" and \"value\"")),
        (Json::Bool(b), Type::Bool) => Ok(Value::Bool(*b)),
        (_, Type::Bool) => Err(mismatch("a bool")),
        (Json::Number(n), Type::Number) => {
            n.as_f64().map(Value::Number).ok_or_else(|| ValueError::new(path, format!("number {n} out of range")))
        }
        (Json::String(s), Type::Number) => s
            .parse::<f64>()
            .map(Value::Number)
            .map_err(|_| ValueError::new(path, format!("expected a number, got the string {s:?}"))),
        (_, Type::Number) => Err(mismatch("a number")),
        (Json::String(s), Type::String) => Ok(Value::string(s.as_str())),
        (_, Type::String) => Err(mismatch("a string")),
        (Json::Array(items), Type::List(element)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| from_json(item, element, &path.clone().index(i as i64)))
            .collect::<Result<_, _>>()
            .map(Value::List),
        (_, Type::List(_)) => Err(mismatch("an array (list)")),
        (Json::Array(items), Type::Set(element)) => {
            items.iter().map(|item| from_json(item, element, path)).collect::<Result<_, _>>().map(Value::Set)
        }
        (_, Type::Set(_)) => Err(mismatch("an array (set)")),
        (Json::Object(entries), Type::Map(element)) => entries
            .iter()
            .map(|(key, item)| Ok((key.clone(), from_json(item, element, &path.clone().key(key))?)))
            .collect::<Result<BTreeMap<_, _>, _>>()
            .map(Value::Map),
        (_, Type::Map(_)) => Err(mismatch("an object (map)")),
        (Json::Object(entries), Type::Object(attribute_types)) => {
            let mut attributes = BTreeMap::new();
            for (name, item) in entries {
                let attribute_path = child(path, name);
                let attribute_type = attribute_types
                    .get(name)
                    .ok_or_else(|| ValueError::new(&attribute_path, "unsupported attribute (not in the schema)"))?;
                attributes.insert(name.clone(), from_json(item, attribute_type, &attribute_path)?);
            }
            for name in attribute_types.keys() {
                attributes.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(attributes))
        }
        (_, Type::Object(_)) => Err(mismatch("an object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource_type() -> Type {
        Type::Object(BTreeMap::from([
            ("name".to_string(), Type::String),
            ("count".to_string(), Type::Number),
            ("names".to_string(), Type::Set(Box::new(Type::String))),
            ("tags".to_string(), Type::Map(Box::new(Type::String))),
            ("drain".to_string(), Type::List(Box::new(Type::Object(BTreeMap::from([("on".to_string(), Type::Bool)]))))),
            ("extra".to_string(), Type::Dynamic),
        ]))
    }

    #[test]
    fn decodes_stored_state() {
        let json = br#"{"name":"x","count":3,"names":["a","b"],"tags":{"team":"ci"},"drain":[{"on":true}],
            "extra":{"type":["list","number"],"value":[1.5]}}"#;
        let value = decode(json, &resource_type()).unwrap();
        assert_eq!(
            value,
            Value::object([
                ("name", Value::string("x")),
                ("count", Value::Number(3.0)),
                ("names", Value::Set(vec![Value::string("a"), Value::string("b")])),
                ("tags", Value::Map(BTreeMap::from([("team".to_string(), Value::string("ci"))]))),
                ("drain", Value::List(vec![Value::object([("on", Value::Bool(true))])])),
                ("extra", Value::List(vec![Value::Number(1.5)])),
            ])
        );
    }

    #[test]
    fn missing_attributes_and_nulls_decode_as_null() {
        let value = decode(br#"{"name":null}"#, &resource_type()).unwrap();
        for name in ["name", "count", "names", "tags", "drain", "extra"] {
            assert_eq!(value.get(name), &Value::Null, "{name}");
        }
        assert_eq!(decode(b"null", &resource_type()).unwrap(), Value::Null);
    }

    #[test]
    fn numbers_may_be_strings() {
        assert_eq!(decode(br#""42.5""#, &Type::Number).unwrap(), Value::Number(42.5));
    }

    #[test]
    fn errors_name_the_attribute_and_the_expectation() {
        let cases: [(&[u8], &str); 5] = [
            (br#"{"name":1}"#, "name: expected a string, got a number"),
            (br#"{"drain":[{"on":"yes"}]}"#, "drain[0].on: expected a bool, got a string"),
            (br#"{"tags":{"team":false}}"#, r#"tags["team"]: expected a string, got a bool"#),
            (br#"{"gone":1}"#, "gone: unsupported attribute (not in the schema)"),
            (b"{", "invalid JSON"),
        ];
        for (json, expected) in cases {
            let error = decode(json, &resource_type()).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{}: {error}", String::from_utf8_lossy(json));
        }
    }
}
