//! The workspace's Rust tests, run the way `cargo test --workspace --no-fail-fast` runs them, but with several test
//! binaries at once. Cargo builds every test binary once (`--no-run`), then runs them one after another while holding
//! the target directory's lock. The acceptance binaries spend most of their minutes waiting on real timers (agent
//! waits, lifecycle heartbeats, the emulator's SSM delays), so one at a time leaves the two cores idle. Here up to
//! `GRACEFUL_TEST_JOBS` (default 2) binaries run together, the slow acceptance ones first; each binary's output is
//! printed whole when it ends, with its harness's `test result:` line, and a total follows.

use crate::{Result, cmd};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

const JOBS_ENV_VAR: &str = "GRACEFUL_TEST_JOBS";
const DEFAULT_JOBS: usize = 2;
/// The packages whose tests wait on timers rather than compute: started first so the longest do not come last.
const SLOW_PACKAGES: [&str; 2] = ["acceptance", "drain-model"];

/// One test executable cargo built, and what `cargo test` would run it with.
pub struct TestBinary {
    /// `package::target (kind)`, as people read it.
    label: String,
    package: String,
    executable: PathBuf,
    package_dir: PathBuf,
}

/// What one binary's run printed and how it ended.
struct Finished {
    label: String,
    passed: bool,
    output: String,
    took: Duration,
}

/// Runs every test binary [`build`] found, with `env` set for each test process.
pub fn run(binaries: Vec<TestBinary>, env: &[(&str, &std::ffi::OsStr)]) -> Result {
    let mut failed = Vec::new();
    let jobs = jobs()?;
    let count = binaries.len();
    println!("running {count} test binaries, {jobs} at a time");
    let started = Instant::now();
    let (mut passed_tests, mut failed_tests) = (0u64, 0u64);
    for finished in run_pool(binaries, jobs, env) {
        println!("     Running {} ({:.1} s)\n{}", finished.label, finished.took.as_secs_f64(), finished.output);
        let (passed, failed_here) = counts(&finished.output);
        passed_tests += passed;
        failed_tests += failed_here;
        if !finished.passed {
            failed.push(finished.label);
        }
    }
    println!(
        "Rust tests: {passed_tests} passed, {failed_tests} failed in {count} binaries ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() { Ok(()) } else { Err(format!("failed: {}", failed.join(", ")).into()) }
}

fn jobs() -> Result<usize> {
    match std::env::var(JOBS_ENV_VAR) {
        Err(_) => Ok(DEFAULT_JOBS),
        Ok(text) => match text.parse::<usize>() {
            Ok(jobs) if jobs > 0 => Ok(jobs),
            _ => Err(format!("{JOBS_ENV_VAR}={text:?}: expected a whole number of test binaries, at least 1").into()),
        },
    }
}

/// `cargo test --workspace --no-run`, reading the executables from cargo's JSON messages; then the doc tests, which
/// only cargo runs (they are compiled as they run).
pub fn build() -> Result<Vec<TestBinary>> {
    let mut build = cmd::cargo();
    build.args(["test", "--workspace", "--no-run", "--message-format=json-render-diagnostics"]);
    build.stderr(Stdio::inherit());
    let messages = cmd::output(&mut build)?;
    let mut binaries: Vec<TestBinary> = messages.lines().filter_map(test_binary).collect();
    // Stable: the slow packages first, each keeping cargo's order.
    binaries.sort_by_key(|b| SLOW_PACKAGES.iter().position(|p| *p == b.package).unwrap_or(SLOW_PACKAGES.len()));
    if binaries.is_empty() {
        return Err("cargo test --no-run reported no test executables".into());
    }
    cmd::run(cmd::cargo().args(["test", "--workspace", "--doc"]))?;
    Ok(binaries)
}

fn test_binary(line: &str) -> Option<TestBinary> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message["reason"] != "compiler-artifact" || message["profile"]["test"] != true {
        return None;
    }
    let executable = PathBuf::from(message["executable"].as_str()?);
    let manifest = PathBuf::from(message["manifest_path"].as_str()?);
    let package = package_name(message["package_id"].as_str()?, &manifest);
    let target = message["target"]["name"].as_str()?;
    let kind = message["target"]["kind"][0].as_str().unwrap_or("test");
    Some(TestBinary {
        label: format!("{package}::{target} ({kind})"),
        package,
        executable,
        package_dir: manifest.parent()?.to_path_buf(),
    })
}

/// The package of a package ID spec: `path+file:///…/dir#name@1.0.0`, or `path+file:///…/name#1.0.0` when the
/// name is the directory's (cargo's "Package ID specifications").
fn package_name(package_id: &str, manifest: &std::path::Path) -> String {
    let fragment = package_id.rsplit_once('#').map(|(_, f)| f).unwrap_or("");
    match fragment.split_once('@') {
        Some((name, _)) => name.to_string(),
        None => {
            manifest.parent().and_then(|d| d.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        }
    }
}

fn run_pool(binaries: Vec<TestBinary>, jobs: usize, env: &[(&str, &std::ffi::OsStr)]) -> mpsc::Receiver<Finished> {
    let queue = Arc::new(Mutex::new(VecDeque::from(binaries)));
    let env: Vec<(String, std::ffi::OsString)> = env.iter().map(|(k, v)| (k.to_string(), v.to_os_string())).collect();
    let (sender, receiver) = mpsc::channel();
    for _ in 0..jobs {
        let (queue, sender, env) = (Arc::clone(&queue), sender.clone(), env.clone());
        std::thread::spawn(move || {
            loop {
                // A statement of its own: a guard in the `while let` scrutinee would be held through the run.
                let next = queue.lock().expect("the queue's lock").pop_front();
                let Some(binary) = next else { return };
                if sender.send(run_one(binary, &env)).is_err() {
                    return;
                }
            }
        });
    }
    receiver
}

/// Runs one binary as cargo would: from its package's directory, with cargo's run-time variables.
fn run_one(binary: TestBinary, env: &[(String, std::ffi::OsString)]) -> Finished {
    let started = Instant::now();
    let mut command = Command::new(&binary.executable);
    command
        .current_dir(&binary.package_dir)
        .env("CARGO_MANIFEST_DIR", &binary.package_dir)
        .env("CARGO_PKG_NAME", &binary.package)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    let (passed, output) = match command.output() {
        Ok(out) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            (out.status.success(), format!("{text}({})", out.status))
        }
        Err(error) => (false, format!("starting {}: {error}", binary.executable.display())),
    };
    Finished { label: binary.label, passed, output, took: started.elapsed() }
}

/// (passed, failed) from the libtest summary line `test result: ok. 3 passed; 0 failed; …`.
fn counts(output: &str) -> (u64, u64) {
    let Some(line) = output.lines().rev().find(|l| l.starts_with("test result:")) else {
        return (0, 0);
    };
    let number_before = |word: &str| {
        line.split(';')
            .find_map(|part| part.trim().strip_suffix(word).and_then(|n| n.trim().rsplit(' ').next()?.parse().ok()))
            .unwrap_or(0)
    };
    (number_before("passed"), number_before("failed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_libtest_summaries() {
        let output = "running 3 tests\n...\ntest result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; \
                      0 filtered out; finished in 0.01s\n";
        assert_eq!(counts(output), (2, 1));
        assert_eq!(counts("test result: ok. 41 passed; 0 failed; 0 ignored"), (41, 0));
        assert_eq!(counts("no harness ran"), (0, 0));
    }

    /// Two binaries that each wait for the other to have started: they pass only when run at the same time.
    #[test]
    fn the_pool_runs_binaries_at_the_same_time() {
        let dir = tempfile::tempdir().unwrap();
        let binary = |me: &str, other: &str| {
            let path = dir.path().join(me);
            let script = format!(
                "#!/bin/sh\ntouch {me}.started\nfor _ in $(seq 100); do [ -e {other}.started ] && exit 0; sleep 0.1; \
                 done\nexit 1\n"
            );
            std::fs::write(&path, script).unwrap();
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
            TestBinary {
                label: me.into(),
                package: "p".into(),
                executable: path,
                package_dir: dir.path().to_path_buf(),
            }
        };
        let finished: Vec<Finished> = run_pool(vec![binary("a", "b"), binary("b", "a")], 2, &[]).iter().collect();
        assert_eq!(finished.len(), 2);
        for run in &finished {
            assert!(run.passed, "{} waited alone: {}", run.label, run.output);
        }
    }

    #[test]
    fn package_names_come_from_both_id_forms() {
        let manifest = std::path::Path::new("/w/tests/Cargo.toml");
        assert_eq!(package_name("path+file:///w/tests#acceptance@0.1.0", manifest), "acceptance");
        assert_eq!(
            package_name("path+file:///w/handler#0.1.0", std::path::Path::new("/w/handler/Cargo.toml")),
            "handler"
        );
    }
}
