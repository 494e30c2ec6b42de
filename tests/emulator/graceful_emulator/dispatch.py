"""Wraps moto's server application: the control API first, then fault knobs, then moto itself."""

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from . import control, faults, state

_original_call = DomainDispatcherApplication.__call__


def _call(self, environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith(control.PREFIX):
        return control.app(environ, start_response)
    if not path.startswith("/moto-api"):
        service, action = faults.identify(environ)
        state.count_call(service, action)
        fault = faults.pick_fault(service, action)
        if fault:
            return faults.error_response(environ, start_response, service, action, *fault)
    return _original_call(self, environ, start_response)


def install() -> None:
    DomainDispatcherApplication.__call__ = _call
