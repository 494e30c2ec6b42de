//! `cargo xtask setup`: everything a fresh machine needs before building and testing, from the package registries
//! only (rustup targets, Debian packages, the emulator's PyPI venv). Idempotent and quick when all is there.

use crate::{Result, cmd, lambda, venv};
use std::process::Command;

pub fn run(_args: &[String]) -> Result {
    ensure_all()
}

pub fn ensure_all() -> Result {
    lambda::ensure_toolchains()?;
    venv::ensure_emulator_packages()?;
    let venv = venv::ensure_emulator_venv()?;
    println!("setup: emulator venv ready at {}", venv.display());
    let version = terraform_version()?;
    println!("setup: {version}");
    Ok(())
}

/// The Terraform CLI must be on the machine already (it is on this project's machine image; no registry we can reach
/// ships it). Missing Terraform is an error, never a skipped test.
pub fn terraform_version() -> Result<String> {
    let terraform = std::env::var("TERRAFORM").unwrap_or_else(|_| "terraform".into());
    let out = cmd::output(Command::new(&terraform).arg("version")).map_err(|error| {
        format!("the Terraform CLI ({terraform}) is required (1.11 or newer) and could not be run: {error}")
    })?;
    Ok(out.lines().next().unwrap_or_default().to_string())
}
