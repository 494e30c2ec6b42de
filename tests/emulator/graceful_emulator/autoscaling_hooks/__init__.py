"""Auto Scaling lifecycle hooks with AWS semantics: stored hooks, Terminating:Wait, notifications, complete/heartbeat.

Several TERMINATING hooks on one group: all are notified at once, each with its own token; the instance proceeds
when every action is complete, and an ABANDON (explicit or by timeout) ends the remaining actions at once.
LAUNCHING hooks are stored and validated but do not hold launches.

Other ways out of a group (warm_pools.py, retention.py, refresh.py) reuse this engine through PATHS and FINISHERS:
a path names the wait state and the notification's Origin/Destination, and its finisher decides what happens to the
instance once every action of it is complete.

Split as moto splits a service: models.py (a LifecycleActions per account and region: the actions, the scaling
activities and their rules; PATHS and FINISHERS), hooks.py (PutLifecycleHook's rules for moto's hook records),
notifications.py (what the hook's target receives), backend_patches.py (moto's backend taking instances out through
the hooks) and responses.py (the patched responses: parameters in, the rules called, the answer rendered).
"""

from . import backend_patches, responses
from .models import FINISHERS, PATHS, actions_of, begin, close_activity, expire_due_actions, reset


def install() -> None:
    backend_patches.install()
    responses.install()


__all__ = ["FINISHERS", "PATHS", "actions_of", "begin", "close_activity", "expire_due_actions", "install", "reset"]
