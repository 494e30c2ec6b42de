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
    let group = format!("{name}-g");
    let groups = [group.as_str()];
    let resource = Resource { timeout, on_failure, drain_extra, ..Resource::new(name, &groups) };
    let world = Scenario::apply(1.0, 0.0, &[(group.as_str(), 2)], &[resource]);
    world.emulator.control("nomad", &nomad).expect("setting the nomad world");
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
