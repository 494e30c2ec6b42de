"""Publishing a notification to an SNS topic or SQS queue ARN from inside the emulator (as AWS services do)."""

from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

from .iam import service_roles
from .validation import gate


def arn_parts(arn: str) -> tuple:
    """(service, region, account, resource) of an ARN."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {arn!r}")
    return parts[2], parts[3], parts[4], parts[5]


def target_exists(arn: str) -> bool:
    try:
        service, region, account, resource = arn_parts(arn)
    except ValueError:
        return False
    if service == "sns":
        return arn in sns_backends[account][region].topics
    if service == "sqs":
        return resource in sqs_backends[account][region].queues
    return False


class NotAuthorized(Exception):
    """The service could not publish with the role it was given (see iam/service_roles.py)."""


def publish(arn: str, message: str, subject: str | None = None, as_role: tuple | None = None) -> None:
    """Publishes as an AWS service does; `as_role` = (service principal, role ARN) it publishes with."""
    service, region, account, resource = arn_parts(arn)
    if as_role is not None and gate.SETTINGS.iam_enforced:
        allowed, reason = service_roles.may_deliver(account, as_role[1], as_role[0], arn)
        if not allowed:
            raise NotAuthorized(reason)
    if service == "sns":
        sns_backends[account][region].publish(message, arn=arn, subject=subject)
    elif service == "sqs":
        sqs_backends[account][region].send_message(resource, message)
    else:
        raise ValueError(f"cannot publish to {arn!r}: only SNS topics and SQS queues are notification targets")
