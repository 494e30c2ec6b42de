//! `cargo xtask test`: what CI runs, and the README's test command. Sets up the machine, builds the handler zips and
//! the provider once, lints, then runs every suite: Rust unit and acceptance tests, the emulator's pytest suite, and
//! `terraform test` on the examples. Each suite prints its runner's own summary.

use crate::{Result, cmd, lambda, setup, venv};

pub fn run(args: &[String]) -> Result {
    let skip_lint = args.iter().any(|a| a == "--no-lint");
    setup::ensure_all()?;
    lambda::run(&[])?;
    cmd::run(cmd::cargo().args([
        "build",
        "-p",
        "terraform-provider-graceful",
        "--bin",
        "terraform-provider-graceful",
    ]))?;
    let provider = cmd::target_dir().join("debug").join("terraform-provider-graceful");
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
