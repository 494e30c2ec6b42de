"""moto's SSM responses for Run Command: each reads the request's parameters, calls the account and region's
CommandRunner (models.py) and renders its answer."""

import datetime
import shutil

from moto.core.responses import ActionResult
from moto.ssm import responses as ssm_responses

from .. import ssm_document_rules
from . import models

OUTPUT_LIMIT = 24000


def _runner(response) -> models.CommandRunner:
    backend = response.ssm_backend
    return models.runner(backend.account_id, backend.region_name)


def _elapsed(invocation) -> str:
    if not invocation.start:
        return "PT0S"
    end = invocation.end or datetime.datetime.now(datetime.timezone.utc)
    return f"PT{(end - invocation.start).total_seconds():.3f}S"


def _command_view(command) -> dict:
    statuses = [i.status for i in command.invocations.values()]
    return {
        "CommandId": command.command_id, "DocumentName": command.document_name,
        "DocumentVersion": command.document_version, "Comment": command.comment,
        "ExpiresAfter": command.expires_after, "Parameters": command.parameters,
        "InstanceIds": command.instance_ids, "Targets": [], "RequestedDateTime": command.requested,
        "Status": command.status, "StatusDetails": command.status, "MaxConcurrency": command.max_concurrency,
        "MaxErrors": command.max_errors, "TargetCount": len(statuses),
        "CompletedCount": sum(s in models.TERMINAL for s in statuses),
        "ErrorCount": sum(s in ("Failed", "TimedOut") for s in statuses), "DeliveryTimedOutCount": 0,
        "ServiceRole": command.service_role, "NotificationConfig": command.notification_config,
        "CloudWatchOutputConfig": command.cloudwatch, "TimeoutSeconds": command.timeout_seconds,
    }


def _invocation_view(command, invocation, details: bool) -> dict:
    view = {
        "CommandId": command.command_id, "InstanceId": invocation.instance_id, "Comment": command.comment,
        "DocumentName": command.document_name, "DocumentVersion": command.document_version,
        "RequestedDateTime": command.requested, "Status": invocation.status,
        "StatusDetails": invocation.status_details, "ServiceRole": command.service_role,
        "NotificationConfig": command.notification_config, "CloudWatchOutputConfig": command.cloudwatch,
    }
    if details:
        view["CommandPlugins"] = [{
            "Name": "aws:runShellScript", "Status": invocation.status, "StatusDetails": invocation.status_details,
            "ResponseCode": invocation.response_code, "Output": invocation.stdout[:2500]}]
    return view


def _send_command(self):
    command = _runner(self).send_command(
        document_name=self._get_param("DocumentName"), document_version=self._get_param("DocumentVersion"),
        parameters=self._get_param("Parameters"), instance_ids=self._get_param("InstanceIds"),
        targets=self._get_param("Targets"), comment=self._get_param("Comment"),
        timeout_seconds=self._get_param("TimeoutSeconds"), notification_config=self._get_param("NotificationConfig"),
        service_role_arn=self._get_param("ServiceRoleArn"),
        cloudwatch_output_config=self._get_param("CloudWatchOutputConfig"),
        max_concurrency=self._get_param("MaxConcurrency"), max_errors=self._get_param("MaxErrors"))
    return ActionResult({"Command": _command_view(command)})


def _list_commands(self):
    found = _runner(self).list_commands(self._get_param("CommandId"), self._get_param("InstanceId"),
                                        self._get_param("Filters") or [])
    return ActionResult({"Commands": [_command_view(c) for c in found]})


def _list_command_invocations(self):
    details = bool(self._get_param("Details"))
    pairs = _runner(self).list_invocations(self._get_param("CommandId"), self._get_param("InstanceId"),
                                           self._get_param("Filters") or [])
    return ActionResult({"CommandInvocations": [_invocation_view(c, i, details) for c, i in pairs]})


def _get_command_invocation(self):
    command, invocation = _runner(self).get_invocation(self._get_param("CommandId"), self._get_param("InstanceId"))
    return ActionResult({
        "CommandId": command.command_id, "InstanceId": invocation.instance_id, "Comment": command.comment,
        "DocumentName": command.document_name, "DocumentVersion": command.document_version,
        "PluginName": self._get_param("PluginName") or "aws:runShellScript",
        "ResponseCode": invocation.response_code,
        "ExecutionStartDateTime": invocation.start.isoformat() if invocation.start else "",
        "ExecutionElapsedTime": _elapsed(invocation),
        "ExecutionEndDateTime": invocation.end.isoformat() if invocation.end else "",
        "Status": invocation.status, "StatusDetails": invocation.status_details,
        "StandardOutputContent": invocation.stdout[:OUTPUT_LIMIT], "StandardOutputUrl": "",
        "StandardErrorContent": invocation.stderr[:OUTPUT_LIMIT], "StandardErrorUrl": "",
        "CloudWatchOutputConfig": command.cloudwatch,
    })


def _cancel_command(self):
    _runner(self).cancel_command(self._get_param("CommandId"), self._get_param("InstanceIds") or [])
    return ActionResult({})


def _describe_instance_information(self):
    wanted = set(self._get_param("InstanceInformationFilterList") and [
        v for f in self._get_param("InstanceInformationFilterList") if f.get("key") == "InstanceIds"
        for v in f.get("valueSet", [])] or [])
    ping_filter = set()
    for item in self._get_param("Filters") or []:
        if item.get("Key") == "InstanceIds":
            wanted.update(item.get("Values", []))
        elif item.get("Key") == "PingStatus":
            ping_filter.update(item.get("Values", []))
    runner = _runner(self)
    infos = [{"InstanceId": instance.id, "PingStatus": agent["ping_status"],
              "LastPingDateTime": datetime.datetime.now(datetime.timezone.utc),
              "AgentVersion": "3.3.0.0", "IsLatestVersion": True,
              "PlatformType": ssm_document_rules.platform_type(runner.account_id, runner.region_name, instance.id),
              "PlatformName": "Amazon Linux", "PlatformVersion": "2023", "ResourceType": "EC2Instance",
              "IPAddress": instance.private_ip, "ComputerName": f"{instance.id}.ec2.internal"}
             for instance, agent in runner.managed_instances(wanted, ping_filter)]
    return ActionResult({"InstanceInformationList": infos})


def install() -> None:
    cls = ssm_responses.SimpleSystemManagerResponse
    cls.send_command = _send_command
    cls.list_commands = _list_commands
    cls.list_command_invocations = _list_command_invocations
    cls.get_command_invocation = _get_command_invocation
    cls.cancel_command = _cancel_command
    cls.describe_instance_information = _describe_instance_information
    shutil.which("bash") or print("[graceful] warning: bash not found; SSM commands cannot run", flush=True)
