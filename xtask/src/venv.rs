//! The emulator's Python venv (moto + our extension, pinned in `tests/emulator/requirements.txt`) and its pytest
//! suite.

use crate::Result;
use crate::cmd;
use std::path::{Path, PathBuf};
use std::process::Command;

use acceptance::emulator::venv_dir;

const STAMP: &str = "graceful-requirements.stamp";

fn emulator_dir() -> PathBuf {
    cmd::workspace_root().join("tests").join("emulator")
}

/// Creates the venv and installs the pinned requirements; does nothing when the stamp matches the requirements.
pub fn ensure_emulator_venv() -> Result<PathBuf> {
    let venv = venv_dir();
    let requirements_path = emulator_dir().join("requirements.txt");
    let requirements = std::fs::read_to_string(&requirements_path)
        .map_err(|e| format!("reading {}: {e}", requirements_path.display()))?;
    let python = venv.join("bin").join("python");
    let stamp = venv.join(STAMP);
    if python.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == requirements) {
        println!("emulator venv up to date: {}", venv.display());
        return Ok(venv);
    }
    if !python.is_file() {
        println!("creating the emulator venv at {}", venv.display());
        cmd::run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    cmd::run(
        Command::new(venv.join("bin").join("pip"))
            .args(["install", "--disable-pip-version-check", "--quiet", "-r"])
            .arg(&requirements_path),
    )?;
    std::fs::write(&stamp, requirements).map_err(|e| format!("writing {}: {e}", stamp.display()))?;
    println!("emulator venv ready: {}", venv.display());
    Ok(venv)
}

/// The emulator's own pytest suite, started in the background with its output going to `log` (pytest prints its
/// summary line last); [`finish_pytest`] waits for it and prints what it wrote.
pub fn start_pytest(venv: &Path, log: &Path) -> Result<std::process::Child> {
    let file = std::fs::File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
    let mut command = Command::new(venv.join("bin").join("python"));
    command
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"])
        .current_dir(emulator_dir())
        .stdin(std::process::Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file);
    command.spawn().map_err(|e| format!("starting {}: {e}", cmd::describe(&command)).into())
}

pub fn finish_pytest(mut child: std::process::Child, log: &Path) -> Result {
    let status = child.wait()?;
    let output = std::fs::read_to_string(log).unwrap_or_default();
    println!("     Running the emulator's pytest suite\n{output}");
    if status.success() { Ok(()) } else { Err(format!("pytest failed ({status}); output in {}", log.display()).into()) }
}
