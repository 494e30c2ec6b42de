//! Schemas in their wire form: attribute types as cty type JSON, descriptions as Markdown.

use crate::protocol::tfplugin6 as proto;
use crate::protocol::type_json;
use crate::schema::{Attribute, Block, NestedBlock, Nesting, ProviderSchema, Schema};
use proto::schema::nested_block::NestingMode;

/// What this server supports beyond protocol 6.0; the same answer in GetMetadata and GetProviderSchema.
pub(crate) fn server_capabilities() -> proto::ServerCapabilities {
    proto::ServerCapabilities { plan_destroy: true, get_provider_schema_optional: true, move_resource_state: false }
}

pub(crate) fn provider_schema(schema: &ProviderSchema) -> proto::get_provider_schema::Response {
    proto::get_provider_schema::Response {
        provider: Some(self::schema(&schema.provider)),
        resource_schemas: schema.resources.iter().map(|(name, s)| (name.clone(), self::schema(s))).collect(),
        server_capabilities: Some(server_capabilities()),
        ..Default::default()
    }
}

pub(crate) fn schema(schema: &Schema) -> proto::Schema {
    proto::Schema { version: schema.version, block: Some(block(&schema.block, schema.version)) }
}

fn block(block: &Block, version: i64) -> proto::schema::Block {
    proto::schema::Block {
        version,
        attributes: block.attributes.iter().map(attribute).collect(),
        block_types: block.blocks.iter().map(nested_block).collect(),
        description: block.description.clone(),
        description_kind: proto::StringKind::Markdown as i32,
        deprecated: block.deprecated,
    }
}

fn attribute(attribute: &Attribute) -> proto::schema::Attribute {
    proto::schema::Attribute {
        name: attribute.name.clone(),
        r#type: type_json::to_bytes(&attribute.ty),
        nested_type: None,
        description: attribute.description.clone(),
        required: attribute.required,
        optional: attribute.optional,
        computed: attribute.computed,
        sensitive: attribute.sensitive,
        description_kind: proto::StringKind::Markdown as i32,
        deprecated: attribute.deprecated,
        write_only: false,
    }
}

fn nested_block(nested: &NestedBlock) -> proto::schema::NestedBlock {
    let nesting = match nested.nesting {
        Nesting::Single => NestingMode::Single,
        Nesting::List => NestingMode::List,
        Nesting::Set => NestingMode::Set,
        Nesting::Map => NestingMode::Map,
        Nesting::Group => NestingMode::Group,
    };
    proto::schema::NestedBlock {
        type_name: nested.type_name.clone(),
        block: Some(block(&nested.block, 0)),
        nesting: nesting as i32,
        min_items: nested.min_items,
        max_items: nested.max_items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Type;
    use std::collections::BTreeMap;

    #[test]
    fn empty_schema() {
        let converted = schema(&Schema { version: 0, block: Block::default() });
        let block = converted.block.unwrap();
        assert!(block.attributes.is_empty() && block.block_types.is_empty());
        assert_eq!(block.description_kind, proto::StringKind::Markdown as i32);
    }

    #[test]
    fn schema_table() {
        let mut secret = Attribute::optional("token", Type::String, "A `token`.");
        secret.sensitive = true;
        secret.deprecated = true;
        let input = Schema {
            version: 2,
            block: Block {
                attributes: vec![
                    Attribute::required("names", Type::Set(Box::new(Type::String)), "ASG names."),
                    Attribute::optional_computed("tags", Type::Map(Box::new(Type::String)), "Tags."),
                    Attribute::computed("id", Type::String, "Id."),
                    secret,
                ],
                blocks: vec![NestedBlock {
                    type_name: "drain".into(),
                    block: Block {
                        attributes: vec![Attribute::optional("timeout", Type::String, "Budget.")],
                        ..Block::default()
                    },
                    nesting: Nesting::List,
                    min_items: 1,
                    max_items: 1,
                }],
                description: "Drains **instances**.".into(),
                deprecated: false,
            },
        };
        let converted = schema(&input);
        assert_eq!(converted.version, 2);
        let block = converted.block.unwrap();
        assert_eq!(block.version, 2);
        assert_eq!(block.description, "Drains **instances**.");
        let by_name: BTreeMap<_, _> = block.attributes.iter().map(|a| (a.name.as_str(), a)).collect();
        assert_eq!(by_name["names"].r#type, br#"["set","string"]"#);
        assert!(by_name["names"].required && !by_name["names"].optional && !by_name["names"].computed);
        assert_eq!(by_name["tags"].r#type, br#"["map","string"]"#);
        assert!(by_name["tags"].optional && by_name["tags"].computed);
        assert!(by_name["id"].computed && !by_name["id"].optional);
        assert!(by_name["token"].sensitive && by_name["token"].deprecated);
        assert_eq!(by_name["token"].description, "A `token`.");
        assert_eq!(by_name["token"].description_kind, proto::StringKind::Markdown as i32);
        let drain = &block.block_types[0];
        assert_eq!((drain.type_name.as_str(), drain.min_items, drain.max_items), ("drain", 1, 1));
        assert_eq!(drain.nesting, NestingMode::List as i32);
        assert_eq!(drain.block.as_ref().unwrap().attributes[0].r#type, br#""string""#);
    }

    #[test]
    fn capabilities_announce_plan_destroy_and_optional_schema() {
        let response = provider_schema(&ProviderSchema {
            provider: Schema { version: 0, block: Block::default() },
            resources: BTreeMap::new(),
        });
        let capabilities = response.server_capabilities.unwrap();
        assert!(capabilities.plan_destroy && capabilities.get_provider_schema_optional);
    }
}
