"""Rules of SSM Command documents that the agent and SendCommand apply: parameter constraints and step
preconditions, and how the SSM agent runs and aggregates a document's steps.

Sources: "SSM document syntax: parameters" (https://docs.aws.amazon.com/systems-manager/latest/userguide/
documents-syntax-data-elements-parameters.html): `allowedValues` ("the values ... the user can enter") and
`allowedPattern` ("a regular expression that validates whether the user input matches the defined pattern ... If
the user input doesn't match the allowed pattern, the execution fails to start"); the `precondition` element of a
schema 2.2 step ("supported operator is StringEquals ... platformType: Windows, Linux, MacOS"); and the agent's own
source (amazon-ssm-agent), cited at each rule below.
"""

from moto.ec2.models import ec2_backends
from moto.ssm.exceptions import SSMException

from .validation import java_regex


def _invalid_parameters(message: str) -> SSMException:
    error = SSMException("InvalidParameters", message)
    error.code = "InvalidParameters"
    return error


def check_parameter_values(declared: dict, resolved: dict) -> None:
    """Raises InvalidParameters for a value outside the parameter's allowedValues or allowedPattern."""
    for name, spec in declared.items():
        values = resolved.get(name) or []
        allowed = spec.get("allowedValues")
        pattern = spec.get("allowedPattern")
        for value in values:
            if allowed is not None and value not in [str(a) for a in allowed]:
                raise _invalid_parameters(f"Parameter \"{name}\" \"{value}\" is not one of the allowedValues "
                                          f"{allowed}")
            # AWS evaluates allowedPattern as a Java regular expression searched in the value (patterns are
            # usually anchored with ^...$, like the project's own).
            if pattern is not None and java_regex.compiled(pattern).search(value) is None:
                raise _invalid_parameters(f"Parameter \"{name}\" \"{value}\" failed to satisfy constraint: "
                                          f"allowedPattern {pattern}")


# --- what the SSM agent does with a schema 2.2 step (amazon-ssm-agent) ----------------------------------------

# The plugins each platform's agent has a handler for, among the two the emulator runs. aws:runPowerShellScript is
# registered on every platform (agent/framework/processor/executer/plugin/plugin.go
# `loadPlatformIndependentPlugins`); aws:runShellScript only by the Unix build, which includes darwin
# (plugin_unix.go `loadPlatformDependentPlugins`; plugin_windows.go registers none), and macOS supports both
# (agent/framework/runpluginutil/runpluginutil_darwin.go `supportedPlugins`).
PLUGINS_BY_PLATFORM = {
    "Linux": ("aws:runShellScript", "aws:runPowerShellScript"),
    "MacOS": ("aws:runShellScript", "aws:runPowerShellScript"),
    "Windows": ("aws:runPowerShellScript",),
}


def platform_type(account: str, region: str, instance_id: str) -> str:
    """The instance's platform as SSM names it (DescribeInstanceInformation `PlatformType`: Windows | Linux | MacOS;
    botocore ssm model shape PlatformType). EC2 describes a Windows instance with `Platform` "windows" (EC2
    DescribeInstances: "The platform. This value is windows for Windows instances; otherwise blank"), which moto
    takes from the image (its bundled ami-12c6146b is Windows). EC2 Mac instances (the mac* instance types) run
    macOS (EC2 user guide, "Amazon EC2 Mac instances"). Everything else is Linux: the agent's Unix build, FreeBSD
    included, reports "linux" (agent/platform/platform_unix.go `getPlatformType`)."""
    for reservation in ec2_backends[account][region].reservations.values():
        for instance in reservation.instances:
            if instance.id == instance_id:
                if (instance.platform or "").lower() == "windows":
                    return "Windows"
                if (instance.instance_type or "").startswith("mac"):
                    return "MacOS"
                return "Linux"
    return "Linux"


def check_precondition(step_name: str, precondition) -> None:
    """Refuses what the emulator does not model: a precondition other than a `StringEquals` on `platformType`. The
    agent evaluates more (parameter comparisons; unrecognized operators fail the step: runpluginutil.go
    `evaluatePreconditions`); a document needing those is refused rather than run differently."""
    if not precondition:
        return
    operands = precondition.get("StringEquals") if isinstance(precondition, dict) else None
    if len(precondition) != 1 or not isinstance(operands, list) or len(operands) != 2 \
            or "platformType" not in operands or operands[0] == operands[1]:
        raise _invalid_parameters(f"step {step_name}: unsupported precondition {precondition!r}: the emulator models "
                                  "{\"StringEquals\": [\"platformType\", \"Linux|Windows|MacOS\"]} only")


def step_outcome(step_name: str, action: str, precondition, platform: str):
    """None when the agent executes the step on `platform`; otherwise the agent's message for a Skipped step.

    Follows agent/framework/runpluginutil/runpluginutil.go `getStepExecutionOperation` for a schema 2.2 document
    (`IsPreconditionEnabled`): without a precondition a step whose plugin has no handler here is skipped
    ("Step execution skipped due to unsupported plugin"); with one, an unsupported plugin is skipped first, then a
    precondition that does not hold skips the step ("unsatisfied preconditions"). `evaluatePreconditions` compares
    the platformType value case-insensitively with `platform.PlatformType` (linux, windows, macos), in either
    operand order."""
    if action not in PLUGINS_BY_PLATFORM[platform]:
        return f"Step execution skipped due to unsupported plugin: {action}. Step name: {step_name}"
    if not precondition:
        return None
    operands = precondition["StringEquals"]
    wanted = operands[1] if operands[0] == "platformType" else operands[0]
    if wanted.lower() != platform.lower():
        return (f"Step execution skipped due to unsatisfied preconditions: "
                f"'\"StringEquals\": [{operands[0]}, {operands[1]}]'. Step name: {step_name}")
    return None


def document_status(step_statuses: list) -> str:
    """The command's status on one instance from its steps' statuses: agent/contracts/aggregator.go
    `DocumentResultAggregator` (Failed > TimedOut > Cancelled; "Skipped is a form of success": Success when every
    step is Success or Skipped)."""
    for status in ("Failed", "TimedOut", "Cancelled"):
        if status in step_statuses:
            return status
    if all(s in ("Success", "Skipped") for s in step_statuses):
        return "Success"
    return "InProgress"
