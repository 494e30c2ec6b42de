"""Wraps moto's server application: the control API first, then fault knobs, then moto itself."""

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from . import control, faults, sigv4, state, wire_errors
from .validation import gate

_original_call = DomainDispatcherApplication.__call__
_original_backend_for_host = DomainDispatcherApplication.get_backend_for_host
_BACKEND_FOR_HOST: dict = {}


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
        rejection = gate.check(environ, service, action)
        if rejection:
            return wire_errors.answer(environ, start_response, service, rejection.code, rejection.message,
                                      rejection.status)
        signed = sigv4.scope(environ)
        response = _original_call(self, environ, start_response)
        state.run_after_call(service, action, signed.access_key_id if signed else None)
        return response
    return _original_call(self, environ, start_response)


def _backend_for_host(self, host):
    # moto lists its package directory and tries its URL patterns on every request, under one lock all requests
    # share; the answer for a host never changes.
    if host not in _BACKEND_FOR_HOST:
        _BACKEND_FOR_HOST[host] = _original_backend_for_host(self, host)
    return _BACKEND_FOR_HOST[host]


def install() -> None:
    DomainDispatcherApplication.__call__ = _call
    DomainDispatcherApplication.get_backend_for_host = _backend_for_host
