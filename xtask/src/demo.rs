//! `cargo xtask demo`: the whole drain flow against the emulated AWS. Builds the handler zips and the provider,
//! starts the emulator, creates a group of 3 Nomad clients, applies `examples/quickstart` with the real Terraform CLI,
//! scales the group to 1, shows each instance's timeline live, then a summary, destroys and stops.
//! Fails loudly if an instance left before its drain finished, or was left waiting after it.
//! `--tls-acl` runs it against a stand-in Nomad cluster with TLS-only agents and ACLs (see demo_secure.rs).

use crate::demo_secure;
use crate::prepare::{self, Build};
use crate::seed::seed;
use crate::{Result, cmd};
use acceptance::emulator::{Emulator, NomadBehaviour};
use acceptance::terraform::Workspace;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const GROUP: &str = "nomad-clients";
/// How long the stand-in `nomad node drain` takes on each instance (a real CI build takes 30+ minutes).
const DRAIN_SECONDS: f64 = 6.0;
const DEMO_DEADLINE: Duration = Duration::from_secs(180);

/// What happened to one instance, in emulator time (seconds since the scale-in).
#[derive(Default, Debug)]
struct Timeline {
    waiting: Option<f64>,
    command_sent: Option<f64>,
    drain_finished: Option<(f64, String)>,
    completed: Option<(f64, String)>,
    terminated: Option<f64>,
    heartbeats: u32,
}

pub fn run(args: &[String]) -> Result {
    let secure = match args {
        [] => false,
        [flag] if flag == demo_secure::FLAG => true,
        _ => return Err(format!("usage: cargo xtask demo [{}]", demo_secure::FLAG).into()),
    };
    prepare::provider(Build::Dev)?;

    println!("\n== starting the emulated AWS");
    let emulator = Emulator::start()?;
    println!("   {} (log: {})", emulator.endpoint(), emulator.log_path().display());
    emulator.set_nomad(&NomadBehaviour { drain_seconds: DRAIN_SECONDS, ..Default::default() })?;
    let cluster = if secure { Some(demo_secure::SecureCluster::start(&emulator)?) } else { None };
    let group = seed(&emulator, &["create-group", GROUP, "--instances", "3"])?;
    let instances: Vec<String> = group["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect();
    println!("   group {GROUP}: {} instances InService: {}", instances.len(), instances.join(", "));

    println!("\n== terraform init + apply examples/quickstart");
    let mut quickstart = std::fs::read_to_string(cmd::workspace_root().join("examples/quickstart/main.tf"))?;
    if let Some(cluster) = &cluster {
        quickstart = cluster.configure(&quickstart)?;
    }
    let mut ws = Workspace::new(&quickstart);
    for (key, value) in emulator.aws_env() {
        ws.env(key, &value);
    }
    ws.env("TF_VAR_autoscaling_group_names", &format!("[\"{GROUP}\"]"));
    ws.init();
    let applied = ws.apply();
    print_tail(&applied.stdout, 6);
    if !applied.success {
        return Err(format!("terraform apply failed:\n{}", applied.stderr).into());
    }

    println!("\n== scaling {GROUP} from 3 to 1: two instances must drain before they terminate");
    let since = emulator.events()?.last().and_then(|e| e["seq"].as_u64()).unwrap_or(0);
    let calls_before = emulator.api_calls()?.1;
    let scale_started = Instant::now();
    seed(&emulator, &["set-capacity", GROUP, "1"])?;
    let timelines = watch(&emulator, since, scale_started)?;
    let calls_after = emulator.api_calls()?.1;

    println!("\n== summary");
    println!(
        "   {:<22} {:>10} {:>12} {:>14} {:>10}  result",
        "instance", "drain s", "complete s", "after drain ms", "heartbeats"
    );
    let mut problems = Vec::new();
    for (instance, t) in &timelines {
        let drain = match (t.command_sent, &t.drain_finished) {
            (Some(sent), Some((done, _))) => format!("{:.1}", done - sent),
            _ => "-".into(),
        };
        let latency = match (&t.drain_finished, &t.completed) {
            (Some((done, _)), Some((completed, _))) => format!("{:.0}", (completed - done) * 1000.0),
            _ => "-".into(),
        };
        let result = t.completed.as_ref().map(|(_, r)| r.as_str()).unwrap_or("NOT COMPLETED");
        println!(
            "   {instance:<22} {drain:>10} {:>12} {latency:>14} {:>10}  {result}",
            t.completed.as_ref().map(|(c, _)| format!("{c:.1}")).unwrap_or("-".into()),
            t.heartbeats
        );
        if let Some((_, status)) = &t.drain_finished
            && status != "Success"
        {
            problems.push(format!("{instance}: the drain ended {status}, expected Success (see the emulator log)"));
        }
        match (&t.drain_finished, t.terminated) {
            (None, Some(_)) => problems.push(format!("{instance} terminated before its drain finished")),
            (Some((done, _)), Some(gone)) if gone < *done => {
                problems.push(format!("{instance} terminated before its drain finished"))
            }
            (_, None) => problems.push(format!("{instance} is still waiting")),
            _ => {}
        }
    }
    let invocations = emulator.events_of_kind("lambda-invocation-finished")?.len();
    println!("   handler invocations: {invocations}");
    let drained = timelines.values().filter(|t| t.completed.is_some()).count().max(1);
    let (total, per_operation) = handler_calls(&calls_before, &calls_after);
    println!(
        "   AWS API calls by the handler: {total} for {drained} drains ({:.1} each): {}",
        total as f64 / drained as f64,
        per_operation.join(", ")
    );

    println!("\n== terraform destroy");
    let destroyed = ws.destroy();
    print_tail(&destroyed.stdout, 2);
    if !destroyed.success {
        problems.push(format!("terraform destroy failed: {}", destroyed.stderr));
    }
    drop(emulator);
    if problems.is_empty() {
        println!("\ndemo finished: every instance drained, then terminated");
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

/// Follows the event log until every instance that entered Terminating:Wait is terminated (bounded), printing each
/// step as it happens.
fn watch(emulator: &Emulator, mut since: u64, started: Instant) -> Result<BTreeMap<String, Timeline>> {
    let mut timelines: BTreeMap<String, Timeline> = BTreeMap::new();
    let mut last_progress = Instant::now();
    // Emulator monotonic time that corresponds to `started` (fixed by the first event read).
    let mut emulator_origin: Option<f64> = None;
    loop {
        for event in emulator.events()? {
            let seq = event["seq"].as_u64().unwrap_or(0);
            if seq <= since {
                continue;
            }
            since = seq;
            // Most events name one instance; a command names every instance it was sent to.
            let instances: Vec<&str> = match (event["instance_id"].as_str(), event["instance_ids"].as_array()) {
                (Some(instance), _) => vec![instance],
                (None, Some(ids)) => ids.iter().filter_map(Json::as_str).collect(),
                (None, None) => continue,
            };
            // The emulator's own stamps, not the time this poll read them: a completion that follows its drain
            // within one poll interval still shows its real latency.
            let stamp = event["monotonic"].as_f64().unwrap_or(0.0);
            let origin = *emulator_origin.get_or_insert(stamp - started.elapsed().as_secs_f64());
            let at = stamp - origin;
            for instance in instances {
                let t = timelines.entry(instance.to_string()).or_default();
                if let Some(line) = record(t, &event, at) {
                    println!("   {at:6.2}s  {instance}  {line}");
                }
            }
        }
        let waiting: Vec<&String> =
            timelines.iter().filter(|(_, t)| t.waiting.is_some() && t.terminated.is_none()).map(|(i, _)| i).collect();
        let all_done = timelines.values().filter(|t| t.waiting.is_some()).count() >= 2 && waiting.is_empty();
        if all_done {
            return Ok(timelines);
        }
        if started.elapsed() > DEMO_DEADLINE {
            return Err(format!("instances still waiting after {}s: {waiting:?}", DEMO_DEADLINE.as_secs()).into());
        }
        if last_progress.elapsed() >= Duration::from_secs(3) && !waiting.is_empty() {
            println!(
                "   ...    {} draining: {}",
                waiting.len(),
                waiting.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            );
            last_progress = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Records `event` in `t` and says what happened, or `None` for events the timeline does not show.
fn record(t: &mut Timeline, event: &Json, at: f64) -> Option<String> {
    let line = match event["kind"].as_str().unwrap_or_default() {
        "lifecycle-transition" if event["state"] == "Terminating:Wait" => {
            t.waiting = Some(at);
            "Terminating:Wait (the lifecycle hook holds it)".to_string()
        }
        "command-sent" => {
            t.command_sent = Some(at);
            "drain command sent (SSM Run Command)".to_string()
        }
        "nomad-call" => format!("drain: nomad {}", nomad_args(event)),
        "command-status"
            if matches!(event["status"].as_str(), Some("Success" | "Failed" | "TimedOut" | "Cancelled")) =>
        {
            let status = event["status"].as_str().unwrap_or_default().to_string();
            t.drain_finished = Some((at, status.clone()));
            format!("drain finished: {status}")
        }
        "lifecycle-heartbeat" => {
            t.heartbeats += 1;
            "heartbeat".to_string()
        }
        "lifecycle-action-completed" => {
            let result = event["result"].as_str().unwrap_or_default().to_string();
            let reason = event["reason"].as_str().unwrap_or_default();
            t.completed = Some((at, result.clone()));
            format!("lifecycle action completed: {result} ({reason})")
        }
        "instance-terminated" => {
            t.terminated = Some(at);
            "terminated".to_string()
        }
        _ => return None,
    };
    Some(line)
}

fn nomad_args(event: &Json) -> String {
    match &event["argv"] {
        Json::Array(args) => args.iter().filter_map(|a| a.as_str()).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

fn print_tail(text: &str, lines: usize) {
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    for line in &all[all.len().saturating_sub(lines)..] {
        println!("   {line}");
    }
}

/// The AWS calls made between two readings of the emulator's counters, less the demo's own scale-in.
fn handler_calls(before: &Json, after: &Json) -> (u64, Vec<String>) {
    const DEMO_OPERATIONS: [&str; 2] = ["autoscaling:SetDesiredCapacity", "autoscaling:DescribeAutoScalingGroups"];
    let mut total = 0;
    let mut per_operation = Vec::new();
    for (operation, count) in after.as_object().into_iter().flatten() {
        let made = count.as_u64().unwrap_or(0).saturating_sub(before[operation].as_u64().unwrap_or(0));
        if made > 0 && !DEMO_OPERATIONS.contains(&operation.as_str()) {
            total += made;
            per_operation.push(format!("{operation} {made}"));
        }
    }
    (total, per_operation)
}
