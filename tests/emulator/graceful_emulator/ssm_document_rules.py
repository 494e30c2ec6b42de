"""Rules of SSM Command documents that the agent and SendCommand apply: parameter constraints and step
preconditions.

Sources: "SSM document syntax: parameters" (https://docs.aws.amazon.com/systems-manager/latest/userguide/
documents-syntax-data-elements-parameters.html): `allowedValues` ("the values ... the user can enter") and
`allowedPattern` ("a regular expression that validates whether the user input matches the defined pattern ... If
the user input doesn't match the allowed pattern, the execution fails to start"); the `precondition` element of a
schema 2.2 step ("supported operator is StringEquals ... platformType: Windows, Linux, MacOS"; a step whose
precondition is not met is skipped, and a skipped step does not fail the command: the Run Command console shows the
step's output as "unsatisfied preconditions" with the overall status Success).
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


def platform_type(account: str, region: str, instance_id: str) -> str:
    """The agent's platformType of an instance: Windows for a Windows AMI, Linux otherwise (EC2 `Platform`)."""
    reservations = ec2_backends[account][region].reservations.values()
    for reservation in reservations:
        for instance in reservation.instances:
            if instance.id == instance_id:
                return "Windows" if (instance.platform or "").lower() == "windows" else "Linux"
    return "Linux"


def precondition_met(precondition, platform: str) -> bool:
    if not precondition:
        return True
    operands = precondition.get("StringEquals")
    if not isinstance(operands, list) or len(operands) != 2 or operands[0] != "platformType":
        raise _invalid_parameters(f"unsupported precondition {precondition!r}: schema 2.2 supports "
                                  "{\"StringEquals\": [\"platformType\", \"Linux|Windows|MacOS\"]}")
    return operands[1] == platform


def skipped_note(step_name: str, precondition) -> str:
    return f"Step {step_name} skipped: unsatisfied preconditions {precondition}\n"
