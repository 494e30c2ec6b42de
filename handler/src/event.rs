//! Every input the handler can receive, typed, and the one parser that turns a Lambda payload into them.
//!
//! Inputs arrive in an SNS envelope (possibly several records) or directly from EventBridge. Anything the parser
//! does not recognise becomes [`Event::Foreign`] with the reason: AWS retries a failed asynchronous invocation, so
//! garbage must be logged and dropped, never reported as an error.

use aws_smithy_types::date_time::Format;
use drain_contract::spot::{INTERRUPTION_DETAIL_TYPE, INTERRUPTION_SOURCE};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use drain_contract::lifecycle_states::TERMINATING_TRANSITION;
pub const TEST_NOTIFICATION_EVENT: &str = "autoscaling:TEST_NOTIFICATION";
const LIFECYCLE_DETAIL_TYPE: &str = "EC2 Instance-terminate Lifecycle Action";
const COMMAND_DETAIL_TYPE: &str = "EC2 Command Status-change Notification";
const INVOCATION_DETAIL_TYPE: &str = "EC2 Command Invocation Status-change Notification";
const SCHEDULED_DETAIL_TYPE: &str = "Scheduled Event";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// An instance of a group entered `Terminating:Wait` on a hook.
    Lifecycle(LifecycleNotice),
    /// Sent once when a hook with an SNS target is created: no instance, no token, nothing to do.
    TestNotification { group: String },
    /// An SSM command (or one instance's invocation of it) changed status.
    CommandStatus(CommandStatusNotice),
    /// The scheduled reconcile sweep.
    Tick,
    /// EC2 will interrupt a Spot Instance in two minutes (`EC2 Spot Instance Interruption Warning`); `action` is its
    /// `instance-action`: `terminate`, `stop` or `hibernate`.
    SpotInterruption { instance_id: String, action: String },
    /// Not an input of ours, or malformed: logged and dropped.
    Foreign { reason: String },
}

/// The fields of a lifecycle notification, the same in the SNS message and the EventBridge `detail`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleNotice {
    #[serde(rename = "AutoScalingGroupName")]
    pub group: String,
    #[serde(rename = "LifecycleHookName")]
    pub hook: String,
    #[serde(rename = "EC2InstanceId")]
    pub instance_id: String,
    #[serde(rename = "LifecycleActionToken")]
    pub token: String,
    #[serde(rename = "LifecycleTransition")]
    pub transition: String,
    #[serde(rename = "NotificationMetadata", default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
    /// When the lifecycle action began (SNS `Time`; EventBridge `time`), RFC 3339.
    #[serde(rename = "Time", default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// Whether a status notification is about the whole command or one instance's invocation of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusScope {
    Command,
    Invocation,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandStatusNotice {
    pub scope: StatusScope,
    pub command_id: String,
    pub document_name: String,
    pub instance_ids: Vec<String>,
    pub status: String,
    /// When the command was sent (`requestedDateTime`, epoch seconds), as the notification states it.
    pub requested_at: Option<u64>,
}

/// SSM status notification as SNS delivers it (camelCase; `instanceIds` for Command, `instanceId` for Invocation).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SnsCommandStatus {
    command_id: String,
    document_name: String,
    #[serde(default)]
    instance_ids: Option<Vec<String>>,
    #[serde(default)]
    instance_id: Option<String>,
    status: String,
    #[serde(default)]
    requested_date_time: Option<String>,
}

/// SSM status notification as EventBridge delivers it (kebab-case `detail`). A Command-scope event names no instance
/// in `detail`: its instances are the EC2 instance ARNs of the envelope's `resources` (Systems Manager User Guide,
/// "Amazon EventBridge event examples for Systems Manager", Run Command: `"resources": ["arn:aws:ec2:…:instance/i-…"]`
/// beside a `detail` of `command-id`, `document-name`, `expire-after`, `parameters`, `requested-date-time`, `status`).
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct EventBridgeCommandStatus {
    command_id: String,
    document_name: String,
    #[serde(default)]
    instance_id: Option<String>,
    status: String,
    #[serde(default)]
    requested_date_time: Option<String>,
}

/// The Spot interruption notice's `detail` (EC2 User Guide, "Spot Instance interruption notices": `instance-id`,
/// `instance-action`).
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct SpotInterruptionDetail {
    instance_id: String,
    instance_action: String,
}

/// Parses one Lambda payload into the events it carries (an SNS envelope can carry several).
pub fn parse(payload: &Value) -> Vec<Event> {
    if let Some(records) = payload.get("Records") {
        let Some(records) = records.as_array() else {
            return vec![foreign("`Records` is not an array")];
        };
        if records.is_empty() {
            return vec![foreign("`Records` is empty")];
        }
        return records.iter().enumerate().map(|(index, record)| parse_sns_record(index, record)).collect();
    }
    if payload.get("detail-type").is_some() {
        return vec![parse_eventbridge(payload)];
    }
    vec![foreign(format!("neither an SNS envelope nor an EventBridge event: {}", preview(payload)))]
}

fn parse_sns_record(index: usize, record: &Value) -> Event {
    let source = record.get("EventSource").and_then(Value::as_str).unwrap_or_default();
    if source != "aws:sns" {
        return foreign(format!("record {index}: EventSource {source:?}, expected \"aws:sns\""));
    }
    let Some(message) = record.pointer("/Sns/Message").and_then(Value::as_str) else {
        return foreign(format!("record {index}: no Sns.Message string"));
    };
    match serde_json::from_str::<Value>(message) {
        Ok(body) => parse_sns_message(&body)
            .unwrap_or_else(|reason| foreign(format!("record {index}: {reason}: {}", preview(&body)))),
        Err(error) => foreign(format!("record {index}: Sns.Message is not JSON ({error})")),
    }
}

fn parse_sns_message(body: &Value) -> Result<Event, String> {
    if let Some(kind) = body.get("Event").and_then(Value::as_str) {
        if kind == TEST_NOTIFICATION_EVENT {
            let group = body.get("AutoScalingGroupName").and_then(Value::as_str).unwrap_or_default();
            return Ok(Event::TestNotification { group: group.to_string() });
        }
        return Err(format!("Auto Scaling event {kind:?} is not a lifecycle action"));
    }
    if body.get("LifecycleTransition").is_some() {
        return lifecycle(body);
    }
    if body.get("commandId").is_some() {
        let status: SnsCommandStatus =
            serde_json::from_value(body.clone()).map_err(|e| format!("malformed SSM status notification: {e}"))?;
        let (scope, instance_ids) = match (status.instance_id, status.instance_ids) {
            (Some(id), _) => (StatusScope::Invocation, vec![id]),
            (None, Some(ids)) => (StatusScope::Command, ids),
            (None, None) => return Err("SSM status notification without instanceId or instanceIds".into()),
        };
        return Ok(Event::CommandStatus(CommandStatusNotice {
            scope,
            command_id: status.command_id,
            document_name: status.document_name,
            instance_ids,
            status: status.status,
            requested_at: status.requested_date_time.as_deref().and_then(parse_time),
        }));
    }
    Err("an SNS message of unknown kind".into())
}

fn parse_eventbridge(payload: &Value) -> Event {
    let detail_type = payload.get("detail-type").and_then(Value::as_str).unwrap_or_default();
    let source = payload.get("source").and_then(Value::as_str).unwrap_or_default();
    let detail = payload.get("detail").cloned().unwrap_or(Value::Null);
    let parsed = match (source, detail_type) {
        ("aws.events", SCHEDULED_DETAIL_TYPE) => Ok(Event::Tick),
        ("aws.autoscaling", LIFECYCLE_DETAIL_TYPE) => {
            let mut detail = detail;
            // EventBridge carries the action's start time on the envelope, not in `detail`.
            if let (Some(object), Some(time)) = (detail.as_object_mut(), payload.get("time")) {
                object.entry("Time").or_insert_with(|| time.clone());
            }
            lifecycle(&detail)
        }
        ("aws.ssm", COMMAND_DETAIL_TYPE | INVOCATION_DETAIL_TYPE) => {
            serde_json::from_value::<EventBridgeCommandStatus>(detail)
                .map_err(|e| format!("malformed SSM status event: {e}"))
                .map(|status| {
                    let scope = if detail_type == INVOCATION_DETAIL_TYPE {
                        StatusScope::Invocation
                    } else {
                        StatusScope::Command
                    };
                    Event::CommandStatus(CommandStatusNotice {
                        scope,
                        command_id: status.command_id,
                        document_name: status.document_name,
                        instance_ids: match status.instance_id {
                            Some(id) => vec![id],
                            None => instance_ids_of(payload.get("resources")),
                        },
                        status: status.status,
                        requested_at: status.requested_date_time.as_deref().and_then(parse_time),
                    })
                })
        }
        (INTERRUPTION_SOURCE, INTERRUPTION_DETAIL_TYPE) => serde_json::from_value::<SpotInterruptionDetail>(detail)
            .map_err(|e| format!("malformed Spot interruption notice: {e}"))
            .map(|notice| Event::SpotInterruption { instance_id: notice.instance_id, action: notice.instance_action }),
        _ => Err(format!("EventBridge event {source:?} / {detail_type:?} is not one of ours")),
    };
    parsed.unwrap_or_else(foreign)
}

/// The instance ids of an EventBridge envelope's `resources`: each `arn:<partition>:ec2:<region>:<account>:instance/<id>`
/// (other resources, such as a document's ARN, are not instances and are skipped).
fn instance_ids_of(resources: Option<&Value>) -> Vec<String> {
    let arns = resources.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    arns.iter().filter_map(Value::as_str).filter_map(instance_id_of_arn).map(str::to_string).collect()
}

fn instance_id_of_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("ec2"), Some(_region), Some(_account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    resource.strip_prefix("instance/").filter(|id| !id.is_empty())
}

fn lifecycle(body: &Value) -> Result<Event, String> {
    let notice: LifecycleNotice =
        serde_json::from_value(body.clone()).map_err(|e| format!("malformed lifecycle notification: {e}"))?;
    if notice.transition != TERMINATING_TRANSITION {
        return Err(format!("lifecycle transition {:?} is not {TERMINATING_TRANSITION}", notice.transition));
    }
    Ok(Event::Lifecycle(notice))
}

/// Epoch seconds of an RFC 3339 timestamp (`Time` of a lifecycle notification, `requestedDateTime` of a status one);
/// AWS writes `Z`, an offset is read too.
pub fn parse_time(text: &str) -> Option<u64> {
    aws_smithy_types::DateTime::from_str(text, Format::DateTimeWithOffset).ok().map(|t| t.secs().max(0) as u64)
}

fn foreign(reason: impl Into<String>) -> Event {
    Event::Foreign { reason: reason.into() }
}

/// The start of a payload for a log line, never the whole (possibly large) payload.
fn preview(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::{instance_id_of_arn, parse_time};

    #[test]
    fn reads_the_instance_id_of_an_ec2_instance_arn_only() {
        assert_eq!(instance_id_of_arn("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"), Some("i-0abc"));
        assert_eq!(instance_id_of_arn("arn:aws-cn:ec2:cn-north-1:123456789012:instance/i-0abc"), Some("i-0abc"));
        assert_eq!(instance_id_of_arn("arn:aws:ssm:us-east-1:123456789012:document/ci-drain"), None);
        assert_eq!(instance_id_of_arn("arn:aws:ec2:us-east-1:123456789012:volume/vol-1"), None);
        assert_eq!(instance_id_of_arn("arn:aws:ec2:us-east-1:123456789012:instance/"), None);
        assert_eq!(instance_id_of_arn("i-0abc"), None);
    }

    #[test]
    fn parses_the_notification_time_formats() {
        assert_eq!(parse_time("2026-11-25T21:00:00Z"), Some(1_795_640_400));
        assert_eq!(parse_time("2026-11-25T21:00:00.123Z"), Some(1_795_640_400));
        assert_eq!(parse_time("2026-11-25T21:00:00.123456+00:00"), Some(1_795_640_400));
        assert_eq!(parse_time("yesterday"), None);
    }
}
