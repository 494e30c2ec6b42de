//! Schemas of the provider configuration and of resources, as Terraform sees them.

use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::value::{Type, Value};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    /// Bumped when the stored state shape changes; Terraform then calls `upgrade_resource_state`.
    pub version: i64,
    pub block: Block,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    /// Markdown.
    pub description: String,
    pub deprecated: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    /// Markdown.
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub deprecated: bool,
    /// What plan sets when the configuration leaves the attribute null (optional + computed attributes only):
    /// [`Block::planned_defaults`] applies it. Declared here once.
    pub default: Option<Value>,
    /// The only values a string attribute takes: [`Block::check_allowed_values`] refuses others at validation.
    pub allowed_values: Vec<String>,
    /// Why changing the attribute replaces the resource (AWS cannot change it in place); `None`: updated in place.
    /// [`Block::requires_replace`] collects these, the docs say "Forces a new resource".
    pub replace_reason: Option<String>,
}

impl Attribute {
    fn new(name: &str, ty: Type, description: &str) -> Self {
        Attribute {
            name: name.to_string(),
            ty,
            description: description.to_string(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: false,
            default: None,
            allowed_values: Vec::new(),
            replace_reason: None,
        }
    }

    pub fn required(name: &str, ty: Type, description: &str) -> Self {
        Attribute { required: true, ..Self::new(name, ty, description) }
    }

    pub fn optional(name: &str, ty: Type, description: &str) -> Self {
        Attribute { optional: true, ..Self::new(name, ty, description) }
    }

    /// Optional in configuration; the provider fills a default when it is not set.
    pub fn optional_computed(name: &str, ty: Type, description: &str) -> Self {
        Attribute { optional: true, computed: true, ..Self::new(name, ty, description) }
    }

    pub fn computed(name: &str, ty: Type, description: &str) -> Self {
        Attribute { computed: true, ..Self::new(name, ty, description) }
    }

    /// The value planned when the configuration leaves this (optional + computed) attribute null.
    pub fn with_default(self, value: Value) -> Self {
        debug_assert!(
            self.optional && self.computed,
            "{}: only an optional + computed attribute has a default",
            self.name
        );
        Attribute { default: Some(value), ..self }
    }

    /// The only values this string attribute takes.
    pub fn one_of(self, values: &[&str]) -> Self {
        Attribute { allowed_values: values.iter().map(|v| v.to_string()).collect(), ..self }
    }

    /// A change of this attribute replaces the resource, for `reason` (shown in docs).
    pub fn replaced_on_change(self, reason: &str) -> Self {
        Attribute { replace_reason: Some(reason.to_string()), ..self }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
    Group,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NestedBlock {
    pub type_name: String,
    pub block: Block,
    pub nesting: Nesting,
    pub min_items: i64,
    pub max_items: i64,
}

impl Block {
    /// The attribute `name` of this block (not of its nested blocks).
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The planned value of every attribute that declares a default: the configuration's value, or the default
    /// where the configuration leaves it null (unknown stays unknown).
    pub fn planned_defaults(&self, config: &Value) -> BTreeMap<String, Value> {
        self.attributes
            .iter()
            .filter_map(|a| a.default.as_ref().map(|default| (a, default)))
            .map(|(a, default)| {
                let value = match config.get(&a.name) {
                    Value::Null => default.clone(),
                    set => set.clone(),
                };
                (a.name.clone(), value)
            })
            .collect()
    }

    /// The attributes (at `path`) whose change forces replacement and differ between `prior` and `planned`.
    pub fn requires_replace(&self, prior: &Value, planned: &Value, path: &AttributePath) -> Vec<AttributePath> {
        if prior.is_null() {
            return Vec::new();
        }
        self.attributes
            .iter()
            .filter(|a| a.replace_reason.is_some() && prior.get(&a.name) != planned.get(&a.name))
            .map(|a| path.clone().attr(&a.name))
            .collect()
    }

    /// An error for each known string attribute of `config` (at `path`, shown as `prefix` + name) outside its
    /// declared values, naming the attribute and every value it takes.
    pub fn check_allowed_values(&self, config: &Value, path: &AttributePath, prefix: &str, diags: &mut Diagnostics) {
        for attribute in self.attributes.iter().filter(|a| !a.allowed_values.is_empty()) {
            let Value::String(text) = config.get(&attribute.name) else { continue };
            if attribute.allowed_values.contains(text) {
                continue;
            }
            let name = format!("{prefix}{}", attribute.name);
            let expected: Vec<String> = attribute.allowed_values.iter().map(|v| format!("{v:?}")).collect();
            diags.push(
                Diagnostic::error(
                    format!("Invalid {name}"),
                    format!("{name} is {text:?}, expected one of {}", expected.join(", ")),
                )
                .at(path.clone().attr(&attribute.name)),
            );
        }
    }

    /// The value type of this block: an object of its attributes and nested blocks.
    pub fn value_type(&self) -> Type {
        let mut fields: BTreeMap<String, Type> =
            self.attributes.iter().map(|a| (a.name.clone(), a.ty.clone())).collect();
        for nested in &self.blocks {
            let inner = nested.block.value_type();
            let ty = match nested.nesting {
                Nesting::Single | Nesting::Group => inner,
                Nesting::List => Type::List(Box::new(inner)),
                Nesting::Set => Type::Set(Box::new(inner)),
                Nesting::Map => Type::Map(Box::new(inner)),
            };
            fields.insert(nested.type_name.clone(), ty);
        }
        Type::Object(fields)
    }
}

/// Everything `GetProviderSchema` answers.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderSchema {
    pub provider: Schema,
    pub resources: BTreeMap<String, Schema>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> Block {
        Block {
            attributes: vec![
                Attribute::required("name", Type::String, "").replaced_on_change("names are fixed"),
                Attribute::optional_computed("mode", Type::String, "")
                    .with_default(Value::string("fast"))
                    .one_of(&["fast", "safe"]),
                Attribute::optional("note", Type::String, ""),
            ],
            ..Block::default()
        }
    }

    fn config(name: &str, mode: Value) -> Value {
        Value::object([("name", Value::string(name)), ("mode", mode), ("note", Value::Null)])
    }

    #[test]
    fn defaults_fill_only_what_the_configuration_leaves_null() {
        let block = block();
        assert_eq!(block.planned_defaults(&config("a", Value::Null)), [("mode".into(), Value::string("fast"))].into());
        assert_eq!(block.planned_defaults(&config("a", Value::string("safe")))["mode"], Value::string("safe"));
        assert_eq!(block.planned_defaults(&config("a", Value::Unknown))["mode"], Value::Unknown);
    }

    #[test]
    fn only_a_change_of_an_attribute_that_forces_replacement_is_reported() {
        let block = block();
        let root = AttributePath::default();
        let before = config("a", Value::string("fast"));
        assert!(block.requires_replace(&before, &config("a", Value::string("safe")), &root).is_empty());
        assert_eq!(
            block.requires_replace(&before, &config("b", Value::string("fast")), &root),
            vec![AttributePath::root("name")]
        );
        assert!(block.requires_replace(&Value::Null, &before, &root).is_empty(), "a create replaces nothing");
    }

    #[test]
    fn a_value_outside_the_declared_ones_is_refused_naming_the_attribute_and_the_values() {
        let mut diags = Diagnostics::new();
        block().check_allowed_values(&config("a", Value::string("turbo")), &AttributePath::default(), "", &mut diags);
        let errors: Vec<_> = diags.iter().map(|d| (d.attribute.clone(), d.detail.clone())).collect();
        assert_eq!(
            errors,
            vec![(
                Some(AttributePath::root("mode")),
                "mode is \"turbo\", expected one of \"fast\", \"safe\"".to_string()
            )]
        );
        let mut clean = Diagnostics::new();
        block().check_allowed_values(&config("a", Value::Unknown), &AttributePath::default(), "", &mut clean);
        assert!(clean.iter().next().is_none(), "unknown is not checked");
    }
}
