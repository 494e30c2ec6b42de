//! `cargo xtask test`: what CI runs, and the README's test command. Sets up the machine, builds the handler zips and
//! the provider once, lints, then runs every suite: Rust unit and acceptance tests, the emulator's pytest suite, and
//! `terraform test` on the examples, then short fuzz runs and the release check. Each suite prints its runner's own summary.

use crate::prepare::{self, Build};
use crate::{Result, cmd, fuzz, release, venv};

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
    // Short fuzz runs of every parser of untrusted input (`cargo xtask fuzz` runs 1,000,000 each by default).
    if let Err(error) = fuzz::run(&["--execs".into(), "20000".into()]) {
        failures.push(format!("fuzz: {error}"));
    }
    // The release layout, signature and Terraform install path. Built with the dev profile here: the provider's
    // release profile for two more targets would add the longest build of the run; `cargo xtask release` itself
    // defaults to `provider-release`, and the packaging, signing and install steps are the same code either way.
    if let Err(error) = release::check::run(&["--profile".into(), "dev".into()]) {
        failures.push(format!("release check: {error}"));
    }
    if failures.is_empty() {
        println!("xtask test: every suite passed");
        Ok(())
    } else {
        Err(failures.join("\n").into())
    }
}
