"""The processes behind Run Command invocations: the emulator's scratch directory (with the stand-in `nomad` and the
AWS CLI in its bin), waiting for a step's shell without reaping it, and killing its process group."""

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading


@functools.cache  # one scratch directory for the emulator's lifetime, made on first use
def work_root() -> str:
    path = tempfile.mkdtemp(prefix="graceful-emulator-")
    bin_dir = os.path.join(path, "bin")
    os.makedirs(bin_dir)
    nomad = os.path.join(bin_dir, "nomad")
    with open(nomad, "w") as handle:
        handle.write(f"#!{shutil.which('bash') or '/bin/bash'}\n")
        handle.write(open(os.path.join(os.path.dirname(os.path.dirname(__file__)), "nomad_standin.sh")).read())
    os.chmod(nomad, 0o755)
    aws = os.path.join(os.path.dirname(sys.executable), "aws")  # awscli, pinned in requirements.txt
    if os.path.isfile(aws):
        os.symlink(aws, os.path.join(bin_dir, "aws"))
    return path


def kill(invocation, reap: bool = False, exited_only: bool = False) -> None:
    """SIGKILLs the process groups of the invocation's step shells: each shell and whatever its script started.

    A shell that exits by itself is reaped only here with reap=True (cancel, timeout, its instance terminating, reset):
    while it is an unreaped zombie its pid cannot be reused, so its process group id still names only this script's
    processes, such as a `sleep` it left in the background (pid_max is often 32768: a freed id is soon reused)."""
    for shell in invocation.shells:
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


def wait_unreaped(shell: subprocess.Popen, timeout: float):
    """The shell's exit code (negative: killed by that signal), or None if it ran out of `timeout` and was killed.

    Blocks in waitid (no polling: hundreds of scripts wait at once) and leaves the shell unreaped (see kill)."""
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
