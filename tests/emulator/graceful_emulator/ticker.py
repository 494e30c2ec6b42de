"""The emulator's clock thread: lifecycle timeouts, instance refresh batches and schedule rules, every 50 ms."""

import threading
import time
import traceback

from . import autoscaling_hooks, refresh, schedules, spot_interruptions


def _loop() -> None:
    while True:
        try:
            autoscaling_hooks.expire_due_actions()
            refresh.advance_all()
            schedules.fire_due()
            spot_interruptions.interrupt_due()
        except Exception:
            traceback.print_exc()
        time.sleep(0.05)


def start() -> None:
    threading.Thread(target=_loop, name="graceful-ticker", daemon=True).start()
