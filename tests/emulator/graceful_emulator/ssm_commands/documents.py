"""SendCommand's reading of a Command document: the version asked for, its parameters (defaults, constraints,
`{{ name }}` substitution) and the steps the emulator can run (records: Document, Step)."""

import json
import re
from dataclasses import dataclass

import yaml
from moto.ssm.exceptions import SSMException

from .. import ssm_document_rules


@dataclass
class Document:
    content: dict  # the parsed JSON or YAML
    version: str


@dataclass
class Step:
    """One mainSteps entry, as it will run: `script` is bash (a PowerShell step translated, see _powershell_as_sh)."""
    name: str
    action: str
    script: str
    timeout: int  # timeoutSeconds, real seconds
    working_directory: str | None
    precondition: dict | None


def load(ssm_backend, name: str, version: str | None) -> Document:
    documents = ssm_backend._documents.get(name)
    if not documents:
        raise SSMException("InvalidDocument", "The specified document does not exist.")
    document = documents.find(version, None) if version else documents.get_default_version()
    if document is None:
        raise SSMException("InvalidDocumentVersion",
                           f"The document version {version} is not valid or does not exist.")
    if document.document_type != "Command":
        raise SSMException("InvalidDocument", f"Document {name} is of type {document.document_type}; SendCommand "
                           "needs a Command document.")
    content = json.loads(document.content) if document.document_format == "JSON" else yaml.safe_load(document.content)
    return Document(content=content, version=document.document_version)


def resolve_parameters(content: dict, given: dict) -> dict:
    declared = content.get("parameters") or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise SSMException("InvalidParameters", f"document does not support parameters: {', '.join(unknown)}")
    resolved = {}
    for name, spec in declared.items():
        if name in given:
            resolved[name] = given[name]
        elif "default" in spec:
            default = spec["default"]
            resolved[name] = default if isinstance(default, list) else [str(default)]
        else:
            raise SSMException("InvalidParameters", f"document requires parameter {name!r}, which was not given")
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
            raise SSMException("InvalidDocument", f"step {step_name}: the emulator runs aws:runPowerShellScript "
                               f"lines of the form Write-Output '<text>' or exit <n> only, not {command!r}")
        if match.group(2) is not None:
            lines.append(f"exit {match.group(2)}")
        else:
            text = match.group(1).replace("''", "'")
            lines.append("printf '%s\\n' '" + text.replace("'", "'\\''") + "'")
    return "\n".join(lines)


def shell_steps(content: dict, parameters: dict) -> list[Step]:
    steps = []
    for index, step in enumerate(content.get("mainSteps") or []):
        action = step.get("action")
        name = step.get("name", f"step{index}")
        if action not in ("aws:runShellScript", "aws:runPowerShellScript"):
            raise SSMException("InvalidDocument", f"step {name}: the emulator runs only aws:runShellScript and "
                               "aws:runPowerShellScript steps")
        inputs = step.get("inputs") or {}
        commands = inputs.get("runCommand") or []
        if isinstance(commands, str):
            commands = [commands]
        commands = [_substitute(c, parameters) for c in commands]
        script = "\n".join(commands) if action == "aws:runShellScript" else _powershell_as_sh(name, commands)
        timeout = int(_substitute(str(inputs.get("timeoutSeconds", 3600)), parameters))
        ssm_document_rules.check_precondition(name, step.get("precondition"))
        steps.append(Step(name=name, action=action, script=script, timeout=timeout,
                          working_directory=inputs.get("workingDirectory"), precondition=step.get("precondition")))
    if not steps:
        raise SSMException("InvalidDocument",
                           "the document has no aws:runShellScript or aws:runPowerShellScript step")
    return steps
