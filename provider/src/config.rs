//! The `provider "graceful"` block: region, profile, one endpoint override for every service. Configuring stores
//! settings only; AWS is first contacted by a read or an apply, so planning a create needs no AWS access.

use tfplugin::{Attribute, AttributePath, Block, Diagnostic, Diagnostics, Schema, Type, Value};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Sent to every AWS service instead of its public endpoint (an emulator, a VPC endpoint, a proxy).
    pub endpoint: Option<String>,
}

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
            blocks: vec![],
            deprecated: false,
        },
    }
}

pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
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
    ProviderSettings { region: text("region"), profile: text("profile"), endpoint: text("endpoint") }
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
