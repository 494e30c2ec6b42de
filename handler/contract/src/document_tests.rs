//! Tests of the drain document: its JSON, its parameter validation, and the scripts run under `sh` against a
//! stand-in `nomad` executable.

use super::*;
use crate::budget::derive;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn budget() -> DrainBudget {
    derive(3600, None).unwrap()
}

fn parsed(preset: &DrainPreset) -> serde_json::Value {
    serde_json::from_str(&render(preset, &budget())).expect("the document is valid JSON")
}

#[test]
fn document_is_schema_2_2_run_shell_script_with_the_budget_as_execution_timeout() {
    for preset in [DrainPreset::Nomad, DrainPreset::Command("systemctl stop worker".into())] {
        let document = parsed(&preset);
        assert_eq!(document["schemaVersion"], "2.2");
        let step = &document["mainSteps"][0];
        assert_eq!(step["action"], "aws:runShellScript");
        assert_eq!(step["inputs"]["timeoutSeconds"], 3600);
        let lines = step["inputs"]["runCommand"].as_array().unwrap();
        assert!(lines.iter().any(|l| l.as_str().unwrap().contains("{{ deadlineSeconds }}")));
        assert_eq!(document["parameters"][DEADLINE_PARAMETER]["default"], "3300");
        assert_eq!(document["parameters"][GRACE_PARAMETER]["default"], "150");
    }
}

#[test]
fn every_placeholder_in_the_script_is_a_declared_parameter() {
    let placeholder = regex::Regex::new(r"\{\{\s*([^}]*?)\s*\}\}").unwrap();
    for preset in [DrainPreset::Nomad, DrainPreset::Command("echo done".into())] {
        let document = parsed(&preset);
        let text = script(&preset);
        for capture in placeholder.captures_iter(&text) {
            let name = &capture[1];
            assert!(document["parameters"].get(name).is_some(), "{{{{ {name} }}}} is not a declared parameter");
        }
    }
}

#[test]
fn parameter_patterns_reject_shell_injection_and_accept_the_defaults() {
    let document = parsed(&DrainPreset::Nomad);
    for (name, values) in default_parameters(&budget()) {
        let pattern = document["parameters"][&name]["allowedPattern"].as_str().expect("every parameter has a pattern");
        let pattern = regex::Regex::new(pattern).unwrap();
        assert!(pattern.is_match(&values[0]), "{name} default {:?} must match {pattern}", values[0]);
        for hostile in ["60; rm -rf /", "$(reboot)", "`id`", "60' ; id '", "60\nid", "", "-1", "1234567"] {
            assert!(!pattern.is_match(hostile), "{name} accepted {hostile:?}");
        }
    }
}

#[test]
fn the_user_command_is_copied_verbatim_even_when_it_contains_the_heredoc_delimiter() {
    let user = "echo 'it is $HOME'\nGRACEFUL_DRAIN_USER_SCRIPT\nexit 0";
    let text = script(&DrainPreset::Command(user.into()));
    assert!(text.contains("<<'GRACEFUL_DRAIN_USER_SCRIPT_'\n"), "{text}");
    assert!(text.contains(user));
}

/// A temp dir holding a stand-in `nomad` whose behaviour the test picks, and the substituted drain script.
struct Sandbox {
    dir: tempfile::TempDir,
}

const FAKE_NOMAD: &str = r#"#!/bin/sh
# Stand-in nomad: records its arguments, behaves as FAKE_NOMAD_MODE says.
printf '%s\n' "$*" >> "$FAKE_NOMAD_LOG"
case "$1 $2" in
  "node eligibility") echo "Node \"node-1\" scheduling eligibility set: ineligible for scheduling"; exit 0 ;;
  "node drain")
    case "$*" in *-monitor*) echo "All allocations on node \"node-1\" have stopped"; exit 0 ;; esac
    case "$FAKE_NOMAD_MODE" in
      drain_error) echo "Error updating drain specification: Unexpected response code: 500" >&2; exit 1 ;;
      deadline) exec sleep 30 ;;
      *) echo "All allocations on node \"node-1\" have stopped"; exit 0 ;;
    esac ;;
  "node status")
    case "$*" in
      *.Drain*) [ "$FAKE_NOMAD_MODE" = already_draining ] && echo true || echo false ;;
      *) printf 'node-1-uuid\n' ;;
    esac
    exit 0 ;;
  "operator api")
    case "$FAKE_NOMAD_MODE" in
      remain|deadline) printf '[{"ID":"a1","Name":"ci.build[0]","JobType":"batch","ClientStatus":"running"}]\n' ;;
      *) printf '[]\n' ;;
    esac
    exit 0 ;;
esac
echo "stand-in nomad: unexpected arguments: $*" >&2
exit 99
"#;

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let nomad = dir.path().join("nomad");
        std::fs::write(&nomad, FAKE_NOMAD).unwrap();
        std::fs::set_permissions(&nomad, std::fs::Permissions::from_mode(0o755)).unwrap();
        Sandbox { dir }
    }

    /// Substitutes parameters the way SSM does, then runs the script under `sh` with the stand-in first on PATH.
    fn run(&self, preset: &DrainPreset, mode: &str, parameters: &[(&str, &str)]) -> (Output, Duration) {
        self.run_with("sh", preset, mode, parameters)
    }

    fn run_with(
        &self,
        shell: &str,
        preset: &DrainPreset,
        mode: &str,
        parameters: &[(&str, &str)],
    ) -> (Output, Duration) {
        let mut text = script(preset);
        for (name, value) in parameters {
            text = text.replace(&format!("{{{{ {name} }}}}"), value);
        }
        let script_path = self.dir.path().join("_script.sh");
        std::fs::write(&script_path, text).unwrap();
        let path = format!("{}:{}", self.dir.path().display(), std::env::var("PATH").unwrap_or_default());
        let started = Instant::now();
        let output = Command::new(shell)
            .arg(&script_path)
            .env("PATH", path)
            .env("FAKE_NOMAD_MODE", mode)
            .env("FAKE_NOMAD_LOG", self.log_path())
            .output()
            .expect("sh runs");
        (output, started.elapsed())
    }

    fn log_path(&self) -> std::path::PathBuf {
        self.dir.path().join("nomad.log")
    }

    fn nomad_calls(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

const QUICK: &[(&str, &str)] = &[("deadlineSeconds", "5"), ("graceSeconds", "5")];

#[test]
fn nomad_drain_that_succeeds_exits_0_after_verifying_the_node_is_empty() {
    for shell in ["sh", "bash"] {
        nomad_drain_succeeds_under(shell);
    }
}

fn nomad_drain_succeeds_under(shell: &str) {
    let sandbox = Sandbox::new();
    let (output, _) = sandbox.run_with(shell, &DrainPreset::Nomad, "success", QUICK);
    assert!(output.status.success(), "{}", stdout(&output));
    let calls = sandbox.nomad_calls();
    let lines: Vec<&str> = calls.lines().collect();
    assert_eq!(lines[0], "node eligibility -disable -self", "eligibility is disabled first: {calls}");
    assert_eq!(lines[1], "node status -self -t {{ .Drain }}", "{calls}");
    assert_eq!(lines[2], "node drain -enable -self -yes -deadline 5s");
    assert!(lines[4].contains("NodeID == \"node-1-uuid\"") && lines[4].contains("JobType != \"system\""), "{calls}");
    assert!(stdout(&output).contains("drained: no non-system allocation is running on node node-1-uuid"));
}

/// A duplicate drain command must not restart the running drain's deadline: it follows the drain, then verifies.
#[test]
fn nomad_drain_already_running_is_followed_not_enabled_again() {
    let sandbox = Sandbox::new();
    let (output, _) = sandbox.run(&DrainPreset::Nomad, "already_draining", QUICK);
    assert!(output.status.success(), "{}", stdout(&output));
    let calls = sandbox.nomad_calls();
    assert!(!calls.contains("-enable"), "the drain is not enabled again: {calls}");
    assert!(calls.lines().any(|line| line == "node drain -self -monitor"), "{calls}");
    assert!(calls.contains("operator api"), "the node is still verified empty: {calls}");
    assert!(stdout(&output).contains("a drain is already running on this node: following it"));
}

#[test]
fn nomad_drain_with_allocations_remaining_exits_non_zero_naming_them() {
    let sandbox = Sandbox::new();
    let (output, _) = sandbox.run(&DrainPreset::Nomad, "remain", QUICK);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stdout(&output).contains("NOT DRAINED: allocations still running on node node-1-uuid: ci.build[0]"));
}

#[test]
fn nomad_drain_error_exits_non_zero_even_when_the_node_looks_empty() {
    let sandbox = Sandbox::new();
    let (output, _) = sandbox.run(&DrainPreset::Nomad, "drain_error", QUICK);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(text.contains("nomad node drain exited with status 1"), "{text}");
    assert!(text.contains("NOT DRAINED: the drain did not finish (status 1)"), "{text}");
}

#[test]
fn nomad_drain_that_outlives_its_deadline_is_stopped_and_reported() {
    let sandbox = Sandbox::new();
    let (output, elapsed) =
        sandbox.run(&DrainPreset::Nomad, "deadline", &[("deadlineSeconds", "1"), ("graceSeconds", "1")]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(elapsed < Duration::from_secs(10), "stopped after deadline + grace, took {elapsed:?}");
    let text = stdout(&output);
    assert!(text.contains("had not returned 1s after its 1s deadline"), "{text}");
    assert!(text.contains("NOT DRAINED: allocations still running"), "{text}");
}

#[test]
fn nomad_missing_from_path_fails_clearly() {
    let sandbox = Sandbox::new();
    std::fs::remove_file(sandbox.path().join("nomad")).unwrap();
    let text = script(&DrainPreset::Nomad).replace("{{ deadlineSeconds }}", "5").replace("{{ graceSeconds }}", "5");
    let output = Command::new("sh").arg("-c").arg(text).env("PATH", "/usr/bin:/bin").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("nomad is not on PATH"));
}

#[test]
fn command_preset_passes_the_exit_status_and_the_deadline_through() {
    let sandbox = Sandbox::new();
    let marker = sandbox.path().join("ran");
    let ok = format!("echo \"deadline=${COMMAND_DEADLINE_ENV}\" > '{}'\nexit 0", marker.display());
    let (output, _) = sandbox.run(&DrainPreset::Command(ok), "success", QUICK);
    assert!(output.status.success(), "{}", stdout(&output));
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "deadline=5\n");

    let (output, _) = sandbox.run(&DrainPreset::Command("echo busy; exit 3".into()), "success", QUICK);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("NOT DRAINED: the drain command exited with status 3"));

    let bash_script = "#!/bin/sh\nset -e\nfalse\n";
    let (output, _) = sandbox.run(&DrainPreset::Command(bash_script.into()), "success", QUICK);
    assert!(stdout(&output).contains("exited with status 1"), "{}", stdout(&output));

    let slow = "exec sleep 30";
    let (output, elapsed) =
        sandbox.run(&DrainPreset::Command(slow.into()), "success", &[("deadlineSeconds", "1"), ("graceSeconds", "1")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert!(stdout(&output).contains("had not finished 1s after its 1s deadline"));
}
