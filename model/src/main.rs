//! `check-model [--depth N] [--instances N] [--faults N] [--agent-offline SECONDS] [--heartbeats] ...`: explores
//! the handler against the abstract AWS (`--heartbeats`: with a budget whose hook needs heartbeats; `--other-hook`:
//! with a second terminate hook on the group; `--on-failure-continue`: with `on_failure = "continue"`) and prints
//! the states explored, the depth and the time on stderr (stdout carries the handler's metric lines); a
//! counterexample's timeline and exit status 1 when a property broke.

use drain_model::config::{continuing, handler_config, heartbeat_config};
use drain_model::explore::explore;
use drain_model::steps::Model;
use drain_model::world::Bounds;
use graceful_handler::port::Mutant;

fn main() {
    let (mut mutant, mut liveness, mut heartbeats, mut continues) = (None, false, false, false);
    let (mut depth, mut bounds) = (10, Bounds::ONE_INSTANCE);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = || -> usize {
            args.next().and_then(|value| value.parse().ok()).unwrap_or_else(|| fail(&format!("{arg} needs a number")))
        };
        match arg.as_str() {
            "--depth" => depth = number(),
            "--instances" => bounds.instances = number(),
            "--faults" => bounds.faults = number() as u8,
            "--duplicates" => bounds.duplicates = number() as u8,
            "--losses" => bounds.losses = number() as u8,
            "--races" => bounds.races = number() as u8,
            "--horizon" => bounds.horizon_seconds = number() as u64,
            "--liveness" => liveness = true,
            "--agent-offline" => bounds.agent_offline_seconds = number() as u64,
            "--heartbeats" => heartbeats = true,
            "--agent-drops" => bounds.agent_drops = number() as u8,
            "--other-hook" => bounds.other_hook = true,
            "--cancel-lag" => bounds.cancel_lag = true,
            "--offline-sends-refused" => bounds.offline_sends_refused = true,
            "--on-failure-continue" => continues = true,
            "--mutant" => {
                let name = args.next().unwrap_or_default();
                mutant = Some(mutant_named(&name).unwrap_or_else(|| fail(&format!("no mutant {name:?}"))));
            }
            other => fail(&format!("unexpected argument {other:?}")),
        }
    }
    let config = if heartbeats { heartbeat_config() } else { handler_config() };
    let config = if continues { continuing(config) } else { config };
    let mut model = Model::new(config, bounds, mutant);
    model.liveness = liveness;
    let report = explore(&model, depth);
    eprintln!(
        "check-model: {} states, {} transitions, depth {} of {depth}, {:.1} s ({bounds:?})",
        report.states,
        report.transitions,
        report.depth,
        report.elapsed.as_secs_f64()
    );
    if let Some(counterexample) = report.counterexample {
        eprintln!("{counterexample}");
        std::process::exit(1);
    }
}

fn mutant_named(name: &str) -> Option<Mutant> {
    match name {
        "complete-while-running" => Some(Mutant::CompleteWhileRunning),
        "skip-wait-state-check" => Some(Mutant::SkipWaitStateCheck),
        "ignore-lock" => Some(Mutant::IgnoreLock),
        "heartbeat-from-command-start" => Some(Mutant::HeartbeatFromCommandStart),
        _ => None,
    }
}

fn fail(message: &str) -> ! {
    eprintln!(
        "check-model: {message}\nusage: check-model [--depth N] [--instances N] [--faults N] [--duplicates N] [--losses N] [--races N] [--horizon SECONDS] [--agent-offline SECONDS] [--agent-drops N] [--heartbeats] [--other-hook] [--cancel-lag] [--offline-sends-refused] [--on-failure-continue] [--liveness] [--mutant complete-while-running|skip-wait-state-check|ignore-lock|heartbeat-from-command-start]"
    );
    std::process::exit(2)
}
