"""Lambda that runs: each invocation spawns the function's `bootstrap` under its own Lambda Runtime API server.

One process per invocation (a cold start every time): the Runtime API serves exactly one event, and the process is
killed once it has answered, as Lambda freezes and eventually reaps idle environments. Asynchronous deliveries (SNS,
EventBridge) are retried twice on an error response, a crash or a timeout, like AWS's async invocation.
"""

import errno
import hashlib
import io
import json
import os
import platform
import shutil
import signal
import subprocess
import threading
import time
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moto.awslambda.utils import get_backend

from . import state

RUNTIME_PREFIX = "/2018-06-01/runtime/invocation/"
PROCESSES: set = set()
ELF_MACHINES = {0x3E: "x86_64", 0xB7: "aarch64"}
_UNPACK_LOCK = threading.Lock()  # concurrent first deliveries must not unpack (and exec) a half-written zip


class _OneInvocation:
    """The state one Runtime API server shares with its handler thread."""

    def __init__(self, event: bytes, request_id: str, function_arn: str, deadline_ms: int):
        self.event, self.request_id, self.function_arn, self.deadline_ms = event, request_id, function_arn, deadline_ms
        self.served = False
        self.fetched = threading.Event()
        self.done = threading.Event()
        self.outcome = None  # ("response" | "error", body)


def _handler_class(invocation: _OneInvocation):
    class RuntimeApi(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _reply(self, code: int, body: bytes = b"{}", headers: dict | None = None):
            self.close_connection = True
            self.send_response(code)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            try:
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the process was killed after it answered: nobody is listening any more

        def do_GET(self):
            if self.path != RUNTIME_PREFIX + "next":
                return self._reply(404, b'{"errorMessage":"unknown path"}')
            if invocation.served:
                # The one event was handed out: block like Lambda does until the environment is frozen (killed).
                invocation.done.wait(timeout=3600)
                return self._reply(503, b"{}")
            invocation.served = True
            invocation.fetched.set()
            self._reply(200, invocation.event, {
                "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                "Lambda-Runtime-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path == f"{RUNTIME_PREFIX}{invocation.request_id}/response":
                invocation.outcome = ("response", body)
            elif self.path == f"{RUNTIME_PREFIX}{invocation.request_id}/error":
                invocation.outcome = ("error", body)
            elif self.path.endswith("/init/error"):
                invocation.outcome = ("error", body)
            else:
                return self._reply(404, b'{"errorMessage":"unknown path"}')
            self._reply(202, b'{"status":"OK"}')
            invocation.done.set()

    return RuntimeApi


def _code_dir(function) -> str:
    """Unpacks the function's zip once per code hash and returns the directory holding `bootstrap`."""
    from .ssm_commands import work_root
    digest = hashlib.sha256(function.code_bytes).hexdigest()[:16]
    target = os.path.join(work_root(), "lambda", f"{function.function_name}-{digest}")
    with _UNPACK_LOCK:
        if os.path.isdir(target):
            return target
        staging = target + ".partial"
        shutil.rmtree(staging, ignore_errors=True)
        with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
            archive.extractall(staging)
            for info in archive.infolist():
                mode = info.external_attr >> 16
                if mode:
                    os.chmod(os.path.join(staging, info.filename), mode & 0o7777)
        os.rename(staging, target)
    return target


def binary_machine(path: str) -> str | None:
    with open(path, "rb") as handle:
        header = handle.read(20)
    if header[:4] != b"\x7fELF":
        return None
    endian = "little" if header[5] == 1 else "big"
    return ELF_MACHINES.get(int.from_bytes(header[18:20], endian), "unknown")


def command_for(bootstrap: str) -> list:
    """Runs an aarch64 binary through qemu-aarch64-static on an x86_64 host (and vice versa it cannot)."""
    machine = binary_machine(bootstrap)
    host = platform.machine()
    host = "aarch64" if host == "arm64" else host
    if machine is None or machine == host:
        return [bootstrap]
    if machine == "aarch64" and host == "x86_64":
        qemu = shutil.which("qemu-aarch64-static")
        if not qemu:
            raise RuntimeError("bootstrap is an aarch64 binary and qemu-aarch64-static is missing (Debian package "
                               "qemu-user-static; `cargo xtask setup` installs it)")
        return [qemu, bootstrap]
    raise RuntimeError(f"bootstrap is built for {machine}; this {host} host cannot run it")


def _environment(function, runtime_api: str) -> dict:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "en_US.UTF-8", "TZ": ":UTC",
        "AWS_ENDPOINT_URL": f"http://{state.SERVER['host']}:{state.SERVER['port']}",
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "test",
        "AWS_REGION": function.region, "AWS_DEFAULT_REGION": function.region,
        "AWS_LAMBDA_RUNTIME_API": runtime_api, "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size), "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout), "AWS_EXECUTION_ENV": "AWS_Lambda_rapid",
        "AWS_LAMBDA_LOG_GROUP_NAME": function.logs_group_name,
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", "_HANDLER": function.handler or "bootstrap",
    }
    logging_config = getattr(function, "logging_config", None) or {}
    if logging_config.get("LogFormat") == "JSON":
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        if logging_config.get("ApplicationLogLevel"):
            env["AWS_LAMBDA_LOG_LEVEL"] = logging_config["ApplicationLogLevel"]
    env.update(function.environment_vars or {})
    return env


def _pump(stream, prefix: str) -> None:
    for line in iter(stream.readline, b""):
        print(f"{prefix} {line.decode(errors='replace').rstrip()}", flush=True)


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


def invoke_once(function, event: dict, attempt: int, source: str) -> tuple:
    """Runs one invocation to its end; returns (outcome, detail) with outcome in response/error/crash/timeout."""
    code_dir = _code_dir(function)
    request_id = str(uuid.uuid4())
    deadline_ms = int((time.time() + function.timeout) * 1000)
    invocation = _OneInvocation(json.dumps(event).encode(), request_id, function.function_arn, deadline_ms)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(invocation))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    runtime_api = f"127.0.0.1:{server.server_address[1]}"
    state.log_event("lambda-invocation-started", function=function.function_name, request_id=request_id,
                    attempt=attempt, source=source)
    process = None
    try:
        command = command_for(os.path.join(code_dir, "bootstrap"))
        process = _spawn(command, code_dir, _environment(function, runtime_api))
        PROCESSES.add(process)
        threading.Thread(target=_pump, args=(process.stdout, f"[lambda {function.function_name}]"),
                         daemon=True).start()
        kill_after = None
        with state.LOCK:
            if state.DELIVERY["kill_next"] > 0:
                state.DELIVERY["kill_next"] -= 1
                kill_after = state.DELIVERY["kill_after_seconds"]
        if kill_after is not None:
            def killer():
                if invocation.fetched.wait(timeout=function.timeout):
                    time.sleep(kill_after)
                    if not invocation.done.is_set() and process.poll() is None:
                        state.log_event("lambda-killed", function=function.function_name, request_id=request_id)
                        process.kill()
            threading.Thread(target=killer, daemon=True).start()
        deadline = time.monotonic() + function.timeout
        while not invocation.done.is_set():
            if process.poll() is not None:
                invocation.done.wait(timeout=0.2)  # a response posted just before exiting still counts
                if not invocation.done.is_set():
                    return "crash", f"Runtime exited with error: exit status {process.returncode}"
                break
            if time.monotonic() >= deadline:
                return "timeout", f"Task timed out after {function.timeout:.2f} seconds"
            invocation.done.wait(timeout=0.05)
        kind, body = invocation.outcome
        return kind, body.decode(errors="replace")
    except RuntimeError as error:
        return "crash", str(error)
    finally:
        invocation.done.set()
        if process is not None:
            if process.poll() is None:
                process.kill()
            process.wait()
            PROCESSES.discard(process)
        server.shutdown()
        server.server_close()


def _deliver(account: str, region: str, function_name: str, event: dict, source: str) -> None:
    delays = list(state.DELIVERY["retry_delays"])
    generation = state.current_generation()
    for attempt in range(1, 4):
        if state.current_generation() != generation:
            return
        try:
            function = get_backend(account, region).get_function(function_name)
        except Exception as error:
            state.log_event("lambda-delivery-failed", function=function_name, source=source, error=str(error))
            return
        try:
            outcome, detail = invoke_once(function, event, attempt, source)
        except Exception as error:  # a broken zip or an unstartable binary is a failed attempt, as in Lambda
            outcome, detail = "crash", f"{type(error).__name__}: {error}"
        if state.current_generation() != generation:
            return
        state.log_event("lambda-invocation-finished", function=function_name, attempt=attempt, outcome=outcome,
                        detail=detail[:2000], source=source)
        if outcome == "response":
            return
        if attempt < 3:
            time.sleep(state.emulated_seconds_to_real(delays[min(attempt - 1, len(delays) - 1)]))
    state.log_event("lambda-delivery-exhausted", function=function_name, source=source)


def deliver_async(account: str, region: str, function_name: str, event: dict, source: str) -> None:
    """Queues an asynchronous invocation, honouring the drop/duplicate fault knobs."""
    with state.LOCK:
        copies = 1
        if state.DELIVERY["drop_next"] > 0:
            state.DELIVERY["drop_next"] -= 1
            copies = 0
        elif state.DELIVERY["duplicate_next"] > 0:
            state.DELIVERY["duplicate_next"] -= 1
            copies = 2
    state.log_event("lambda-delivery", function=function_name, source=source, copies=copies, event=event)
    for _ in range(copies):
        threading.Thread(target=_deliver, args=(account, region, function_name, event, source), daemon=True).start()


def kill_all() -> None:
    for process in list(PROCESSES):
        if process.poll() is None:
            try:
                process.send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass
