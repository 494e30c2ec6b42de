//! The `provider "graceful"` block: region, profile, one endpoint override for every service, and `default_tags`.
//! Configuring stores settings only; AWS is first contacted by a read or an apply, so planning a create needs no AWS
//! access.

use crate::resource::shutdown_asg::validate::validate_tags;
use std::collections::BTreeMap;
use tfplugin::{Attribute, AttributePath, Block, Diagnostic, Diagnostics, NestedBlock, Nesting, Schema, Type, Value};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Sent to every AWS service instead of its public endpoint (an emulator, a VPC endpoint, a proxy).
    pub endpoint: Option<String>,
    pub default_tags: DefaultTags,
}

/// The provider's `default_tags { tags = ... }`, merged under every resource's own `tags` (as hashicorp/aws does).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DefaultTags {
    Known(BTreeMap<String, String>),
    /// Terraform may configure a provider with values it learns only at apply (a resource's attribute).
    Unknown,
}

impl Default for DefaultTags {
    fn default() -> Self {
        DefaultTags::Known(BTreeMap::new())
    }
}

impl DefaultTags {
    /// The tags, or none while unknown (a refresh or an import runs with a configuration Terraform knows).
    pub fn known_or_empty(&self) -> BTreeMap<String, String> {
        match self {
            DefaultTags::Known(tags) => tags.clone(),
            DefaultTags::Unknown => BTreeMap::new(),
        }
    }
}

pub const DEFAULT_TAGS_BLOCK: &str = "default_tags";

pub fn schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: "Credentials and region come from the standard AWS chain (environment, shared config and \
credentials files, SSO, container and instance roles) unless set here."
                .into(),
            attributes: vec![
                Attribute::optional(
                    "region",
                    Type::String,
                    "AWS region, e.g. `\"us-east-1\"`. Defaults to `AWS_REGION` / the profile's region.",
                ),
                Attribute::optional("profile", Type::String, "Named profile of the shared AWS config files."),
                Attribute::optional(
                    "endpoint",
                    Type::String,
                    "URL sent every AWS API call instead of the public endpoints (for an emulator or a proxy). \
`AWS_ENDPOINT_URL` does the same from the environment.",
                ),
            ],
            blocks: vec![NestedBlock {
                type_name: DEFAULT_TAGS_BLOCK.into(),
                nesting: Nesting::Single,
                min_items: 0,
                max_items: 0,
                block: Block {
                    description: "Tags set on every AWS object of every `graceful_shutdown_asg` of this provider, \
as the AWS provider's `default_tags` are. A resource's own `tags` win on a shared key; `tags_all` shows the merge."
                        .into(),
                    attributes: vec![Attribute::optional(
                        "tags",
                        Type::Map(Box::new(Type::String)),
                        "Tags for every resource: the same rules as a resource's `tags`.",
                    )],
                    blocks: vec![],
                    deprecated: false,
                },
            }],
            deprecated: false,
        },
    }
}

pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let path = AttributePath::root(DEFAULT_TAGS_BLOCK).attr("tags");
    validate_tags(config.get(DEFAULT_TAGS_BLOCK).get("tags"), path, "default_tags.tags", &mut diags);
    if let Some(endpoint) = config.get("endpoint").as_str()
        && (!(endpoint.starts_with("http://") || endpoint.starts_with("https://")) || endpoint.len() < 8)
    {
        diags.push(
            Diagnostic::error(
                "Invalid endpoint",
                format!(
                    "endpoint is {endpoint:?}, expected an http:// or https:// URL such as \"http://127.0.0.1:5000\""
                ),
            )
            .at(AttributePath::root("endpoint")),
        );
    }
    if let Some(region) = config.get("region").as_str() {
        let ok = is_region_name(region);
        if !ok {
            diags.push(
                Diagnostic::error(
                    "Invalid region",
                    format!("region is {region:?}, expected an AWS region name such as \"us-east-1\""),
                )
                .at(AttributePath::root("region")),
            );
        }
    }
    diags
}

/// The shape of every AWS region name: lowercase words and a number, joined by `-` (`us-east-1`, `us-gov-west-1`,
/// `ap-southeast-7`; botocore's partition `regionRegex`es all have this shape).
fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let Some((number, words)) = parts.split_last() else { return false };
    words.len() >= 2
        && words.iter().all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
        && !number.is_empty()
        && number.len() <= 2
        && number.chars().all(|c| c.is_ascii_digit())
}

pub fn settings(config: &Value) -> ProviderSettings {
    let text = |name: &str| config.get(name).as_str().filter(|s| !s.is_empty()).map(str::to_string);
    ProviderSettings {
        region: text("region"),
        profile: text("profile"),
        endpoint: text("endpoint"),
        default_tags: default_tags(config.get(DEFAULT_TAGS_BLOCK)),
    }
}

fn default_tags(block: &Value) -> DefaultTags {
    if block.is_unknown() {
        return DefaultTags::Unknown;
    }
    match block.get("tags") {
        Value::Unknown => DefaultTags::Unknown,
        Value::Map(entries) => {
            let mut tags = BTreeMap::new();
            for (key, value) in entries {
                match value {
                    Value::String(text) => {
                        tags.insert(key.clone(), text.clone());
                    }
                    _ => return DefaultTags::Unknown,
                }
            }
            DefaultTags::Known(tags)
        }
        _ => DefaultTags::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::is_region_name;

    #[test]
    fn region_names_have_the_aws_shape() {
        for good in ["us-east-1", "us-gov-west-1", "ap-southeast-7", "cn-north-1", "eu-isoe-west-1"] {
            assert!(is_region_name(good), "{good}");
        }
        for bad in ["", "us-east", "useast1", "US-EAST-1", "us-east-1a", "us--1", "us-east-100", "-east-1"] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }
}
