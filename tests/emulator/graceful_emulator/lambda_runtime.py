"""Lambda that runs: warm execution environments, each a `bootstrap` process looping on its own Runtime API.

As in Lambda, an invocation goes to an idle environment of the function when one is left (warm), otherwise a new one
is started (a cold start), up to the function's reserved concurrency or CONCURRENCY environments; further events wait
in the asynchronous queue for one to free up (an event waiting there has not been attempted yet). An environment that
crashed, timed out or failed its init is discarded, as is one whose code or configuration changed or that stayed
idle IDLE_SECONDS. Asynchronous deliveries (SNS, EventBridge) are retried twice on an error response, a crash or a
timeout, like AWS's async invocation.
"""

import errno
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import threading
import time
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moto.awslambda.utils import get_backend

from . import state
from .iam import resource_policy, sessions
from .validation import gate

RUNTIME_PREFIX = "/2018-06-01/runtime/invocation/"
ELF_MACHINES = {0x3E: "x86_64", 0xB7: "aarch64"}
# Environments per function when it has no reserved concurrency: AWS's account limit (1000) is far more than a 2-core
# machine runs usefully; events beyond it wait in the async queue, as throttled async events do in AWS.
CONCURRENCY = 64
IDLE_SECONDS = 300.0
_UNPACK_LOCK = threading.Lock()  # concurrent first deliveries must not unpack (and exec) a half-written zip
_LOCK = threading.Lock()  # guards ENVIRONMENTS and every environment's invocation, idle_since and closed
ENVIRONMENTS: dict = {}  # function ARN -> [_Environment, or None for one being started]
# Function ARN -> condition: one of its environments went idle or a slot freed up (waiters wake FIFO, one at a time).
_SLOTS: dict = {}


class _Invocation:
    def __init__(self, event: bytes, request_id: str, function_arn: str, deadline_ms: int):
        self.event, self.request_id, self.function_arn, self.deadline_ms = event, request_id, function_arn, deadline_ms
        self.fetched = threading.Event()
        self.answered = threading.Event()
        self.wake = threading.Event()  # answered, or the process exited
        self.outcome = None  # ("response" | "error", body)


def _handler_class(environment):
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
                pass  # the process was killed meanwhile: nobody is listening any more

        def do_GET(self):
            if self.path != RUNTIME_PREFIX + "next":
                return self._reply(404, b'{"errorMessage":"unknown path"}')
            # Blocks, like Lambda, until this environment is handed an event (or is discarded).
            with _LOCK:
                while not environment.closed and (environment.invocation is None
                                                  or environment.invocation.fetched.is_set()):
                    environment.assigned.wait()
                invocation = None if environment.closed else environment.invocation
                if invocation is not None:
                    invocation.fetched.set()
            if invocation is None:
                return self._reply(503, b"{}")
            self._reply(200, invocation.event, {
                "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                "Lambda-Runtime-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            invocation = environment.invocation
            if self.path.endswith("/init/error"):
                environment.broken = True  # an environment whose init failed is never reused
                kind = "error"
            elif invocation and self.path == f"{RUNTIME_PREFIX}{invocation.request_id}/response":
                kind = "response"
            elif invocation and self.path == f"{RUNTIME_PREFIX}{invocation.request_id}/error":
                kind = "error"
            else:
                return self._reply(404, b'{"errorMessage":"unknown path"}')
            if invocation is not None and invocation.outcome is None:
                invocation.outcome = (kind, body)
            self._reply(202, b'{"status":"OK"}')
            if invocation is not None:
                invocation.answered.set()
                invocation.wake.set()

    return RuntimeApi


class _Environment:
    """One execution environment: its own Runtime API server and the `bootstrap` process that loops on it."""

    def __init__(self, function, key: tuple, code_dir: str):
        self.key, self.function_name = key, function.function_name
        self.invocation = None  # the invocation handed to it and not finished yet
        self.idle_since = None  # monotonic time it went idle; None while busy
        self.closed = self.broken = False
        self.assigned = threading.Condition(_LOCK)
        self.exited = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        runtime_api = f"127.0.0.1:{self.server.server_address[1]}"
        try:
            command = command_for(os.path.join(code_dir, "bootstrap"))
            env = _environment(function, runtime_api)
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

    def assign(self, invocation: _Invocation) -> None:
        with _LOCK:
            self.invocation = invocation
            self.assigned.notify_all()
        if self.exited.is_set():
            invocation.wake.set()

    def close(self) -> None:
        """Kills the process and stops the server; the caller took it out of ENVIRONMENTS."""
        with _LOCK:
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


def _environment_key(function) -> tuple:
    """What an environment was started with: when any of it changes, new invocations need a new environment."""
    return (_code_digest(function), function.timeout, function.memory_size, function.handler,
            json.dumps(function.environment_vars or {}, sort_keys=True),
            json.dumps(getattr(function, "logging_config", None) or {}, sort_keys=True))


def _code_digest(function) -> str:
    # moto keeps the zip's hex SHA-256; hashing a multi-megabyte zip on every invocation would cost real CPU.
    return getattr(function, "code_digest", "") or hashlib.sha256(function.code_bytes).hexdigest()


def _acquire(function, generation: int):
    """An idle warm environment, else a new one below the concurrency limit, else waits; None after a reset."""
    key = _environment_key(function)
    limit = int(function.reserved_concurrency or CONCURRENCY)
    discarded = []
    with _LOCK:
        slot = _SLOTS.setdefault(function.function_arn, threading.Condition(_LOCK))
        while True:
            if state.current_generation() != generation:
                slot.notify()  # pass on a wake-up meant for a waiter of the current generation
                return None
            pool = ENVIRONMENTS.setdefault(function.function_arn, [])
            now = time.monotonic()
            for environment in [e for e in pool if e is not None and e.idle_since is not None]:
                if (environment.key != key or environment.broken or environment.exited.is_set()
                        or now - environment.idle_since > IDLE_SECONDS):
                    pool.remove(environment)
                    discarded.append(environment)
            warm = next((e for e in pool if e is not None and e.idle_since is not None), None)
            if warm is not None:
                warm.idle_since = None
                break
            if len(pool) < limit:
                pool.append(None)  # holds the slot while the environment starts outside the lock
                break
            slot.wait(timeout=5.0)  # the timeout re-checks the generation after a reset
    for environment in discarded:
        environment.close()
    if warm is not None:
        return warm
    try:
        environment = _Environment(function, key, _code_dir(function))
    except BaseException:
        with _LOCK:
            pool.remove(None)
            slot.notify()
        raise
    with _LOCK:
        pool.remove(None)
        orphaned = ENVIRONMENTS.get(function.function_arn) is not pool  # a reset happened meanwhile
        if not orphaned:
            pool.append(environment)
    if orphaned:
        environment.close()
        return None
    return environment


def _release(function, environment, keep: bool) -> None:
    with _LOCK:
        environment.invocation = None
        pool = ENVIRONMENTS.get(function.function_arn, [])
        keep = keep and not environment.broken and not environment.closed and environment in pool
        if keep:
            environment.idle_since = time.monotonic()
        elif environment in pool:
            pool.remove(environment)
        _SLOTS[function.function_arn].notify()
    if not keep:
        environment.close()


def _code_dir(function) -> str:
    """Unpacks the function's zip once per code hash and returns the directory holding `bootstrap`."""
    from .ssm_commands.processes import work_root
    digest = _code_digest(function)[:16]
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


def _role_credentials(function) -> dict:
    """The execution role's temporary credentials, from the emulator's STS (Lambda assumes the function's role)."""
    session = sessions.assume(function.account_id, function.region, function.role, function.function_name)
    return {"AWS_ACCESS_KEY_ID": session.access_key_id, "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
            "AWS_SESSION_TOKEN": session.session_token}


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
    env.update(_role_credentials(function))
    logging_config = getattr(function, "logging_config", None) or {}
    if logging_config.get("LogFormat") == "JSON":
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        if logging_config.get("ApplicationLogLevel"):
            env["AWS_LAMBDA_LOG_LEVEL"] = logging_config["ApplicationLogLevel"]
    env.update(function.environment_vars or {})
    return env


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


def invoke_once(function, event: dict, attempt: int, source: str, generation: int | None = None,
                request_id: str | None = None) -> tuple:
    """Runs one invocation to its end; returns (outcome, detail) with outcome in response/error/crash/timeout."""
    generation = state.current_generation() if generation is None else generation
    try:
        environment = _acquire(function, generation)
    except RuntimeError as error:
        return "crash", str(error)
    if environment is None:
        return "crash", "the emulator was reset"
    request_id = request_id or str(uuid.uuid4())
    invocation = _Invocation(json.dumps(event).encode(), request_id, function.function_arn,
                             int((time.time() + function.timeout) * 1000))
    state.log_event("lambda-invocation-started", function=function.function_name, request_id=request_id,
                    attempt=attempt, source=source)
    environment.assign(invocation)
    kill_after = kill_on_call = None
    with state.LOCK:
        if state.DELIVERY["kill_next"] > 0:
            kill_after, kill_on_call = state.DELIVERY["kill_after_seconds"], state.DELIVERY["kill_on_call"]
            if kill_on_call is None:
                state.DELIVERY["kill_next"] -= 1

    def kill():
        if invocation.fetched.is_set() and not invocation.answered.is_set() and environment.process.poll() is None:
            state.log_event("lambda-killed", function=function.function_name, request_id=request_id)
            environment.process.kill()
            environment.process.wait()

    def kill_after_own_call():
        # The next invocation to make the call is killed: one that never makes it (a duplicate that found the
        # drain started) leaves the kill to the next that does.
        with state.LOCK:
            if state.DELIVERY["kill_next"] <= 0 or invocation.answered.is_set():
                return
            state.DELIVERY["kill_next"] -= 1
        kill()

    watching = None
    if kill_on_call is not None:
        # Deterministic: this invocation's own call has taken effect, its handler never sees the answer.
        watching = state.after_call(kill_on_call, environment.access_key_id, kill_after_own_call)
    elif kill_after is not None:
        def killer():
            if invocation.fetched.wait(timeout=function.timeout):
                time.sleep(kill_after)
                kill()
        threading.Thread(target=killer, daemon=True).start()
    outcome = _await(environment, invocation, function.timeout)
    if watching is not None:
        state.forget_call(kill_on_call, watching)
    # A crashed or timed-out environment is discarded, as Lambda does; a handled error keeps it warm.
    _release(function, environment, keep=outcome[0] in ("response", "error"))
    return outcome


def _await(environment, invocation, timeout: float) -> tuple:
    deadline = time.monotonic() + timeout
    while True:
        if invocation.answered.is_set():
            kind, body = invocation.outcome
            return kind, body.decode(errors="replace")
        if environment.exited.is_set():
            if invocation.answered.wait(timeout=0.2):  # a response posted just before exiting still counts
                continue
            return "crash", f"Runtime exited with error: exit status {environment.process.returncode}"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout", f"Task timed out after {timeout:.2f} seconds"
        invocation.wake.wait(timeout=remaining)


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
        if attempt == 1 and gate.SETTINGS.iam_enforced:
            # The service invokes the unqualified function ($LATEST): the policy's Resource is the bare function ARN.
            unqualified = ":".join(function.function_arn.split(":")[:7])
            allowed, reason = resource_policy.service_may_invoke(_policy_of(function), unqualified, source)
            if not allowed:
                # The service's invoke is refused before any attempt; the event never reaches the code.
                state.log_event("lambda-delivery-denied", function=function_name, source=source, reason=reason)
                return
        request_id = str(uuid.uuid4())
        try:
            outcome, detail = invoke_once(function, event, attempt, source, generation, request_id)
        except Exception as error:  # a broken zip or an unstartable binary is a failed attempt, as in Lambda
            outcome, detail = "crash", f"{type(error).__name__}: {error}"
        if state.current_generation() != generation:
            return
        state.log_event("lambda-invocation-finished", function=function_name, request_id=request_id, attempt=attempt,
                        outcome=outcome, detail=detail[:2000], source=source)
        if outcome == "response":
            return
        if attempt < 3:
            time.sleep(state.emulated_seconds_to_real(delays[min(attempt - 1, len(delays) - 1)]))
    state.log_event("lambda-delivery-exhausted", function=function_name, source=source)


def _policy_of(function):
    """The function's resource-based policy document (GetPolicy's `Policy`), or None when it has none."""
    try:
        return json.loads(function.policy.wire_format())["Policy"] if function.policy else None
    except Exception:  # moto raises when no statement was ever added
        return None


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
    """Discards every environment (reset, exit)."""
    with _LOCK:
        environments = [e for pool in ENVIRONMENTS.values() for e in pool if e is not None]
        ENVIRONMENTS.clear()
        for slot in _SLOTS.values():
            slot.notify_all()
    for environment in environments:
        environment.close()
