"""Resource-based policies that let an AWS service act on a resource for one of its resources: a Lambda function's
policy (AddPermission) naming the service that invokes it.

Source: Lambda Developer Guide, "Viewing resource-based IAM policies in Lambda" / "Granting function access to AWS
services": a service such as Amazon SNS or Amazon EventBridge invokes a function only when the function's
resource-based policy allows that service principal `lambda:InvokeFunction`; AddPermission's `SourceArn` and
`SourceAccount` become the `AWS:SourceArn` (ArnLike) and `AWS:SourceAccount` (StringEquals) conditions, which the
service's request carries as the resource it acts for (IAM User Guide, "AWS global condition context keys":
aws:SourceArn, aws:SourceAccount). Evaluation: IAM User Guide, "Policy evaluation logic": an explicit Deny wins; a
resource-based policy's Allow for the principal is enough on its own (no identity policy exists for a service).
"""

import json

from . import policy_eval

# The emulator's delivery sources ("sns:<topic ARN>", "events:<rule ARN>") and the service principal behind each.
SERVICE_PRINCIPALS = {"sns": "sns.amazonaws.com", "events": "events.amazonaws.com"}


def names_principal(statement: dict, service: str) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    services = policy_eval.as_list(principal.get("Service", []))
    everyone = policy_eval.as_list(principal.get("AWS", []))
    return service in services or "*" in everyone


def service_may_invoke(policy_text: str | None, function_arn: str, source: str) -> tuple:
    """(allowed, reason) for the service behind `source` invoking the function whose policy is `policy_text`."""
    kind, _, source_arn = source.partition(":")
    service = SERVICE_PRINCIPALS.get(kind)
    if service is None:
        return True, "not a service delivery"
    if not policy_text:
        return False, f"the function has no resource-based policy allowing {service}"
    statements = [s for s in policy_eval.as_list(json.loads(policy_text).get("Statement") or [])
                  if names_principal(s, service)]
    account = source_arn.split(":")[4] if source_arn.count(":") >= 5 else ""
    request = policy_eval.Request(action="lambda:InvokeFunction", resource=function_arn,
                                  context={"aws:sourcearn": [source_arn], "aws:sourceaccount": [account]})
    effects = policy_eval.effects([{"Statement": statements}], request)
    if "Deny" in effects:
        return False, f"the function's resource-based policy denies {service} for {source_arn}"
    if "Allow" not in effects:
        return False, f"no statement of the function's resource-based policy allows {service} for {source_arn}"
    return True, "allowed"
