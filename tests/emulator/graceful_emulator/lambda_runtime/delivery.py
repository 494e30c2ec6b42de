"""Invocations: one run to its end on an environment (invoke_once, with the kill fault knobs), and asynchronous
delivery (deliver_async), retried twice on an error response, a crash or a timeout, like AWS's async invocation, with
the drop/duplicate fault knobs and the service's resource-policy check."""

import json
import threading
import time
import uuid

from moto.awslambda.utils import get_backend

from .. import state
from ..iam import resource_policy
from ..validation import gate
from .models import POOLS, Invocation


def invoke_once(function, event: dict, attempt: int, source: str, generation: int | None = None,
                request_id: str | None = None) -> tuple:
    """Runs one invocation to its end; returns (outcome, detail) with outcome in response/error/crash/timeout."""
    generation = state.current_generation() if generation is None else generation
    try:
        environment = POOLS.acquire(function, generation)
    except RuntimeError as error:
        return "crash", str(error)
    if environment is None:
        return "crash", "the emulator was reset"
    request_id = request_id or str(uuid.uuid4())
    invocation = Invocation(json.dumps(event).encode(), request_id, function.function_arn,
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
    POOLS.release(function, environment, keep=outcome[0] in ("response", "error"))
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
