"""The emulator's clock thread: lifecycle timeouts and schedule rules, checked every 50 ms."""

import threading
import time
import traceback

from . import autoscaling_hooks, schedules


def _loop() -> None:
    while True:
        try:
            autoscaling_hooks.expire_due_actions()
            schedules.fire_due()
        except Exception:
            traceback.print_exc()
        time.sleep(0.05)


def start() -> None:
    threading.Thread(target=_loop, name="graceful-ticker", daemon=True).start()
