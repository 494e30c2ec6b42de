//! Plan-time validation of a `graceful_shutdown_asg` configuration. Unknown values are skipped, never errors;
//! every error names the attribute it is about and what was expected.

use super::model::{Field, nomad_input, number_field, spot_drain, string_field};
use super::schema::{DEFAULT_TIMEOUT, MIN_USABLE_HEARTBEAT_SECONDS, NOMAD_BLOCK, SPOT_BLOCK, TYPE_NAME};
use drain_contract::budget::{self, BudgetError, HEARTBEAT_MAX_SECONDS, HEARTBEAT_MIN_SECONDS, format_duration};
use drain_contract::names;
use graceful_provision::OWNER_TAG;
use tfplugin::{AttributePath, Diagnostic, Diagnostics, Value};

/// The longest an instance can wait on a lifecycle hook: "48 hours or 100 times the heartbeat timeout, whichever is
/// smaller" (https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks.html). Checked before any
/// arithmetic on the budget, so no sum can overflow.
const MAX_WAIT_SECONDS: u64 = 48 * 3600;

const MAX_COMMAND_BYTES: usize = 4096;

/// Retention values CloudWatch Logs accepts (`PutRetentionPolicy`).
pub const LOG_RETENTION_DAYS: &[i64] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

fn invalid(path: AttributePath, summary: &str, detail: String) -> Diagnostic {
    Diagnostic::error(summary, detail).at(path)
}

pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    validate_name(config.get("name"), &mut diags);
    validate_group_names(config.get("autoscaling_group_names"), &mut diags);
    // on_failure, architecture: the values the schema declares.
    super::schema::declared().block.check_allowed_values(config, &AttributePath::default(), "", &mut diags);
    validate_log_retention(config.get("log_retention_days"), &mut diags);
    validate_iam_path(config.get("iam_path"), &mut diags);
    validate_policy_arn(config.get("permissions_boundary"), &mut diags);
    validate_non_empty(config.get("kms_key_id"), "kms_key_id", "a KMS key id, alias or ARN", &mut diags);
    validate_tags(config.get("tags"), AttributePath::root("tags"), "tags", &mut diags);
    super::timeouts::validate(config, &mut diags);
    validate_drain(config.get("drain"), config.get("heartbeat_timeout"), &mut diags);
    validate_spot(config.get(SPOT_BLOCK), &mut diags);
    diags
}

fn validate_spot(block: &Value, diags: &mut Diagnostics) {
    if let Some(Err((attribute, detail))) = spot_drain(block) {
        let path = AttributePath::root(SPOT_BLOCK).attr(attribute);
        diags.push(invalid(path, &format!("Invalid spot.{attribute}"), format!("spot.{attribute}: {detail}")));
    }
}

fn validate_name(value: &Value, diags: &mut Diagnostics) {
    let Field::Known(name) = string_field(value) else { return };
    let path = AttributePath::root("name");
    let max = names::max_name_len();
    if name.is_empty() || name.len() > max {
        diags.push(invalid(
            path.clone(),
            "Invalid name",
            format!(
                "name is {} characters long, expected 1 to {max} so that every AWS name derived from it fits (the \
longest is the Lambda function name \"<name>-drain-handler\", at most 64 characters)",
                name.len()
            ),
        ));
    }
    if let Some(bad) = name.chars().find(|c| !names::is_name_char(*c)) {
        diags.push(invalid(
            path.clone(),
            "Invalid name",
            format!("name contains {bad:?}, expected only letters, digits, '-' and '_'"),
        ));
    }
    // CreateDocument, Name: "aws, amazon, amzn, AWSEC2, AWSConfigRemediation, AWSSupport" are reserved document name
    // prefixes; the document is named after the resource. (The AWS… ones all start with "aws".)
    let lower = name.to_ascii_lowercase();
    if let Some(prefix) = ["aws", "amazon", "amzn"].into_iter().find(|prefix| lower.starts_with(prefix)) {
        diags.push(invalid(
            path,
            "Invalid name",
            format!("name {name:?} starts with {prefix:?}, which SSM reserves for its own documents"),
        ));
    }
}

fn validate_group_names(value: &Value, diags: &mut Diagnostics) {
    let path = AttributePath::root("autoscaling_group_names");
    match value {
        Value::Set(items) | Value::List(items) => {
            if items.is_empty() {
                diags.push(invalid(
                    path.clone(),
                    "No Auto Scaling group",
                    "autoscaling_group_names is empty, expected at least one Auto Scaling group name".into(),
                ));
            }
            for item in items {
                if let Value::String(group) = item
                    && (group.is_empty() || group.len() > 255)
                {
                    diags.push(invalid(
                        path.clone(),
                        "Invalid Auto Scaling group name",
                        format!("autoscaling_group_names has a name of {} characters, expected 1 to 255", group.len()),
                    ));
                }
            }
        }
        _ => {}
    }
}

fn validate_log_retention(value: &Value, diags: &mut Diagnostics) {
    if let Field::Known(days) = number_field(value)
        && (days.fract() != 0.0 || !LOG_RETENTION_DAYS.contains(&(days as i64)))
    {
        let allowed: Vec<String> = LOG_RETENTION_DAYS.iter().map(|d| d.to_string()).collect();
        diags.push(invalid(
            AttributePath::root("log_retention_days"),
            "Invalid log_retention_days",
            format!("log_retention_days is {days}, expected one of {}", allowed.join(", ")),
        ));
    }
}

fn validate_iam_path(value: &Value, diags: &mut Diagnostics) {
    let Field::Known(path_text) = string_field(value) else { return };
    // IAM accepts any printable ASCII in a path (botocore iam `pathType`), but the handler role's ARN goes to Lambda,
    // whose `RoleArn` pattern allows only `[a-zA-Z_0-9+=,.@\-_/]` after `role/` (botocore lambda `RoleArn`).
    let lambda_char = |c: char| c.is_ascii_alphanumeric() || "+=,.@_/-".contains(c);
    let ok = path_text.starts_with('/')
        && path_text.ends_with('/')
        && path_text.len() <= 512
        && path_text.chars().all(lambda_char);
    if !ok {
        diags.push(invalid(
            AttributePath::root("iam_path"),
            "Invalid iam_path",
            format!(
                "iam_path is {path_text:?}, expected a path that begins and ends with '/', such as \"/\" or \
\"/graceful/\" (at most 512 characters: letters, digits and + = , . @ _ - /, which Lambda accepts in the role ARN)"
            ),
        ));
    }
}

fn validate_policy_arn(value: &Value, diags: &mut Diagnostics) {
    let Field::Known(arn) = string_field(value) else { return };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[5].starts_with("policy/");
    if !ok {
        diags.push(invalid(
            AttributePath::root("permissions_boundary"),
            "Invalid permissions_boundary",
            format!("permissions_boundary is {arn:?}, expected the ARN of an IAM policy, like \"arn:aws:iam::123456789012:policy/Boundary\""),
        ));
    }
}

fn validate_non_empty(value: &Value, attribute: &str, expected: &str, diags: &mut Diagnostics) {
    if let Field::Known(text) = string_field(value)
        && text.trim().is_empty()
    {
        diags.push(invalid(
            AttributePath::root(attribute),
            &format!("Invalid {attribute}"),
            format!("{attribute} is empty, expected {expected}"),
        ));
    }
}

/// The tag characters every tagged service accepts; IAM is the strictest: `[\p{L}\p{Z}\p{N}_.:/=+\-@]`
/// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html), keys 1 to 128, values 0 to 256 characters.
fn is_tag_char(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
}

/// AWS allows 50 tags per resource; the owner tag takes one.
pub const MAX_USER_TAGS: usize = 49;

/// The tag rules every taggable piece shares, for a map at `path` (named `label` in messages): a resource's `tags`
/// or the provider's `default_tags.tags`.
pub fn validate_tags(value: &Value, path: AttributePath, label: &str, diags: &mut Diagnostics) {
    let Value::Map(tags) = value else { return };
    if tags.len() > MAX_USER_TAGS {
        diags.push(invalid(
            path.clone(),
            "Too many tags",
            format!(
                "{label} has {} entries, expected at most {MAX_USER_TAGS} (AWS allows 50 per resource, and every \
object also carries {OWNER_TAG})",
                tags.len()
            ),
        ));
    }
    for (key, tag_value) in tags {
        let key_path = path.clone().key(key);
        let key_chars = key.chars().count();
        if key_chars == 0 || key_chars > 128 {
            diags.push(invalid(
                key_path.clone(),
                "Invalid tag key",
                format!("tag key {:?} has {key_chars} characters, expected 1 to 128", shorten(key)),
            ));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            diags.push(invalid(
                key_path.clone(),
                "Invalid tag key",
                format!("tag key {key:?} starts with \"aws:\", which AWS reserves"),
            ));
        }
        if key == OWNER_TAG {
            diags.push(invalid(
                key_path.clone(),
                "Invalid tag key",
                format!("tag key {OWNER_TAG:?} is reserved: it records which resource instance owns each object"),
            ));
        }
        if let Some(bad) = key.chars().find(|c| !is_tag_char(*c)) {
            diags.push(invalid(
                key_path.clone(),
                "Invalid tag key",
                format!(
                    "tag key {:?} contains {bad:?}, expected letters, digits, spaces and _ . : / = + - @",
                    shorten(key)
                ),
            ));
        }
        if let Value::String(text) = tag_value {
            let value_chars = text.chars().count();
            if value_chars > 256 {
                diags.push(invalid(
                    key_path.clone(),
                    "Invalid tag value",
                    format!("tag {:?} has a value of {value_chars} characters, expected at most 256", shorten(key)),
                ));
            }
            if let Some(bad) = text.chars().find(|c| !is_tag_char(*c)) {
                diags.push(invalid(
                    key_path,
                    "Invalid tag value",
                    format!(
                        "the value of tag {:?} contains {bad:?}, expected letters, digits, spaces and _ . : / = + - @",
                        shorten(key)
                    ),
                ));
            }
        }
    }
}

/// At most 64 characters of user input in a message: diagnostics echo no megabytes back.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

/// The `drain.nomad` block: only with the nomad preset, and settings that can reach an agent (each error names its
/// attribute).
fn validate_nomad(block: &Value, preset: &Field<String>, drain_path: &AttributePath, diags: &mut Diagnostics) {
    if block.is_null() {
        return;
    }
    let block_path = drain_path.clone().attr(NOMAD_BLOCK);
    if matches!(preset, Field::Known(p) if p == "command") {
        diags.push(invalid(
            block_path,
            "Unexpected drain.nomad block",
            "drain.nomad configures the nomad preset's connection, but drain.preset is \"command\": remove the block \
or set preset = \"nomad\""
                .into(),
        ));
        return;
    }
    let Some(input) = nomad_input(block) else { return };
    if let Err(error) = input.parse() {
        diags.push(invalid(block_path.attr(error.attribute), "Invalid drain.nomad setting", error.to_string()));
    }
}

fn validate_drain(drain: &Value, heartbeat: &Value, diags: &mut Diagnostics) {
    let drain_path = AttributePath::root("drain");
    if drain.is_unknown() {
        return;
    }
    let preset = string_field(drain.get("preset"));
    let command = string_field(drain.get("command"));
    // drain.preset: the values the schema declares.
    super::schema::nested(&super::schema::declared().block, "drain").check_allowed_values(
        drain,
        &drain_path,
        "drain.",
        diags,
    );
    let command_preset = matches!(&preset, Field::Known(p) if p == "command");
    if command_preset {
        let problem = match &command {
            Field::Null => Some(("Missing drain command", "drain.preset is \"command\", so drain.command is required")),
            Field::Known(c) if c.trim().is_empty() => Some(("Empty drain command", "drain.command is empty")),
            // The script travels in the handler's configuration, a Lambda environment variable; all of a function's
            // variables together may hold at most 4 KB
            // (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html).
            Field::Known(c) if c.len() > MAX_COMMAND_BYTES => Some((
                "Drain command too long",
                "drain.command is longer than 4096 bytes, more than a Lambda function's environment can hold",
            )),
            // SSM would read `{{ name }}` as a document parameter and refuse or rewrite the script.
            Field::Known(c) if c.contains("{{") => Some((
                "Invalid drain command",
                "drain.command contains \"{{\", which SSM reads as a document parameter; write it another way (e.g. \"{ {\")",
            )),
            _ => None,
        };
        if let Some((summary, what)) = problem {
            diags.push(invalid(
                drain_path.clone().attr("command"),
                summary,
                format!("{what}: expected the script that drains one instance (exit 0 = safe to terminate)"),
            ));
        }
    } else if !matches!(preset, Field::Unknown) && !matches!(command, Field::Null) {
        diags.push(invalid(
            drain_path.clone().attr("command"),
            "Unexpected drain command",
            "drain.command is only used with drain.preset = \"command\"; set that preset or remove command".into(),
        ));
    }
    validate_nomad(drain.get(NOMAD_BLOCK), &preset, &drain_path, diags);

    let timeout_seconds = match string_field(drain.get("timeout")) {
        Field::Unknown => return,
        Field::Null => budget::parse_duration(DEFAULT_TIMEOUT).expect("the default parses"),
        Field::Known(text) => match budget::parse_duration(&text) {
            Ok(seconds) => seconds,
            Err(error) => {
                diags.push(invalid(
                    drain_path.attr("timeout"),
                    "Invalid drain timeout",
                    format!("drain.timeout: {error}"),
                ));
                return;
            }
        },
    };
    if timeout_seconds > MAX_WAIT_SECONDS {
        diags.push(invalid(
            drain_path.attr("timeout"),
            "Drain timeout too long",
            format!(
                "drain.timeout is {}, expected at most 48h: AWS keeps an instance waiting at most 48 hours",
                shorten(&format_duration(timeout_seconds))
            ),
        ));
        return;
    }
    let heartbeat_override = match number_field(heartbeat) {
        Field::Unknown => return,
        Field::Null => None,
        Field::Known(seconds) if seconds.fract() != 0.0 || seconds < 0.0 => {
            diags.push(invalid(
                AttributePath::root("heartbeat_timeout"),
                "Invalid heartbeat_timeout",
                format!("heartbeat_timeout is {seconds}, expected a whole number of seconds"),
            ));
            return;
        }
        Field::Known(seconds)
            if seconds < MIN_USABLE_HEARTBEAT_SECONDS as f64 || seconds > HEARTBEAT_MAX_SECONDS as f64 =>
        {
            diags.push(invalid(
                AttributePath::root("heartbeat_timeout"),
                "Invalid heartbeat_timeout",
                format!(
                    "heartbeat_timeout is {seconds}, expected {MIN_USABLE_HEARTBEAT_SECONDS} to {HEARTBEAT_MAX_SECONDS} \
seconds (AWS accepts {HEARTBEAT_MIN_SECONDS} and up, but two of the handler's reconcile ticks must fit in every \
heartbeat window)"
                ),
            ));
            return;
        }
        Field::Known(seconds) => Some(seconds as u64),
    };
    if let Err(error) = budget::derive(timeout_seconds, heartbeat_override) {
        let path = match error {
            BudgetError::HeartbeatOutOfRange { .. } | BudgetError::HeartbeatTooShortForTicks { .. } => {
                AttributePath::root("heartbeat_timeout")
            }
            BudgetError::DrainTooShort { .. } => drain_path.attr("timeout"),
            BudgetError::ExceedsWaitCeiling { .. } if heartbeat_override.is_some() => {
                AttributePath::root("heartbeat_timeout")
            }
            BudgetError::ExceedsWaitCeiling { .. } => drain_path.attr("timeout"),
        };
        let summary = match error {
            BudgetError::DrainTooShort { .. } => "Drain timeout too short",
            _ if path.to_string() == "heartbeat_timeout" => "Invalid heartbeat_timeout",
            _ => "Drain budget AWS cannot honour",
        };
        diags.push(invalid(path, summary, format!("{TYPE_NAME}: {error}")));
    }
}
