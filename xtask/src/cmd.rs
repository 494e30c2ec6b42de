//! Running commands and finding the workspace.

use crate::Result;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use acceptance::emulator::workspace_root;

/// The shared target directory: `CARGO_TARGET_DIR` if set, else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

/// Runs a command to completion with inherited stdio; an error names the command and its exit status.
pub fn run(command: &mut Command) -> Result {
    let status = command.status().map_err(|e| format!("starting {}: {e}", describe(command)))?;
    if !status.success() {
        return Err(format!("{} failed ({status})", describe(command)).into());
    }
    Ok(())
}

/// Like [`run`], but captures stdout.
pub fn output(command: &mut Command) -> Result<String> {
    let out = command.output().map_err(|e| format!("starting {}: {e}", describe(command)))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}): {}",
            describe(command),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

/// Starts `command` at the lowest CPU priority (`nice -n 19`, coreutils), output to `log`: work that may use the
/// cores others leave idle without slowing them.
pub fn spawn_niced(command: &Command, log: &Path) -> Result<std::process::Child> {
    let file = std::fs::File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
    let mut niced = Command::new("nice");
    niced.args(["-n", "19"]).arg(command.get_program()).args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => niced.env(key, value),
            None => niced.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        niced.current_dir(dir);
    }
    niced.stdin(std::process::Stdio::null()).stdout(file.try_clone()?).stderr(file);
    niced.spawn().map_err(|e| format!("starting {}: {e}", describe(&niced)).into())
}
