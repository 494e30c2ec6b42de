//! `cargo xtask bench drain [DRAIN_SECONDS] [WAVE_SIZE]`: the drain flow against the emulator, in one run:
//! (a) completion latency after the drain script exits (median, p99 over 50 drains) beside a 20 s poller's latency
//! for the same drains; (b) AWS API calls per drained instance beside the minimum, and drain scripts started per
//! action; (c) WAVE_SIZE (default 500) instances terminating at once, wall time vs one drain.
//!
//! The drains run as AWS does not promise better: `ListCommands` lists a new command only after a lag, and Auto
//! Scaling and SSM calls are rate-limited by the emulator's default token buckets (rate_limits.py: one bucket shared
//! by every Auto Scaling action, as AWS documents it; one per SSM action; 100 calls refilled at 20/s, EC2's published
//! size as the stand-in). The throttled calls are counted and printed.
//!
//! Times come from the emulator's event log (monotonic stamps): `command-status` (script ended), then
//! `lifecycle-action-completed`, then `instance-terminated`.

use crate::prepare::{self, Build};
use crate::seed::seed;
use crate::{Result, stats};
use acceptance::emulator::{Emulator, NomadBehaviour, is_drain_enable};
use acceptance::terraform::{Workspace, provider_header};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The poll interval of the anchor tools (a loop of `GetCommandInvocation` / `ListCommands` every 20 s).
const POLL_SECONDS: f64 = 20.0;
const LATENCY_DRAINS: usize = 50;
/// Latency drains run in waves of this many (a realistic scale-in step, not a stampede).
const LATENCY_WAVE: usize = 10;
const LATENCY_DRAIN_SECONDS: f64 = 2.0;
const WAVE_SIZE: usize = 500;
/// Operations the benchmark itself makes (seeding, scale-ins); not counted against the handler.
const OWN_OPERATIONS: [&str; 2] = ["autoscaling:SetDesiredCapacity", "autoscaling:DescribeAutoScalingGroups"];
/// How late SSM lists a new command (seconds, drawn per command). AWS gives no figure (the emulator's
/// ssm_consistency.py says why it lags at all); a few seconds is longer than one invocation takes to look again.
const LIST_LAG_SECONDS: [f64; 2] = [1.0, 4.0];

pub fn run(args: &[String]) -> Result {
    let drain_seconds: f64 = args.first().map(|n| n.parse()).transpose()?.unwrap_or(20.0);
    let wave_size: usize = args.get(1).map(|n| n.parse()).transpose()?.unwrap_or(WAVE_SIZE);
    // The provider only provisions here; the drain path is the release handler from the zips.
    prepare::provider(Build::Dev)?;

    let emulator = Emulator::start()?;
    println!("emulator {} (log {})", emulator.endpoint(), emulator.log_path().display());
    seed(&emulator, &["create-group", "bench-one", "--instances", "1"])?;
    seed(&emulator, &["create-group", "bench-lat", "--instances", &LATENCY_DRAINS.to_string()])?;
    seed(&emulator, &["create-group", "bench-wave", "--instances", &wave_size.to_string()])?;
    let mut ws = Workspace::new(&format!(
        "{}resource \"graceful_shutdown_asg\" \"bench\" {{\n  name = \"bench\"\n  autoscaling_group_names = [\"bench-one\", \"bench-lat\", \"bench-wave\"]\n  architecture = \"x86_64\"\n  drain {{\n    timeout = \"1h\"\n  }}\n}}\n",
        provider_header()
    ));
    for (key, value) in emulator.aws_env() {
        ws.env(key, &value);
    }
    ws.init();
    ws.apply().ok("apply");
    // After apply: the provider's own calls are not what is measured.
    emulator.control("ssm_consistency", &serde_json::json!({"list_lag_seconds": LIST_LAG_SECONDS, "seed": 7}))?;
    println!(
        "conditions: ListCommands lists a command {:.0}-{:.0} s late; the emulator's default rate limits (Auto Scaling: one \
bucket for every action; SSM: one per action; 100 calls, 20/s)",
        LIST_LAG_SECONDS[0], LIST_LAG_SECONDS[1]
    );

    // (c, baseline) one drain alone.
    emulator.set_nomad(&NomadBehaviour { drain_seconds, ..Default::default() })?;
    let single = scale_in_and_wait(&emulator, "bench-one", 0, 1, Duration::from_secs(120))?;
    let single_wall = single.wall();

    // (a) + (b) 50 short drains in waves of 10.
    emulator.set_nomad(&NomadBehaviour { drain_seconds: LATENCY_DRAIN_SECONDS, ..Default::default() })?;
    let calls_before = emulator.api_calls()?.1;
    let mut drains = Vec::new();
    for wave in 1..=LATENCY_DRAINS / LATENCY_WAVE {
        let left = LATENCY_DRAINS - wave * LATENCY_WAVE;
        let run = scale_in_and_wait(&emulator, "bench-lat", left, LATENCY_WAVE, Duration::from_secs(120))?;
        drains.extend(run.drains);
    }
    let calls_after = emulator.api_calls()?.1;
    report_latency(&drains);
    report_calls(&calls_before, &calls_after, &drains)?;

    // (c) 500 at once, each drain as long as the single one.
    emulator.set_nomad(&NomadBehaviour { drain_seconds, ..Default::default() })?;
    let wave = scale_in_and_wait(&emulator, "bench-wave", 0, wave_size, Duration::from_secs(900))?;
    let wave_wall = wave.wall();
    println!("\n(c) {wave_size} instances terminating at once (drain script {drain_seconds:.0} s each):");
    println!("  one drain alone: {single_wall:>7.1} s (first Terminating:Wait to terminated)");
    println!(
        "  {wave_size} at once:      {wave_wall:>7.1} s = {:.2}x one drain   (target <= 2x)",
        wave_wall / single_wall.max(f64::EPSILON)
    );
    // Where the wall time beyond one drain goes: scripts starting late (the handler's fan-out) or completing late.
    let first_wait = wave.drains.iter().map(|d| d.waiting).fold(f64::INFINITY, f64::min);
    let last_start = wave.drains.iter().filter_map(|d| d.script_start).fold(f64::NEG_INFINITY, f64::max);
    let mut finish: Vec<f64> = wave.drains.iter().filter_map(|d| Some(d.terminated? - d.script_end?)).collect();
    println!(
        "  last drain script started {:.1} s after the first Terminating:Wait; script end to terminated p99 {:.2} s",
        last_start - first_wait,
        stats::percentile(&mut finish, 99.0)
    );
    let completed = wave.drains.iter().filter(|d| d.result.as_deref() == Some("CONTINUE")).count();
    println!("  completed CONTINUE by the handler: {completed}/{wave_size}; errors: {}", wave.errors.len());
    let scripts: usize = wave.drains.iter().map(|d| d.scripts_started).sum();
    println!("  drain scripts started: {scripts} for {wave_size} actions; calls throttled: {}", wave.throttled);
    // Grouped by their text up to the instance id, so a saturated run prints a summary rather than every line.
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for error in &wave.errors {
        *kinds.entry(error.split(" (i-").next().unwrap_or(error).chars().take(160).collect()).or_default() += 1;
    }
    for (kind, count) in kinds {
        println!("    {count:>4} x {kind}");
    }
    if wave.errors.is_empty() && completed == wave_size {
        println!("  no errors");
    }
    ws.destroy().ok("destroy");
    Ok(())
}

/// One drained instance, in emulator monotonic seconds.
struct Drain {
    waiting: f64,
    script_start: Option<f64>,
    script_end: Option<f64>,
    completed: Option<f64>,
    terminated: Option<f64>,
    result: Option<String>,
    /// `nomad node drain -enable` runs on the instance: the drain script's start, which must happen once.
    scripts_started: usize,
}

struct WaveRun {
    drains: Vec<Drain>,
    errors: Vec<String>,
    /// Calls the rate limits refused (each retried by the SDK or by the next delivery).
    throttled: usize,
}

impl WaveRun {
    /// First instance waiting to last instance terminated.
    fn wall(&self) -> f64 {
        let first = self.drains.iter().map(|d| d.waiting).fold(f64::INFINITY, f64::min);
        let last = self.drains.iter().filter_map(|d| d.terminated).fold(f64::NEG_INFINITY, f64::max);
        last - first
    }
}

/// Scales `group` to `desired`, waits until the `expected` parked instances are terminated, and reads their drains
/// and any error (handler error/crash/timeout, exhausted delivery, a completion not made by the handler).
fn scale_in_and_wait(
    emulator: &Emulator,
    group: &str,
    desired: usize,
    expected: usize,
    limit: Duration,
) -> Result<WaveRun> {
    let since = emulator.events()?.last().map(|e| e["seq"].as_u64().unwrap_or(0)).unwrap_or(0);
    seed(emulator, &["set-capacity", group, &desired.to_string()])?;
    let started = Instant::now();
    let mut events: Vec<Json> = Vec::new();
    let mut last = since;
    loop {
        // Under a large wave the emulator can be too busy to answer within the client timeout: keep polling.
        let fresh = match emulator.events_since(last) {
            Ok(fresh) => fresh,
            Err(error) if started.elapsed() < limit => {
                eprintln!("  (event log not readable yet: {error})");
                Vec::new()
            }
            Err(error) => return Err(error.into()),
        };
        if let Some(seq) = fresh.last().and_then(|e| e["seq"].as_u64()) {
            last = seq;
        }
        events.extend(fresh);
        let terminated = events.iter().filter(|e| e["kind"] == "instance-terminated" && e["group"] == group).count();
        if terminated >= expected {
            break;
        }
        if started.elapsed() > limit {
            return Err(format!("{group}: {terminated}/{expected} terminated after {} s", limit.as_secs()).into());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let mut drains: BTreeMap<String, Drain> = BTreeMap::new();
    let mut errors = Vec::new();
    for event in &events {
        let at = event["monotonic"].as_f64().unwrap_or(0.0);
        let instance = event["instance_id"].as_str().unwrap_or_default().to_string();
        match event["kind"].as_str().unwrap_or_default() {
            "lifecycle-action-started" if event["group"] == group => {
                drains.insert(
                    instance,
                    Drain {
                        waiting: at,
                        script_start: None,
                        script_end: None,
                        completed: None,
                        terminated: None,
                        result: None,
                        scripts_started: 0,
                    },
                );
            }
            "command-status" if event["status"] == "InProgress" => {
                if let Some(d) = drains.get_mut(&instance) {
                    d.script_start = Some(at);
                }
            }
            "command-status"
                if matches!(event["status"].as_str(), Some("Success" | "Failed" | "TimedOut" | "Cancelled")) =>
            {
                if let Some(d) = drains.get_mut(&instance) {
                    d.script_end = Some(at);
                }
            }
            "lifecycle-action-completed" => {
                if let Some(d) = drains.get_mut(&instance) {
                    if event["reason"] != "CompleteLifecycleAction" {
                        errors.push(format!("{instance} completed by {}", event["reason"]));
                    }
                    if d.completed.is_some() {
                        errors.push(format!("{instance} completed twice"));
                    }
                    d.completed = Some(at);
                    d.result = event["result"].as_str().map(str::to_string);
                }
            }
            "nomad-call" if is_drain_enable(&event["argv"]) => {
                if let Some(d) = drains.get_mut(&instance) {
                    d.scripts_started += 1;
                }
            }
            "instance-terminated" => {
                if let Some(d) = drains.get_mut(&instance) {
                    d.terminated = Some(at);
                }
            }
            "lambda-invocation-finished" if event["outcome"] != "response" => {
                errors.push(format!("handler invocation {}: {}", event["outcome"], event["detail"]));
            }
            "lambda-delivery-exhausted" => errors.push("a delivery was given up after its retries".into()),
            _ => {}
        }
    }
    let throttled = events
        .iter()
        .filter(|e| e["kind"] == "fault-injected" && e["code"].as_str().is_some_and(|c| c.starts_with("Throttling")))
        .count();
    for (instance, d) in &drains {
        if d.scripts_started != 1 {
            errors.push(format!("{instance}: {} drain scripts started, not one", d.scripts_started));
        }
        match (d.script_end, d.terminated) {
            (None, _) => errors.push(format!("{instance}: the drain script never ended")),
            (Some(end), Some(gone)) if gone < end => {
                errors.push(format!("{instance} terminated before its drain ended"))
            }
            _ => {}
        }
    }
    Ok(WaveRun { drains: drains.into_values().collect(), errors, throttled })
}

/// (a): ours from the event log; the poller's simulated: it completes at the next 20 s boundary of a fixed poll
/// ticker (phase = the first drain's wait start) after the script ended, with zero API latency (favouring it).
fn report_latency(drains: &[Drain]) {
    let origin = drains.iter().map(|d| d.waiting).fold(f64::INFINITY, f64::min);
    let mut ours = Vec::new();
    let mut polled = Vec::new();
    for d in drains {
        if let (Some(end), Some(done)) = (d.script_end, d.completed) {
            ours.push(done - end);
            let since_origin = end - origin;
            let boundary = (since_origin / POLL_SECONDS).floor() * POLL_SECONDS + POLL_SECONDS;
            polled.push(boundary - since_origin);
        }
    }
    println!("\n(a) completion latency after the drain script exits, {} drains (waves of {LATENCY_WAVE}):", ours.len());
    println!("  {:<34} {:>10} {:>10}", "", "median s", "p99 s");
    let (m, p) = (stats::median(&mut ours), stats::percentile(&mut ours, 99.0));
    println!("  {:<34} {m:>10.3} {p:>10.3}   (target p99 <= 1 s)", "status notification (this provider)");
    let (m, p) = (stats::median(&mut polled), stats::percentile(&mut polled, 99.0));
    println!("  {:<34} {m:>10.3} {p:>10.3}   (simulated: next 20 s poll boundary)", "polling every 20 s");
}

/// (b): the handler's calls over the 50 drains (everything the emulator received less the benchmark's own
/// seeding operations, throttled calls included), per drained instance, beside SendCommand +
/// CompleteLifecycleAction; and the drain scripts started per action.
fn report_calls(before: &Json, after: &Json, drains: &[Drain]) -> Result {
    let drained = drains.len();
    let mut per_operation = Vec::new();
    let mut total = 0.0;
    for (operation, count) in after.as_object().ok_or("call counts are not an object")? {
        if OWN_OPERATIONS.contains(&operation.as_str()) {
            continue;
        }
        let delta = count.as_u64().unwrap_or(0).saturating_sub(before[operation].as_u64().unwrap_or(0));
        if delta > 0 {
            let per = delta as f64 / drained as f64;
            total += per;
            per_operation.push(format!("{operation} {per:.2}"));
        }
    }
    let heartbeat = "autoscaling:RecordLifecycleActionHeartbeat";
    let heartbeats = after[heartbeat].as_u64().unwrap_or(0).saturating_sub(before[heartbeat].as_u64().unwrap_or(0))
        as f64
        / drained as f64;
    // One heartbeat per drain is the look before sending: whether our hook's action is still open.
    println!(
        "\n(b) AWS API calls per drained instance: {total:.2} (minimum 2 = SendCommand + CompleteLifecycleAction; by design 6 = look, hook probe, lock, send, group read, completion; heartbeats beyond the probe {:.2}; issue target <= 5 + heartbeats)",
        heartbeats - 1.0
    );
    for line in per_operation {
        println!("  {line}");
    }
    let scripts: usize = drains.iter().map(|d| d.scripts_started).sum();
    let once = drains.iter().filter(|d| d.scripts_started == 1).count();
    println!("  drain scripts started: {scripts} for {drained} actions ({once} actions exactly once)");
    Ok(())
}
