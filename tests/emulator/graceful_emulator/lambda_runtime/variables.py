"""What an environment's `bootstrap` process sees: Lambda's reserved environment variables, the execution role's
temporary credentials and the function's own variables."""

import time
import uuid

from .. import state
from ..iam import sessions


def role_credentials(function) -> dict:
    """The execution role's temporary credentials, from the emulator's STS (Lambda assumes the function's role)."""
    session = sessions.assume(function.account_id, function.region, function.role, function.function_name)
    return {"AWS_ACCESS_KEY_ID": session.access_key_id, "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
            "AWS_SESSION_TOKEN": session.session_token}


def process_environment(function, runtime_api: str) -> dict:
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
    env.update(role_credentials(function))
    logging_config = getattr(function, "logging_config", None) or {}
    if logging_config.get("LogFormat") == "JSON":
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        if logging_config.get("ApplicationLogLevel"):
            env["AWS_LAMBDA_LOG_LEVEL"] = logging_config["ApplicationLogLevel"]
    env.update(function.environment_vars or {})
    return env
