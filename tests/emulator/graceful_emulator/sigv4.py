"""The credential scope of a SigV4-signed request, read once for everyone who needs it.

"Credential=<access key ID>/<date>/<region>/<service>/aws4_request" in the Authorization header (AWS General
Reference / IAM User Guide, "Elements of an AWS API request signature").
"""

import re
from typing import NamedTuple

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/([^/]+)/([^/]+)/([^/]+)/aws4_request")


class Scope(NamedTuple):
    access_key_id: str
    date: str
    region: str
    service: str


def scope(environ: dict) -> Scope | None:
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    return Scope(*match.groups()) if match else None
