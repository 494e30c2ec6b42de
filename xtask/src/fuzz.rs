//! `cargo xtask fuzz [event|dynamic-value|duration|all] [--execs N] [--seed S]`: mutation fuzzing on the stable
//! toolchain. Builds `graceful-fuzz` (dev profile, so integer overflow panics too), gives it the seed files (the
//! handler's event fixtures and aws_lambda_events' captured samples), runs N inputs per target, and when an input
//! kills the process (stack overflow, the allocation cap, a hang) bisects the stream down to that one input and
//! saves it under `target/fuzz/<target>/crash-<index>`. Prints `fuzz: N passed, N failed` last.

use crate::{Result, cmd};
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGETS: [&str; 3] = ["event", "dynamic-value", "duration"];
const PACKAGE: &str = "graceful-fuzz";

pub fn run(args: &[String]) -> Result {
    cmd::run(cmd::cargo().args(["build", "--quiet", "-p", PACKAGE]))?;
    run_built(args)
}

/// The fuzz runs with the `graceful-fuzz` binary already built (`cargo xtask test` builds it with the workspace).
pub fn run_built(args: &[String]) -> Result {
    let mut targets: Vec<&str> = TARGETS.to_vec();
    let (mut execs, mut seed) = (1_000_000u64, 1u64);
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = || rest.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--execs" => execs = value()?.parse().map_err(|_| "--execs: expected a whole number")?,
            "--seed" => seed = value()?.parse().map_err(|_| "--seed: expected a whole number")?,
            "all" => targets = TARGETS.to_vec(),
            name if TARGETS.contains(&name) => targets = vec![TARGETS.iter().find(|t| **t == name).unwrap()],
            other => {
                return Err(format!(
                    "unexpected argument {other:?}; usage: cargo xtask fuzz [{}|all] [--execs N] [--seed S]",
                    TARGETS.join("|")
                )
                .into());
            }
        }
    }
    let binary = cmd::target_dir().join("debug").join(PACKAGE);
    if !binary.is_file() {
        return Err(format!("{} is not built (cargo build -p {PACKAGE})", binary.display()).into());
    }
    let (mut passed, mut failed) = (0, 0);
    for target in targets {
        let corpus = prepare_corpus(target)?;
        match fuzz_one(&binary, target, seed, execs, &corpus) {
            Ok(summary) => {
                passed += 1;
                println!("fuzz {target}: ok: {summary}");
            }
            Err(error) => {
                failed += 1;
                println!("fuzz {target}: FAILED: {error}");
            }
        }
    }
    println!("fuzz: {passed} passed, {failed} failed");
    if failed > 0 { Err(format!("{failed} fuzz target(s) failed").into()) } else { Ok(()) }
}

/// `target/fuzz/<target>/corpus`: seed files from outside this code. For events: the handler's fixtures (shapes
/// from AWS's documentation) and the sample events aws_lambda_events ships (captured from AWS).
fn prepare_corpus(target: &str) -> Result<PathBuf> {
    let dir = cmd::target_dir().join("fuzz").join(target).join("corpus");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    if target != "event" {
        return Ok(dir);
    }
    let mut sources = vec![cmd::workspace_root().join("handler").join("tests").join("fixtures")];
    if let Some(crate_dir) = package_dir("aws_lambda_events")? {
        sources.push(crate_dir.join("src").join("fixtures"));
    }
    let relevant = |name: &str| {
        ["sns", "eventbridge", "cloudwatch-events", "cloudwatch_events", "autoscaling"].iter().any(|k| name.contains(k))
    };
    let mut copied = 0;
    for source in sources {
        let Ok(entries) = std::fs::read_dir(&source) else { continue };
        for entry in entries.filter_map(|e| e.ok()) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let from_fixtures = source.ends_with("fixtures") && source.parent().is_some_and(|p| p.ends_with("tests"));
            if name.ends_with(".json") && (from_fixtures || relevant(&name)) {
                std::fs::copy(entry.path(), dir.join(format!("{copied:03}-{name}")))?;
                copied += 1;
            }
        }
    }
    if copied < 10 {
        return Err(format!(
            "only {copied} event seed files found (the handler's fixtures and aws_lambda_events' samples)"
        )
        .into());
    }
    Ok(dir)
}

/// The source directory of a dependency, from `cargo metadata` (for this host's platform: the copy cargo built).
fn package_dir(name: &str) -> Result<Option<PathBuf>> {
    let host = cmd::output(
        Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into())).args(["--print", "host-tuple"]),
    )?;
    let out = cmd::output(cmd::cargo().args(["metadata", "--format-version", "1", "--filter-platform", host.trim()]))?;
    let metadata: serde_json::Value = serde_json::from_str(&out)?;
    let manifest = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == name)
        .and_then(|p| p["manifest_path"].as_str())
        .map(|m| PathBuf::from(m).parent().map(Path::to_path_buf).unwrap_or_default());
    Ok(manifest)
}

struct Child {
    success: bool,
    stdout: String,
    stderr: String,
}

fn run_range(binary: &Path, target: &str, seed: u64, from: u64, count: u64, corpus: &Path) -> Result<Child> {
    let out = Command::new(binary)
        .arg(target)
        .args(["--seed", &seed.to_string(), "--from", &from.to_string(), "--count", &count.to_string()])
        .arg("--corpus")
        .arg(corpus)
        .output()
        .map_err(|e| format!("running {}: {e}", binary.display()))?;
    Ok(Child {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: format!("{} ({})", String::from_utf8_lossy(&out.stderr).trim(), out.status),
    })
}

fn fuzz_one(binary: &Path, target: &str, seed: u64, execs: u64, corpus: &Path) -> Result<String> {
    let child = run_range(binary, target, seed, 0, execs, corpus)?;
    if child.success {
        return Ok(format!("{} (seed {seed}), no panic, no hang, memory under the cap", child.stdout.trim()));
    }
    let reported = child.stderr.lines().find_map(|line| {
        let rest = line.strip_prefix("PANIC at input ").or_else(|| line.strip_prefix("HANG at input "))?;
        rest.split(|c: char| !c.is_ascii_digit()).next()?.parse::<u64>().ok()
    });
    let index = match reported {
        Some(index) => index,
        None => {
            // Killed without a word (stack overflow, allocation cap): bisect from the last progress line.
            let last_progress = child
                .stderr
                .lines()
                .filter_map(|l| l.strip_prefix("progress ")?.trim().parse::<u64>().ok())
                .max()
                .unwrap_or(0);
            bisect(binary, target, seed, last_progress, execs, corpus)?
        }
    };
    let crash = cmd::target_dir().join("fuzz").join(target).join(format!("crash-{index}"));
    cmd::run(
        Command::new(binary)
            .arg(target)
            .args(["--seed", &seed.to_string(), "--dump", &index.to_string()])
            .arg(&crash)
            .arg("--corpus")
            .arg(corpus),
    )?;
    Err(format!("input {index} (seed {seed}) fails: {}\n  saved as {}", child.stderr.trim(), crash.display()).into())
}

/// The first input in `from..to` whose run alone fails.
fn bisect(binary: &Path, target: &str, seed: u64, mut from: u64, mut to: u64, corpus: &Path) -> Result<u64> {
    while to - from > 1 {
        let middle = from + (to - from) / 2;
        if run_range(binary, target, seed, from, middle - from, corpus)?.success {
            from = middle;
        } else {
            to = middle;
        }
    }
    Ok(from)
}
