"""What the gate answers instead of passing a request on."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Rejection:
    code: str
    status: int
    message: str
    rule: str = ""  # which rule fired (logged with the request-invalid event)
