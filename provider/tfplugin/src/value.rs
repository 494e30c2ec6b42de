//! Terraform values (cty) as plain Rust data, independent of the wire encoding.

use std::collections::BTreeMap;

/// A Terraform type, needed to decode msgpack (which cannot tell a list from a set or a map from an object).
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Bool,
    Number,
    String,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    /// `DynamicPseudoType`: the value carries its own type on the wire.
    Dynamic,
}

/// A Terraform value. `Unknown` is "known after apply"; `Null` is an absent value of any type.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    #[default]
    Null,
    Unknown,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when this value or anything nested in it is unknown.
    pub fn contains_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(items) | Value::Set(items) => items.iter().any(Value::contains_unknown),
            Value::Map(entries) | Value::Object(entries) => entries.values().any(Value::contains_unknown),
            _ => false,
        }
    }

    /// The attribute `name` of an object, or the element `name` of a map; `Null` for a null (or unknown) value and a
    /// missing map key. An object decoded from Terraform holds every attribute of its schema type, null or not, so
    /// asking one for a name it lacks is a misspelt attribute name: debug builds (every test) panic on it rather than
    /// let it read as null, which would silently mean "not set, take the default".
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Object(attrs) => {
                let found = attrs.get(name);
                debug_assert!(
                    found.is_some(),
                    "the object has no attribute {name:?} (a misspelt name?); its attributes: {:?}",
                    attrs.keys().collect::<Vec<_>>()
                );
                found.unwrap_or(&NULL)
            }
            Value::Map(entries) => entries.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Elements of a list or set (empty for null).
    pub fn elements(&self) -> &[Value] {
        match self {
            Value::List(items) | Value::Set(items) => items,
            _ => &[],
        }
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// This value as Terraform would hold it for type `ty`: every object (at any depth) has every attribute of its
    /// type, the ones it lacks null. For objects the provider builds itself (an imported state, a test's config).
    pub fn conformed(self, ty: &Type) -> Value {
        match (self, ty) {
            (Value::Object(mut attrs), Type::Object(types)) => {
                for (name, attribute_type) in types {
                    let value = attrs.remove(name).unwrap_or(Value::Null);
                    attrs.insert(name.clone(), value.conformed(attribute_type));
                }
                Value::Object(attrs)
            }
            (Value::List(items), Type::List(element)) => {
                Value::List(items.into_iter().map(|item| item.conformed(element)).collect())
            }
            (Value::Set(items), Type::Set(element)) => {
                Value::Set(items.into_iter().map(|item| item.conformed(element)).collect())
            }
            (Value::Map(entries), Type::Map(element)) => {
                Value::Map(entries.into_iter().map(|(key, item)| (key, item.conformed(element))).collect())
            }
            (other, _) => other,
        }
    }

    /// An object from `(name, value)` pairs.
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::Value;

    #[test]
    fn get_reads_attributes_map_keys_and_null() {
        let object = Value::object([("name", Value::string("ci")), ("tags", Value::Null)]);
        assert_eq!(object.get("name"), &Value::string("ci"));
        assert_eq!(object.get("tags"), &Value::Null);
        let map = Value::Map([("team".to_string(), Value::string("ci"))].into());
        assert_eq!(map.get("team"), &Value::string("ci"));
        assert_eq!(map.get("owner"), &Value::Null, "a map may lack a key");
        assert_eq!(Value::Null.get("name"), &Value::Null);
        assert_eq!(Value::Unknown.get("name"), &Value::Null);
    }

    #[test]
    fn conformed_fills_every_missing_attribute_with_null_at_every_depth() {
        use super::Type;
        let ty = Type::Object(
            [
                ("name".to_string(), Type::String),
                ("drain".to_string(), Type::Object([("timeout".to_string(), Type::String)].into())),
            ]
            .into(),
        );
        let partial = Value::object([("drain", Value::object::<&str>([]))]);
        let full = partial.conformed(&ty);
        assert_eq!(full.get("name"), &Value::Null);
        assert_eq!(full.get("drain").get("timeout"), &Value::Null);
        assert_eq!(Value::Null.conformed(&ty), Value::Null, "a null object stays null");
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "the object has no attribute \"nmae\"")]
    fn a_misspelt_attribute_name_panics_in_debug_builds_instead_of_reading_as_null() {
        let object = Value::object([("name", Value::string("ci"))]);
        let _ = object.get("nmae");
    }
}
