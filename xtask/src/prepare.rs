//! What every task that drives Terraform needs first: the machine set up, the handler zips built, the provider built
//! once, and the Terraform harness pointed at that binary.

use crate::{Result, cmd, lambda, setup};
use std::path::PathBuf;

#[derive(Clone, Copy)]
pub enum Build {
    /// The dev profile tests share with `cargo test`.
    Dev,
    /// The optimised `provider-release` profile users install and benchmarks measure.
    Release,
}

/// For `cargo xtask test`: the handler zips, then every target of the workspace in one dev build (the provider, the
/// fuzz binary and all test binaries). One build resolves one feature set, the one `cargo test --workspace` uses,
/// dev-dependencies' features included; a `cargo build -p <package>` resolves features for that package alone, and
/// the tests then compiled about 130 shared dependencies (tokio, serde_json, hyper, the smithy runtime…) a second
/// time in a cold run.
pub fn workspace_for_tests() -> Result<PathBuf> {
    setup::ensure_all()?;
    lambda::run(&[])?;
    cmd::run(cmd::cargo().args(["build", "--workspace", "--all-targets"]))?;
    let binary = cmd::target_dir().join("debug").join("terraform-provider-graceful");
    // SAFETY: xtask is single-threaded when it prepares; the harness reads this when it builds a workspace.
    #[allow(unsafe_code)] // set_var is unsafe since Rust 2024 (other threads may read the environment)
    unsafe {
        std::env::set_var("GRACEFUL_PROVIDER_BIN", &binary)
    };
    Ok(binary)
}

pub fn provider(build: Build) -> Result<PathBuf> {
    setup::ensure_all()?;
    lambda::run(&[])?;
    let mut command = cmd::cargo();
    command.args(["build", "-p", "terraform-provider-graceful", "--bin", "terraform-provider-graceful"]);
    let profile_dir = match build {
        Build::Dev => "debug",
        Build::Release => {
            command.args(["--profile", "provider-release"]);
            "provider-release"
        }
    };
    cmd::run(&mut command)?;
    let binary = cmd::target_dir().join(profile_dir).join("terraform-provider-graceful");
    // SAFETY: xtask is single-threaded when it prepares; the harness reads this when it builds a workspace.
    #[allow(unsafe_code)] // set_var is unsafe since Rust 2024 (other threads may read the environment)
    unsafe {
        std::env::set_var("GRACEFUL_PROVIDER_BIN", &binary)
    };
    Ok(binary)
}
