//! Process-level protocol tests: this binary re-executes itself as a real plugin process serving a small fixture
//! provider, then talks to it the way Terraform does (environment, handshake line, gRPC over AutoMTLS).
//!
//! It runs without libtest (`harness = false`) because libtest writes to stdout, and a plugin's stdout must carry
//! nothing but the handshake line. Arguments that are not flags filter the cases by substring.

mod cases;
mod client;
mod fixture;
mod plugin_process;

#[allow(clippy::all, dead_code, unreachable_pub)]
mod tfplugin6 {
    include!(concat!(env!("OUT_DIR"), "/tfplugin6.rs"));
}

#[allow(clippy::all, dead_code, unreachable_pub)]
mod plugin {
    include!(concat!(env!("OUT_DIR"), "/plugin.rs"));
}

use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Set in the environment of the re-executed child to make it serve instead of testing.
pub const ROLE_VARIABLE: &str = "TFPLUGIN_PROTOCOL_TEST_ROLE";
/// The source address the fixture provider announces in debug mode.
pub const FIXTURE_ADDRESS: &str = "registry.terraform.io/tfplugin-tests/fixture";
const CASE_TIMEOUT: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    if std::env::var(ROLE_VARIABLE).as_deref() == Ok("plugin") {
        return tfplugin::serve_from_env_and_args(fixture::Fixture::default(), FIXTURE_ADDRESS);
    }
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let selected: Vec<_> = cases::ALL
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let started = Instant::now();
    println!("\nrunning {} tests", selected.len());
    let mut failed = Vec::new();
    for (name, case) in &selected {
        let outcome = runtime.block_on(async { tokio::time::timeout(CASE_TIMEOUT, case()).await });
        match outcome {
            Ok(Ok(())) => println!("test {name} ... ok"),
            Ok(Err(message)) => {
                println!("test {name} ... FAILED");
                failed.push((name, message));
            }
            Err(_) => {
                println!("test {name} ... FAILED");
                failed.push((name, format!("did not finish within {CASE_TIMEOUT:?}")));
            }
        }
    }
    for (name, message) in &failed {
        println!("\n---- {name} ----\n{message}");
    }
    let passed = selected.len() - failed.len();
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {verdict}. {passed} passed; {} failed; 0 ignored; 0 measured; {} filtered out; finished in {:.2}s\n",
        failed.len(),
        cases::ALL.len() - selected.len(),
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
