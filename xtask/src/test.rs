//! `cargo xtask test`: what CI runs, and the README's test command. Sets up the machine, builds the handler zips and
//! the provider once, lints, builds the Rust tests, then runs the suites: the Rust test binaries (unit, protocol,
//! acceptance, `terraform test` on the examples) two at a time beside the emulator's pytest suite and the release
//! check's provider builds, then short fuzz runs and the release check. Each suite prints its runner's own summary;
//! the last line says how long each phase took.

use crate::prepare;
use crate::{Result, cmd, fuzz, release, test_binaries, venv};
use std::time::{Duration, Instant};

/// The release check builds the provider in the dev profile: the provider's release profile for two more targets
/// would add the longest build of the run; `cargo xtask release` itself defaults to `provider-release`, and the
/// packaging, signing and install steps are the same code either way.
const RELEASE_CHECK_PROFILE: &str = "dev";

pub fn run(args: &[String]) -> Result {
    let skip_lint = args.iter().any(|a| a == "--no-lint");
    let mut clock = PhaseClock::start();
    let provider = prepare::workspace_for_tests()?;
    clock.lap("setup, handler zips, workspace build");
    if !skip_lint {
        cmd::run(cmd::cargo().args(["fmt", "--all", "--", "--check"]))?;
        cmd::run(cmd::cargo().args(["clippy", "--workspace", "--all-targets", "--quiet", "--", "-D", "warnings"]))?;
        clock.lap("fmt and clippy");
    }
    let venv_dir = venv::ensure_emulator_venv()?;

    let mut failures = Vec::new();
    let built = test_binaries::build();
    clock.lap("building the tests");
    match built {
        Err(error) => {
            failures.push(format!("Rust tests: {error}"));
            let pytest_log = cmd::target_dir().join("pytest.log");
            if let Err(error) =
                venv::start_pytest(&venv_dir, &pytest_log).and_then(|child| venv::finish_pytest(child, &pytest_log))
            {
                failures.push(format!("emulator tests: {error}"));
            }
        }
        Ok(binaries) => {
            // The release check's provider builds (the run's largest) use what the waiting tests leave of the
            // cores, at the lowest priority; the check itself then finds them built.
            let prebuild_log = cmd::target_dir().join("release-check-build.log");
            let prebuild = cmd::spawn_niced(&release::provider_build(RELEASE_CHECK_PROFILE), &prebuild_log);
            // pytest runs beside the Rust tests: both mostly wait on timers, and neither holds cargo's lock.
            let pytest_log = cmd::target_dir().join("pytest.log");
            let pytest = venv::start_pytest(&venv_dir, &pytest_log);
            let env =
                [("GRACEFUL_PROVIDER_BIN", provider.as_os_str()), ("GRACEFUL_EMULATOR_VENV", venv_dir.as_os_str())];
            if let Err(error) = test_binaries::run(binaries, &env) {
                failures.push(format!("Rust tests: {error}"));
            }
            if let Err(error) = pytest.and_then(|child| venv::finish_pytest(child, &pytest_log)) {
                failures.push(format!("emulator tests: {error}"));
            }
            // A failed prebuild is not a failure by itself: the release check builds again and says why.
            match prebuild.and_then(|mut child| Ok(child.wait()?)) {
                Ok(status) if status.success() => println!("release check provider builds: done beside the tests"),
                Ok(status) => println!("release check provider builds ({status}); log {}", prebuild_log.display()),
                Err(error) => println!("release check provider builds did not start: {error}"),
            }
        }
    }
    clock.lap("Rust tests beside pytest and the release builds");
    // Short fuzz runs of every parser of untrusted input (`cargo xtask fuzz` runs 1,000,000 each by default).
    if let Err(error) = fuzz::run_built(&["--execs".into(), "20000".into()]) {
        failures.push(format!("fuzz: {error}"));
    }
    clock.lap("fuzz");
    // The release layout, signature and Terraform install path.
    if let Err(error) = release::check::run(&["--profile".into(), RELEASE_CHECK_PROFILE.into()]) {
        failures.push(format!("release check: {error}"));
    }
    clock.lap("release check");
    clock.print();
    if failures.is_empty() {
        println!("xtask test: every suite passed");
        Ok(())
    } else {
        Err(failures.join("\n").into())
    }
}

/// Wall time per phase, printed last so a slow CI run says where its minutes went.
struct PhaseClock {
    since: Instant,
    started: Instant,
    laps: Vec<(&'static str, Duration)>,
}

impl PhaseClock {
    fn start() -> Self {
        let now = Instant::now();
        PhaseClock { since: now, started: now, laps: Vec::new() }
    }

    fn lap(&mut self, phase: &'static str) {
        let now = Instant::now();
        self.laps.push((phase, now - self.since));
        self.since = now;
    }

    fn print(&self) {
        let laps: Vec<String> =
            self.laps.iter().map(|(phase, took)| format!("{phase} {:.0} s", took.as_secs_f64())).collect();
        println!("xtask test: {:.0} s in all: {}", self.started.elapsed().as_secs_f64(), laps.join(", "));
    }
}
