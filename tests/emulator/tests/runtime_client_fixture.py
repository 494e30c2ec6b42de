"""A tiny Lambda Runtime API client used as `bootstrap` in the emulator's own Lambda tests (not the product).

Each invocation appends {"event", "env"} to $RECORD_FILE, then behaves as $BEHAVIOUR says:
ok (respond), error (post an error), crash (exit 2), slow (sleep $SLOW_SECONDS, then respond),
fail-first (error on the first invocation recorded, respond afterwards).
"""

import json
import os
import sys
import time
import urllib.request

API = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime/invocation"
KEPT = ("AWS_ENDPOINT_URL", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_LOG_FORMAT", "AWS_REGION", "BEHAVIOUR", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def post(path: str, body: dict) -> None:
    request = urllib.request.Request(f"{API}/{path}", data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(request).read()


while True:
    with urllib.request.urlopen(f"{API}/next") as response:
        request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(response.read())
    record = os.environ["RECORD_FILE"]
    previous = open(record).read().count("\n") if os.path.exists(record) else 0
    with open(record, "a") as handle:
        handle.write(json.dumps({"event": event, "env": {k: os.environ.get(k) for k in KEPT},
                                 "deadline": response.headers["Lambda-Runtime-Deadline-Ms"]}) + "\n")
    behaviour = os.environ.get("BEHAVIOUR", "ok")
    if behaviour == "crash":
        sys.exit(2)
    if behaviour == "slow":
        time.sleep(float(os.environ.get("SLOW_SECONDS", "2")))
    if behaviour == "error" or (behaviour == "fail-first" and previous == 0):
        post(f"{request_id}/error", {"errorType": "TestError", "errorMessage": "told to fail"})
    else:
        post(f"{request_id}/response", {"ok": True})
