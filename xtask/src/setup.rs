//! `cargo xtask setup`: everything a fresh machine needs before building and testing, from the package registries
//! only (rustup targets, Debian packages, the emulator's PyPI venv). It checks capabilities, not binaries on PATH:
//! each Lambda target's C compiler must compile and statically link a program that includes libc headers, rustc must
//! link for the target, the arm64 result must run under qemu-user, Python must make a venv with pip. What fails is
//! installed from Debian's packages, and probed again; what still fails is an error naming the package.
//! Idempotent and quick (a few seconds) when all is there.

use crate::capability::{self, CrossTarget, Missing};
use crate::{Result, cmd, debian, venv};
use std::process::Command;

pub fn run(args: &[String]) -> Result {
    if let Some(unknown) = args.first() {
        return Err(format!("unexpected argument {unknown:?}; usage: cargo xtask setup").into());
    }
    ensure_all()
}

pub fn ensure_all() -> Result {
    ensure_base_packages()?;
    let targets: Vec<&CrossTarget> = capability::MUSL_TARGETS.iter().collect();
    ensure_targets(&targets)?;
    ensure_capabilities("the emulator's Python", capability::probe_python_venv)?;
    ensure_capabilities("gpg (release signatures)", capability::probe_gpg)?;
    let venv = venv::ensure_emulator_venv()?;
    println!("setup: emulator venv ready at {}", venv.display());
    let version = terraform_version()?;
    println!("setup: {version}");
    Ok(())
}

/// Adds the rustup targets, then probes each target's C and Rust toolchain, installing the Debian packages of what
/// fails and probing once more.
pub fn ensure_targets(targets: &[&CrossTarget]) -> Result {
    let installed = cmd::output(Command::new("rustup").args(["target", "list", "--installed"]))
        .map_err(|e| format!("{e}\n(rustup is needed to add the musl targets)"))?;
    let missing_targets: Vec<&str> =
        targets.iter().map(|t| t.triple).filter(|triple| !installed.lines().any(|l| l.trim() == *triple)).collect();
    if !missing_targets.is_empty() {
        cmd::run(Command::new("rustup").args(["target", "add"]).args(&missing_targets))?;
    }
    for target in targets {
        ensure_capabilities(target.triple, || capability::probe_target(target))?;
    }
    Ok(())
}

/// Runs a probe; installs the packages of what it found missing; runs it again, and again while it names packages not
/// installed yet (a probe that could not get past a missing tool names what lies behind it only once it is there).
/// Still missing with nothing new to install: an error per failure.
pub fn ensure_capabilities(what: &str, probe: impl Fn() -> Vec<Missing>) -> Result {
    let mut installed: Vec<&str> = Vec::new();
    loop {
        let missing = probe();
        if missing.is_empty() {
            match installed.is_empty() {
                true => println!("setup: {what}: ok"),
                false => println!("setup: {what}: ok after installing {}", installed.join(" ")),
            }
            return Ok(());
        }
        let mut packages: Vec<&str> = missing
            .iter()
            .flat_map(|m| m.packages.iter().copied())
            .filter(|package| !installed.contains(package))
            .collect();
        packages.sort_unstable();
        packages.dedup();
        if packages.is_empty() {
            let reasons: Vec<String> = missing.iter().map(|m| format!("  {m}")).collect();
            return Err(format!("{what} is not usable on this machine:\n{}", reasons.join("\n")).into());
        }
        for failure in &missing {
            println!("setup: {what}: {failure}");
        }
        debian::install(&packages)?;
        installed.extend(packages);
    }
}

/// The packages setup relies on a new machine having: on a machine that lacks one (another image), install it.
fn ensure_base_packages() -> Result {
    let absent: Vec<&str> =
        debian::EXPECTED_ON_A_NEW_MACHINE.iter().copied().filter(|p| !debian::is_installed(p)).collect();
    debian::install(&absent)
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
