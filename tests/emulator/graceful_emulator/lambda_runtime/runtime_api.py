"""The Lambda Runtime API one execution environment's `bootstrap` loops on: `next` blocks until the environment is
handed an event, then the process posts the invocation's response or error (or its init error)."""

import uuid
from http.server import BaseHTTPRequestHandler


class RuntimeApi(BaseHTTPRequestHandler):
    """The Runtime API of one environment: bound_to gives the handler class of its server."""

    PREFIX = "/2018-06-01/runtime/invocation/"
    environment = None  # set on the class bound_to makes

    @classmethod
    def bound_to(cls, environment) -> type:
        return type(cls.__name__, (cls,), {"environment": environment})

    def log_message(self, *args):
        pass

    def _reply(self, code: int, body: bytes = b"{}", headers: dict | None = None):
        self.close_connection = True
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the process was killed meanwhile: nobody is listening any more

    def do_GET(self):
        environment = self.environment
        if self.path != self.PREFIX + "next":
            return self._reply(404, b'{"errorMessage":"unknown path"}')
        # Blocks, like Lambda, until this environment is handed an event (or is discarded).
        with environment.lock:
            while not environment.closed and (environment.invocation is None
                                              or environment.invocation.fetched.is_set()):
                environment.assigned.wait()
            invocation = None if environment.closed else environment.invocation
            if invocation is not None:
                invocation.fetched.set()
        if invocation is None:
            return self._reply(503, b"{}")
        self._reply(200, invocation.event, {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
            "Lambda-Runtime-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0"})

    def do_POST(self):
        environment = self.environment
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        invocation = environment.invocation
        if self.path.endswith("/init/error"):
            environment.broken = True  # an environment whose init failed is never reused
            kind = "error"
        elif invocation and self.path == f"{self.PREFIX}{invocation.request_id}/response":
            kind = "response"
        elif invocation and self.path == f"{self.PREFIX}{invocation.request_id}/error":
            kind = "error"
        else:
            return self._reply(404, b'{"errorMessage":"unknown path"}')
        if invocation is not None and invocation.outcome is None:
            invocation.outcome = (kind, body)
        self._reply(202, b'{"status":"OK"}')
        if invocation is not None:
            invocation.answered.set()
            invocation.wake.set()
