"""Role sessions minted by the emulator's STS for the services acting for a role (a Lambda function's execution
environment): their access keys identify the role when the session calls back.

Source: Lambda developer guide, "Lambda execution role": "Lambda ... assumes the role and provides temporary
credentials to the function" through AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN
("Defined runtime environment variables"); the caller is then `arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION`.
"""

import dataclasses
import threading

from moto.sts.models import sts_backends


@dataclasses.dataclass(frozen=True)
class RoleSession:
    account: str
    role_arn: str
    session_arn: str  # arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
    access_key_id: str
    secret_access_key: str
    session_token: str


_LOCK = threading.Lock()
_BY_ACCESS_KEY: dict = {}


def assume(account: str, region: str, role_arn: str, session_name: str) -> RoleSession:
    assumed = sts_backends[account]["aws"].assume_role(region_name=region, role_session_name=session_name,
                                                      role_arn=role_arn, policy=None, duration=43200,
                                                      external_id=None)
    session = RoleSession(assumed.account_id, role_arn, assumed.arn, assumed.access_key_id,
                          assumed.secret_access_key, assumed.session_token)
    with _LOCK:
        _BY_ACCESS_KEY[session.access_key_id] = session
    return session


def by_access_key(access_key_id: str):
    with _LOCK:
        return _BY_ACCESS_KEY.get(access_key_id)


def reset() -> None:
    with _LOCK:
        _BY_ACCESS_KEY.clear()
