//! One drain scenario's world: an emulator with its clock and stand-in `nomad` set, groups seeded, a real
//! `terraform apply` of `graceful_shutdown_asg` resources (x86_64 handler), and the event-log checks every scenario
//! shares (one completion per instance with the right result, no instance gone before its drain ended).
// Each test crate that includes `support` uses a different part of it.
#![allow(dead_code)]

use super::aws::Aws;
use acceptance::emulator::{Emulator, NomadBehaviour};
use acceptance::terraform::{Workspace, provider_header};
use serde_json::Value as Json;
use std::time::{Duration, Instant};

/// One `graceful_shutdown_asg` block.
pub struct Resource<'a> {
    pub name: &'a str,
    pub groups: &'a [&'a str],
    pub on_failure: &'a str,
    pub timeout: &'a str,
    pub heartbeat_timeout: Option<u64>,
    /// More lines of the block, verbatim (e.g. `wait_for_drains = false`).
    pub extra: &'a str,
    /// More lines of the `drain` block, verbatim (e.g. a `nomad { ... }` block).
    pub drain_extra: &'a str,
}

impl<'a> Resource<'a> {
    pub fn new(name: &'a str, groups: &'a [&'a str]) -> Self {
        Resource {
            name,
            groups,
            on_failure: "continue",
            timeout: "1m",
            heartbeat_timeout: None,
            extra: "",
            drain_extra: "",
        }
    }

    fn hcl(&self) -> String {
        let groups: Vec<String> = self.groups.iter().map(|g| format!("\"{g}\"")).collect();
        let heartbeat =
            self.heartbeat_timeout.map(|s| format!("  heartbeat_timeout       = {s}\n")).unwrap_or_default();
        format!(
            r#"resource "graceful_shutdown_asg" "{name}" {{
  name                    = "{name}"
  autoscaling_group_names = [{groups}]
  architecture            = "x86_64"
  on_failure              = "{on_failure}"
{heartbeat}{extra}  drain {{
    preset  = "nomad"
    timeout = "{timeout}"
{drain_extra}  }}
}}
"#,
            extra = self.extra,
            drain_extra = self.drain_extra,
            name = self.name,
            groups = groups.join(", "),
            on_failure = self.on_failure,
            timeout = self.timeout,
        )
    }
}

pub fn config(resources: &[Resource]) -> String {
    let mut text = provider_header();
    for resource in resources {
        text.push_str(&resource.hcl());
    }
    text
}

/// A started emulator, its SDK clients and the applied Terraform workspace.
pub struct Scenario {
    pub ws: Workspace,
    pub aws: Aws,
    // Dropped last: the workspace's provider talks to it, and dropping it stops every handler and drain script.
    pub emulator: Emulator,
}

impl Scenario {
    /// Starts the emulator at `clock_scale`, sets every drain to take `drain_seconds` (real time), creates `groups`
    /// (name, instances) and applies `resources`.
    pub fn apply(clock_scale: f64, drain_seconds: f64, groups: &[(&str, i32)], resources: &[Resource]) -> Self {
        let emulator = Emulator::start().expect("starting the emulator");
        // Before apply: the reconcile schedule's timer and hook timeouts start on this clock.
        emulator.set_clock_scale(clock_scale).expect("setting the clock");
        emulator.set_nomad(&NomadBehaviour { drain_seconds, ..Default::default() }).expect("setting nomad");
        let aws = Aws::new(&emulator);
        for (group, instances) in groups {
            aws.create_group(group, *instances);
        }
        let mut ws = Workspace::new(&config(resources));
        for (key, value) in emulator.aws_env() {
            ws.env(key, &value);
        }
        ws.init();
        ws.apply().ok("apply");
        let world = Scenario { ws, aws, emulator };
        // Each hook's test notification reaches the handler asynchronously; let those invocations finish so
        // delivery knobs a scenario arms next apply to the scenario's own events.
        world.wait_until(Duration::from_secs(30), "the test notifications handled", |ledger| {
            let tests = ledger.of_kind("lifecycle-test-notification").count();
            tests > 0 && ledger.of_kind("lambda-invocation-finished").count() >= tests
        });
        world
    }

    /// Scales `group` to `desired` and returns the instances that went to `Terminating:Wait`.
    pub fn scale_in(&self, group: &str, desired: i32) -> Vec<String> {
        let before = self.aws.instance_states(group);
        self.aws.set_capacity(group, desired);
        let waiting: Vec<String> = self
            .aws
            .instance_states(group)
            .into_iter()
            .filter(|(_, state)| state == "Terminating:Wait")
            .map(|(id, _)| id)
            .collect();
        assert_eq!(waiting.len(), before.len() - desired as usize, "scale-in of {group} parked {waiting:?}");
        waiting
    }

    pub fn ledger(&self) -> Ledger {
        Ledger { events: self.emulator.events().expect("reading the event log") }
    }

    /// Waits (bounded) until every instance in `instances` is terminated; panics with the log otherwise.
    pub fn wait_terminated(&self, instances: &[String], limit: Duration) -> Ledger {
        self.wait_until(limit, &format!("{instances:?} terminated"), |ledger| {
            instances.iter().all(|i| ledger.terminated(i).is_some())
        })
    }

    /// Polls the event log until `done` holds, at most `limit`.
    pub fn wait_until(&self, limit: Duration, what: &str, done: impl Fn(&Ledger) -> bool) -> Ledger {
        let started = Instant::now();
        loop {
            let ledger = self.ledger();
            if done(&ledger) {
                return ledger;
            }
            if started.elapsed() > limit {
                panic!(
                    "waited {} s for {what}; emulator log {}; event log:\n{}",
                    limit.as_secs(),
                    self.emulator.log_path().display(),
                    ledger.summary()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Calls received per `service:Operation` since start.
    pub fn calls(&self, operation: &str) -> u64 {
        let (_, calls) = self.emulator.api_calls().expect("reading call counts");
        calls[operation].as_u64().unwrap_or(0)
    }
}

/// The emulator's event log at one moment.
pub struct Ledger {
    pub events: Vec<Json>,
}

impl Ledger {
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Json> + 'a {
        self.events.iter().filter(move |e| e["kind"] == kind)
    }

    fn about(&self, kind: &str, instance: &str) -> Vec<&Json> {
        self.events.iter().filter(|e| e["kind"] == kind && e["instance_id"] == instance).collect()
    }

    /// `lifecycle-action-completed` events of the instance (every reason).
    pub fn completions(&self, instance: &str) -> Vec<&Json> {
        self.about("lifecycle-action-completed", instance)
    }

    /// Drain commands sent for the instance.
    pub fn commands(&self, instance: &str) -> Vec<&Json> {
        self.of_kind("command-sent")
            .filter(|e| e["instance_ids"].as_array().is_some_and(|ids| ids.iter().any(|id| id == instance)))
            .collect()
    }

    /// Drain commands of the instance that were not cancelled: the drains that really ran.
    pub fn standing_commands(&self, instance: &str) -> Vec<&Json> {
        let cancelled: Vec<&Json> =
            self.about("command-cancelled", instance).iter().map(|e| &e["command_id"]).collect();
        self.commands(instance).into_iter().filter(|c| !cancelled.contains(&&c["command_id"])).collect()
    }

    /// The final (terminal) status of the instance's standing drain command, if its drain ended.
    pub fn drain_end(&self, instance: &str) -> Option<&Json> {
        let standing: Vec<&Json> = self.standing_commands(instance).iter().map(|c| &c["command_id"]).collect();
        self.about("command-status", instance)
            .into_iter()
            .filter(|e| standing.is_empty() || standing.contains(&&e["command_id"]))
            .rfind(|e| matches!(e["status"].as_str(), Some("Success" | "Failed" | "TimedOut" | "Cancelled")))
    }

    pub fn terminated(&self, instance: &str) -> Option<&Json> {
        self.about("instance-terminated", instance).first().copied()
    }

    pub fn heartbeats(&self, instance: &str) -> usize {
        self.about("lifecycle-heartbeat", instance).len()
    }

    pub fn started_waiting(&self, instance: &str) -> Option<&Json> {
        self.about("lifecycle-action-started", instance).first().copied()
    }

    /// The drain outcome every scenario checks: exactly one completion, made by `CompleteLifecycleAction` with
    /// `result`; one drain command (not counting duplicates the handler cancelled at once) whose final status is
    /// `drain_status`; terminated only after that status.
    pub fn assert_drained(&self, instance: &str, drain_status: &str, result: &str) {
        let context = || format!("instance {instance}; events:\n{}", self.summary());
        let completions = self.completions(instance);
        assert_eq!(completions.len(), 1, "expected exactly one completion, {}", context());
        assert_eq!(completions[0]["reason"], "CompleteLifecycleAction", "{}", context());
        assert_eq!(completions[0]["result"], result, "{}", context());
        assert_eq!(self.standing_commands(instance).len(), 1, "expected exactly one drain command, {}", context());
        let end = self.drain_end(instance).unwrap_or_else(|| panic!("the drain never ended, {}", context()));
        assert_eq!(end["status"], drain_status, "{}", context());
        let gone = self.terminated(instance).unwrap_or_else(|| panic!("not terminated, {}", context()));
        assert!(seq(gone) > seq(end), "terminated before its drain ended, {}", context());
        assert!(seq(completions[0]) > seq(end), "completed before its drain ended, {}", context());
    }

    /// A readable dump of the lifecycle-relevant events (for failure messages).
    pub fn summary(&self) -> String {
        let skip = ["nomad-call", "lambda-delivery"];
        self.events
            .iter()
            .filter(|e| !skip.contains(&e["kind"].as_str().unwrap_or_default()))
            .map(|e| {
                let mut fields = e.clone();
                if let Some(map) = fields.as_object_mut() {
                    for noisy in ["seq", "monotonic", "message", "event", "parameters", "token"] {
                        map.remove(noisy);
                    }
                }
                format!("  {:>4} {}", seq(e), fields)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

pub fn seq(event: &Json) -> u64 {
    event["seq"].as_u64().unwrap_or(0)
}

/// Seconds between two events, from their monotonic stamps.
pub fn seconds_between(earlier: &Json, later: &Json) -> f64 {
    later["monotonic"].as_f64().unwrap_or(0.0) - earlier["monotonic"].as_f64().unwrap_or(0.0)
}
