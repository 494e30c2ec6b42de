"""One invocation run as the SSM agent runs it: the document's steps as bash processes in the invocation's own
directory, skipped and aggregated as the agent does (ssm_document_rules), the output read back and, with
CloudWatchOutputConfig, written to CloudWatch Logs."""

import datetime
import json
import os
import subprocess
import time

from moto.logs.models import logs_backends

from .. import nomad_world, ssm_document_rules, state
from . import instances, processes


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _read(path: str) -> str:
    try:
        with open(path, errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def run(runner, command, invocation, steps: list) -> None:
    """Runs `steps` for one invocation of `command`, reporting each status change to its CommandRunner."""
    generation = state.current_generation()
    time.sleep(0.05)  # the agent picks the command up shortly after SendCommand
    if invocation.status == "Cancelled" or state.current_generation() != generation:
        return
    instance_id = invocation.instance_id
    work = os.path.join(processes.work_root(), "commands", command.command_id, instance_id)
    node_dir = os.path.join(processes.work_root(), "instances", instance_id)
    os.makedirs(work, exist_ok=True)
    os.makedirs(node_dir, exist_ok=True)
    behaviour_path = os.path.join(node_dir, "nomad-behaviour.sh")
    with open(behaviour_path, "w") as handle:
        handle.write(nomad_world.behaviour_script(state.nomad_behaviour(instance_id)))
    calls_path = os.path.join(work, "nomad-calls.jsonl")
    env = instances.environment(command.account, command.region, instance_id, work)
    env.update({"GRACEFUL_NOMAD_BEHAVIOUR": behaviour_path, "GRACEFUL_NOMAD_CALLS": calls_path,
                "AWS_SSM_INSTANCE_ID": instance_id, "AWS_SSM_REGION_NAME": command.region})
    invocation.start = _now()
    runner.set_status(command, invocation, "InProgress", "InProgress")
    # The agent runs every step in order whatever the previous one's status (runpluginutil.go `RunPlugins`: only
    # a cancel, exit codes 168/169, onFailure/onSuccess exit and a reboot stop it; the emulator models the cancel),
    # skipping those `getStepExecutionOperation` skips, and the command's status is `DocumentResultAggregator`'s.
    step_statuses, codes = [], {}
    platform = ssm_document_rules.platform_type(command.account, command.region, instance_id)
    for index, step in enumerate(steps):
        skipped = ssm_document_rules.step_outcome(step.name, step.action, step.precondition, platform)
        if skipped is not None:
            # The agent records the message as the skipped step's output (`pluginOutputs[...].Output`).
            with open(os.path.join(work, "stdout"), "a") as out:
                out.write(skipped + "\n")
            step_statuses.append("Skipped")
            continue
        script = os.path.join(work, f"_script_{index}.sh")
        with open(script, "w") as handle:
            handle.write(step.script + "\n")
        cwd = step.working_directory if step.working_directory and os.path.isdir(step.working_directory) else work
        with open(os.path.join(work, "stdout"), "ab") as out, open(os.path.join(work, "stderr"), "ab") as err:
            with invocation.lock:  # not the global lock: starting a process takes a while under load
                if invocation.status == "Cancelled":
                    return
                shell = subprocess.Popen(["bash", script], cwd=cwd, env=env, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
                invocation.shells.append(shell)
            code = processes.wait_unreaped(shell, step.timeout)
        if invocation.status == "Cancelled":
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
    if instance_id in runner.terminated:
        processes.kill(invocation, reap=True)  # its instance is gone: so is what the script left running
    invocation.stdout = _read(os.path.join(work, "stdout"))
    invocation.stderr = _read(os.path.join(work, "stderr"))
    for line in _read(calls_path).splitlines():
        state.log_event("nomad-call", command_id=command.command_id, instance_id=instance_id, **json.loads(line))
    invocation.end = _now()
    _send_output_to_cloudwatch(command, invocation)
    if invocation.status == "Cancelled":
        return  # CancelCommand already recorded the outcome
    invocation.response_code = code
    if status == "TimedOut":
        invocation.stderr += "\nfailed to run commands: exit status -1 (execution timed out)"
    runner.set_status(command, invocation, status, details)


def _send_output_to_cloudwatch(command, invocation) -> None:
    """CloudWatchOutputConfig: stdout/stderr as the agent writes them (it creates the group when missing)."""
    config = command.cloudwatch
    if not config.get("CloudWatchOutputEnabled"):
        return
    group_name = config.get("CloudWatchLogGroupName") or f"/aws/ssm/{command.document_name}"
    backend = logs_backends[command.account][command.region]
    with state.LOCK:
        if group_name not in backend.groups:
            backend.create_log_group(group_name, {})
        group = backend.groups[group_name]
        now_ms = int(time.time() * 1000)
        for kind in ("stdout", "stderr"):
            text = getattr(invocation, kind)
            if not text:
                continue
            stream = f"{command.command_id}/{invocation.instance_id}/aws-runShellScript/{kind}"
            if stream not in group.streams:
                group.create_log_stream(stream)
            group.put_log_events(stream, [{"timestamp": now_ms, "message": line} for line in text.splitlines()])
