//! `tags` and `tags_all`: the provider's `default_tags` merged under a resource's own tags, as hashicorp/aws does
//! (its `tags_all` is "a map of tags assigned to the resource, including those inherited from the provider
//! default_tags configuration block"; a resource tag wins over a default tag with the same key).

use super::validate::MAX_USER_TAGS;
use crate::config::DefaultTags;
use std::collections::{BTreeMap, BTreeSet};
use tfplugin::{AttributePath, Diagnostic, Diagnostics, Value};

pub const TAGS_ALL: &str = "tags_all";

/// A known map of strings, or `None` (unknown, or not a map of known strings); null is an empty map.
pub fn parse(value: &Value) -> Option<BTreeMap<String, String>> {
    match value {
        Value::Null => Some(BTreeMap::new()),
        Value::Map(entries) => {
            entries.iter().map(|(key, value)| Some((key.clone(), value.as_str()?.to_string()))).collect()
        }
        _ => None,
    }
}

pub fn to_value(tags: &BTreeMap<String, String>) -> Value {
    Value::Map(tags.iter().map(|(key, value)| (key.clone(), Value::string(value.clone()))).collect())
}

/// Every tag the resource's objects carry: the defaults, overridden by the resource's own.
pub fn merged(defaults: &BTreeMap<String, String>, own: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut all = defaults.clone();
    all.extend(own.iter().map(|(key, value)| (key.clone(), value.clone())));
    all
}

/// The planned `tags_all`, unknown while the configured tags or the defaults are; an error when the merge holds more
/// tags than AWS takes.
pub fn planned(config_tags: &Value, defaults: &DefaultTags) -> (Value, Diagnostics) {
    let mut diags = Diagnostics::new();
    let (Some(own), DefaultTags::Known(defaults)) = (parse(config_tags), defaults) else {
        return (Value::Unknown, diags);
    };
    let all = merged(defaults, &own);
    if all.len() > MAX_USER_TAGS {
        diags.push(
            Diagnostic::error(
                "Too many tags",
                format!(
                    "tags and the provider's default_tags make {} tags, expected at most {MAX_USER_TAGS} (AWS allows \
50 per resource, and every object also carries graceful:owner)",
                    all.len()
                ),
            )
            .at(AttributePath::root("tags")),
        );
    }
    (to_value(&all), diags)
}

/// The resource's own `tags` among the tags read from AWS: a tag equal to a default is a default, unless the
/// resource's own tags held that key before (a resource may repeat a default).
pub fn own_among(
    read: &BTreeMap<String, String>,
    defaults: &BTreeMap<String, String>,
    own_before: &BTreeSet<String>,
) -> BTreeMap<String, String> {
    read.iter()
        .filter(|(key, value)| own_before.contains(*key) || defaults.get(*key) != Some(*value))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_resource_tag_wins_over_the_default_with_its_key() {
        let all = merged(&tags(&[("team", "platform"), ("env", "prod")]), &tags(&[("team", "ci")]));
        assert_eq!(all, tags(&[("env", "prod"), ("team", "ci")]));
    }

    #[test]
    fn tags_all_is_unknown_while_either_side_is() {
        let own = to_value(&tags(&[("team", "ci")]));
        assert_eq!(planned(&Value::Unknown, &DefaultTags::default()).0, Value::Unknown);
        assert_eq!(planned(&own, &DefaultTags::Unknown).0, Value::Unknown);
        let known = planned(&own, &DefaultTags::Known(tags(&[("env", "prod")]))).0;
        assert_eq!(known, to_value(&tags(&[("env", "prod"), ("team", "ci")])));
        assert_eq!(planned(&Value::Null, &DefaultTags::default()).0, Value::Map(BTreeMap::new()));
    }

    #[test]
    fn more_than_aws_takes_after_the_merge_is_an_error_on_tags() {
        let defaults: BTreeMap<String, String> = (0..30).map(|i| (format!("d{i}"), "x".to_string())).collect();
        let own: BTreeMap<String, String> = (0..20).map(|i| (format!("o{i}"), "x".to_string())).collect();
        let (_, diags) = planned(&to_value(&own), &DefaultTags::Known(defaults));
        assert!(diags.has_errors(), "50 tags must be refused");
    }

    #[test]
    fn read_back_defaults_are_not_the_resources_own_unless_it_set_them() {
        let read = tags(&[("env", "prod"), ("team", "ci"), ("cost", "7")]);
        let defaults = tags(&[("env", "prod"), ("cost", "6")]);
        // cost differs from its default: someone set it (the resource, or out of band), so it shows as own.
        assert_eq!(own_among(&read, &defaults, &BTreeSet::new()), tags(&[("cost", "7"), ("team", "ci")]));
        let before: BTreeSet<String> = ["env".to_string()].into();
        assert_eq!(own_among(&read, &defaults, &before), read);
    }
}
