"""SSM Run Command that really runs: the document's steps as local processes, one per instance, skipped and
aggregated as the SSM agent does (ssm_document_rules).

Each invocation runs in its own temp dir and process group, with a stand-in `nomad` and the AWS CLI (awscli v1 from
the emulator's venv, talking to the emulator) first on PATH, under bash (as on Amazon Linux, where the agent's `sh` is
bash, and where the AWS CLI is installed). Status goes Pending -> InProgress -> Success / Failed / TimedOut (the
step's `timeoutSeconds`, real seconds) / Cancelled, and NotificationConfig topics receive AWS-shaped notifications.
"""

import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import yaml
from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends
from moto.ec2.models.instances import InstanceBackend
from moto.logs.models import logs_backends
from moto.ssm import responses as ssm_responses
from moto.ssm.exceptions import SSMException

from . import nomad_world, publish, ssm_consistency, ssm_document_rules, state
from .iam import sessions

TERMINAL = ("Success", "Failed", "TimedOut", "Cancelled")
OUTPUT_LIMIT = 24000
COMMANDS: dict = {}  # command id -> command dict
TERMINATED: set = set()  # ids of the instances terminated since the last reset
WORK_ROOT = {"path": None}


def _error(code: str, message: str) -> SSMException:
    return SSMException(code, message)


def work_root() -> str:
    if WORK_ROOT["path"] is None:
        WORK_ROOT["path"] = tempfile.mkdtemp(prefix="graceful-emulator-")
        bin_dir = os.path.join(WORK_ROOT["path"], "bin")
        os.makedirs(bin_dir)
        nomad = os.path.join(bin_dir, "nomad")
        with open(nomad, "w") as handle:
            handle.write(f"#!{shutil.which('bash') or '/bin/bash'}\n")
            handle.write(open(os.path.join(os.path.dirname(__file__), "nomad_standin.sh")).read())
        os.chmod(nomad, 0o755)
        aws = os.path.join(os.path.dirname(sys.executable), "aws")  # awscli, pinned in requirements.txt
        if os.path.isfile(aws):
            os.symlink(aws, os.path.join(bin_dir, "aws"))
    return WORK_ROOT["path"]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def reset() -> None:
    """Kills every running command and forgets all commands."""
    with state.LOCK:
        commands = list(COMMANDS.values())
        COMMANDS.clear()
        TERMINATED.clear()
    for command in commands:
        for invocation in command["invocations"].values():
            _kill(invocation, reap=True)


def _kill(invocation: dict, reap: bool = False, exited_only: bool = False) -> None:
    """SIGKILLs the process groups of the invocation's step shells: each shell and whatever its script started.

    A shell that exits by itself is reaped only here with reap=True (cancel, timeout, its instance terminating, reset):
    while it is an unreaped zombie its pid cannot be reused, so its process group id still names only this script's
    processes, such as a `sleep` it left in the background (pid_max is often 32768: a freed id is soon reused)."""
    for shell in invocation.get("shells", []):
        if shell.returncode is None and not (exited_only and not _exited(shell)):
            try:
                os.killpg(shell.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if reap:
                shell.wait()


def _exited(shell: subprocess.Popen) -> bool:
    try:
        return os.waitid(os.P_PID, shell.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _instance_terminated(instance_ids) -> None:
    """Terminating an instance ends what finished scripts left running on it, such as a drain script's background
    `sleep`. A script still running is left to finish and report, as before (see _run_invocation)."""
    with state.LOCK:
        TERMINATED.update(instance_ids)
        invocations = [c["invocations"][i] for c in COMMANDS.values() for i in instance_ids if i in c["invocations"]]
    for invocation in invocations:
        _kill(invocation, reap=True, exited_only=True)


def _wait_unreaped(shell: subprocess.Popen, timeout: float):
    """The shell's exit code (negative: killed by that signal), or None if it ran out of `timeout` and was killed.

    Blocks in waitid (no polling: hundreds of scripts wait at once) and leaves the shell unreaped (see _kill)."""
    timed_out = []

    def expire():
        timed_out.append(True)
        try:
            os.killpg(shell.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    try:
        info = os.waitid(os.P_PID, shell.pid, os.WEXITED | os.WNOWAIT)
    except ChildProcessError:  # CancelCommand killed and reaped it meanwhile
        return shell.returncode
    finally:
        timer.cancel()
    if timed_out:
        shell.wait()
        return None
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


# --- documents -------------------------------------------------------------------------------------------------

def _load_document(backend, name: str, version: str | None) -> dict:
    documents = backend._documents.get(name)
    if not documents:
        raise _error("InvalidDocument", "The specified document does not exist.")
    document = documents.find(version, None) if version else documents.get_default_version()
    if document is None:
        raise _error("InvalidDocumentVersion", f"The document version {version} is not valid or does not exist.")
    if document.document_type != "Command":
        raise _error("InvalidDocument", f"Document {name} is of type {document.document_type}; SendCommand needs "
                     "a Command document.")
    content = json.loads(document.content) if document.document_format == "JSON" else yaml.safe_load(document.content)
    return {"content": content, "version": document.document_version}


def _resolve_parameters(content: dict, given: dict) -> dict:
    declared = content.get("parameters") or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise _error("InvalidParameters", f"document does not support parameters: {', '.join(unknown)}")
    resolved = {}
    for name, spec in declared.items():
        if name in given:
            resolved[name] = given[name]
        elif "default" in spec:
            default = spec["default"]
            resolved[name] = default if isinstance(default, list) else [str(default)]
        else:
            raise _error("InvalidParameters", f"document requires parameter {name!r}, which was not given")
    ssm_document_rules.check_parameter_values(declared, resolved)
    return resolved


def _substitute(text: str, parameters: dict) -> str:
    def value(match):
        name = match.group(1)
        if name not in parameters:
            return match.group(0)
        return "\n".join(parameters[name])
    return re.sub(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}", value, text)


# The emulator has no PowerShell. An aws:runPowerShellScript step may hold only lines it can run exactly:
# `Write-Output '<text>'` (prints the text and a newline; a single-quoted PowerShell string is literal, '' being one
# quote) and `exit <n>` (the step's exit code). Anything else is refused at SendCommand, not run differently.
_POWERSHELL_LINE = re.compile(r"^\s*(?:Write-Output\s+'((?:[^']|'')*)'|exit\s+(-?[0-9]+))\s*$")


def _powershell_as_sh(step_name: str, commands: list) -> str:
    lines = []
    for command in commands:
        match = _POWERSHELL_LINE.match(command)
        if match is None:
            raise _error("InvalidDocument", f"step {step_name}: the emulator runs aws:runPowerShellScript lines of "
                         f"the form Write-Output '<text>' or exit <n> only, not {command!r}")
        if match.group(2) is not None:
            lines.append(f"exit {match.group(2)}")
        else:
            text = match.group(1).replace("''", "'")
            lines.append("printf '%s\\n' '" + text.replace("'", "'\\''") + "'")
    return "\n".join(lines)


def _shell_steps(content: dict, parameters: dict) -> list:
    steps = []
    for index, step in enumerate(content.get("mainSteps") or []):
        action = step.get("action")
        name = step.get("name", f"step{index}")
        if action not in ("aws:runShellScript", "aws:runPowerShellScript"):
            raise _error("InvalidDocument", f"step {name}: the emulator runs only aws:runShellScript and "
                         "aws:runPowerShellScript steps")
        inputs = step.get("inputs") or {}
        commands = inputs.get("runCommand") or []
        if isinstance(commands, str):
            commands = [commands]
        commands = [_substitute(c, parameters) for c in commands]
        script = "\n".join(commands) if action == "aws:runShellScript" else _powershell_as_sh(name, commands)
        timeout = int(_substitute(str(inputs.get("timeoutSeconds", 3600)), parameters))
        ssm_document_rules.check_precondition(name, step.get("precondition"))
        steps.append({"name": name, "action": action, "script": script, "timeout": timeout,
                      "working_directory": inputs.get("workingDirectory"), "precondition": step.get("precondition")})
    if not steps:
        raise _error("InvalidDocument", "the document has no aws:runShellScript or aws:runPowerShellScript step")
    return steps


# --- instances -------------------------------------------------------------------------------------------------

def _running_instances(account: str, region: str) -> dict:
    found = {}
    for reservation in ec2_backends[account][region].reservations.values():
        for instance in reservation.instances:
            if instance.state == "running":
                found[instance.id] = instance
    return found


def _instance_credentials(account: str, region: str, instance_id: str) -> dict:
    """The credentials a process on the instance gets: those of its instance profile's role, as a role session named
    after the instance (EC2 user guide, "IAM roles for Amazon EC2": the instance's applications get the role's
    temporary credentials from the instance metadata; the caller is arn:aws:sts::ACCOUNT:assumed-role/ROLE/INSTANCE).
    The profile is the instance's association (RunInstances' IamInstanceProfile or AssociateIamInstanceProfile; moto
    records none for instances an Auto Scaling group launched). No profile, no credentials."""
    association = ec2_backends[account][region].iam_instance_profile_associations.get(instance_id)
    roles = association.iam_instance_profile.roles if association else []
    if not roles:
        return {}
    session = sessions.assume(account, region, roles[0].arn, instance_id)
    return {"AWS_ACCESS_KEY_ID": session.access_key_id, "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
            "AWS_SESSION_TOKEN": session.session_token}


def _instance_environment(command: dict, instance_id: str, work: str) -> dict:
    """The environment of a script the agent runs: the agent's own (no AWS_* settings of the emulator's process), the
    stand-in `nomad` and `aws` first on PATH, and what the instance metadata gives the AWS CLI on a real instance
    stood in by settings: the emulator as the endpoint (AWS_ENDPOINT_URL), the instance's region, its profile's
    credentials. The metadata service itself is off (AWS_EC2_METADATA_DISABLED, AWS CLI "Environment variables"
    page): there is none here, and nothing reaches for its link-local address. No shared config or credentials files
    either: an instance has none unless its image wrote them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "PATH": os.path.join(work_root(), "bin") + os.pathsep + env.get("PATH", ""),
        "AWS_ENDPOINT_URL": f"http://{state.SERVER['host']}:{state.SERVER['port']}",
        "AWS_REGION": command["region"], "AWS_DEFAULT_REGION": command["region"],
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.path.join(work, ".aws-config-none"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(work, ".aws-credentials-none"),
    })
    env.update(_instance_credentials(command["account"], command["region"], instance_id))
    return env


def agent_of(instance_id: str) -> dict:
    with state.LOCK:
        return {"ping_status": "Online", "managed": True, **state.AGENTS.get(instance_id, {})}


# --- execution -------------------------------------------------------------------------------------------------

def _aggregate(command: dict) -> str:
    statuses = [i["status"] for i in command["invocations"].values()]
    if all(s == "Pending" for s in statuses):
        return "Pending"
    if not all(s in TERMINAL for s in statuses):
        return "InProgress"
    for status in ("TimedOut", "Failed", "Cancelled"):
        if status in statuses:
            return status
    return "Success"


def _notify(command: dict, invocation: dict | None) -> None:
    config = command.get("notification_config") or {}
    arn = config.get("NotificationArn")
    if not arn:
        return
    events = config.get("NotificationEvents") or ["All"]
    kind = config.get("NotificationType", "Command")
    if kind == "Invocation" and invocation is not None:
        status = invocation["status"]
        body = {"commandId": command["id"], "documentName": command["document_name"],
                "instanceId": invocation["instance_id"], "requestedDateTime": command["requested"].isoformat(),
                "status": status, "detailedStatus": invocation["status_details"], "eventTime": state.now_iso()}
    elif kind == "Command" and invocation is None:
        status = command["status"]
        body = {"commandId": command["id"], "documentName": command["document_name"],
                "instanceIds": command["instance_ids"], "requestedDateTime": command["requested"].isoformat(),
                "expiresAfter": command["expires_after"].isoformat(), "outputS3BucketName": "",
                "outputS3KeyPrefix": "", "status": status, "eventTime": state.now_iso()}
    else:
        return
    if "All" not in events and status not in events:
        return
    try:
        publish.publish(arn, json.dumps(body), as_role=("ssm.amazonaws.com", command["service_role"]))
        state.log_event("command-notification", command_id=command["id"], type=kind, status=status, target=arn)
    except Exception as error:
        state.log_event("command-notification-failed", command_id=command["id"], target=arn, error=str(error))


def _set_status(command: dict, invocation: dict, status: str, details: str) -> None:
    with state.LOCK:
        invocation["status"] = status
        invocation["status_details"] = details
        before = command["status"]
        command["status"] = _aggregate(command)
    state.log_event("command-status", command_id=command["id"], instance_id=invocation["instance_id"],
                    status=status, response_code=invocation["response_code"])
    _notify(command, invocation)
    if command["status"] != before:
        _notify(command, None)


def _read(path: str) -> str:
    try:
        with open(path, errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def _run_invocation(command: dict, invocation: dict, steps: list) -> None:
    generation = state.current_generation()
    time.sleep(0.05)  # the agent picks the command up shortly after SendCommand
    if invocation["status"] == "Cancelled" or state.current_generation() != generation:
        return
    instance_id = invocation["instance_id"]
    work = os.path.join(work_root(), "commands", command["id"], instance_id)
    node_dir = os.path.join(work_root(), "instances", instance_id)
    os.makedirs(work, exist_ok=True)
    os.makedirs(node_dir, exist_ok=True)
    behaviour_path = os.path.join(node_dir, "nomad-behaviour.sh")
    with open(behaviour_path, "w") as handle:
        handle.write(nomad_world.behaviour_script(state.nomad_behaviour(instance_id)))
    calls_path = os.path.join(work, "nomad-calls.jsonl")
    env = _instance_environment(command, instance_id, work)
    env.update({"GRACEFUL_NOMAD_BEHAVIOUR": behaviour_path, "GRACEFUL_NOMAD_CALLS": calls_path,
                "AWS_SSM_INSTANCE_ID": instance_id, "AWS_SSM_REGION_NAME": command["region"]})
    invocation["start"] = _now()
    _set_status(command, invocation, "InProgress", "InProgress")
    # The agent runs every step in order whatever the previous one's status (runpluginutil.go `RunPlugins`: only
    # a cancel, exit codes 168/169, onFailure/onSuccess exit and a reboot stop it; the emulator models the cancel),
    # skipping those `getStepExecutionOperation` skips, and the command's status is `DocumentResultAggregator`'s.
    step_statuses, codes = [], {}
    platform = ssm_document_rules.platform_type(command["account"], command["region"], instance_id)
    for index, step in enumerate(steps):
        skipped = ssm_document_rules.step_outcome(step["name"], step["action"], step["precondition"], platform)
        if skipped is not None:
            # The agent records the message as the skipped step's output (`pluginOutputs[...].Output`).
            with open(os.path.join(work, "stdout"), "a") as out:
                out.write(skipped + "\n")
            step_statuses.append("Skipped")
            continue
        script = os.path.join(work, f"_script_{index}.sh")
        with open(script, "w") as handle:
            handle.write(step["script"] + "\n")
        cwd = step["working_directory"] if step["working_directory"] and os.path.isdir(
            step["working_directory"]) else work
        with open(os.path.join(work, "stdout"), "ab") as out, open(os.path.join(work, "stderr"), "ab") as err:
            with invocation["lock"]:  # not the global lock: starting a process takes a while under load
                if invocation["status"] == "Cancelled":
                    return
                shell = subprocess.Popen(["bash", script], cwd=cwd, env=env, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
                invocation["shells"].append(shell)
            code = _wait_unreaped(shell, step["timeout"])
        if invocation["status"] == "Cancelled":
            break
        # agent/plugins/pluginutil `GetStatus`: exit 0 is Success, anything else Failed; the step's timeout stops it
        # (TimedOut, exit code -1 as the invocation reports it).
        step_status = "TimedOut" if code is None else ("Success" if code == 0 else "Failed")
        step_statuses.append(step_status)
        codes.setdefault(step_status, -1 if code is None else code)
    status = ssm_document_rules.document_status(step_statuses)
    details = {"TimedOut": "ExecutionTimedOut"}.get(status, status)
    code = codes.get(status, 0)
    if state.current_generation() != generation:
        return  # reset killed it
    if instance_id in TERMINATED:
        _kill(invocation, reap=True)  # its instance is gone: so is what the script left running
    invocation["stdout"] = _read(os.path.join(work, "stdout"))
    invocation["stderr"] = _read(os.path.join(work, "stderr"))
    for line in _read(calls_path).splitlines():
        state.log_event("nomad-call", command_id=command["id"], instance_id=instance_id, **json.loads(line))
    invocation["end"] = _now()
    _send_output_to_cloudwatch(command, invocation)
    if invocation["status"] == "Cancelled":
        return  # CancelCommand already recorded the outcome
    invocation["response_code"] = code
    if status == "TimedOut":
        invocation["stderr"] += "\nfailed to run commands: exit status -1 (execution timed out)"
    _set_status(command, invocation, status, details)


def _send_output_to_cloudwatch(command: dict, invocation: dict) -> None:
    """CloudWatchOutputConfig: stdout/stderr as the agent writes them (it creates the group when missing)."""
    config = command["cloudwatch"]
    if not config.get("CloudWatchOutputEnabled"):
        return
    group_name = config.get("CloudWatchLogGroupName") or f"/aws/ssm/{command['document_name']}"
    backend = logs_backends[command["account"]][command["region"]]
    with state.LOCK:
        if group_name not in backend.groups:
            backend.create_log_group(group_name, {})
        group = backend.groups[group_name]
        now_ms = int(time.time() * 1000)
        for kind in ("stdout", "stderr"):
            text = invocation[kind]
            if not text:
                continue
            stream = f"{command['id']}/{invocation['instance_id']}/aws-runShellScript/{kind}"
            if stream not in group.streams:
                group.create_log_stream(stream)
            group.put_log_events(stream, [{"timestamp": now_ms, "message": line} for line in text.splitlines()])


def send_command(backend, params: dict) -> dict:
    account, region = backend.account_id, backend.region_name
    name = params.get("DocumentName")
    if not name:
        raise _error("ValidationException", "DocumentName is required")
    document = _load_document(backend, name, params.get("DocumentVersion"))
    parameters = _resolve_parameters(document["content"], params.get("Parameters") or {})
    steps = _shell_steps(document["content"], parameters)
    instance_ids = list(dict.fromkeys(params.get("InstanceIds") or []))
    if params.get("Targets"):
        raise _error("InvalidParameters", "the emulator supports InstanceIds only, not Targets")
    if not instance_ids:
        raise _error("InvalidParameters", "InstanceIds must name at least one instance")
    running = _running_instances(account, region)
    invalid = [i for i in instance_ids if i not in running or agent_of(i)["ping_status"] != "Online"
               or not agent_of(i)["managed"]]
    if invalid:
        raise _error("InvalidInstanceId", f"Instances [{', '.join(invalid)}] not in a valid state for account "
                     f"{account}")
    comment = params.get("Comment") or ""
    if len(comment) > 100:
        raise _error("ValidationException", "Comment must be at most 100 characters")
    requested = _now()
    timeout = int(params.get("TimeoutSeconds") or 3600)
    command = {
        "id": str(uuid.uuid4()), "account": account, "region": region, "document_name": name,
        "document_version": params.get("DocumentVersion") or document["version"], "comment": comment,
        "parameters": params.get("Parameters") or {}, "instance_ids": instance_ids, "requested": requested,
        "expires_after": requested + datetime.timedelta(seconds=timeout), "timeout_seconds": timeout,
        "status": "Pending", "notification_config": params.get("NotificationConfig") or {},
        "service_role": params.get("ServiceRoleArn") or "",
        "cloudwatch": params.get("CloudWatchOutputConfig") or {"CloudWatchOutputEnabled": False},
        "max_concurrency": params.get("MaxConcurrency") or "50", "max_errors": params.get("MaxErrors") or "0",
        "invocations": {},
    }
    for instance_id in instance_ids:
        command["invocations"][instance_id] = {
            "instance_id": instance_id, "status": "Pending", "status_details": "Pending", "response_code": -1,
            "stdout": "", "stderr": "", "start": None, "end": None, "shells": [], "lock": threading.Lock()}
    ssm_consistency.stamp(command)
    with state.LOCK:
        COMMANDS[command["id"]] = command
    state.log_event("command-sent", command_id=command["id"], document=name, instance_ids=instance_ids,
                    parameters=command["parameters"])
    for invocation in command["invocations"].values():
        threading.Thread(target=_run_invocation, args=(command, invocation, steps), daemon=True).start()
    return command


def cancel_command(command_id: str, instance_ids: list) -> None:
    command = COMMANDS.get(command_id)
    if command is None:
        raise _error("InvalidCommandId", "Invalid command id.")
    # The sender knows the ID from SendCommand's answer: only the listings lag (ssm_consistency), not the cancel.
    ssm_consistency.cancel(command_id, lambda: _cancel_now(command, instance_ids))


def _cancel_now(command: dict, instance_ids: list) -> None:
    command_id = command["id"]
    for instance_id, invocation in command["invocations"].items():
        if instance_ids and instance_id not in instance_ids:
            continue
        with state.LOCK:
            if invocation["status"] in TERMINAL:
                continue
            with invocation["lock"]:
                invocation["status"] = "Cancelled"
                invocation["response_code"] = -1
                _kill(invocation, reap=True)
        state.log_event("command-cancelled", command_id=command_id, instance_id=instance_id)
        invocation["status"] = "InProgress"  # so _set_status sees a transition
        _set_status(command, invocation, "Cancelled", "Cancelled")


# --- views -----------------------------------------------------------------------------------------------------

def _elapsed(invocation: dict) -> str:
    if not invocation["start"]:
        return "PT0S"
    end = invocation["end"] or _now()
    return f"PT{(end - invocation['start']).total_seconds():.3f}S"


def command_view(command: dict) -> dict:
    statuses = [i["status"] for i in command["invocations"].values()]
    return {
        "CommandId": command["id"], "DocumentName": command["document_name"],
        "DocumentVersion": command["document_version"], "Comment": command["comment"],
        "ExpiresAfter": command["expires_after"], "Parameters": command["parameters"],
        "InstanceIds": command["instance_ids"], "Targets": [], "RequestedDateTime": command["requested"],
        "Status": command["status"], "StatusDetails": command["status"], "MaxConcurrency": command["max_concurrency"],
        "MaxErrors": command["max_errors"], "TargetCount": len(statuses),
        "CompletedCount": sum(s in TERMINAL for s in statuses),
        "ErrorCount": sum(s in ("Failed", "TimedOut") for s in statuses), "DeliveryTimedOutCount": 0,
        "ServiceRole": command["service_role"], "NotificationConfig": command["notification_config"],
        "CloudWatchOutputConfig": command["cloudwatch"], "TimeoutSeconds": command["timeout_seconds"],
    }


def invocation_view(command: dict, invocation: dict, details: bool) -> dict:
    view = {
        "CommandId": command["id"], "InstanceId": invocation["instance_id"], "Comment": command["comment"],
        "DocumentName": command["document_name"], "DocumentVersion": command["document_version"],
        "RequestedDateTime": command["requested"], "Status": invocation["status"],
        "StatusDetails": invocation["status_details"], "ServiceRole": command["service_role"],
        "NotificationConfig": command["notification_config"], "CloudWatchOutputConfig": command["cloudwatch"],
    }
    if details:
        view["CommandPlugins"] = [{
            "Name": "aws:runShellScript", "Status": invocation["status"], "StatusDetails": invocation["status_details"],
            "ResponseCode": invocation["response_code"], "Output": invocation["stdout"][:2500]}]
    return view


def _get_invocation(command_id: str, instance_id: str) -> tuple:
    command = COMMANDS.get(command_id)
    if command is None or instance_id not in command["invocations"] or not ssm_consistency.visible(command):
        raise _error("InvocationDoesNotExist", "An error occurred (InvocationDoesNotExist) when calling the "
                     "GetCommandInvocation operation")
    return command, command["invocations"][instance_id]


def _matches_filters(command: dict, filters: list) -> bool:
    for item in filters:
        key, value = item.get("key") or item.get("Key"), item.get("value") or item.get("Value")
        if key == "Status" and command["status"] != value:
            return False
        if key == "DocumentName" and command["document_name"] != value:
            return False
        if key == "InvokedAfter" and command["requested"] < datetime.datetime.fromisoformat(
                value.replace("Z", "+00:00")):
            return False
        if key == "InvokedBefore" and command["requested"] > datetime.datetime.fromisoformat(
                value.replace("Z", "+00:00")):
            return False
        if key == "ExecutionStage":
            executing = command["status"] in ("Pending", "InProgress")
            if (value == "Executing") != executing:
                return False
    return True


# --- response patches ------------------------------------------------------------------------------------------

def _send_command(self):
    keys = ("DocumentName", "DocumentVersion", "Parameters", "InstanceIds", "Targets", "Comment", "TimeoutSeconds",
            "NotificationConfig", "ServiceRoleArn", "CloudWatchOutputConfig", "MaxConcurrency", "MaxErrors")
    command = send_command(self.ssm_backend, {key: self._get_param(key) for key in keys})
    return ActionResult({"Command": command_view(command)})


def _list_commands(self):
    command_id, instance_id = self._get_param("CommandId"), self._get_param("InstanceId")
    filters = self._get_param("Filters") or []
    if command_id and (command_id not in COMMANDS or not ssm_consistency.visible(COMMANDS[command_id])):
        raise _error("InvalidCommandId", "Invalid command id.")
    found = [c for c in COMMANDS.values() if ssm_consistency.visible(c)
             and (not command_id or c["id"] == command_id) and (not instance_id or instance_id in c["invocations"])
             and _matches_filters(c, filters)]
    found.sort(key=lambda c: c["requested"], reverse=True)
    return ActionResult({"Commands": [command_view(c) for c in found]})


def _list_command_invocations(self):
    command_id, instance_id = self._get_param("CommandId"), self._get_param("InstanceId")
    details = bool(self._get_param("Details"))
    filters = self._get_param("Filters") or []
    views = []
    for command in sorted(COMMANDS.values(), key=lambda c: c["requested"], reverse=True):
        if (command_id and command["id"] != command_id) or not ssm_consistency.visible(command):
            continue
        if not _matches_filters(command, filters):
            continue
        for invocation in command["invocations"].values():
            if not instance_id or invocation["instance_id"] == instance_id:
                views.append(invocation_view(command, invocation, details))
    return ActionResult({"CommandInvocations": views})


def _get_command_invocation(self):
    command, invocation = _get_invocation(self._get_param("CommandId"), self._get_param("InstanceId"))
    return ActionResult({
        "CommandId": command["id"], "InstanceId": invocation["instance_id"], "Comment": command["comment"],
        "DocumentName": command["document_name"], "DocumentVersion": command["document_version"],
        "PluginName": self._get_param("PluginName") or "aws:runShellScript",
        "ResponseCode": invocation["response_code"],
        "ExecutionStartDateTime": invocation["start"].isoformat() if invocation["start"] else "",
        "ExecutionElapsedTime": _elapsed(invocation),
        "ExecutionEndDateTime": invocation["end"].isoformat() if invocation["end"] else "",
        "Status": invocation["status"], "StatusDetails": invocation["status_details"],
        "StandardOutputContent": invocation["stdout"][:OUTPUT_LIMIT], "StandardOutputUrl": "",
        "StandardErrorContent": invocation["stderr"][:OUTPUT_LIMIT], "StandardErrorUrl": "",
        "CloudWatchOutputConfig": command["cloudwatch"],
    })


def _cancel_command(self):
    cancel_command(self._get_param("CommandId"), self._get_param("InstanceIds") or [])
    return ActionResult({})


def _describe_instance_information(self):
    backend = self.ssm_backend
    wanted = set(self._get_param("InstanceInformationFilterList") and [
        v for f in self._get_param("InstanceInformationFilterList") if f.get("key") == "InstanceIds"
        for v in f.get("valueSet", [])] or [])
    ping_filter = set()
    for item in self._get_param("Filters") or []:
        if item.get("Key") == "InstanceIds":
            wanted.update(item.get("Values", []))
        elif item.get("Key") == "PingStatus":
            ping_filter.update(item.get("Values", []))
    infos = []
    for instance_id, instance in sorted(_running_instances(backend.account_id, backend.region_name).items()):
        agent = agent_of(instance_id)
        if not agent["managed"] or (wanted and instance_id not in wanted):
            continue
        if ping_filter and agent["ping_status"] not in ping_filter:
            continue
        infos.append({"InstanceId": instance_id, "PingStatus": agent["ping_status"], "LastPingDateTime": _now(),
                      "AgentVersion": "3.3.0.0", "IsLatestVersion": True,
                      "PlatformType": ssm_document_rules.platform_type(backend.account_id, backend.region_name,
                                                                       instance_id),
                      "PlatformName": "Amazon Linux", "PlatformVersion": "2023", "ResourceType": "EC2Instance",
                      "IPAddress": instance.private_ip, "ComputerName": f"{instance_id}.ec2.internal"})
    return ActionResult({"InstanceInformationList": infos})


def kill_all() -> None:
    for command in list(COMMANDS.values()):
        for invocation in command["invocations"].values():
            _kill(invocation)


_original_terminate_instances = InstanceBackend.terminate_instances


def _terminate_instances(self, instance_ids):
    terminated = _original_terminate_instances(self, instance_ids)
    _instance_terminated([instance.id for instance, _ in terminated])
    return terminated


def install() -> None:
    InstanceBackend.terminate_instances = _terminate_instances
    cls = ssm_responses.SimpleSystemManagerResponse
    cls.send_command = _send_command
    cls.list_commands = _list_commands
    cls.list_command_invocations = _list_command_invocations
    cls.get_command_invocation = _get_command_invocation
    cls.cancel_command = _cancel_command
    cls.describe_instance_information = _describe_instance_information
    shutil.which("bash") or print("[graceful] warning: bash not found; SSM commands cannot run", flush=True)
