//! `cargo xtask docs`: regenerates `docs/` from the provider's schema (the docs test, in update mode).

use crate::{Result, cmd};

pub fn run(_args: &[String]) -> Result {
    cmd::run(
        cmd::cargo()
            .args(["test", "--quiet", "-p", "terraform-provider-graceful", "--lib", "docs::"])
            .env("UPDATE_DOCS", "1"),
    )?;
    println!("docs/ regenerated from the schema");
    Ok(())
}
