//! The Lambda payloads of the world's notifications, in the shapes AWS delivers them: SNS envelopes of the hook's
//! lifecycle notification and of SSM's invocation status notification (the handler's fixtures
//! `sns-lifecycle-terminating.json` and `sns-invocation-status.json` are captured ones), and EventBridge's
//! scheduled event for the reconcile tick.

use crate::world::{GROUP, Notification, World};
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use drain_contract::HandlerConfig;
use serde_json::{Value, json};

fn rfc3339(epoch_seconds: u64) -> String {
    DateTime::from_secs(epoch_seconds as i64).fmt(Format::DateTime).expect("an epoch second formats")
}

fn sns(message: Value) -> Value {
    json!({ "Records": [{ "EventSource": "aws:sns", "Sns": { "Type": "Notification", "Message": message.to_string() } }] })
}

/// The payload delivering `notification`.
pub fn payload(world: &World, config: &HandlerConfig, notification: &Notification) -> Value {
    match notification {
        Notification::Lifecycle { instance } => {
            let target = &world.instances[*instance];
            let action = target.action.as_ref().expect("a lifecycle notification follows a scale-in");
            sns(json!({
                "Origin": "AutoScalingGroup",
                "Destination": "EC2",
                "AutoScalingGroupName": GROUP,
                "LifecycleHookName": config.hook_name,
                "EC2InstanceId": target.id,
                "LifecycleActionToken": action.token,
                "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
                "NotificationMetadata": config.notification_metadata,
                "Time": rfc3339(action.started),
            }))
        }
        Notification::CommandStatus { command, status } => {
            let sent = &world.commands[*command];
            sns(json!({
                "commandId": sent.id,
                "documentName": config.document_name,
                "instanceId": world.instances[sent.instance].id,
                "requestedDateTime": rfc3339(sent.requested_at),
                "status": status.as_str(),
                "detailedStatus": status.as_str(),
            }))
        }
    }
}

/// The scheduled reconcile tick.
pub fn tick() -> Value {
    json!({ "detail-type": "Scheduled Event", "source": "aws.events", "detail": {} })
}
