"""The stand-in nomad on its own: a second drain command follows the running drain instead of enabling it again."""

import os
import subprocess
import time

STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "graceful_emulator", "nomad_standin.sh")


def nomad(tmp_path, *args, background=False):
    env = dict(os.environ, GRACEFUL_NOMAD_BEHAVIOUR=str(tmp_path / "nomad-behaviour.sh"),
               GRACEFUL_NOMAD_CALLS=str(tmp_path / "calls.jsonl"), AWS_SSM_INSTANCE_ID="i-1")
    command = ["bash", STANDIN, *args]
    if background:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=10)


def test_drain_state_reads_as_go_prints_it_and_monitor_follows_the_running_drain(tmp_path):
    (tmp_path / "nomad-behaviour.sh").write_text("drain_seconds=1.5\nremaining_allocations=0\nfail=0\n")
    assert nomad(tmp_path, "node", "status", "-self", "-t", "{{ .Drain }}").stdout.strip() == "false"
    draining = nomad(tmp_path, "node", "drain", "-enable", "-self", "-yes", "-deadline", "60s", background=True)
    deadline = time.monotonic() + 5
    while nomad(tmp_path, "node", "status", "-self", "-t", "{{ .Drain }}").stdout.strip() != "true":
        assert time.monotonic() < deadline, "the drain never showed as running"
        time.sleep(0.05)
    started = time.monotonic()
    followed = nomad(tmp_path, "node", "drain", "-self", "-monitor")
    assert followed.returncode == 0 and "Drain complete" in followed.stdout
    assert draining.wait(timeout=5) == 0
    assert time.monotonic() - started > 0.5, "the monitor returned before the drain ended"
    assert nomad(tmp_path, "node", "status", "-self", "-t", "{{ .Drain }}").stdout.strip() == "false"
