"""SNS -> Lambda subscriptions: an AWS-shaped SNS event delivered asynchronously to the function's real code."""

import uuid

from moto.sns import models as sns_models

from . import lambda_runtime, state

_original_publish = sns_models.Subscription.publish


def sns_event(subscription, message: str, message_id: str, subject, message_attributes) -> dict:
    region = subscription.topic.sns_backend.region_name
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription.arn,
        "Sns": {
            "Type": "Notification", "MessageId": message_id, "TopicArn": subscription.topic.arn,
            "Subject": subject, "Message": message, "Timestamp": state.now_iso(), "SignatureVersion": "1",
            "Signature": "EXAMPLE", "SigningCertUrl": f"https://sns.{region}.amazonaws.com/"
            f"SimpleNotificationService-{uuid.uuid4().hex}.pem",
            "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
            f"{subscription.arn}",
            "MessageAttributes": {k: {"Type": v.get("Type"), "Value": v.get("Value")}
                                  for k, v in (message_attributes or {}).items()},
        }}]}


def _publish(self, message, message_id, subject=None, message_attributes=None, group_id=None,
             deduplication_id=None, message_structure=None):
    if self.protocol != "lambda":
        return _original_publish(self, message, message_id, subject=subject, message_attributes=message_attributes,
                                 group_id=group_id, deduplication_id=deduplication_id,
                                 message_structure=message_structure)
    if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(message_attributes,
                                                                                           message):
        return
    if message_structure == "json":
        message = self._parse_message_structure(message, self.protocol)
    parts = self.endpoint.split(":")
    account, region, function_name = parts[4], parts[3], parts[6]
    event = sns_event(self, message, message_id, subject, message_attributes)
    lambda_runtime.deliver_async(account, region, function_name, event, source=f"sns:{self.topic.arn}")


def install() -> None:
    sns_models.Subscription.publish = _publish
