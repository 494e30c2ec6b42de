"""The warm environments' state and rules: one EnvironmentPools owns every function's execution environments (by
function ARN, under one lock), the concurrency and idle limits and the waiters for a free slot, and holds the rules
for picking a warm environment or starting one (acquire, which reaps the stale ones), taking it back or discarding it
(release) and discarding them all (kill_all). Records: Invocation, EnvironmentKey."""

import json
import threading
import time
from dataclasses import dataclass, field

from .. import state
from .environment import Environment
from .function_code import CodeDirectories, code_digest


@dataclass(eq=False)
class Invocation:
    """One event handed to an environment, and how it ended."""
    event: bytes
    request_id: str
    function_arn: str
    deadline_ms: int
    fetched: threading.Event = field(default_factory=threading.Event)
    answered: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)  # answered, or the process exited
    outcome: tuple | None = None  # ("response" | "error", body)


@dataclass(frozen=True)
class EnvironmentKey:
    """What an environment was started with: when any of it changes, new invocations need a new environment."""
    code_digest: str
    timeout: int
    memory_size: int
    handler: str | None
    environment_vars: str  # JSON, keys sorted
    logging_config: str  # JSON, keys sorted

    @classmethod
    def of(cls, function) -> "EnvironmentKey":
        return cls(code_digest(function), function.timeout, function.memory_size, function.handler,
                   json.dumps(function.environment_vars or {}, sort_keys=True),
                   json.dumps(getattr(function, "logging_config", None) or {}, sort_keys=True))


class EnvironmentPools:
    """Every function's execution environments, by function ARN."""

    # Environments per function when it has no reserved concurrency: AWS's account limit (1000) is far more than a
    # 2-core machine runs usefully; events beyond it wait in the async queue, as throttled async events do in AWS.
    CONCURRENCY = 64
    IDLE_SECONDS = 300.0

    def __init__(self):
        self.lock = threading.Lock()  # guards environments and every environment's invocation, idle_since and closed
        self.environments: dict = {}  # function ARN -> [Environment, or None for one being started]
        # Function ARN -> condition: one of its environments went idle or a slot freed up (waiters wake FIFO, one at a
        # time).
        self.slots: dict = {}
        self.code = CodeDirectories()

    def acquire(self, function, generation: int):
        """An idle warm environment, else a new one below the concurrency limit, else waits; None after a reset."""
        key = EnvironmentKey.of(function)
        limit = int(function.reserved_concurrency or self.CONCURRENCY)
        discarded = []
        with self.lock:
            slot = self.slots.setdefault(function.function_arn, threading.Condition(self.lock))
            while True:
                if state.current_generation() != generation:
                    slot.notify()  # pass on a wake-up meant for a waiter of the current generation
                    return None
                pool = self.environments.setdefault(function.function_arn, [])
                now = time.monotonic()
                for environment in [e for e in pool if e is not None and e.idle_since is not None]:
                    if (environment.key != key or environment.broken or environment.exited.is_set()
                            or now - environment.idle_since > self.IDLE_SECONDS):
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
            environment = Environment(function, key, self.code.of(function), self.lock)
        except BaseException:
            with self.lock:
                pool.remove(None)
                slot.notify()
            raise
        with self.lock:
            pool.remove(None)
            orphaned = self.environments.get(function.function_arn) is not pool  # a reset happened meanwhile
            if not orphaned:
                pool.append(environment)
        if orphaned:
            environment.close()
            return None
        return environment

    def release(self, function, environment, keep: bool) -> None:
        with self.lock:
            environment.invocation = None
            pool = self.environments.get(function.function_arn, [])
            keep = keep and not environment.broken and not environment.closed and environment in pool
            if keep:
                environment.idle_since = time.monotonic()
            elif environment in pool:
                pool.remove(environment)
            self.slots[function.function_arn].notify()
        if not keep:
            environment.close()

    def kill_all(self) -> None:
        """Discards every environment (reset, exit)."""
        with self.lock:
            environments = [e for pool in self.environments.values() for e in pool if e is not None]
            self.environments.clear()
            for slot in self.slots.values():
                slot.notify_all()
        for environment in environments:
            environment.close()


# The one EnvironmentPools: environments are per function ARN (account and region included), under one lock.
POOLS = EnvironmentPools()


def kill_all() -> None:
    """Discards every environment (reset, exit)."""
    POOLS.kill_all()
