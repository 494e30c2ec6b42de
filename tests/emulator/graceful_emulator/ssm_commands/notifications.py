"""SendCommand's NotificationConfig: AWS-shaped Command or Invocation status notifications to its topic, filtered by
NotificationEvents, published as the command's service role."""

import json

from .. import publish, state


def notify(command, invocation) -> None:
    """A notification for the invocation's new status, or with invocation None for the command's."""
    config = command.notification_config or {}
    arn = config.get("NotificationArn")
    if not arn:
        return
    events = config.get("NotificationEvents") or ["All"]
    kind = config.get("NotificationType", "Command")
    if kind == "Invocation" and invocation is not None:
        status = invocation.status
        body = {"commandId": command.command_id, "documentName": command.document_name,
                "instanceId": invocation.instance_id, "requestedDateTime": command.requested.isoformat(),
                "status": status, "detailedStatus": invocation.status_details, "eventTime": state.now_iso()}
    elif kind == "Command" and invocation is None:
        status = command.status
        body = {"commandId": command.command_id, "documentName": command.document_name,
                "instanceIds": command.instance_ids, "requestedDateTime": command.requested.isoformat(),
                "expiresAfter": command.expires_after.isoformat(), "outputS3BucketName": "",
                "outputS3KeyPrefix": "", "status": status, "eventTime": state.now_iso()}
    else:
        return
    if "All" not in events and status not in events:
        return
    try:
        publish.publish(arn, json.dumps(body), as_role=("ssm.amazonaws.com", command.service_role))
        state.log_event("command-notification", command_id=command.command_id, type=kind, status=status, target=arn)
    except Exception as error:
        state.log_event("command-notification-failed", command_id=command.command_id, target=arn, error=str(error))
