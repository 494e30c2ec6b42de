//! End-to-end drains of the `nomad` preset against the stand-in Nomad (tests/emulator/graceful_emulator/
//! nomad_standin.sh, which follows hashicorp/nomad's source): a real `terraform apply`, the real handler, the real
//! drain script run by the emulated SSM agent. Each scenario sets the node's world (allocations of each job type and
//! namespace, an operator's cancel, TLS, ACLs, a leader loss), scales in, and checks how the instance ends: exactly one
//! completion with the right result, the drain's final status and message, and, when drained, that no non-system
//! allocation was still running when the instance was terminated.
//!
//! Budgets: "1m" gives `-deadline 5s` and 40 s of grace (the forced-stop window); "2m" gives `-deadline 65s`. A drain
//! ends up to 20 s after its last allocation stopped: the agent's allocation gauges lag one finished 10 s interval.

mod support;

use serde_json::{Value as Json, json};
use std::time::Duration;
use support::drain::{Ledger, Resource, Scenario, seconds_between};

const MINUTE: Duration = Duration::from_secs(60);

/// One drained instance: its world set before the scale-in, the ledger once it is terminated.
struct Drain {
    world: Scenario,
    instance: String,
    ledger: Ledger,
}

fn drain(name: &str, timeout: &str, on_failure: &str, nomad: Json, limit: Duration) -> Drain {
    drain_with(name, timeout, on_failure, nomad, "", limit)
}

/// A drain whose `drain` block has `drain_extra` lines too (its `nomad { ... }` connection settings).
fn drain_with(name: &str, timeout: &str, on_failure: &str, nomad: Json, drain_extra: &str, limit: Duration) -> Drain {
    drain_prepared(name, timeout, on_failure, nomad, drain_extra, limit, |_, _| {})
}

/// `drain_with`, with `prepare(world, group)` run after the apply, before the scale-in.
fn drain_prepared(
    name: &str,
    timeout: &str,
    on_failure: &str,
    nomad: Json,
    drain_extra: &str,
    limit: Duration,
    prepare: impl FnOnce(&Scenario, &str),
) -> Drain {
    let group = format!("{name}-g");
    let groups = [group.as_str()];
    let resource = Resource { timeout, on_failure, drain_extra, ..Resource::new(name, &groups) };
    let world = Scenario::apply(1.0, 0.0, &[(group.as_str(), 2)], &[resource]);
    world.emulator.control("nomad", &nomad).expect("setting the nomad world");
    prepare(&world, &group);
    let instance = world.scale_in(&group, 1).remove(0);
    let ledger = world.wait_terminated(std::slice::from_ref(&instance), limit);
    Drain { world, instance, ledger }
}

impl Drain {
    /// The drain command's output, as `GetCommandInvocation` returns it.
    fn output(&self) -> String {
        let command = &self.ledger.standing_commands(&self.instance)[0]["command_id"];
        let invocation = self
            .world
            .aws
            .runtime
            .block_on(
                self.world
                    .aws
                    .ssm
                    .get_command_invocation()
                    .command_id(command.as_str().unwrap())
                    .instance_id(&self.instance)
                    .send(),
            )
            .expect("GetCommandInvocation");
        format!(
            "{}{}",
            invocation.standard_output_content().unwrap_or_default(),
            invocation.standard_error_content().unwrap_or_default()
        )
    }

    /// The stand-in's calls on this instance, as argv lists, with their epoch times.
    fn nomad_calls(&self) -> Vec<(Vec<String>, f64)> {
        self.ledger
            .of_kind("nomad-call")
            .filter(|e| e["instance_id"] == *self.instance)
            .map(|e| {
                let argv = e["argv"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
                (argv, e["time"].as_f64().unwrap_or(0.0))
            })
            .collect()
    }

    /// Seconds from the node's first `nomad` call (when the stand-in first sees the node, the origin of
    /// `runs_seconds`) to the instance's termination.
    fn terminated_after_first_call(&self) -> f64 {
        let first = self.nomad_calls().iter().map(|(_, t)| *t).fold(f64::INFINITY, f64::min);
        let gone = self.ledger.terminated(&self.instance).expect("terminated");
        epoch_seconds(gone["time"].as_str().unwrap()) - first
    }

    /// Seconds from the drain command being sent to its final status.
    fn drain_took(&self) -> f64 {
        let sent = self.ledger.standing_commands(&self.instance)[0];
        seconds_between(sent, self.ledger.drain_end(&self.instance).unwrap())
    }

    fn summary(&self) -> String {
        format!("output:\n{}\nevents:\n{}", self.output(), self.ledger.summary())
    }
}

/// `2026-12-01T22:35:12.34Z` as seconds since the epoch (UTC; days from the civil date).
fn epoch_seconds(iso: &str) -> f64 {
    let (date, time) = iso.trim_end_matches('Z').split_once('T').expect("an ISO timestamp");
    let d: Vec<i64> = date.split('-').map(|p| p.parse().unwrap()).collect();
    let t: Vec<f64> = time.split(':').map(|p| p.parse().unwrap()).collect();
    let (y, m) = if d[1] <= 2 { (d[0] - 1, d[1] + 9) } else { (d[0], d[1] - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d[2] - 1;
    let days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    days as f64 * 86400.0 + t[0] * 3600.0 + t[1] * 60.0 + t[2]
}

#[test]
fn empty_node_drains_at_once() {
    let run = drain("nm-empty", "1m", "abandon", json!({}), MINUTE);
    run.ledger.assert_drained(&run.instance, "Success", "CONTINUE");
    assert!(run.drain_took() < 10.0, "an empty node took {:.1} s:\n{}", run.drain_took(), run.summary());
    assert!(run.output().contains("drained: no non-system allocation is pending or running"), "{}", run.summary());
}

#[test]
fn service_allocations_migrate_before_the_instance_goes() {
    let world = json!({"allocations": [
        {"name": "web.web[0]", "type": "service", "stop_seconds": 2},
        {"name": "api.api[0]", "type": "service", "stop_seconds": 4},
    ]});
    let run = drain("nm-svc", "2m", "abandon", world, 2 * MINUTE);
    run.ledger.assert_drained(&run.instance, "Success", "CONTINUE");
    assert!(run.terminated_after_first_call() > 4.0, "terminated before api.api[0] stopped:\n{}", run.summary());
}

/// Defects 1 and 3: a build in another namespace, and `nomad node drain` whose monitor fails (a leader election)
/// and exits 0 while the drain goes on. The instance must wait for the build.
#[test]
fn batch_build_in_another_namespace_outlives_the_drain_monitor() {
    let world = json!({
        "allocations": [{"name": "ci.build[0]", "namespace": "ci", "type": "batch", "runs_seconds": 10}],
        "leader_loss_after_seconds": 1, "leader_loss_seconds": 2,
    });
    let run = drain("nm-ns", "2m", "continue", world, 2 * MINUTE);
    run.ledger.assert_drained(&run.instance, "Success", "CONTINUE");
    assert!(run.terminated_after_first_call() > 10.0, "terminated mid-build:\n{}", run.summary());
    let listings: Vec<Vec<String>> = run
        .nomad_calls()
        .into_iter()
        .map(|(argv, _)| argv)
        .filter(|argv| {
            argv.first().is_some_and(|a| a == "operator") && argv.last().is_some_and(|a| a == "/v1/allocations")
        })
        .collect();
    assert!(!listings.is_empty(), "{}", run.summary());
    for argv in &listings {
        assert!(argv.windows(2).any(|w| w == ["-namespace", "*"]), "listing without every namespace: {argv:?}");
    }
}

/// Defect 2: system allocations are left out of the check by `Job.Type` (a `JobType` filter is an HTTP 400).
#[test]
fn system_and_sysbatch_allocations_present() {
    let world = json!({"allocations": [
        {"name": "scan.scan[0]", "type": "sysbatch", "runs_seconds": 3},
        {"name": "logs.ship[0]", "type": "system", "stop_seconds": 30},
    ]});
    let run = drain("nm-sys", "2m", "abandon", world, 2 * MINUTE);
    run.ledger.assert_drained(&run.instance, "Success", "CONTINUE");
    assert!(run.terminated_after_first_call() > 3.0, "terminated before the sysbatch ended:\n{}", run.summary());
}

/// Defect 5: at the deadline Nomad marks the drain complete and then needs the kill timeout to stop the build; the
/// grace after the deadline covers it.
#[test]
fn forced_stop_at_the_deadline_is_waited_for() {
    let world = json!({"allocations": [{"name": "ci.build[0]", "type": "batch", "stop_seconds": 20}]});
    let run = drain("nm-force", "1m", "abandon", world, 2 * MINUTE);
    run.ledger.assert_drained(&run.instance, "Success", "CONTINUE");
    // Forced at the 5 s deadline, stopped 20 s later.
    assert!(run.terminated_after_first_call() > 25.0, "terminated while the build stopped:\n{}", run.summary());
}

/// An allocation whose stop outlasts the grace (a long shutdown_delay) is reported by name.
#[test]
fn allocation_still_stopping_after_the_grace_is_not_drained_and_named() {
    let world = json!({"allocations": [{"name": "web.web[0]", "type": "service", "stop_seconds": 600}]});
    let run = drain("nm-slow", "1m", "abandon", world, 2 * MINUTE);
    run.ledger.assert_drained(&run.instance, "Failed", "ABANDON");
    assert!(run.output().contains("NOT DRAINED: allocations still running on node"), "{}", run.summary());
    assert!(run.output().contains("web.web[0]"), "{}", run.summary());
}

/// Defect 6: an operator's `nomad node drain -disable` ends the drain as NOT DRAINED at once.
#[test]
fn operator_cancel_mid_drain_ends_promptly_as_not_drained() {
    let world = json!({"allocations": [{"name": "ci.build[0]", "type": "batch"}], "cancel_after_seconds": 2});
    let run = drain("nm-cancel", "2m", "abandon", world, 2 * MINUTE);
    run.ledger.assert_drained(&run.instance, "Failed", "ABANDON");
    assert!(run.output().contains("was cancelled"), "{}", run.summary());
    assert!(run.drain_took() < 10.0, "a cancelled drain took {:.1} s:\n{}", run.drain_took(), run.summary());
}

#[test]
fn tls_only_agent_without_connection_settings_fails_at_the_first_call() {
    let world = json!({"agent": "tls", "allocations": [{"name": "ci.build[0]", "type": "batch"}]});
    let run = drain("nm-tls", "1m", "abandon", world, MINUTE);
    run.ledger.assert_drained(&run.instance, "Failed", "ABANDON");
    assert!(run.output().contains("NOT DRAINED: disabling scheduling eligibility failed"), "{}", run.summary());
    assert!(run.output().contains("malformed HTTP response"), "{}", run.summary());
}

#[test]
fn acl_cluster_without_a_token_is_never_reported_drained() {
    let world = json!({"acl_token": "drain-secret", "allocations": [{"name": "ci.build[0]", "type": "batch"}]});
    let run = drain("nm-acl", "1m", "abandon", world, MINUTE);
    run.ledger.assert_drained(&run.instance, "Failed", "ABANDON");
    assert!(run.output().contains("403 (Permission denied)"), "{}", run.summary());
}

#[test]
fn agent_down_fails_at_once() {
    let run = drain("nm-down", "1m", "abandon", json!({"agent": "down"}), MINUTE);
    run.ledger.assert_drained(&run.instance, "Failed", "ABANDON");
    assert!(run.output().contains("connection refused"), "{}", run.summary());
    assert!(run.drain_took() < 10.0, "{}", run.summary());
}

#[test]
fn node_already_drained_by_the_autoscaler_is_a_fast_no_op() {
    let run = drain("nm-done", "1m", "abandon", json!({"already_drained": true}), MINUTE);
    run.ledger.assert_drained(&run.instance, "Success", "CONTINUE");
    assert!(run.drain_took() < 10.0, "{}", run.summary());
}

/// A duplicate command starting while the first runs follows the running drain (its deadline is not restarted).
#[test]
fn duplicate_command_while_the_first_runs_enables_the_drain_once() {
    let group = "nm-dup-g";
    let groups = [group];
    let resource = Resource { timeout: "2m", ..Resource::new("nm-dup", &groups) };
    let world = Scenario::apply(1.0, 0.0, &[(group, 2)], &[resource]);
    let nomad = json!({"allocations": [{"name": "ci.build[0]", "type": "batch", "runs_seconds": 8}]});
    world.emulator.control("nomad", &nomad).unwrap();
    world.emulator.set_deliveries(&json!({"duplicate_next": 1})).expect("duplicating");
    let instance = world.scale_in(group, 1).remove(0);
    let ledger = world.wait_until(MINUTE, "the drain command", |l| !l.commands(&instance).is_empty());
    let notice = ledger.of_kind("lifecycle-notification").find(|e| e["instance_id"] == *instance).unwrap().clone();
    std::thread::sleep(Duration::from_secs(2));
    let subject = format!("Auto Scaling:  Lifecycle action 'TERMINATING' for instance {instance} in progress.");
    world.aws.publish("nm-dup-lifecycle", &subject, &notice["message"].to_string());
    let ledger = world.wait_terminated(std::slice::from_ref(&instance), 2 * MINUTE);
    let run = Drain { world, instance, ledger };
    run.ledger.assert_drained(&run.instance, "Success", "CONTINUE");
    let enabled = run.nomad_calls().iter().filter(|(argv, _)| argv.iter().any(|a| a == "-enable")).count();
    assert_eq!(enabled, 1, "the drain is enabled once:\n{}", run.summary());
    assert!(run.terminated_after_first_call() > 8.0, "terminated mid-build:\n{}", run.summary());
}

/// Files on the "instance" (the emulated SSM agent runs the script on this machine): a CA certificate and a token.
struct InstanceFiles {
    dir: tempfile::TempDir,
}

impl InstanceFiles {
    fn new() -> Self {
        let files = InstanceFiles { dir: tempfile::tempdir().expect("a temp dir") };
        std::fs::write(files.path("ca.pem"), "-----BEGIN CERTIFICATE-----\n").unwrap();
        std::fs::write(files.path("cli.pem"), "-----BEGIN CERTIFICATE-----\n").unwrap();
        std::fs::write(files.path("cli-key.pem"), "-----BEGIN EC PRIVATE KEY-----\n").unwrap();
        files
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn token(&self, secret: &str) -> String {
        std::fs::write(self.path("drain.token"), format!("{secret}\n")).unwrap();
        self.path("drain.token")
    }
}

/// No instance was terminated while a non-system allocation ran: the node's first call plus the build's run time.
fn assert_outlived(run: &Drain, seconds: f64) {
    let after = run.terminated_after_first_call();
    assert!(
        after > seconds,
        "terminated {after:.1} s after the first call, before the build ended:\n{}",
        run.summary()
    );
}

#[test]
fn tls_only_agent_drains_with_the_connection_settings() {
    let files = InstanceFiles::new();
    let settings = format!(
        "    nomad {{\n      address         = \"https://127.0.0.1:4646\"\n      ca_file         = \"{}\"\n      tls_server_name = \"client.global.nomad\"\n    }}\n",
        files.path("ca.pem")
    );
    let world = json!({"agent": "tls", "allocations": [{"name": "ci.build[0]", "type": "batch", "runs_seconds": 4}]});
    let run = drain_with("nm-tls-ok", "2m", "abandon", world, &settings, 2 * MINUTE);
    run.ledger.assert_drained(&run.instance, "Success", "CONTINUE");
    assert_outlived(&run, 4.0);
    let sent = &run.ledger.standing_commands(&run.instance)[0]["parameters"];
    assert_eq!(sent["nomadAddress"], json!(["https://127.0.0.1:4646"]), "{sent}");
    assert_eq!(sent["nomadCaFile"], json!([files.path("ca.pem")]), "{sent}");
}

/// An https address without the CA (the settings half done) is NOT DRAINED at the first call, completed with
/// `on_failure`, before anything was drained.
#[test]
fn tls_only_agent_without_its_ca_is_not_drained() {
    let world = json!({"agent": "tls", "allocations": [{"name": "ci.build[0]", "type": "batch"}]});
    let settings = "    nomad {\n      address = \"https://127.0.0.1:4646\"\n    }\n";
    let run = drain_with("nm-tls-noca", "1m", "abandon", world, settings, MINUTE);
    run.ledger.assert_drained(&run.instance, "Failed", "ABANDON");
    let output = run.output();
    assert!(output.contains("NOT DRAINED: disabling scheduling eligibility failed"), "{}", run.summary());
    assert!(output.contains("x509: certificate signed by unknown authority"), "{}", run.summary());
    let drains = run.nomad_calls().into_iter().filter(|(argv, _)| argv.iter().any(|a| a == "-enable")).count();
    assert_eq!(drains, 0, "no drain was started:\n{}", run.summary());
}

#[test]
fn acl_cluster_with_a_token_file_drains() {
    let files = InstanceFiles::new();
    let settings = format!("    nomad {{\n      token_file = \"{}\"\n    }}\n", files.token("drain-secret"));
    let world = json!({
        "acl_token": "drain-secret",
        "allocations": [{"name": "ci.build[0]", "namespace": "ci", "type": "batch", "runs_seconds": 4}],
    });
    let run = drain_with("nm-acl-ok", "2m", "abandon", world, &settings, 2 * MINUTE);
    run.ledger.assert_drained(&run.instance, "Success", "CONTINUE");
    assert_outlived(&run, 4.0);
    // The token is read on the instance: never in the command's parameters, the function's environment or the output.
    let sent = run.ledger.standing_commands(&run.instance)[0]["parameters"].to_string();
    assert!(sent.contains("drain.token") && !sent.contains("drain-secret"), "{sent}");
    let function = run
        .world
        .aws
        .runtime
        .block_on(run.world.aws.lambda.get_function_configuration().function_name("nm-acl-ok-drain-handler").send())
        .expect("GetFunctionConfiguration");
    let environment = function
        .environment()
        .and_then(|e| e.variables())
        .and_then(|variables| variables.get("GRACEFUL_CONFIG"))
        .cloned()
        .unwrap_or_default();
    assert!(environment.contains("nomadTokenFile") && !environment.contains("drain-secret"), "{environment}");
    assert!(!run.output().contains("drain-secret"), "{}", run.summary());
}

/// A token without read-job on the build's namespace cannot list the build (`-namespace '*'` skips it); the agent's
/// own count still has it, so the node is never reported drained, even after Nomad forced the drain at its deadline.
#[test]
fn token_without_read_job_on_a_namespace_never_reports_drained() {
    let files = InstanceFiles::new();
    let settings = format!("    nomad {{\n      token_file = \"{}\"\n    }}\n", files.token("drain-secret"));
    let world = json!({
        "acl_token": "drain-secret", "token_read_job_namespaces": ["default"],
        "allocations": [{"name": "ci.build[0]", "namespace": "ci", "type": "batch", "stop_seconds": 600}],
    });
    let run = drain_with("nm-acl-ns", "1m", "abandon", world, &settings, 2 * MINUTE);
    run.ledger.assert_drained(&run.instance, "Failed", "ABANDON");
    let output = run.output();
    assert!(!output.contains("drained: no non-system"), "{}", run.summary());
    assert!(output.contains("NOT DRAINED: node "), "{}", run.summary());
    assert!(output.contains("a namespace the token may not read-job in"), "{}", run.summary());
}

/// The eligibility call fails before any drain was started: NOT DRAINED, completed with `on_failure` (abandon).
fn assert_not_drained_at_the_first_call(run: &Drain, why: &str) {
    run.ledger.assert_drained(&run.instance, "Failed", "ABANDON");
    let output = run.output();
    assert!(output.contains("NOT DRAINED: disabling scheduling eligibility failed"), "{}", run.summary());
    assert!(output.contains(why), "expected {why:?} in the output:\n{}", run.summary());
    let drains = run.nomad_calls().into_iter().filter(|(argv, _)| argv.iter().any(|a| a == "-enable")).count();
    assert_eq!(drains, 0, "no drain was started:\n{}", run.summary());
}

/// An agent with `verify_https_client = true` takes the drain with the client certificate and key.
#[test]
fn tls_agent_requiring_client_certificates_drains_with_them() {
    let files = InstanceFiles::new();
    let settings = format!(
        "    nomad {{\n      address          = \"https://127.0.0.1:4646\"\n      ca_file          = \"{}\"\n      client_cert_file = \"{}\"\n      client_key_file  = \"{}\"\n    }}\n",
        files.path("ca.pem"),
        files.path("cli.pem"),
        files.path("cli-key.pem")
    );
    let world = json!({
        "agent": "tls", "tls_verify_client": true,
        "allocations": [{"name": "ci.build[0]", "type": "batch", "runs_seconds": 4}],
    });
    let run = drain_with("nm-mtls-ok", "2m", "abandon", world, &settings, 2 * MINUTE);
    run.ledger.assert_drained(&run.instance, "Success", "CONTINUE");
    assert_outlived(&run, 4.0);
    let sent = &run.ledger.standing_commands(&run.instance)[0]["parameters"];
    assert_eq!(sent["nomadClientCertFile"], json!([files.path("cli.pem")]), "{sent}");
    assert_eq!(sent["nomadClientKeyFile"], json!([files.path("cli-key.pem")]), "{sent}");
}

/// Without the client certificate the agent refuses the TLS connection (Go's "certificate required" alert).
#[test]
fn tls_agent_requiring_client_certificates_without_them_is_not_drained() {
    let files = InstanceFiles::new();
    let settings = format!(
        "    nomad {{\n      address = \"https://127.0.0.1:4646\"\n      ca_file = \"{}\"\n    }}\n",
        files.path("ca.pem")
    );
    let world = json!({
        "agent": "tls", "tls_verify_client": true, "allocations": [{"name": "ci.build[0]", "type": "batch"}],
    });
    let run = drain_with("nm-mtls-no", "1m", "abandon", world, &settings, MINUTE);
    assert_not_drained_at_the_first_call(&run, "remote error: tls: certificate required");
}

/// An agent certificate without IP SANs (made by another CA than `nomad tls cert create`) does not cover the
/// address `https://127.0.0.1:4646`: Go's x509 hostname check fails unless `tls_server_name` names one of its names.
fn certificate_without_ip_sans() -> Json {
    json!({
        "agent": "tls", "tls_cert_names": ["client.global.nomad", "localhost"],
        "allocations": [{"name": "ci.build[0]", "type": "batch", "runs_seconds": 4}],
    })
}

#[test]
fn address_not_in_the_agents_certificate_drains_with_tls_server_name() {
    let files = InstanceFiles::new();
    let settings = format!(
        "    nomad {{\n      address         = \"https://127.0.0.1:4646\"\n      ca_file         = \"{}\"\n      tls_server_name = \"client.global.nomad\"\n    }}\n",
        files.path("ca.pem")
    );
    let run = drain_with("nm-sni-ok", "2m", "abandon", certificate_without_ip_sans(), &settings, 2 * MINUTE);
    run.ledger.assert_drained(&run.instance, "Success", "CONTINUE");
    assert_outlived(&run, 4.0);
    let sent = &run.ledger.standing_commands(&run.instance)[0]["parameters"];
    assert_eq!(sent["nomadTlsServerName"], json!(["client.global.nomad"]), "{sent}");
}

#[test]
fn address_not_in_the_agents_certificate_is_not_drained_without_tls_server_name() {
    let files = InstanceFiles::new();
    let settings = format!(
        "    nomad {{\n      address = \"https://127.0.0.1:4646\"\n      ca_file = \"{}\"\n    }}\n",
        files.path("ca.pem")
    );
    let run = drain_with("nm-sni-no", "1m", "abandon", certificate_without_ip_sans(), &settings, MINUTE);
    let why = "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs";
    assert_not_drained_at_the_first_call(&run, why);
}

const TOKEN_PARAMETER: &str = "/nomad/graceful-drain-token";

/// Gives every instance of `group` the instance profile `name`, whose role may `ssm:GetParameter` the token
/// parameter (the emulator enforces IAM on the instance's role session), through the EC2 API's
/// AssociateIamInstanceProfile, called with the AWS CLI of the emulator's venv (the crate has no EC2 SDK client).
fn give_the_instances_a_profile(world: &Scenario, group: &str, name: &str) {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "ec2.amazonaws.com"}}]});
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter",
        "Resource": format!("arn:aws:ssm:us-east-1:123456789012:parameter{TOKEN_PARAMETER}")}]});
    let iam = &world.aws.iam;
    world.aws.runtime.block_on(async {
        iam.create_role()
            .role_name(name)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .expect("creating the instance role");
        iam.put_role_policy()
            .role_name(name)
            .policy_name("read-drain-token")
            .policy_document(policy.to_string())
            .send()
            .await
            .expect("granting ssm:GetParameter");
        iam.create_instance_profile().instance_profile_name(name).send().await.expect("creating the profile");
        iam.add_role_to_instance_profile()
            .instance_profile_name(name)
            .role_name(name)
            .send()
            .await
            .expect("adding the role to the profile");
    });
    let aws = acceptance::emulator::venv_dir().join("bin").join("aws");
    for instance in world.aws.instance_states(group).keys() {
        let associated = std::process::Command::new(&aws)
            .args(["ec2", "associate-iam-instance-profile", "--instance-id", instance])
            .args(["--iam-instance-profile", &format!("Name={name}")])
            .envs(world.emulator.aws_env())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", aws.display()));
        assert!(associated.status.success(), "{}", String::from_utf8_lossy(&associated.stderr));
    }
}

/// The token is a SecureString parameter the instance reads with its profile's role (`aws ssm get-parameter
/// --with-decryption`): the drain completes, and the token is never in the command's parameters or its output.
#[test]
fn acl_cluster_with_a_token_parameter_drains() {
    let secret = "drain-secret-from-ssm";
    let settings = format!("    nomad {{\n      token_parameter = \"{TOKEN_PARAMETER}\"\n    }}\n");
    let world = json!({
        "acl_token": secret,
        "allocations": [{"name": "ci.build[0]", "namespace": "ci", "type": "batch", "runs_seconds": 4}],
    });
    let run = drain_prepared("nm-acl-param", "2m", "abandon", world, &settings, 2 * MINUTE, |world, group| {
        world
            .aws
            .runtime
            .block_on(
                world
                    .aws
                    .ssm
                    .put_parameter()
                    .name(TOKEN_PARAMETER)
                    .value(secret)
                    .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                    .send(),
            )
            .expect("PutParameter");
        give_the_instances_a_profile(world, group, "nm-acl-param-node");
    });
    run.ledger.assert_drained(&run.instance, "Success", "CONTINUE");
    assert_outlived(&run, 4.0);
    let sent = run.ledger.standing_commands(&run.instance)[0]["parameters"].to_string();
    assert!(sent.contains(TOKEN_PARAMETER) && !sent.contains(secret), "{sent}");
    assert!(!run.output().contains(secret), "{}", run.summary());
}

/// A token parameter that does not exist ends the drain before any `nomad` call, NOT DRAINED, naming the parameter.
#[test]
fn acl_cluster_with_a_missing_token_parameter_is_not_drained() {
    let settings = format!("    nomad {{\n      token_parameter = \"{TOKEN_PARAMETER}\"\n    }}\n");
    let world = json!({"acl_token": "drain-secret", "allocations": [{"name": "ci.build[0]", "type": "batch"}]});
    let run = drain_prepared("nm-acl-noparam", "1m", "abandon", world, &settings, MINUTE, |world, group| {
        give_the_instances_a_profile(world, group, "nm-acl-noparam-node");
    });
    run.ledger.assert_drained(&run.instance, "Failed", "ABANDON");
    let output = run.output();
    let message = format!("NOT DRAINED: reading the Nomad token from SSM parameter {TOKEN_PARAMETER} failed");
    assert!(output.contains(&message), "{}", run.summary());
    assert!(output.contains("ParameterNotFound"), "{}", run.summary());
    assert!(run.nomad_calls().is_empty(), "no nomad call before the token:\n{}", run.summary());
}
