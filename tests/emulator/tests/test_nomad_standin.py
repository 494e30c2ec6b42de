"""The stand-in nomad on its own, behaviour by behaviour (each as hashicorp/nomad's source has it; see the comments in
nomad_standin.sh for the file and function each follows)."""

import json
import os
import re
import subprocess
import time

import pytest

from graceful_emulator import nomad_world

STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "graceful_emulator", "nomad_standin.sh")
STATE = "{{ if .DrainStrategy }}draining{{ else if .LastDrain }}{{ .LastDrain.Status }}{{ end }}"
EVERY_NS_RUNNING = 'ClientStatus == "running" or ClientStatus == "pending"'


class Node:
    """One stand-in Nomad client node in a temp dir, with the world `knobs` set (as POST /_graceful/nomad sets it)."""

    def __init__(self, tmp_path, **knobs):
        self.dir = tmp_path
        world = dict(nomad_world.DEFAULTS)
        world.update(nomad_world.validate(knobs))
        (tmp_path / "nomad-behaviour.sh").write_text(nomad_world.behaviour_script(world))
        self.env = dict(os.environ, GRACEFUL_NOMAD_BEHAVIOUR=str(tmp_path / "nomad-behaviour.sh"),
                        GRACEFUL_NOMAD_CALLS=str(tmp_path / "calls.jsonl"), AWS_SSM_INSTANCE_ID="i-1")
        for name in ("NOMAD_ADDR", "NOMAD_TOKEN", "NOMAD_CACERT", "NOMAD_NAMESPACE", "NOMAD_CLIENT_CERT",
                     "NOMAD_CLIENT_KEY", "NOMAD_TLS_SERVER_NAME"):
            self.env.pop(name, None)

    def run(self, *args, stdin=subprocess.DEVNULL, env=None, timeout=10):
        return subprocess.run(["bash", STANDIN, *args], env=dict(self.env, **(env or {})), capture_output=True,
                              text=True, timeout=timeout, stdin=stdin)

    def background(self, *args):
        return subprocess.Popen(["bash", STANDIN, *args], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)

    def state(self):
        return self.run("node", "status", "-self", "-t", STATE).stdout.strip()

    def listing(self, filter_=EVERY_NS_RUNNING, *flags):
        return self.run("operator", "api", "-X", "GET", *flags, "-filter", filter_, "/v1/allocations").stdout


def wait_for(condition, limit=10.0):
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.05)


def test_filter_is_evaluated_on_the_whole_allocation_so_jobtype_is_a_400_text_body_with_exit_0(tmp_path):
    node = Node(tmp_path, allocations=[{"name": "web.web[0]", "type": "service"}])
    answer = node.run("operator", "api", "-X", "GET", "-filter", 'JobType != "system"', "/v1/allocations")
    assert answer.returncode == 0
    assert answer.stdout.startswith("failed to read result page: error finding value in datum")
    assert '"Name":"web.web[0]"' in node.listing('Job.Type != "system"')
    # `and` short-circuits: no allocation of another node reaches the unknown field.
    assert node.listing('NodeID == "other" and JobType != "system"') == "[]"


def test_only_the_default_namespace_is_listed_unless_asked_for_every_namespace(tmp_path):
    node = Node(tmp_path, allocations=[{"name": "ci.build[0]", "namespace": "ci", "type": "batch"}])
    assert node.listing() == "[]"
    assert '"Namespace":"ci"' in node.listing(EVERY_NS_RUNNING, "-namespace", "*")
    assert '"Namespace":"ci"' in node.run("operator", "api", "-X", "GET", "/v1/allocations?namespace=*").stdout


def test_operator_api_posts_a_stdin_that_is_not_a_terminal(tmp_path):
    node = Node(tmp_path)
    posted = node.run("operator", "api", "/v1/allocations", stdin=subprocess.PIPE)
    assert (posted.returncode, posted.stdout) == (0, "Invalid method")
    assert node.run("operator", "api", "-X", "GET", "/v1/allocations", stdin=subprocess.PIPE).stdout == "[]"
    assert node.run("operator", "api", "/v1/allocations").stdout == "[]"  # /dev/null is a character device


@pytest.mark.parametrize("args, message", [
    (["-enable", "-self", "-deadline", "0s"], "A positive drain duration must be given"),
    (["-enable", "-self", "-deadline", "ten"], 'Failed to parse deadline "ten": time: invalid duration "ten"'),
    (["-enable", "-self", "-deadline", "5s", "-force"], "-deadline can't be combined with -force or -no-deadline"),
    (["-enable", "-monitor", "-self"], "The -monitor flag cannot be used with the '-enable' or '-disable' flags"),
    (["-self"], "Either the '-enable' or '-disable' flag must be set, unless using '-monitor'"),
    (["-enable"], "Node ID must be specified if -self isn't being used"),
    (["-disable", "-self", "-ignore-system"], "-disable can't be combined with flags configuring drain strategy"),
    (["-enable", "-self", "-frobnicate"], "flag provided but not defined: -frobnicate"),
])
def test_drain_usage_errors_exit_1_with_nomads_messages(tmp_path, args, message):
    answer = Node(tmp_path).run("node", "drain", *args)
    assert answer.returncode == 1 and message in answer.stderr, answer


def test_monitor_on_a_node_not_draining_warns_and_exits_0(tmp_path):
    answer = Node(tmp_path).run("node", "drain", "-self", "-monitor")
    assert (answer.returncode, answer.stderr.strip(), answer.stdout) == (0, "No drain strategy set", "")


def test_blocking_drain_exits_0_when_its_monitor_fails_while_the_node_still_drains(tmp_path):
    node = Node(tmp_path, allocations=[{"name": "ci.build[0]", "type": "batch", "runs_seconds": 30}],
                leader_loss_after_seconds=0.5, leader_loss_seconds=1)
    answer = node.run("node", "drain", "-enable", "-self", "-yes", "-deadline", "1h")
    assert answer.returncode == 0
    assert "Error monitoring node: Unexpected response code: 500 (No cluster leader)" in answer.stderr
    wait_for(lambda: node.state() == "draining")


def test_service_allocations_migrate_and_the_drain_completes_when_they_have_stopped(tmp_path):
    node = Node(tmp_path, allocations=[{"name": "web.web[0]", "type": "service", "stop_seconds": 1}])
    started = time.monotonic()
    answer = node.run("node", "drain", "-enable", "-self", "-yes", "-deadline", "1h")
    assert answer.returncode == 0 and "All allocations on node" in answer.stdout, answer
    assert time.monotonic() - started >= 1.0
    assert node.state() == "complete"
    assert node.run("node", "status", "-self", "-t", "{{ .SchedulingEligibility }}").stdout == "ineligible\n"


def test_at_the_deadline_the_drain_completes_while_batch_allocations_are_still_being_stopped(tmp_path):
    node = Node(tmp_path, allocations=[{"name": "ci.build[0]", "type": "batch", "stop_seconds": 2}])
    assert node.run("node", "drain", "-enable", "-self", "-yes", "-detach", "-deadline", "1s").returncode == 0
    assert node.state() == "draining"
    wait_for(lambda: node.state() == "complete")
    assert '"Name":"ci.build[0]"' in node.listing()  # forced off, still stopping
    wait_for(lambda: node.listing() == "[]", limit=5)


def test_sysbatch_is_waited_for_and_system_allocations_stop_last_unless_ignored(tmp_path):
    world = dict(allocations=[{"name": "ci.build[0]", "type": "sysbatch", "runs_seconds": 1},
                              {"name": "logs.agent[0]", "type": "system", "stop_seconds": 1}])
    (tmp_path / "a").mkdir()
    node = Node(tmp_path / "a", **world)
    node.run("node", "drain", "-enable", "-self", "-yes", "-detach", "-deadline", "1h")
    assert node.state() == "draining"
    wait_for(lambda: node.state() == "complete")
    assert '"Name":"logs.agent[0]"' in node.listing()  # told to stop at completion, takes 1 s
    wait_for(lambda: node.listing() == "[]", limit=5)
    (tmp_path / "b").mkdir()
    ignoring = Node(tmp_path / "b", **world)
    ignoring.run("node", "drain", "-enable", "-self", "-yes", "-detach", "-ignore-system", "-deadline", "1h")
    wait_for(lambda: ignoring.state() == "complete")
    time.sleep(1.2)
    assert '"Name":"logs.agent[0]"' in ignoring.listing()


def test_a_cancelled_drain_is_canceled_eligible_again_and_its_monitor_keeps_waiting(tmp_path):
    node = Node(tmp_path, allocations=[{"name": "ci.build[0]", "type": "batch"}], cancel_after_seconds=0.5)
    monitor = node.background("node", "drain", "-enable", "-self", "-yes", "-deadline", "1h")
    wait_for(lambda: node.state() == "canceled")
    assert node.run("node", "status", "-self", "-t", "{{ .SchedulingEligibility }}").stdout == "eligible\n"
    time.sleep(1)
    assert monitor.poll() is None, "the monitor must hang after a cancel: the build still runs"
    monitor.kill()
    monitor.wait()


def test_disable_with_keep_ineligible_leaves_the_node_ineligible(tmp_path):
    node = Node(tmp_path, allocations=[{"name": "ci.build[0]", "type": "batch"}])
    node.run("node", "drain", "-enable", "-self", "-yes", "-detach", "-deadline", "1h")
    unset = node.run("node", "drain", "-disable", "-keep-ineligible", "-self")
    assert unset.returncode == 0 and "drain strategy unset" in unset.stdout
    assert node.state() == "canceled"
    assert node.run("node", "status", "-self", "-t", "{{ .SchedulingEligibility }}").stdout == "ineligible\n"
    node.run("node", "drain", "-disable", "-self")
    assert node.run("node", "status", "-self", "-t", "{{ .SchedulingEligibility }}").stdout == "eligible\n"


def test_templates_error_on_unknown_fields_and_nil_pointers(tmp_path):
    node = Node(tmp_path)
    unknown = node.run("node", "status", "-self", "-t", "{{ .JobType }}")
    assert unknown.returncode == 1 and "can't evaluate field JobType in type *api.Node" in unknown.stderr
    nil = node.run("node", "status", "-self", "-t", "{{ .LastDrain.Status }}")
    assert nil.returncode == 1 and "nil pointer evaluating *api.DrainMetadata.Status" in nil.stderr
    assert node.run("node", "status", "-self", "-t", "{{ .Drain }}").stdout == "false\n"
    assert node.state() == ""


def test_the_node_id_is_a_uuid_stable_across_calls_and_distinct_per_instance(tmp_path):
    node = Node(tmp_path)
    first = node.run("node", "status", "-self", "-t", "{{ .ID }}").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", first), first
    assert node.run("node", "status", "-self", "-t", "{{ .ID }}").stdout.strip() == first
    other = node.run("node", "status", "-self", "-t", "{{ .ID }}", env={"AWS_SSM_INSTANCE_ID": "i-0abc"}).stdout
    assert other.strip() != first


def test_a_tls_only_agent_needs_an_https_address_and_its_ca(tmp_path):
    node = Node(tmp_path, agent="tls")
    plain = node.run("node", "eligibility", "-disable", "-self")
    assert plain.returncode == 1 and "malformed HTTP response" in plain.stderr
    unknown_ca = node.run("node", "eligibility", "-disable", "-self", env={"NOMAD_ADDR": "https://127.0.0.1:4646"})
    assert unknown_ca.returncode == 1 and "x509: certificate signed by unknown authority" in unknown_ca.stderr
    (tmp_path / "ca.pem").write_text("ca")
    ok = node.run("node", "eligibility", "-disable", "-self",
                  env={"NOMAD_ADDR": "https://127.0.0.1:4646", "NOMAD_CACERT": str(tmp_path / "ca.pem")})
    assert ok.returncode == 0, ok
    listing = node.run("operator", "api", "-X", "GET", "/v1/allocations")
    assert listing.returncode == 1 and listing.stderr.startswith("Error performing request")


def _tls_files(tmp_path):
    for name in ("ca.pem", "cli.pem", "cli-key.pem"):
        (tmp_path / name).write_text(name)
    return {"NOMAD_ADDR": "https://127.0.0.1:4646", "NOMAD_CACERT": str(tmp_path / "ca.pem")}


def test_an_agent_with_verify_https_client_requires_a_client_certificate(tmp_path):
    node = Node(tmp_path, agent="tls", tls_verify_client=True)
    env = _tls_files(tmp_path)
    pair = {"NOMAD_CLIENT_CERT": str(tmp_path / "cli.pem"), "NOMAD_CLIENT_KEY": str(tmp_path / "cli-key.pem")}
    ok = node.run("node", "eligibility", "-disable", "-self", env=dict(env, **pair))
    assert ok.returncode == 0, ok
    flags = node.run("node", "drain", "-enable", "-self", "-detach", "-client-cert", pair["NOMAD_CLIENT_CERT"],
                     "-client-key", pair["NOMAD_CLIENT_KEY"], env=env)
    assert flags.returncode == 0, flags
    none = node.run("node", "eligibility", "-disable", "-self", env=env)
    assert none.returncode == 1
    assert none.stderr.strip() == ('Error querying agent info: failed querying self endpoint: Get '
                                   '"https://127.0.0.1:4646/v1/agent/self": remote error: tls: certificate required')
    listing = node.run("operator", "api", "-X", "GET", "/v1/allocations", env=env)
    assert listing.returncode == 1 and listing.stderr.startswith("Error performing request: Get ")
    assert "remote error: tls: certificate required" in listing.stderr
    cert_only = dict(env, NOMAD_CLIENT_CERT=pair["NOMAD_CLIENT_CERT"])
    half = node.run("node", "status", "-self", "-t", "{{ .ID }}", env=cert_only)
    assert (half.returncode, half.stderr.strip()) == (
        1, "Error initializing client: Both client cert and client key must be provided")
    missing = node.run("node", "status", "-self", "-t", "{{ .ID }}",
                       env=dict(cert_only, NOMAD_CLIENT_KEY=str(tmp_path / "nope.pem")))
    assert (missing.returncode, missing.stderr.strip()) == (
        1, f"Error initializing client: open {tmp_path / 'nope.pem'}: no such file or directory")


def test_an_agent_without_verify_https_client_takes_a_call_without_a_client_certificate(tmp_path):
    assert nomad_world.DEFAULTS["tls_verify_client"] is False  # Nomad's verify_https_client defaults to false
    node = Node(tmp_path, agent="tls")
    assert node.run("node", "eligibility", "-disable", "-self", env=_tls_files(tmp_path)).returncode == 0


def test_the_agents_certificate_names_are_checked_against_the_host_or_the_tls_server_name(tmp_path):
    node = Node(tmp_path, agent="tls")
    env = _tls_files(tmp_path)
    for address in ("https://127.0.0.1:4646", "https://localhost:4646", "https://LOCALHOST.:4646"):
        answer = node.run("node", "eligibility", "-disable", "-self", env=dict(env, NOMAD_ADDR=address))
        assert answer.returncode == 0, (address, answer)
    by_ip = node.run("node", "eligibility", "-disable", "-self", env=dict(env, NOMAD_ADDR="https://10.0.0.5:4646"))
    assert by_ip.returncode == 1
    assert by_ip.stderr.strip().endswith('Get "https://10.0.0.5:4646/v1/agent/self": tls: failed to verify '
                                         'certificate: x509: certificate is valid for 127.0.0.1, not 10.0.0.5')
    by_name = node.run("node", "eligibility", "-disable", "-self", env=dict(env, NOMAD_ADDR="https://nomad.internal"))
    assert by_name.returncode == 1
    assert by_name.stderr.strip().endswith("tls: failed to verify certificate: x509: certificate is valid for "
                                           "client.global.nomad, localhost, not nomad.internal")
    named = dict(env, NOMAD_ADDR="https://10.0.0.5:4646", NOMAD_TLS_SERVER_NAME="client.global.nomad")
    assert node.run("node", "eligibility", "-disable", "-self", env=named).returncode == 0
    flag = node.run("node", "eligibility", "-disable", "-self", "-tls-server-name", "client.global.nomad",
                    env=dict(env, NOMAD_ADDR="https://10.0.0.5:4646"))
    assert flag.returncode == 0, flag
    wrong = node.run("node", "eligibility", "-disable", "-self",
                     env=dict(named, NOMAD_TLS_SERVER_NAME="server.global.nomad"))
    assert wrong.returncode == 1 and "not server.global.nomad" in wrong.stderr
    # The name is checked before the CA (crypto/x509 Certificate.Verify): a wrong name without a CA names the name.
    no_ca = node.run("node", "eligibility", "-disable", "-self", env={"NOMAD_ADDR": "https://nomad.internal"})
    assert no_ca.returncode == 1 and "certificate is valid for client.global.nomad" in no_ca.stderr


def test_a_certificate_with_other_names_and_a_wildcard(tmp_path):
    node = Node(tmp_path, agent="tls", tls_cert_names=["*.nomad.internal", "10.0.0.5"])
    env = _tls_files(tmp_path)
    for address in ("https://a.nomad.internal:4646", "https://10.0.0.5:4646"):
        answer = node.run("node", "eligibility", "-disable", "-self", env=dict(env, NOMAD_ADDR=address))
        assert answer.returncode == 0, (address, answer)
    deep = node.run("node", "eligibility", "-disable", "-self", env=dict(env, NOMAD_ADDR="https://a.b.nomad.internal"))
    assert deep.returncode == 1
    assert "x509: certificate is valid for *.nomad.internal, not a.b.nomad.internal" in deep.stderr
    local = node.run("node", "eligibility", "-disable", "-self", env=env)
    assert local.returncode == 1 and "x509: certificate is valid for 10.0.0.5, not 127.0.0.1" in local.stderr
    no_ip = Node(tmp_path, agent="tls", tls_cert_names=["client.global.nomad"])
    answer = no_ip.run("node", "eligibility", "-disable", "-self", env=env)
    assert "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs" in answer.stderr


def test_an_unreadable_ca_file_fails_building_the_client(tmp_path):
    answer = Node(tmp_path, agent="tls").run("node", "eligibility", "-disable", "-self",
                                             env={"NOMAD_CACERT": str(tmp_path / "nope.pem")})
    assert (answer.returncode, answer.stderr.strip()) == (
        1, f"Error initializing client: Error loading CA File: open {tmp_path / 'nope.pem'}: no such file or directory")


def test_an_agent_that_is_down_refuses_every_call(tmp_path):
    answer = Node(tmp_path, agent="down").run("node", "status", "-self", "-t", "{{ .ID }}")
    assert answer.returncode == 1 and "connect: connection refused" in answer.stderr


def test_acl_tokens_are_checked_per_capability_and_namespace(tmp_path):
    node = Node(tmp_path, acl_token="s3cret", token_read_job_namespaces=["default"],
                allocations=[{"name": "ci.build[0]", "namespace": "ci", "type": "batch"}])
    anonymous = node.run("node", "status", "-self", "-t", "{{ .ID }}")
    assert anonymous.returncode == 1 and "403 (Permission denied)" in anonymous.stderr
    token = {"NOMAD_TOKEN": "s3cret"}
    assert node.run("node", "status", "-self", "-t", "{{ .ID }}", env=token).returncode == 0
    # `*` lists only the namespaces the token may read-job in; a namespace it may not is a 403 text body, exit 0.
    assert node.run("operator", "api", "-X", "GET", "-namespace", "*", "/v1/allocations", env=token).stdout == "[]"
    denied = node.run("operator", "api", "-X", "GET", "-namespace", "ci", "/v1/allocations", env=token)
    assert (denied.returncode, denied.stdout) == (0, "Permission denied")


def _gauges(answer):
    summary = json.loads(answer)
    return {g["Name"]: g["Value"] for g in summary["Gauges"]}, summary


def test_the_agents_metrics_count_every_namespace_without_acl_and_lag_one_finished_interval(tmp_path):
    node = Node(tmp_path, acl_token="s3cret", token_read_job_namespaces=["default"],
                allocations=[{"name": "ci.build[0]", "namespace": "ci", "type": "batch"},
                             {"name": "logs.ship[0]", "type": "system"},
                             {"name": "done.once[0]", "type": "batch", "runs_seconds": 0.1}])
    token = {"NOMAD_TOKEN": "s3cret"}
    assert node.run("operator", "api", "-X", "GET", "-namespace", "*", "-filter", EVERY_NS_RUNNING,
                    "/v1/allocations", env=token).stdout.count('"ID"') == 2  # ci is not readable
    answer = node.run("operator", "api", "-X", "GET", "/v1/metrics")  # no token: the endpoint checks no ACL
    assert answer.returncode == 0, answer
    gauges, summary = _gauges(answer.stdout)
    # The finished interval ended before the node was first seen: all three were running then.
    assert gauges["nomad.client.allocations.running"] == 3, summary
    assert gauges["nomad.client.allocations.pending"] == 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d0 \+0000 UTC", summary["Timestamp"]), summary
    assert {g["Labels"]["host"] for g in summary["Gauges"]} == {"i-1"}
    posted = node.run("operator", "api", "-X", "POST", "/v1/metrics")
    assert posted.stdout == "Invalid method"


def test_unsupported_commands_fail_loudly(tmp_path):
    answer = Node(tmp_path).run("job", "run", "x.nomad")
    assert answer.returncode == 127 and "unsupported command" in answer.stderr


def test_a_call_is_fast(tmp_path):
    node = Node(tmp_path, allocations=[{"name": f"j{i}.g[0]", "type": "batch"} for i in range(5)])
    started = time.monotonic()
    for _ in range(20):
        node.listing('NodeID == "x" or Job.Type != "system"', "-namespace", "*")
    per_call = (time.monotonic() - started) / 20
    assert per_call < 0.05, f"{per_call * 1000:.1f} ms a call"


def test_a_second_drain_command_follows_the_running_drain(tmp_path):
    node = Node(tmp_path, drain_seconds=1.5)
    draining = node.background("node", "drain", "-enable", "-self", "-yes", "-deadline", "60s")
    wait_for(lambda: node.run("node", "status", "-self", "-t", "{{ .Drain }}").stdout.strip() == "true")
    started = time.monotonic()
    followed = node.run("node", "drain", "-self", "-monitor")
    assert followed.returncode == 0 and "Drain complete" in followed.stdout
    assert draining.wait(timeout=5) == 0
    assert time.monotonic() - started > 0.5, "the monitor returned before the drain ended"
    assert node.state() == "complete"


@pytest.mark.parametrize("knobs, message", [
    ({"alocations": []}, "unknown fields ['alocations']"),
    ({"agent": "sideways"}, "field 'agent' must be up, tls or down"),
    ({"allocations": [{"name": "ci.build[0]", "type": "daemon"}]}, "allocations[0].type must be one of"),
    ({"allocations": [{"name": "build"}]}, "allocations[0].name is required, as job.group[index]"),
    ({"allocations": [{"name": "ci.build[0]", "stop_seconds": "5"}]}, "allocations[0].stop_seconds must be"),
    ({"fail": 1}, "field 'fail' must be one of ['bool']"),
    ({"remaining_allocations": True}, "field 'remaining_allocations' must be one of ['int']"),
    ({"tls_verify_client": "yes"}, "field 'tls_verify_client' must be one of ['bool']"),
    ({"tls_cert_names": ["a b"]}, "field 'tls_cert_names' must be a list of names without spaces"),
])
def test_world_knobs_are_checked_naming_the_field(knobs, message):
    with pytest.raises(ValueError) as raised:
        nomad_world.validate(knobs)
    assert message in str(raised.value)
