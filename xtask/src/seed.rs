//! Seeding the emulated AWS for the demo and benchmarks (Auto Scaling groups, capacity changes), through the
//! emulator's boto3 helper so xtask itself needs no AWS SDK.

use crate::{Result, cmd};
use acceptance::emulator::Emulator;
use serde_json::Value as Json;
use std::process::Command;

/// Runs `python -m graceful_emulator.seed --endpoint URL <args>` and parses its JSON answer.
pub fn seed(emulator: &Emulator, args: &[&str]) -> Result<Json> {
    // The emulator runs from this venv, so it exists by now.
    let python = acceptance::emulator::venv_dir().join("bin").join("python");
    let out = cmd::output(
        Command::new(python)
            .args(["-m", "graceful_emulator.seed", "--endpoint", emulator.endpoint()])
            .args(args)
            .current_dir(cmd::workspace_root().join("tests").join("emulator")),
    )?;
    Ok(serde_json::from_str(out.trim())?)
}
