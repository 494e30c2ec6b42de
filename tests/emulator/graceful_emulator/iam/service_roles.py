"""A service acting with a role the customer passed it: Auto Scaling publishing lifecycle notifications with a hook's
RoleARN, SSM publishing command status notifications with SendCommand's ServiceRoleArn.

Sources: EC2 Auto Scaling User Guide, "Configure a notification target for lifecycle notifications" (the role must
let Auto Scaling assume it, `autoscaling.amazonaws.com` in its trust policy, and allow `sns:Publish` on the topic or
`sqs:SendMessage` on the queue; PutLifecycleHook sends a test message and fails when it cannot be published); AWS
Systems Manager User Guide, "Configure Amazon SNS notifications for AWS Systems Manager" (the notification role
trusts `ssm.amazonaws.com` and allows `sns:Publish` on the topic). The service first assumes the role (its trust
policy must allow the service principal `sts:AssumeRole`; IAM User Guide, "Roles terms and concepts": trust policy),
then calls with the role's permissions: identity policies and permissions boundary, as policy_eval evaluates them.
No condition keys are put in the context: which ones each service sends when it assumes a role is not documented,
so a trust policy conditioned on them fails here rather than passing on a guess.
Not modelled: the topic's own policy and the KMS key policy of an encrypted topic.
"""

from types import SimpleNamespace

from moto.iam.models import iam_backends

from . import policy_eval
from .authorize import document, policies_of
from .resource_policy import names_principal


def _role(account: str, role_arn: str):
    name = role_arn.rsplit("/", 1)[-1]
    return next((r for r in iam_backends[account]["aws"].roles.values() if r.name == name), None)


def may_deliver(account: str, role_arn: str | None, service: str, target_arn: str) -> tuple:
    """(allowed, reason) for `service` publishing to `target_arn` (SNS topic or SQS queue) as `role_arn`."""
    if not role_arn:
        return False, f"no role was given for {service} to publish with"
    role = _role(account, role_arn)
    if role is None:
        return False, f"role {role_arn} does not exist"
    trust = document(role.assume_role_policy_document)
    # A trust policy's statements name no Resource: the role itself is the resource.
    statements = [{**s, "Resource": role.arn} for s in policy_eval.as_list(trust.get("Statement") or [])
                  if names_principal(s, service)]
    assume = policy_eval.Request(action="sts:AssumeRole", resource=role.arn, context={})
    effects = policy_eval.effects([{"Statement": statements}], assume)
    if "Deny" in effects or "Allow" not in effects:
        return False, f"the trust policy of {role_arn} does not let {service} assume it"
    action = "sns:Publish" if target_arn.split(":")[2] == "sns" else "sqs:SendMessage"
    identity, boundary = policies_of(SimpleNamespace(account=account, role_arn=role_arn))
    decision = policy_eval.evaluate(identity, boundary, policy_eval.Request(action, target_arn, {}))
    if not decision.allowed:
        return False, f"{role_arn} may not {action} on {target_arn} ({decision.reason})"
    return True, "allowed"
