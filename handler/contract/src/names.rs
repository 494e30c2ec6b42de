//! AWS names derived from the resource's `name`. The longest suffix bounds the name (IAM role names: 64).

/// Characters allowed in `name`: the intersection of what IAM roles, Lambda functions, SNS topics, SSM documents,
/// EventBridge rules and lifecycle hooks accept.
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

const TOPIC_SUFFIX: &str = "-lifecycle";
const PUBLISHER_ROLE_SUFFIX: &str = "-publisher";
const HANDLER_ROLE_SUFFIX: &str = "-handler";
const FUNCTION_SUFFIX: &str = "-drain-handler";
const DOCUMENT_SUFFIX: &str = "-drain";
const RULE_SUFFIX: &str = "-reconcile";
const HOOK_SUFFIX: &str = "-drain";

/// IAM's limit on a role name (IAM User Guide, "IAM and AWS STS quotas": role name, 64 characters).
pub const ROLE_NAME_LIMIT: usize = 64;

/// The longest `RoleARN` Auto Scaling's PutLifecycleHook takes (botocore autoscaling 2011-01-01, `RoleARN`:
/// `XmlStringMaxLen255`). The publisher role's ARN goes there, so the role's path and name share this bound.
pub const HOOK_ROLE_ARN_LIMIT: usize = 255;

/// The ARN of IAM role `role_name` at `iam_path` (which begins and ends with `/`).
pub fn role_arn(partition: &str, account_id: &str, iam_path: &str, role_name: &str) -> String {
    format!("arn:{partition}:iam::{account_id}:role{iam_path}{role_name}")
}

/// Refuses a publisher role ARN longer than [`HOOK_ROLE_ARN_LIMIT`], saying how long `iam_path` may be.
pub fn check_hook_role_arn(publisher_role_arn: &str, iam_path: &str) -> Result<(), String> {
    let over = publisher_role_arn.len().saturating_sub(HOOK_ROLE_ARN_LIMIT);
    if over == 0 {
        return Ok(());
    }
    Err(format!(
        "the publisher role's ARN {publisher_role_arn:?} would be {} characters, and Auto Scaling takes a lifecycle \
hook's RoleARN of at most {HOOK_ROLE_ARN_LIMIT}: shorten iam_path to at most {} characters",
        publisher_role_arn.len(),
        iam_path.len().saturating_sub(over)
    ))
}

/// (what, AWS limit, suffix) for every derived name that does not carry the region, so validation can report the one
/// that overflows. The IAM role names carry the region: [`RoleNames::new`] checks them once the region is known.
pub const LIMITS: &[(&str, usize, &str)] = &[
    ("IAM role name", ROLE_NAME_LIMIT, PUBLISHER_ROLE_SUFFIX),
    ("IAM role name", ROLE_NAME_LIMIT, HANDLER_ROLE_SUFFIX),
    ("Lambda function name", 64, FUNCTION_SUFFIX),
    ("EventBridge rule name", 64, RULE_SUFFIX),
    ("SSM document name", 128, DOCUMENT_SUFFIX),
    ("SNS topic name", 256, TOPIC_SUFFIX),
    ("lifecycle hook name", 255, HOOK_SUFFIX),
];

/// The longest `name` for which every derived name fits its limit.
pub fn max_name_len() -> usize {
    LIMITS.iter().map(|(_, limit, suffix)| limit - suffix.len()).min().unwrap_or(0)
}

/// The longest `name` whose regional role names ([`RoleScope::Region`]) fit IAM's limit in `region`.
pub fn max_name_len_in(region: &str) -> usize {
    let longest_suffix =
        format!("-{region}{PUBLISHER_ROLE_SUFFIX}").len().max(format!("-{region}{HANDLER_ROLE_SUFFIX}").len());
    ROLE_NAME_LIMIT.saturating_sub(longest_suffix).min(max_name_len())
}

/// Every regional AWS name one `graceful_shutdown_asg` uses (the IAM roles are [`RoleNames`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivedNames {
    pub topic: String,
    pub function: String,
    pub log_group: String,
    pub document: String,
    pub rule: String,
    pub hook: String,
}

impl DerivedNames {
    pub fn new(name: &str) -> Self {
        let function = format!("{name}{FUNCTION_SUFFIX}");
        DerivedNames {
            topic: format!("{name}{TOPIC_SUFFIX}"),
            log_group: format!("/aws/lambda/{function}"),
            function,
            document: format!("{name}{DOCUMENT_SUFFIX}"),
            rule: format!("{name}{RULE_SUFFIX}"),
            hook: format!("{name}{HOOK_SUFFIX}"),
        }
    }
}

/// Where a resource's IAM role names are unique. IAM is global to the account ("IAM identifiers": a role name must be
/// unique within the account, whatever its path), while every other piece is regional, so the same `name` in two
/// regions needs two pairs of roles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RoleScope {
    /// `<name>-<region>-publisher` / `<name>-<region>-handler`: what every resource creates.
    #[default]
    Region,
    /// `<name>-publisher` / `<name>-handler`: the roles of a resource created by schema version 0 (before the region
    /// was in the name). They keep their names: renaming an IAM role means replacing it.
    Account,
}

/// The names of a resource's two IAM roles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleNames {
    pub publisher: String,
    pub handler: String,
}

impl RoleNames {
    /// The role names of resource `name` in `region`; an error says which name would exceed IAM's limit and the
    /// longest `name` that fits in that region.
    pub fn new(name: &str, region: &str, scope: RoleScope) -> Result<Self, String> {
        let names = match scope {
            RoleScope::Region => RoleNames::with_prefix(&format!("{name}-{region}")),
            RoleScope::Account => RoleNames::account_wide(name),
        };
        let longest = names.publisher.len().max(names.handler.len());
        if longest > ROLE_NAME_LIMIT {
            let fits = max_name_len_in(region);
            return Err(format!(
                "the IAM role name {:?} would be {longest} characters, over IAM's limit of {ROLE_NAME_LIMIT}: role names \
carry the region because IAM names are global to the account, so in {region} `name` may have at most {fits} characters",
                names.publisher
            ));
        }
        Ok(names)
    }

    /// The account-wide names of schema version 0. They always fit: `name` is at most [`max_name_len`], which the
    /// longest suffix of [`LIMITS`] bounds, role suffixes included.
    pub fn account_wide(name: &str) -> Self {
        RoleNames::with_prefix(name)
    }

    fn with_prefix(prefix: &str) -> Self {
        RoleNames {
            publisher: format!("{prefix}{PUBLISHER_ROLE_SUFFIX}"),
            handler: format!("{prefix}{HANDLER_ROLE_SUFFIX}"),
        }
    }

    /// The scope of role names a state recorded for resource `name`: the account-wide (schema version 0) names, or
    /// the regional ones (anything else, including nothing recorded yet).
    pub fn recorded_scope(name: &str, handler_role_name: Option<&str>) -> RoleScope {
        if handler_role_name == Some(RoleNames::account_wide(name).handler.as_str()) {
            RoleScope::Account
        } else {
            RoleScope::Region
        }
    }
}

/// The `NotificationMetadata` written on every hook of resource `name`: how the handler tells its events apart.
pub fn notification_metadata(name: &str) -> String {
    format!("{{\"graceful_shutdown_asg\":\"{name}\"}}")
}

/// The SSM Parameter Store path under which the handler keeps one drain lock per instance of a document's drains.
/// Document names are unique per account and region and use only `[A-Za-z0-9_.-]`, which parameter names accept.
pub fn drain_lock_path(document_name: &str) -> String {
    format!("/graceful/{document_name}/drain-locks")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_allowed_name_fits_every_limit() {
        let name = "n".repeat(max_name_len());
        let names = DerivedNames::new(&name);
        let legacy = RoleNames::account_wide(&name);
        assert!(legacy.publisher.len() <= 64, "{}", legacy.publisher);
        assert!(legacy.handler.len() <= 64);
        assert!(names.function.len() <= 64);
        assert!(names.rule.len() <= 64);
        assert!(names.document.len() <= 128);
        assert!(names.hook.len() <= 255);
        assert!(names.topic.len() <= 256);
        assert_eq!(max_name_len(), 64 - FUNCTION_SUFFIX.len());
    }

    #[test]
    fn role_names_carry_the_region_so_two_regions_never_share_a_role() {
        let east = RoleNames::new("ci", "us-east-1", RoleScope::Region).unwrap();
        let west = RoleNames::new("ci", "us-west-2", RoleScope::Region).unwrap();
        assert_eq!(
            east,
            RoleNames { publisher: "ci-us-east-1-publisher".into(), handler: "ci-us-east-1-handler".into() }
        );
        assert_ne!(east.publisher, west.publisher);
        assert_ne!(east.handler, west.handler);
        let legacy = RoleNames::new("ci", "us-west-2", RoleScope::Account).unwrap();
        assert_eq!(legacy, RoleNames { publisher: "ci-publisher".into(), handler: "ci-handler".into() });
        assert_eq!(RoleNames::account_wide("ci"), legacy);
    }

    #[test]
    fn a_role_name_over_iams_limit_is_refused_with_the_longest_name_that_fits() {
        let region = "ap-southeast-7";
        let fits = max_name_len_in(region);
        assert_eq!(fits, ROLE_NAME_LIMIT - format!("-{region}{PUBLISHER_ROLE_SUFFIX}").len());
        assert_eq!(max_name_len_in("us-east-1"), 44);
        assert!(RoleNames::new(&"n".repeat(fits), region, RoleScope::Region).is_ok());
        let error = RoleNames::new(&"n".repeat(fits + 1), region, RoleScope::Region).unwrap_err();
        assert!(error.contains("over IAM's limit of 64"), "{error}");
        assert!(error.contains(&format!("at most {fits} characters")), "{error}");
    }

    #[test]
    fn a_publisher_role_arn_over_the_hooks_limit_names_the_longest_iam_path_that_fits() {
        let path = format!("/{}/", "p".repeat(220));
        let arn = role_arn("aws", "123456789012", &path, "ci-us-east-1-publisher");
        let error = check_hook_role_arn(&arn, &path).unwrap_err();
        let fits = path.len() - (arn.len() - HOOK_ROLE_ARN_LIMIT);
        assert!(error.contains(&format!("at most {fits} characters")), "{error}");
        let shorter = format!("/{}/", "p".repeat(fits - 2));
        assert!(
            check_hook_role_arn(&role_arn("aws", "123456789012", &shorter, "ci-us-east-1-publisher"), &shorter).is_ok()
        );
    }

    #[test]
    fn recorded_role_names_tell_their_scope() {
        assert_eq!(RoleNames::recorded_scope("ci", Some("ci-handler")), RoleScope::Account);
        assert_eq!(RoleNames::recorded_scope("ci", Some("ci-us-east-1-handler")), RoleScope::Region);
        assert_eq!(RoleNames::recorded_scope("ci", None), RoleScope::Region);
    }

    #[test]
    fn metadata_is_json_naming_the_resource() {
        let parsed: serde_json::Value = serde_json::from_str(&notification_metadata("ci")).unwrap();
        assert_eq!(parsed["graceful_shutdown_asg"], "ci");
    }

    #[test]
    fn drain_lock_path_is_a_parameter_hierarchy_under_the_document() {
        let path = drain_lock_path("ci-drain");
        assert_eq!(path, "/graceful/ci-drain/drain-locks");
        // Parameter names may not begin with "aws" or "ssm" (PutParameter Name doc).
        assert!(!path.trim_start_matches('/').starts_with("aws") && !path.trim_start_matches('/').starts_with("ssm"));
    }
}
