"""Lambda that runs: warm execution environments, each a `bootstrap` process looping on its own Runtime API.

As in Lambda, an invocation goes to an idle environment of the function when one is left (warm), otherwise a new one
is started (a cold start), up to the function's reserved concurrency or CONCURRENCY environments; further events wait
in the asynchronous queue for one to free up (an event waiting there has not been attempted yet). An environment that
crashed, timed out or failed its init is discarded, as is one whose code or configuration changed or that stayed
idle IDLE_SECONDS. Asynchronous deliveries (SNS, EventBridge) are retried twice on an error response, a crash or a
timeout, like AWS's async invocation.

Split as moto splits a service: models.py (the EnvironmentPools that owns every function's warm environments, with
CONCURRENCY and IDLE_SECONDS, picking, reaping and discarding them; records: Invocation, EnvironmentKey),
environment.py (one execution environment: its `bootstrap` process spawned, watched and killed), runtime_api.py (the
Runtime API HTTP handler that process loops on), function_code.py (the zip unpacked once per code hash, and the
architecture check), variables.py (the process's environment variables and the execution role's credentials) and
delivery.py (one invocation run to its end; asynchronous delivery with its retries and the fault knobs).
"""

from .delivery import deliver_async, invoke_once
from .function_code import binary_machine, command_for
from .models import POOLS, kill_all

__all__ = ["POOLS", "binary_machine", "command_for", "deliver_async", "invoke_once", "kill_all"]
