"""Authorises a call made with a role session's credentials; other credentials (the Terraform user's) stay
unrestricted, as an administrator's would.

Denials answer as each service does: Auto Scaling, IAM and STS `AccessDenied` (403), SNS `AuthorizationError`
(403), SSM, CloudWatch Logs, EventBridge and KMS `AccessDeniedException` (400), Lambda `AccessDeniedException`
(403) (each API reference's Common Errors / error shapes), worded "User: <session ARN> is not authorized to
perform: <action> on resource: <ARN> because no identity-based policy allows the <action> action" (IAM user guide,
"Troubleshoot access denied error messages").
"""

import json
from urllib.parse import unquote

from moto.iam.models import iam_backends

from .. import sigv4, state
from ..validation.rejection import Rejection
from . import policy_eval, request_context, sar, sessions

_DENIED = {"autoscaling": ("AccessDenied", 403), "iam": ("AccessDenied", 403), "sts": ("AccessDenied", 403),
           "sns": ("AuthorizationError", 403), "ssm": ("AccessDeniedException", 400),
           "logs": ("AccessDeniedException", 400), "events": ("AccessDeniedException", 400),
           "kms": ("AccessDeniedException", 400), "lambda": ("AccessDeniedException", 403)}
# "No permissions are required to perform this operation" (STS API reference, GetCallerIdentity).
_NEEDS_NO_PERMISSION = {("sts", "GetCallerIdentity")}
_WHY = {"explicit-deny-identity": "with an explicit deny in an identity-based policy",
        "explicit-deny-boundary": "with an explicit deny in a permissions boundary",
        "no-identity-allow": "because no identity-based policy allows the {action} action",
        "no-boundary-allow": "because no permissions boundary allows the {action} action"}


def document(text) -> dict:
    if isinstance(text, dict):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(unquote(text))


def default_document(policy) -> dict:
    return document(next(v.document for v in policy.versions if v.is_default))


def policies_of(session) -> tuple:
    backend = iam_backends[session.account]["aws"]
    role_name = session.role_arn.rsplit("/", 1)[-1]
    role = next((r for r in backend.roles.values() if r.name == role_name), None)
    if role is None:
        return [], None
    identity = [document(doc) for doc in role.policies.values()]
    identity += [default_document(p) for p in role.managed_policies.values()]
    boundary = None
    if role.permissions_boundary_arn:
        boundary_policy = backend.managed_policies.get(role.permissions_boundary_arn)
        boundary = default_document(boundary_policy) if boundary_policy else {"Statement": []}
    return identity, boundary


def check(environ: dict, service: str, operation: str, members: dict):
    signed = sigv4.scope(environ)
    session = sessions.by_access_key(signed.access_key_id) if signed else None
    if session is None or (service, operation) in _NEEDS_NO_PERMISSION:
        return None
    region = signed.region
    action_name = sar.action_for(service, operation)
    if action_name is None:
        return None  # not an authorised action in the SAR (moto answers unknown operations itself)
    action = f"{service}:{action_name}"
    global_keys = sar.privilege(service, action_name)["resource_types"].get("", {}).get("condition_keys") or []
    identity, boundary = policies_of(session)
    for resource in request_context.resources(service, action_name, members, session.account, region):
        request = policy_eval.Request(action, resource.arn,
                                      request_context.context(session, region, resource, global_keys))
        decision = policy_eval.evaluate(identity, boundary, request)
        if not decision.allowed:
            code, status = _DENIED[service]
            why = _WHY[decision.reason].format(action=action)
            message = (f"User: {session.session_arn} is not authorized to perform: {action} on resource: "
                       f"{resource.arn} {why}")
            state.log_event("access-denied", service=service, action=action, resource=resource.arn,
                            principal=session.session_arn, reason=decision.reason)
            return Rejection(code, status, message, decision.reason)
    return None
