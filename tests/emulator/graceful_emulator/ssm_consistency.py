"""What SSM Run Command does not promise: a new command is not listed at once, and a cancel may come late or never.

Sources:
- SendCommand is eventually consistent: the SDKs' waiter `CommandExecuted` (botocore
  `data/ssm/2014-11-06/waiters-2.json`, the pinned botocore) polls `GetCommandInvocation` right after a send and
  retries while it answers the error `InvocationDoesNotExist`, i.e. a command just sent may not be found yet. AWS
  gives no figure, so the lag is a knob (seconds, drawn per command from a seeded generator), zero unless a test
  sets it.
- CancelCommand API reference: "Attempts to cancel the command specified by the Command ID. There is no guarantee
  that the command will be terminated and the underlying process stopped." A cancel takes effect after a knob's
  delay, or, with `cancel_takes_effect` false, never (the call still succeeds).

Knobs (POST /_graceful/ssm_consistency): `list_lag_seconds` [low, high], `cancel_delay_seconds`,
`cancel_takes_effect`, `seed`. While a command is not visible yet, ListCommands and ListCommandInvocations leave it
out and GetCommandInvocation answers InvocationDoesNotExist; SendCommand itself answers the command as usual.
Ledger: `command-listed-late` (command_id, lag_seconds) for each lagging command, `command-cancel-ignored`.
"""

import random
import threading
import time

from . import state

DEFAULTS = {"list_lag_seconds": [0.0, 0.0], "cancel_delay_seconds": 0.0, "cancel_takes_effect": True}
KNOBS = dict(DEFAULTS)
_RNG = random.Random(0)


def reset() -> None:
    with state.LOCK:
        KNOBS.clear()
        KNOBS.update(DEFAULTS)
        _RNG.seed(0)


def configure(body: dict) -> dict:
    """Validates and applies the knobs of a control call; answers them all."""
    with state.LOCK:
        if "list_lag_seconds" in body:
            lag = body["list_lag_seconds"]
            if (not isinstance(lag, list) or len(lag) != 2 or not all(isinstance(v, (int, float)) for v in lag)
                    or not 0 <= lag[0] <= lag[1]):
                raise ValueError("field 'list_lag_seconds' must be [low, high] with 0 <= low <= high, "
                                 f"got {lag!r}")
            KNOBS["list_lag_seconds"] = [float(lag[0]), float(lag[1])]
        if "cancel_delay_seconds" in body:
            delay = body["cancel_delay_seconds"]
            if not isinstance(delay, (int, float)) or delay < 0:
                raise ValueError(f"field 'cancel_delay_seconds' must be a number >= 0, got {delay!r}")
            KNOBS["cancel_delay_seconds"] = float(delay)
        if "cancel_takes_effect" in body:
            if not isinstance(body["cancel_takes_effect"], bool):
                raise ValueError("field 'cancel_takes_effect' must be true or false")
            KNOBS["cancel_takes_effect"] = body["cancel_takes_effect"]
        if "seed" in body:
            _RNG.seed(body["seed"])
        return dict(KNOBS)


def stamp(command) -> None:
    """Marks when a just-sent command (an ssm_commands.models.Command) becomes visible to the listing calls."""
    low, high = KNOBS["list_lag_seconds"]
    lag = _RNG.uniform(low, high) if high > 0 else 0.0
    command.visible_at = time.monotonic() + lag
    if lag > 0:
        state.log_event("command-listed-late", command_id=command.command_id, lag_seconds=round(lag, 3))


def visible(command) -> bool:
    return time.monotonic() >= command.visible_at


def cancel(command_id: str, apply) -> None:
    """Runs `apply()` (the cancel's effect) now, later, or never, as the knobs say."""
    if not KNOBS["cancel_takes_effect"]:
        state.log_event("command-cancel-ignored", command_id=command_id)
        return
    delay = KNOBS["cancel_delay_seconds"]
    if delay <= 0:
        apply()
        return
    generation = state.GENERATION["value"]

    def later():
        if state.GENERATION["value"] == generation:  # a reset between tests drops what the last test left pending
            apply()
    timer = threading.Timer(delay, later)
    timer.daemon = True
    timer.start()
