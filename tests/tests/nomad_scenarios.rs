//! End-to-end drains of the `nomad` preset against the stand-in Nomad (tests/emulator/graceful_emulator/
//! nomad_standin.sh, which follows hashicorp/nomad's source): a real `terraform apply`, the real handler, the real
//! drain script run by the emulated SSM agent. Each scenario sets the node's world (allocations of each job type and
//! namespace, an operator's cancel, TLS, ACLs, a leader loss), scales in, and checks how the instance ends: exactly one
//! completion with the right result, the drain's final status and message, and, when drained, that no non-system
//! allocation was still running when the instance was terminated.
//!
//! Budgets: "1m" gives `-deadline 5s` and 40 s of grace (the forced-stop window); "2m" gives `-deadline 65s`.

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
    let group = format!("{name}-g");
    let groups = [group.as_str()];
    let resource = Resource { timeout, on_failure, ..Resource::new(name, &groups) };
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
        .filter(|argv| argv.first().is_some_and(|a| a == "operator"))
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
