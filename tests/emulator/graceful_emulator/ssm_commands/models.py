"""Run Command's state and rules: a CommandRunner per account and region owns its commands (records: Command,
Invocation), and holds SendCommand's checks, the status aggregation, CancelCommand and the listings' filters.
EC2's TerminateInstances is patched to tell the runner (install)."""

import datetime
import threading
import uuid
from dataclasses import dataclass, field

from moto.ec2.models.instances import InstanceBackend
from moto.ssm.exceptions import SSMException
from moto.ssm.models import ssm_backends

from .. import ssm_consistency, state
from . import documents, execution, instances, notifications, processes

TERMINAL = ("Success", "Failed", "TimedOut", "Cancelled")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _timestamp(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(eq=False)
class Invocation:
    """One instance's run of a command."""
    instance_id: str
    status: str = "Pending"
    status_details: str = "Pending"
    response_code: int = -1
    stdout: str = ""
    stderr: str = ""
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    shells: list = field(default_factory=list)  # the steps' bash processes (subprocess.Popen), see processes.kill
    lock: threading.Lock = field(default_factory=threading.Lock)  # held while a step's shell starts


@dataclass(eq=False)
class Command:
    command_id: str
    account: str
    region: str
    document_name: str
    document_version: str
    comment: str
    parameters: dict  # as given to SendCommand, not resolved
    instance_ids: list
    requested: datetime.datetime
    expires_after: datetime.datetime
    timeout_seconds: int
    notification_config: dict
    service_role: str
    cloudwatch: dict  # CloudWatchOutputConfig
    max_concurrency: str
    max_errors: str
    invocations: dict = field(default_factory=dict)  # instance id -> Invocation
    status: str = "Pending"
    visible_at: float = 0.0  # time.monotonic() from which the listings show it (ssm_consistency.stamp)

    def aggregate(self) -> str:
        """The command's status from its invocations'."""
        statuses = [i.status for i in self.invocations.values()]
        if all(s == "Pending" for s in statuses):
            return "Pending"
        if not all(s in TERMINAL for s in statuses):
            return "InProgress"
        for status in ("TimedOut", "Failed", "Cancelled"):
            if status in statuses:
                return status
        return "Success"

    def matches(self, filters: list) -> bool:
        """ListCommands / ListCommandInvocations Filters (key Status, DocumentName, InvokedAfter, InvokedBefore,
        ExecutionStage)."""
        for item in filters:
            key, value = item.get("key") or item.get("Key"), item.get("value") or item.get("Value")
            if key == "Status" and self.status != value:
                return False
            if key == "DocumentName" and self.document_name != value:
                return False
            if key == "InvokedAfter" and self.requested < _timestamp(value):
                return False
            if key == "InvokedBefore" and self.requested > _timestamp(value):
                return False
            if key == "ExecutionStage":
                executing = self.status in ("Pending", "InProgress")
                if (value == "Executing") != executing:
                    return False
        return True


class CommandRunner:
    """The Run Command side of SSM in one account and region."""

    def __init__(self, account_id: str, region_name: str):
        self.account_id = account_id
        self.region_name = region_name
        self.commands: dict = {}  # command id -> Command
        self.terminated: set = set()  # ids of the instances terminated since the last reset

    def send_command(self, *, document_name, document_version, parameters, instance_ids, targets, comment,
                     timeout_seconds, notification_config, service_role_arn, cloudwatch_output_config,
                     max_concurrency, max_errors) -> Command:
        """Checks the request, records the command and starts one invocation per instance."""
        account, region = self.account_id, self.region_name
        if not document_name:
            raise SSMException("ValidationException", "DocumentName is required")
        document = documents.load(ssm_backends[account][region], document_name, document_version)
        resolved = documents.resolve_parameters(document.content, parameters or {})
        steps = documents.shell_steps(document.content, resolved)
        instance_ids = list(dict.fromkeys(instance_ids or []))
        if targets:
            raise SSMException("InvalidParameters", "the emulator supports InstanceIds only, not Targets")
        if not instance_ids:
            raise SSMException("InvalidParameters", "InstanceIds must name at least one instance")
        running = instances.running(account, region)
        invalid = [i for i in instance_ids if i not in running or instances.agent_of(i)["ping_status"] != "Online"
                   or not instances.agent_of(i)["managed"]]
        if invalid:
            raise SSMException("InvalidInstanceId", f"Instances [{', '.join(invalid)}] not in a valid state for "
                               f"account {account}")
        comment = comment or ""
        if len(comment) > 100:
            raise SSMException("ValidationException", "Comment must be at most 100 characters")
        requested = _now()
        timeout = int(timeout_seconds or 3600)
        command = Command(
            command_id=str(uuid.uuid4()), account=account, region=region, document_name=document_name,
            document_version=document_version or document.version, comment=comment, parameters=parameters or {},
            instance_ids=instance_ids, requested=requested,
            expires_after=requested + datetime.timedelta(seconds=timeout), timeout_seconds=timeout,
            notification_config=notification_config or {}, service_role=service_role_arn or "",
            cloudwatch=cloudwatch_output_config or {"CloudWatchOutputEnabled": False},
            max_concurrency=max_concurrency or "50", max_errors=max_errors or "0",
            invocations={instance_id: Invocation(instance_id) for instance_id in instance_ids})
        ssm_consistency.stamp(command)
        with state.LOCK:
            self.commands[command.command_id] = command
        state.log_event("command-sent", command_id=command.command_id, document=document_name,
                        instance_ids=instance_ids, parameters=command.parameters)
        for invocation in command.invocations.values():
            threading.Thread(target=execution.run, args=(self, command, invocation, steps), daemon=True).start()
        return command

    def set_status(self, command: Command, invocation: Invocation, status: str, details: str) -> None:
        """Records an invocation's new status and notifies it, and the command's when that changes too."""
        with state.LOCK:
            invocation.status = status
            invocation.status_details = details
            before = command.status
            command.status = command.aggregate()
        state.log_event("command-status", command_id=command.command_id, instance_id=invocation.instance_id,
                        status=status, response_code=invocation.response_code)
        notifications.notify(command, invocation)
        if command.status != before:
            notifications.notify(command, None)

    def cancel_command(self, command_id: str, instance_ids: list) -> None:
        command = self.commands.get(command_id)
        if command is None:
            raise SSMException("InvalidCommandId", "Invalid command id.")
        # The sender knows the ID from SendCommand's answer: only the listings lag (ssm_consistency), not the cancel.
        ssm_consistency.cancel(command_id, lambda: self._cancel_now(command, instance_ids))

    def _cancel_now(self, command: Command, instance_ids: list) -> None:
        for instance_id, invocation in command.invocations.items():
            if instance_ids and instance_id not in instance_ids:
                continue
            with state.LOCK:
                if invocation.status in TERMINAL:
                    continue
                with invocation.lock:
                    invocation.status = "Cancelled"
                    invocation.response_code = -1
                    processes.kill(invocation, reap=True)
            state.log_event("command-cancelled", command_id=command.command_id, instance_id=instance_id)
            invocation.status = "InProgress"  # so set_status sees a transition
            self.set_status(command, invocation, "Cancelled", "Cancelled")

    def list_commands(self, command_id: str | None, instance_id: str | None, filters: list) -> list:
        """The visible commands that match, newest first."""
        if command_id and (command_id not in self.commands or not ssm_consistency.visible(self.commands[command_id])):
            raise SSMException("InvalidCommandId", "Invalid command id.")
        found = [c for c in self.commands.values() if ssm_consistency.visible(c)
                 and (not command_id or c.command_id == command_id)
                 and (not instance_id or instance_id in c.invocations) and c.matches(filters)]
        found.sort(key=lambda c: c.requested, reverse=True)
        return found

    def list_invocations(self, command_id: str | None, instance_id: str | None, filters: list) -> list:
        """(command, invocation) of the visible commands that match, newest command first."""
        pairs = []
        for command in sorted(self.commands.values(), key=lambda c: c.requested, reverse=True):
            if (command_id and command.command_id != command_id) or not ssm_consistency.visible(command):
                continue
            if not command.matches(filters):
                continue
            for invocation in command.invocations.values():
                if not instance_id or invocation.instance_id == instance_id:
                    pairs.append((command, invocation))
        return pairs

    def get_invocation(self, command_id: str, instance_id: str) -> tuple:
        command = self.commands.get(command_id)
        if command is None or instance_id not in command.invocations or not ssm_consistency.visible(command):
            raise SSMException("InvocationDoesNotExist", "An error occurred (InvocationDoesNotExist) when calling "
                               "the GetCommandInvocation operation")
        return command, command.invocations[instance_id]

    def managed_instances(self, wanted: set, ping_statuses: set) -> list:
        """(instance, agent) of the running instances whose agent is managed, by instance id and ping status."""
        found = []
        for instance_id, instance in sorted(instances.running(self.account_id, self.region_name).items()):
            agent = instances.agent_of(instance_id)
            if not agent["managed"] or (wanted and instance_id not in wanted):
                continue
            if ping_statuses and agent["ping_status"] not in ping_statuses:
                continue
            found.append((instance, agent))
        return found

    def instance_terminated(self, instance_ids: list) -> None:
        """Terminating an instance ends what finished scripts left running on it, such as a drain script's background
        `sleep`. A script still running is left to finish and report, as before (see execution.run)."""
        with state.LOCK:
            self.terminated.update(instance_ids)
            invocations = [c.invocations[i] for c in self.commands.values() for i in instance_ids if i in c.invocations]
        for invocation in invocations:
            processes.kill(invocation, reap=True, exited_only=True)


# (account id, region) -> CommandRunner. Not moto's BackendDict: moto's own reset (the last step of the control
# reset, or /moto-api/reset) would drop the runners without killing their scripts; reset() below kills them first.
_RUNNERS: dict = {}


def runner(account_id: str, region_name: str) -> CommandRunner:
    with state.LOCK:
        key = (account_id, region_name)
        if key not in _RUNNERS:
            _RUNNERS[key] = CommandRunner(account_id, region_name)
        return _RUNNERS[key]


def _all_commands() -> list:
    with state.LOCK:
        return [c for r in _RUNNERS.values() for c in r.commands.values()]


def reset() -> None:
    """Kills every running command and forgets all commands."""
    with state.LOCK:
        commands = _all_commands()
        _RUNNERS.clear()
    for command in commands:
        for invocation in command.invocations.values():
            processes.kill(invocation, reap=True)


def kill_all() -> None:
    """At exit: kills every command's process groups (without the lock, which a stuck thread may hold)."""
    for command in [c for r in list(_RUNNERS.values()) for c in list(r.commands.values())]:
        for invocation in command.invocations.values():
            processes.kill(invocation)


_original_terminate_instances = InstanceBackend.terminate_instances


def _terminate_instances(self, instance_ids):
    terminated = _original_terminate_instances(self, instance_ids)
    runner(self.account_id, self.region_name).instance_terminated([instance.id for instance, _ in terminated])
    return terminated


def install() -> None:
    """EC2's TerminateInstances tells the instance's runner (CommandRunner.instance_terminated)."""
    InstanceBackend.terminate_instances = _terminate_instances
