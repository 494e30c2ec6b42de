"""SSM Run Command that really runs: the document's steps as local processes, one per instance, skipped and
aggregated as the SSM agent does (ssm_document_rules).

Each invocation runs in its own temp dir and process group, with a stand-in `nomad` and the AWS CLI (awscli v1 from
the emulator's venv, talking to the emulator) first on PATH, under bash (as on Amazon Linux, where the agent's `sh` is
bash, and where the AWS CLI is installed). Status goes Pending -> InProgress -> Success / Failed / TimedOut (the
step's `timeoutSeconds`, real seconds) / Cancelled, and NotificationConfig topics receive AWS-shaped notifications.

Split as moto splits a service: models.py (a CommandRunner per account and region: the commands and the rules),
responses.py (the patched SSM responses: parameters in, the runner called, the answer rendered), and the runner's
helpers: documents.py (the document read into steps), execution.py (one invocation run), processes.py (scratch
directory, waiting and killing), instances.py (what an instance's agent and scripts see), notifications.py.
"""

from . import models, responses
from .models import kill_all, reset


def install() -> None:
    models.install()
    responses.install()


__all__ = ["install", "kill_all", "reset"]
