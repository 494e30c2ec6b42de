//! The msgpack encoding of Terraform values (cty's wire format), guided by the value's [`Type`]: unknown is
//! extension type 0 (or 12, an unknown with refinements, whose refinements we drop), null is nil, numbers are
//! ints, floats or decimal strings, objects and maps are maps, lists and sets are arrays, and a value of a
//! `dynamic` attribute is the pair `[type JSON, value]`.

use super::type_json;
use crate::diag::AttributePath;
use crate::value::{Type, Value};
use crate::value_error::ValueError;
use rmpv::Value as Msgpack;
use std::collections::BTreeMap;

const UNKNOWN_EXT: i8 = 0;
const UNKNOWN_WITH_REFINEMENTS_EXT: i8 = 12;

/// Decodes msgpack bytes as a value of type `ty`.
pub(crate) fn decode(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    let root = AttributePath::default();
    let mut reader = bytes;
    let msgpack =
        rmpv::decode::read_value(&mut reader).map_err(|e| ValueError::new(&root, format!("invalid msgpack: {e}")))?;
    if !reader.is_empty() {
        return Err(ValueError::new(&root, format!("{} trailing bytes after the msgpack value", reader.len())));
    }
    from_msgpack(&msgpack, ty, &root)
}

/// Encodes `value` as msgpack for type `ty`; fails when the value does not fit the type.
pub(crate) fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, ValueError> {
    let msgpack = to_msgpack(value, ty, &AttributePath::default())?;
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &msgpack).expect("writing msgpack to a Vec cannot fail");
    Ok(bytes)
}

fn describe(msgpack: &Msgpack) -> &'static str {
    match msgpack {
        Msgpack::Nil => "nil",
        Msgpack::Boolean(_) => "a bool",
        Msgpack::Integer(_) => "an integer",
        Msgpack::F32(_) | Msgpack::F64(_) => "a float",
        Msgpack::String(_) => "a string",
        Msgpack::Binary(_) => "binary data",
        Msgpack::Array(_) => "an array",
        Msgpack::Map(_) => "a map",
        Msgpack::Ext(_, _) => "an extension value",
    }
}

fn from_msgpack(msgpack: &Msgpack, ty: &Type, path: &AttributePath) -> Result<Value, ValueError> {
    let mismatch = |expected: &str| ValueError::new(path, format!("expected {expected}, got {}", describe(msgpack)));
    match (msgpack, ty) {
        (Msgpack::Nil, _) => Ok(Value::Null),
        (Msgpack::Ext(UNKNOWN_EXT | UNKNOWN_WITH_REFINEMENTS_EXT, _), _) => Ok(Value::Unknown),
        (Msgpack::Ext(code, _), _) => Err(ValueError::new(path, format!("unsupported msgpack extension type {code}"))),
        (_, Type::Dynamic) => from_dynamic_pair(msgpack, path),
        (Msgpack::Boolean(b), Type::Bool) => Ok(Value::Bool(*b)),
        (_, Type::Bool) => Err(mismatch("a bool")),
        (_, Type::Number) => number(msgpack, path).map(Value::Number),
        (Msgpack::String(s), Type::String) => {
            s.as_str().map(Value::string).ok_or_else(|| ValueError::new(path, "string is not valid UTF-8"))
        }
        (_, Type::String) => Err(mismatch("a string")),
        (Msgpack::Array(items), Type::List(element)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| from_msgpack(item, element, &path.clone().index(i as i64)))
            .collect::<Result<_, _>>()
            .map(Value::List),
        (_, Type::List(_)) => Err(mismatch("an array (list)")),
        // Set elements have no path step Terraform understands, so errors point at the set.
        (Msgpack::Array(items), Type::Set(element)) => {
            items.iter().map(|item| from_msgpack(item, element, path)).collect::<Result<_, _>>().map(Value::Set)
        }
        (_, Type::Set(_)) => Err(mismatch("an array (set)")),
        (Msgpack::Map(entries), Type::Map(element)) => entries
            .iter()
            .map(|(key, item)| {
                let key = map_key(key, path)?;
                let value = from_msgpack(item, element, &path.clone().key(&key))?;
                Ok((key, value))
            })
            .collect::<Result<BTreeMap<_, _>, _>>()
            .map(Value::Map),
        (_, Type::Map(_)) => Err(mismatch("a map")),
        (Msgpack::Map(entries), Type::Object(attribute_types)) => {
            let mut attributes = BTreeMap::new();
            for (key, item) in entries {
                let name = map_key(key, path)?;
                let child = if path.steps.is_empty() { AttributePath::root(&name) } else { path.clone().attr(&name) };
                let attribute_type = attribute_types
                    .get(&name)
                    .ok_or_else(|| ValueError::new(&child, "unsupported attribute (not in the schema)"))?;
                attributes.insert(name, from_msgpack(item, attribute_type, &child)?);
            }
            for name in attribute_types.keys() {
                attributes.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(attributes))
        }
        (_, Type::Object(_)) => Err(mismatch("a map (object)")),
    }
}

fn map_key(key: &Msgpack, path: &AttributePath) -> Result<String, ValueError> {
    match key {
        Msgpack::String(s) => s.as_str().map(str::to_string).ok_or_else(|| ValueError::new(path, "key is not UTF-8")),
        other => Err(ValueError::new(path, format!("map keys must be strings, got {}", describe(other)))),
    }
}

fn number(msgpack: &Msgpack, path: &AttributePath) -> Result<f64, ValueError> {
    match msgpack {
        Msgpack::Integer(i) => i
            .as_i64()
            .map(|n| n as f64)
            .or_else(|| i.as_u64().map(|n| n as f64))
            .ok_or_else(|| ValueError::new(path, "integer out of range")),
        Msgpack::F32(f) => Ok(f64::from(*f)),
        Msgpack::F64(f) => Ok(*f),
        // cty writes numbers that neither an int64 nor a float64 holds exactly as decimal strings.
        Msgpack::String(s) => s
            .as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .ok_or_else(|| ValueError::new(path, format!("expected a number, got the string {s:?}"))),
        other => Err(ValueError::new(path, format!("expected a number, got {}", describe(other)))),
    }
}

fn from_dynamic_pair(msgpack: &Msgpack, path: &AttributePath) -> Result<Value, ValueError> {
    let Msgpack::Array(pair) = msgpack else {
        return Err(ValueError::new(path, format!("expected a [type, value] pair, got {}", describe(msgpack))));
    };
    let [type_json, value] = pair.as_slice() else {
        return Err(ValueError::new(path, format!("expected a [type, value] pair, got {} elements", pair.len())));
    };
    let type_bytes = match type_json {
        Msgpack::Binary(bytes) => bytes.as_slice(),
        Msgpack::String(s) => s.as_bytes(),
        other => return Err(ValueError::new(path, format!("expected type JSON bytes, got {}", describe(other)))),
    };
    let ty = type_json::from_bytes(type_bytes).map_err(|e| ValueError::new(path, e))?;
    from_msgpack(value, &ty, path)
}

fn to_msgpack(value: &Value, ty: &Type, path: &AttributePath) -> Result<Msgpack, ValueError> {
    let mismatch = |expected: &str| ValueError::new(path, format!("expected {expected}, got {}", kind(value)));
    match (value, ty) {
        (Value::Null, _) => Ok(Msgpack::Nil),
        (Value::Unknown, _) => Ok(Msgpack::Ext(UNKNOWN_EXT, vec![0])),
        (_, Type::Dynamic) => {
            let implied = type_json::implied_type(value);
            let inner = to_msgpack(value, &implied, path)?;
            Ok(Msgpack::Array(vec![Msgpack::Binary(type_json::to_bytes(&implied)), inner]))
        }
        (Value::Bool(b), Type::Bool) => Ok(Msgpack::Boolean(*b)),
        (_, Type::Bool) => Err(mismatch("a bool")),
        (Value::Number(n), Type::Number) => Ok(number_to_msgpack(*n)),
        (_, Type::Number) => Err(mismatch("a number")),
        (Value::String(s), Type::String) => Ok(Msgpack::from(s.as_str())),
        (_, Type::String) => Err(mismatch("a string")),
        (Value::List(items) | Value::Set(items), Type::List(element)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| to_msgpack(item, element, &path.clone().index(i as i64)))
            .collect::<Result<_, _>>()
            .map(Msgpack::Array),
        (_, Type::List(_)) => Err(mismatch("a list")),
        (Value::List(items) | Value::Set(items), Type::Set(element)) => {
            items.iter().map(|item| to_msgpack(item, element, path)).collect::<Result<_, _>>().map(Msgpack::Array)
        }
        (_, Type::Set(_)) => Err(mismatch("a set")),
        (Value::Map(entries) | Value::Object(entries), Type::Map(element)) => entries
            .iter()
            .map(|(key, item)| Ok((Msgpack::from(key.as_str()), to_msgpack(item, element, &path.clone().key(key))?)))
            .collect::<Result<_, _>>()
            .map(Msgpack::Map),
        (_, Type::Map(_)) => Err(mismatch("a map")),
        (Value::Object(attributes) | Value::Map(attributes), Type::Object(attribute_types)) => {
            let child =
                |name: &str| if path.steps.is_empty() { AttributePath::root(name) } else { path.clone().attr(name) };
            if let Some(extra) = attributes.keys().find(|name| !attribute_types.contains_key(*name)) {
                return Err(ValueError::new(&child(extra), "attribute is not in the schema"));
            }
            // cty writes every attribute of the type, in name order (BTreeMap order).
            attribute_types
                .iter()
                .map(|(name, attribute_type)| {
                    let item = attributes.get(name).unwrap_or(&Value::Null);
                    Ok((Msgpack::from(name.as_str()), to_msgpack(item, attribute_type, &child(name))?))
                })
                .collect::<Result<_, _>>()
                .map(Msgpack::Map)
        }
        (_, Type::Object(_)) => Err(mismatch("an object")),
    }
}

/// Whole numbers go out as integers (as cty does), everything else as a float.
fn number_to_msgpack(n: f64) -> Msgpack {
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if n.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&n) { Msgpack::from(n as i64) } else { Msgpack::F64(n) }
}

pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Unknown => "an unknown value",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::List(_) => "a list",
        Value::Set(_) => "a set",
        Value::Map(_) => "a map",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
#[path = "dynamic_value_tests.rs"]
mod tests;
