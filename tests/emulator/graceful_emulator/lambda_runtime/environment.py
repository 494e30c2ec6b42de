"""One execution environment: its own Runtime API server and the `bootstrap` process that loops on it, spawned,
watched until it exits, handed invocations and killed."""

import errno
import os
import subprocess
import threading
import time
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING

from . import variables
from .function_code import command_for
from .runtime_api import RuntimeApi

if TYPE_CHECKING:
    from .models import Invocation


class Environment:
    """One execution environment: its own Runtime API server and the `bootstrap` process that loops on it."""

    def __init__(self, function, key, code_dir: str, lock: threading.Lock):
        self.key, self.function_name = key, function.function_name
        self.lock = lock  # the pools' lock: guards invocation, idle_since and closed
        self.invocation = None  # the invocation handed to it and not finished yet
        self.idle_since = None  # monotonic time it went idle; None while busy
        self.closed = self.broken = False
        self.assigned = threading.Condition(lock)
        self.exited = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi.bound_to(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        runtime_api = f"127.0.0.1:{self.server.server_address[1]}"
        try:
            command = command_for(os.path.join(code_dir, "bootstrap"))
            env = variables.process_environment(function, runtime_api)
            self.access_key_id = env["AWS_ACCESS_KEY_ID"]  # its role session: whose calls are its own
            self.process = _spawn(command, code_dir, env)
        except BaseException:
            self.server.shutdown()
            self.server.server_close()
            raise
        threading.Thread(target=_pump, args=(self.process.stdout, f"[lambda {self.function_name}]"),
                         daemon=True).start()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        self.process.wait()
        self.exited.set()
        invocation = self.invocation
        if invocation is not None:
            invocation.wake.set()

    def assign(self, invocation: "Invocation") -> None:
        with self.lock:
            self.invocation = invocation
            self.assigned.notify_all()
        if self.exited.is_set():
            invocation.wake.set()

    def close(self) -> None:
        """Kills the process and stops the server; the caller took it out of its pool."""
        with self.lock:
            self.closed = True
            self.assigned.notify_all()
        if self.process.poll() is None:
            try:
                self.process.kill()
            except ProcessLookupError:
                pass
        # shutdown() waits for serve_forever's next poll (up to 0.5 s): not on the caller's time.
        threading.Thread(target=self._stop_server, daemon=True).start()

    def _stop_server(self) -> None:
        self.process.wait()
        self.server.shutdown()
        self.server.server_close()


def _pump(stream, prefix: str) -> None:
    for line in iter(stream.readline, b""):
        print(f"{prefix} {line.decode(errors='replace').rstrip()}\n", end="", flush=True)


def _spawn(command: list, cwd: str, env: dict) -> subprocess.Popen:
    # ETXTBSY: a process forked by another thread while the zip was unpacked may briefly hold the file open.
    for attempt in range(20):
        try:
            return subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT)
        except OSError as error:
            if error.errno != errno.ETXTBSY or attempt == 19:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")
