//! `cargo xtask bench apply`: median `terraform apply` and `terraform destroy` wall time of one
//! `graceful_shutdown_asg` managing 3 groups against the emulator, beside the emulator's own round-trip time for the
//! same number of AWS API calls (sequential boto3 calls), measured in the same run.

use crate::prepare::{self, Build};
use crate::seed::seed;
use crate::{Result, stats};
use acceptance::emulator::Emulator;
use acceptance::terraform::{Workspace, provider_header};
use std::time::Instant;

const GROUPS: [&str; 3] = ["bench-a", "bench-b", "bench-c"];

pub fn run(args: &[String]) -> Result {
    let rounds: usize = args.first().map(|n| n.parse()).transpose()?.unwrap_or(5);
    // The optimised build is what users run.
    prepare::provider(Build::Release)?;

    let emulator = Emulator::start()?;
    for group in GROUPS {
        seed(&emulator, &["create-group", group, "--instances", "0"])?;
    }
    let mut ws = Workspace::new(&format!(
        "{}resource \"graceful_shutdown_asg\" \"bench\" {{\n  name = \"bench\"\n  autoscaling_group_names = [\"bench-a\", \"bench-b\", \"bench-c\"]\n  architecture = \"x86_64\"\n  drain {{}}\n}}\n",
        provider_header()
    ));
    for (key, value) in emulator.aws_env() {
        ws.env(key, &value);
    }
    ws.init();

    let (mut apply_ms, mut destroy_ms, mut apply_calls, mut destroy_calls) = (vec![], vec![], vec![], vec![]);
    // One warm-up round: the emulator loads each service's backend on first use.
    for round in 0..=rounds {
        let before = emulator.api_calls()?.0;
        let started = Instant::now();
        ws.apply().ok("apply");
        let applied = started.elapsed().as_secs_f64() * 1000.0;
        let after_apply = emulator.api_calls()?.0;
        let started = Instant::now();
        ws.destroy().ok("destroy");
        let destroyed = started.elapsed().as_secs_f64() * 1000.0;
        let after_destroy = emulator.api_calls()?.0;
        if round > 0 {
            apply_ms.push(applied);
            destroy_ms.push(destroyed);
            apply_calls.push((after_apply - before) as f64);
            destroy_calls.push((after_destroy - after_apply) as f64);
        }
    }
    let round_trip = |calls: f64| -> Result<f64> {
        let timed = seed(&emulator, &["time-calls", &format!("{}", calls as u64)])?;
        Ok(timed["seconds"].as_f64().unwrap_or(0.0) * 1000.0)
    };
    let (apply_n, destroy_n) = (stats::median(&mut apply_calls), stats::median(&mut destroy_calls));
    let (apply_rt, destroy_rt) = (round_trip(apply_n)?, round_trip(destroy_n)?);
    let (apply_med, destroy_med) = (stats::median(&mut apply_ms), stats::median(&mut destroy_ms));
    println!("graceful_shutdown_asg with 3 groups against the emulator, {rounds} rounds (medians):");
    println!("  {:<10} {:>10} {:>10} {:>26}", "", "wall ms", "API calls", "emulator round trip ms");
    println!("  {:<10} {apply_med:>10.0} {apply_n:>10.0} {apply_rt:>26.0}", "apply");
    println!("  {:<10} {destroy_med:>10.0} {destroy_n:>10.0} {destroy_rt:>26.0}", "destroy");
    println!("  target: <= 2000 ms each (the round trip is the floor the emulator itself sets for that many calls)");
    Ok(())
}
