//! `cargo xtask install`: builds the handler zips and the provider (profile `provider-release`; `--debug` for a dev
//! build) and puts it in Terraform's implied local mirror (`~/.terraform.d/plugins/...`), so `terraform init` finds it
//! offline with no CLI configuration.

use crate::{Result, cmd, lambda};
use std::path::PathBuf;

pub fn run(args: &[String]) -> Result {
    lambda::run(&[])?;
    let profile = if args.iter().any(|a| a == "--debug") { "debug" } else { "provider-release" };
    let mut build = cmd::cargo();
    build.args(["build", "-p", "terraform-provider-graceful", "--bin", "terraform-provider-graceful"]);
    if profile != "debug" {
        build.args(["--profile", profile]);
    }
    cmd::run(&mut build)?;
    let binary = cmd::target_dir().join(profile).join("terraform-provider-graceful");
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    let plugins = PathBuf::from(home).join(".terraform.d").join("plugins");
    let installed = acceptance::terraform::install_into_mirror(&binary, &plugins)?;
    println!("installed {} as {}", acceptance::terraform::PROVIDER_SOURCE, installed.display());
    println!(
        "use it with:\n  terraform {{\n    required_providers {{\n      graceful = {{ source = \"{}\", version = \"{}\" }}\n    }}\n  }}",
        acceptance::terraform::PROVIDER_SOURCE,
        acceptance::terraform::PROVIDER_VERSION
    );
    println!(
        "(a rebuilt binary of the same version needs `rm .terraform.lock.hcl && terraform init` in your configuration)"
    );
    Ok(())
}
