//! `cargo xtask test`: what CI runs, and the README's test command. Sets up the machine, builds the handler zips and
//! the provider once, lints, then runs every suite: Rust unit and acceptance tests, the emulator's pytest suite, and
//! `terraform test` on the examples. Each suite prints its runner's own summary.

use crate::prepare::{self, Build};
use crate::{Result, cmd, venv};

pub fn run(args: &[String]) -> Result {
    let skip_lint = args.iter().any(|a| a == "--no-lint");
    let provider = prepare::provider(Build::Dev)?;
    if !skip_lint {
        cmd::run(cmd::cargo().args(["fmt", "--all", "--", "--check"]))?;
        cmd::run(cmd::cargo().args(["clippy", "--workspace", "--all-targets", "--quiet", "--", "-D", "warnings"]))?;
    }
    let venv_dir = venv::ensure_emulator_venv()?;

    let mut failures = Vec::new();
    let mut cargo_test = cmd::cargo();
    cargo_test
        .args(["test", "--workspace", "--no-fail-fast"])
        .env("GRACEFUL_PROVIDER_BIN", &provider)
        .env("GRACEFUL_EMULATOR_VENV", &venv_dir);
    if let Err(error) = cmd::run(&mut cargo_test) {
        failures.push(format!("Rust tests: {error}"));
    }
    if let Err(error) = venv::run_pytest(&venv_dir) {
        failures.push(format!("emulator tests: {error}"));
    }
    if failures.is_empty() {
        println!("xtask test: every suite passed");
        Ok(())
    } else {
        Err(failures.join("\n").into())
    }
}
