"""An AWS error answer in the service's wire format (query: XML `ErrorResponse`; JSON protocols: `__type`).

Sources: AWS query protocol error responses (`<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`),
awsJson1_1 (`{"__type": code, "message": ...}`) and restJson1 (`x-amzn-ErrorType` header) in the Smithy AWS
protocol specs; botocore/parsers.py reads the code from exactly these places.
"""

import json
import uuid

_REASONS = {400: "Bad Request", 403: "Forbidden", 429: "Too Many Requests", 500: "Internal Server Error",
            503: "Service Unavailable"}


def is_json_protocol(environ: dict, service) -> bool:
    return bool(environ.get("HTTP_X_AMZ_TARGET")) or service == "lambda"


def answer(environ, start_response, service, code: str, message: str, status: int):
    request_id = str(uuid.uuid4())
    if is_json_protocol(environ, service):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code),
                   ("x-amzn-RequestId", request_id)]
    else:
        escaped = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escaped}</Message>"
                f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>").encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    headers.append(("Content-Length", str(len(body))))
    start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
    return [body]
