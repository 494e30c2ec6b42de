"""The Nomad world of the stand-in `nomad` (nomad_standin.sh): the knobs a test sets through POST /_graceful/nomad,
checked once here, and the shell assignments the stand-in sources.

Knobs (all optional; a body without `instance_id` sets the default for every instance):
- allocations: [{"name": "ci.build[0]", "namespace": "default", "type": "service|batch|system|sysbatch",
  "runs_seconds": seconds after the node is first seen that it ends by itself (omitted: runs until stopped),
  "stop_seconds": seconds it takes to stop once told (kill_timeout / shutdown_delay)}]
- agent: "up" (plain HTTP), "tls" (HTTPS only, needs an https address and a CA file), "down" (connection refused)
- tls_verify_client: the TLS agent has `verify_https_client = true` (a client certificate is required); default
  false, as Nomad's (nomad/structs/config/tls.go TLSConfig.VerifyHTTPSClient is a plain bool, and
  command/agent/config.go DefaultConfig sets TLSConfig to &config.TLSConfig{})
- tls_cert_names: the names in the TLS agent's certificate (IP addresses are its IP SANs, the others its DNS SANs);
  default what `nomad tls cert create -client` gives in the default region "global" and domain "nomad"
  (command/tls_cert_create.go recordPreparation: client.global.nomad, localhost and 127.0.0.1)
- acl_token: when set, ACLs are on and this secret is the only valid token; token_agent_read, token_node_write (bool)
  and token_read_job_namespaces (["*"] or names) are what its policy grants
- cancel_after_seconds: an operator runs `nomad node drain -disable` this long after the drain started
- leader_loss_after_seconds / leader_loss_seconds / leader_loss_message: the servers answer HTTP 500 for a while
- already_drained: the node was drained before (nomad-autoscaler): ineligible, LastDrain complete
- drain_seconds: shorthand for one service allocation "web.web[0]" that takes this long to stop
- fail / fail_message: setting the drain is answered HTTP 500 with fail_message (nomad/node_endpoint.go UpdateDrain
  failing, e.g. a Raft apply error), so `nomad node drain -enable` exits 1
"""

import ipaddress
import shlex

DEFAULTS = {
    "drain_seconds": 0.0, "remaining_allocations": 0, "fail": False, "fail_message": "drain failed",
    "allocations": [], "agent": "up", "acl_token": "", "token_agent_read": True, "token_node_write": True,
    "token_read_job_namespaces": ["*"], "cancel_after_seconds": None, "leader_loss_after_seconds": None,
    "leader_loss_seconds": 0, "leader_loss_message": "No cluster leader", "already_drained": False,
    "tls_verify_client": False, "tls_cert_names": ["client.global.nomad", "localhost", "127.0.0.1"],
}
# nomad/structs/structs.go JobType*: the four job types.
JOB_TYPES = ("service", "batch", "system", "sysbatch")
_NUMBER = (int, float)
_KINDS = {
    "drain_seconds": _NUMBER, "remaining_allocations": int, "fail": bool, "fail_message": str, "allocations": list,
    "agent": str, "acl_token": str, "token_agent_read": bool, "token_node_write": bool,
    "token_read_job_namespaces": list, "cancel_after_seconds": (int, float, type(None)),
    "leader_loss_after_seconds": (int, float, type(None)), "leader_loss_seconds": _NUMBER,
    "leader_loss_message": str, "already_drained": bool, "tls_verify_client": bool, "tls_cert_names": list,
}
_ALLOCATION_FIELDS = {"name": str, "namespace": str, "type": str, "runs_seconds": _NUMBER, "stop_seconds": _NUMBER}


def validate(body: dict) -> dict:
    """The knobs of a control request, checked; raises ValueError naming the field and what was expected."""
    unknown = sorted(set(body) - set(DEFAULTS) - {"instance_id"})
    if unknown:
        raise ValueError(f"unknown fields {unknown}; expected some of {sorted(DEFAULTS)} and 'instance_id'")
    settings = {}
    for field, value in body.items():
        if field == "instance_id":
            continue
        kinds = _KINDS[field] if isinstance(_KINDS[field], tuple) else (_KINDS[field],)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise ValueError(f"field {field!r} must be one of {[k.__name__ for k in kinds]}, got {value!r}")
        settings[field] = value
    if settings.get("agent", "up") not in ("up", "tls", "down"):
        raise ValueError(f"field 'agent' must be up, tls or down, got {settings['agent']!r}")
    names = settings.get("tls_cert_names", [])
    if not all(isinstance(n, str) and n and not any(c.isspace() for c in n) for n in names):
        raise ValueError(f"field 'tls_cert_names' must be a list of names without spaces, got {names!r}")
    for index, allocation in enumerate(settings.get("allocations", [])):
        where = f"allocations[{index}]"
        if not isinstance(allocation, dict):
            raise ValueError(f"{where} must be an object")
        extra = sorted(set(allocation) - set(_ALLOCATION_FIELDS))
        if extra:
            raise ValueError(f"{where}: unknown fields {extra}; expected some of {sorted(_ALLOCATION_FIELDS)}")
        for field, kind in _ALLOCATION_FIELDS.items():
            if field in allocation and (not isinstance(allocation[field], kind) or isinstance(allocation[field], bool)):
                raise ValueError(f"{where}.{field} must be of type {kind}, got {allocation[field]!r}")
        if "name" not in allocation or "." not in allocation["name"]:
            raise ValueError(f"{where}.name is required, as job.group[index] (e.g. \"ci.build[0]\")")
        if allocation.get("type", "service") not in JOB_TYPES:
            raise ValueError(f"{where}.type must be one of {list(JOB_TYPES)}, got {allocation['type']!r}")
    return settings


def _micros(seconds) -> str:
    """Seconds as integer microseconds (the stand-in's clock: bash's EPOCHREALTIME without the dot)."""
    return str(int(round(float(seconds) * 1_000_000)))


def behaviour_script(behaviour: dict) -> str:
    """The world as shell assignments the stand-in sources (values quoted: nothing reaches its shell unquoted)."""
    allocations = [dict(a) for a in behaviour["allocations"]]
    if float(behaviour["drain_seconds"]) > 0:
        allocations.append({"name": "web.web[0]", "type": "service", "stop_seconds": behaviour["drain_seconds"]})
    for index in range(int(behaviour["remaining_allocations"])):
        allocations.append({"name": f"job-{index}.run[0]", "type": "batch"})
    columns = {"alloc_name": [], "alloc_ns": [], "alloc_type": [], "alloc_runs": [], "alloc_stop": []}
    for allocation in allocations:
        columns["alloc_name"].append(allocation["name"])
        columns["alloc_ns"].append(allocation.get("namespace", "default"))
        columns["alloc_type"].append(allocation.get("type", "service"))
        columns["alloc_runs"].append(_micros(allocation["runs_seconds"]) if "runs_seconds" in allocation else "-1")
        columns["alloc_stop"].append(_micros(allocation.get("stop_seconds", 0)))
    lines = [f"{name}=({' '.join(shlex.quote(v) for v in values)})" for name, values in columns.items()]
    loss_after, loss_seconds, loss_message = (behaviour["leader_loss_after_seconds"], behaviour["leader_loss_seconds"],
                                              behaviour["leader_loss_message"])
    read_job = behaviour["token_read_job_namespaces"]
    ip_names, dns_names = [], []
    for name in behaviour["tls_cert_names"]:
        try:
            ipaddress.ip_address(name)
            ip_names.append(name)
        except ValueError:
            dns_names.append(name)
    values = {
        "agent": behaviour["agent"], "acl_token": behaviour["acl_token"],
        "token_agent_read": "1" if behaviour["token_agent_read"] else "0",
        "token_node_write": "1" if behaviour["token_node_write"] else "0",
        "token_read_job": "*" if "*" in read_job else " ".join(read_job),
        "cancel_after": "" if behaviour["cancel_after_seconds"] is None else _micros(behaviour["cancel_after_seconds"]),
        "leader_loss_after": "" if loss_after is None else _micros(loss_after),
        "leader_loss_seconds": _micros(loss_seconds), "leader_loss_message": loss_message,
        "already_drained": "1" if behaviour["already_drained"] else "0",
        "drain_set_error": behaviour["fail_message"] if behaviour["fail"] else "",
        "tls_verify_client": "1" if behaviour["tls_verify_client"] else "0",
        "tls_dns_names": " ".join(dns_names), "tls_ip_names": " ".join(ip_names),
    }
    lines += [f"{name}={shlex.quote(value)}" for name, value in values.items()]
    return "\n".join(lines) + "\n"
