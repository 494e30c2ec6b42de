"""What Run Command sees of an instance: whether it runs and its agent answers, and the environment its scripts get
(the instance profile's credentials, the emulator as the endpoint)."""

import os

from moto.ec2.models import ec2_backends

from .. import state
from ..iam import sessions
from .processes import work_root


def running(account: str, region: str) -> dict:
    found = {}
    for reservation in ec2_backends[account][region].reservations.values():
        for instance in reservation.instances:
            if instance.state == "running":
                found[instance.id] = instance
    return found


def agent_of(instance_id: str) -> dict:
    with state.LOCK:
        return {"ping_status": "Online", "managed": True, **state.AGENTS.get(instance_id, {})}


def _credentials(account: str, region: str, instance_id: str) -> dict:
    """The credentials a process on the instance gets: those of its instance profile's role, as a role session named
    after the instance (EC2 user guide, "IAM roles for Amazon EC2": the instance's applications get the role's
    temporary credentials from the instance metadata; the caller is arn:aws:sts::ACCOUNT:assumed-role/ROLE/INSTANCE).
    The profile is the instance's association (RunInstances' IamInstanceProfile or AssociateIamInstanceProfile; moto
    records none for instances an Auto Scaling group launched). No profile, no credentials."""
    association = ec2_backends[account][region].iam_instance_profile_associations.get(instance_id)
    roles = association.iam_instance_profile.roles if association else []
    if not roles:
        return {}
    session = sessions.assume(account, region, roles[0].arn, instance_id)
    return {"AWS_ACCESS_KEY_ID": session.access_key_id, "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
            "AWS_SESSION_TOKEN": session.session_token}


def environment(account: str, region: str, instance_id: str, work: str) -> dict:
    """The environment of a script the agent runs: the agent's own (no AWS_* settings of the emulator's process), the
    stand-in `nomad` and `aws` first on PATH, and what the instance metadata gives the AWS CLI on a real instance
    stood in by settings: the emulator as the endpoint (AWS_ENDPOINT_URL), the instance's region, its profile's
    credentials. The metadata service itself is off (AWS_EC2_METADATA_DISABLED, AWS CLI "Environment variables"
    page): there is none here, and nothing reaches for its link-local address. No shared config or credentials files
    either: an instance has none unless its image wrote them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "PATH": os.path.join(work_root(), "bin") + os.pathsep + env.get("PATH", ""),
        "AWS_ENDPOINT_URL": f"http://{state.SERVER['host']}:{state.SERVER['port']}",
        "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.path.join(work, ".aws-config-none"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(work, ".aws-credentials-none"),
    })
    env.update(_credentials(account, region, instance_id))
    return env
