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

/// (what, AWS limit, suffix) for every derived name, so validation can report the one that overflows.
pub const LIMITS: &[(&str, usize, &str)] = &[
    ("IAM role name", 64, PUBLISHER_ROLE_SUFFIX),
    ("IAM role name", 64, HANDLER_ROLE_SUFFIX),
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

/// Every AWS name one `graceful_shutdown_asg` uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivedNames {
    pub topic: String,
    pub publisher_role: String,
    pub handler_role: String,
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
            publisher_role: format!("{name}{PUBLISHER_ROLE_SUFFIX}"),
            handler_role: format!("{name}{HANDLER_ROLE_SUFFIX}"),
            log_group: format!("/aws/lambda/{function}"),
            function,
            document: format!("{name}{DOCUMENT_SUFFIX}"),
            rule: format!("{name}{RULE_SUFFIX}"),
            hook: format!("{name}{HOOK_SUFFIX}"),
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
        assert!(names.publisher_role.len() <= 64, "{}", names.publisher_role);
        assert!(names.handler_role.len() <= 64);
        assert!(names.function.len() <= 64);
        assert!(names.rule.len() <= 64);
        assert!(names.document.len() <= 128);
        assert!(names.hook.len() <= 255);
        assert!(names.topic.len() <= 256);
        assert_eq!(max_name_len(), 64 - FUNCTION_SUFFIX.len());
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
