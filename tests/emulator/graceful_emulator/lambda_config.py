"""Lambda configuration moto drops: LoggingConfig kept and returned, so a provider's read shows no false drift."""

from moto.awslambda import models as lambda_models

_original_init = lambda_models.LambdaFunction.__init__
_original_get_configuration = lambda_models.LambdaFunction.get_configuration
_original_update_configuration = lambda_models.LambdaFunction.update_configuration


def _default_logging(function) -> dict:
    return {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.function_name}"}


def _init(self, account_id, spec, region, version=1):
    _original_init(self, account_id, spec, region, version)
    self.logging_config = {**_default_logging(self), **(spec.get("LoggingConfig") or {})}


def _get_configuration(self, on_create=False):
    config = _original_get_configuration(self, on_create)
    config["LoggingConfig"] = getattr(self, "logging_config", None) or _default_logging(self)
    return config


def _update_configuration(self, config_updates):
    if "LoggingConfig" in config_updates:
        merged = {**(getattr(self, "logging_config", None) or _default_logging(self)),
                  **config_updates["LoggingConfig"]}
        if merged.get("LogFormat") == "Text":
            merged.pop("ApplicationLogLevel", None)
            merged.pop("SystemLogLevel", None)
        self.logging_config = merged
    return _original_update_configuration(self, config_updates)


def install() -> None:
    lambda_models.LambdaFunction.__init__ = _init
    lambda_models.LambdaFunction.get_configuration = _get_configuration
    lambda_models.LambdaFunction.update_configuration = _update_configuration
