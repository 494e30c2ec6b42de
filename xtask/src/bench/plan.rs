//! `cargo xtask bench plan`: median `terraform plan` wall time of one `graceful_shutdown_asg` against the same
//! configuration with a builtin `terraform_data`, interleaved in one run so machine noise hits both alike.

use crate::Result;
use crate::prepare::{self, Build};
use crate::stats;
use acceptance::terraform::{Workspace, provider_header};
use std::time::Instant;

const GRACEFUL: &str = r#"
resource "graceful_shutdown_asg" "bench" {
  name                    = "bench"
  autoscaling_group_names = ["bench-a", "bench-b", "bench-c"]
  drain {
    timeout = "90m"
  }
  tags = { team = "ci" }
}
"#;

const BUILTIN: &str = r#"
resource "terraform_data" "bench" {
  input = {
    name                    = "bench"
    autoscaling_group_names = ["bench-a", "bench-b", "bench-c"]
    drain                   = { timeout = "90m" }
    tags                    = { team = "ci" }
  }
}
"#;

pub fn run(args: &[String]) -> Result {
    let rounds: usize = args.first().map(|n| n.parse()).transpose()?.unwrap_or(15);
    // The optimised build is what users run.
    prepare::provider(Build::Release)?;
    let header = provider_header();
    let graceful = Workspace::new(&format!("{header}{GRACEFUL}"));
    let builtin = Workspace::new(&format!("{header}{BUILTIN}"));
    graceful.init();
    builtin.init();
    let plan = |ws: &Workspace| {
        let started = Instant::now();
        ws.run(&["plan", "-input=false", "-no-color", "-lock=false"]).ok("plan");
        started.elapsed().as_secs_f64() * 1000.0
    };
    // Warm-up: the first runs fill OS caches.
    plan(&graceful);
    plan(&builtin);
    let (mut with_provider, mut builtin_only) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        with_provider.push(plan(&graceful));
        builtin_only.push(plan(&builtin));
    }
    let (provider_ms, builtin_ms) = (stats::median(&mut with_provider), stats::median(&mut builtin_only));
    println!("terraform plan, {rounds} rounds interleaved (median wall ms):");
    println!("  graceful_shutdown_asg (3 groups)   {provider_ms:8.1}");
    println!("  terraform_data (builtin baseline)  {builtin_ms:8.1}");
    println!("  difference                         {:8.1}   (target: <= 100 ms)", provider_ms - builtin_ms);
    println!("  ratio                              {:8.2}x", provider_ms / builtin_ms);
    Ok(())
}
