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
    for preset in [DrainPreset::nomad(), DrainPreset::Command("systemctl stop worker".into())] {
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

/// The platforms SSM reports (DescribeInstanceInformation `PlatformType`) and, per the amazon-ssm-agent source cited
/// at `not_drained_step`, the schema 2.2 plugins that agent has a handler for.
const AGENT_PLUGINS: [(&str, &[&str]); 3] = [
    ("Linux", &["aws:runShellScript", "aws:runPowerShellScript"]),
    ("Windows", &["aws:runPowerShellScript"]),
    ("MacOS", &["aws:runShellScript", "aws:runPowerShellScript"]),
];

#[test]
fn every_platform_but_linux_runs_a_step_that_fails_the_command_and_linux_runs_only_the_drain() {
    for preset in [DrainPreset::nomad(), DrainPreset::Command("echo done".into())] {
        let document = parsed(&preset);
        let steps = document["mainSteps"].as_array().unwrap();
        let names: Vec<_> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(names.len(), names.iter().collect::<std::collections::BTreeSet<_>>().len(), "unique step names");
        assert_eq!(steps[0]["name"], DRAIN_STEP, "the drain runs first, so its status is the command's on Linux");
        for (platform, plugins) in AGENT_PLUGINS {
            // The steps this platform's agent executes: precondition met and a handler for the plugin. Every other
            // step is Skipped, which the agent counts as success.
            let runs: Vec<_> = steps
                .iter()
                .filter(|s| s["precondition"]["StringEquals"] == json!(["platformType", platform]))
                .filter(|s| plugins.contains(&s["action"].as_str().unwrap()))
                .collect();
            assert_eq!(runs.len(), 1, "{platform} must execute exactly one step");
            if platform == "Linux" {
                assert_eq!(runs[0]["name"], DRAIN_STEP);
                assert_eq!(runs[0]["inputs"]["runCommand"], json!(script(&preset).lines().collect::<Vec<_>>()));
                continue;
            }
            let lines = runs[0]["inputs"]["runCommand"].as_array().unwrap();
            assert_eq!(lines.last().unwrap(), "exit 1", "{platform}'s step fails the command");
            let said = format!(
                "{LOG_PREFIX} NOT DRAINED: this document drains Linux instances only; this instance is {platform}"
            );
            assert!(lines[0].as_str().unwrap().contains(&said), "{platform}: {lines:?}");
            if runs[0]["action"] == "aws:runShellScript" {
                let output = Command::new("sh")
                    .arg("-c")
                    .arg(lines.iter().map(|l| l.as_str().unwrap()).collect::<Vec<_>>().join("\n"))
                    .output()
                    .unwrap();
                assert_eq!(output.status.code(), Some(1));
                assert_eq!(String::from_utf8_lossy(&output.stdout), format!("{said}\n"));
            }
        }
    }
}

#[test]
fn every_placeholder_in_the_script_is_a_declared_parameter() {
    let placeholder = regex::Regex::new(r"\{\{\s*([^}]*?)\s*\}\}").unwrap();
    for preset in [DrainPreset::nomad(), DrainPreset::Command("echo done".into())] {
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
    let document = parsed(&DrainPreset::nomad());
    for (name, values) in default_parameters(&DrainPreset::nomad(), &budget()) {
        let pattern = document["parameters"][&name]["allowedPattern"].as_str().expect("every parameter has a pattern");
        let pattern = regex::Regex::new(pattern).unwrap();
        assert!(pattern.is_match(&values[0]), "{name} default {:?} must match {pattern}", values[0]);
        assert_eq!(document["parameters"][&name]["default"], values[0], "the default is what SendCommand passes");
        for hostile in ["60; rm -rf /", "$(reboot)", "`id`", "60' ; id '", "60\nid", "a b", "{{ x }}"] {
            assert!(!pattern.is_match(hostile), "{name} accepted {hostile:?}");
        }
        if name == DEADLINE_PARAMETER || name == GRACE_PARAMETER {
            for hostile in ["", "-1", "1234567"] {
                assert!(!pattern.is_match(hostile), "{name} accepted {hostile:?}");
            }
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
# Fake nomad for the script's unit tests (the faithful stand-in is the emulator's): records its arguments, and answers
# as FAKE_NOMAD_MODE says. Node state ("draining" / "complete" / "canceled") lives in a file beside it.
printf '%s\n' "$*" >> "$FAKE_NOMAD_LOG"
state_file="$FAKE_NOMAD_LOG.state"
[ -r "$state_file" ] || echo none > "$state_file"
polls_file="$FAKE_NOMAD_LOG.polls"
case "$1 $2" in
  "node eligibility") echo "Node \"node-1-uuid\" scheduling eligibility set: ineligible for scheduling"; exit 0 ;;
  "node drain")
    case "$*" in
      *-enable*-detach*)
        case "$FAKE_NOMAD_MODE" in
          drain_error) echo "Error updating drain specification: Unexpected response code: 500" >&2; exit 1 ;;
        esac
        echo draining > "$state_file"; echo "Node \"node-1-uuid\" drain strategy set"; exit 0 ;;
      *-enable*)
        # Without -detach: the real command monitors and exits 0 whatever the drain did.
        echo draining > "$state_file"; echo "Error monitoring node: Unexpected response code: 500" >&2; exit 0 ;;
    esac ;;
  "node status")
    case "$*" in
      *.DrainStrategy*)
        state=$(cat "$state_file")
        [ "$FAKE_NOMAD_MODE" = already_draining ] && [ "$state" = none ] && state=draining
        if [ "$state" = draining ]; then
          polls=$(($(cat "$polls_file" 2>/dev/null || echo 0) + 1)); echo "$polls" > "$polls_file"
          case "$FAKE_NOMAD_MODE" in
            canceled) state=canceled ;;
            never_completes) ;;
            read_error) [ "$polls" -ge 3 ] && state=complete
                        [ "$polls" -eq 2 ] && { echo "Error querying node info: Unexpected response code: 500 (No cluster leader)" >&2; exit 1; } ;;
            *) [ "$polls" -ge 2 ] && state=complete ;;
          esac
          echo "$state" > "$state_file"
        fi
        [ "$state" = none ] && state=
        echo "$state" ;;
      *.Drain*) echo false ;;
      *) printf 'node-1-uuid\n' ;;
    esac
    exit 0 ;;
  "operator api")
    # POSTs its stdin unless stdin is a terminal or -X is given; /v1/allocations answers 405 to anything but GET.
    case "$*" in *"-X GET"*) ;; *) [ -c /dev/stdin ] || { printf 'Invalid method'; exit 0; } ;; esac
    # The agent's gauges (go-metrics MetricsSummary): "unseen" has a build the token cannot list, "system_running"
    # a system allocation it lists.
    case "$*" in *"/v1/metrics"*)
      running=0
      case "$FAKE_NOMAD_MODE" in unseen | system_running) running=1 ;; no_metrics) printf '{"Gauges":[]}'; exit 0 ;; esac
      printf '{"Timestamp":"2026-12-02 03:00:00 +0000 UTC","Gauges":[{"Name":"nomad.client.allocations.blocked","Value":0,"Labels":{"host":"i-1","node_id":"node-1-uuid"}},{"Name":"nomad.client.allocations.running","Value":%s,"Labels":{"host":"i-1","node_id":"node-1-uuid"}},{"Name":"nomad.client.allocations.terminal","Value":4,"Labels":{"host":"i-1"}}],"Points":[],"Counters":[],"Samples":[]}' "$running"
      exit 0 ;;
    esac
    case "$*" in *"-namespace *"*) ;; *) printf '[]'; exit 0 ;; esac
    case "$*" in *'Job.Type == "system"'*)
      [ "$FAKE_NOMAD_MODE" = system_running ] && printf '[{"ID":"s1","EvalID":"e1","Name":"logs.ship[0]","ClientStatus":"running"}]' || printf '[]'
      exit 0 ;;
    esac
    case "$FAKE_NOMAD_MODE" in
      remain) printf '[{"ID":"a1","Name":"ci.build[0]","Namespace":"ci","ClientStatus":"running"}]' ;;
      forbidden) printf 'Permission denied' ;;
      system_running)
        case "$*" in *JobType*) printf 'failed to read result page: error finding value in datum: /JobType at part 0: couldn'"'"'t find key: struct field with name "JobType"' ;;
                     *) printf '[]' ;; esac ;;
      *) printf '[]' ;;
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
        let text = substituted(preset, parameters);
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

/// The script as SSM runs it: `parameters` where given, the document's defaults elsewhere.
fn substituted(preset: &DrainPreset, parameters: &[(&str, &str)]) -> String {
    let mut values = default_parameters(preset, &budget());
    for (name, value) in parameters {
        values.insert(name.to_string(), vec![value.to_string()]);
    }
    let mut text = script(preset);
    for (name, value) in values {
        text = text.replace(&format!("{{{{ {name} }}}}"), &value[0]);
    }
    text
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
    let (output, _) = sandbox.run_with(shell, &DrainPreset::nomad(), "success", QUICK);
    assert!(output.status.success(), "{}", stdout(&output));
    let calls = sandbox.nomad_calls();
    let lines: Vec<&str> = calls.lines().collect();
    assert_eq!(lines[0], "node eligibility -disable -self", "eligibility is disabled first: {calls}");
    assert_eq!(lines[1], "node status -self -t {{ .ID }}", "{calls}");
    assert!(lines[2].starts_with("node status -self -t {{ if .DrainStrategy }}draining"), "{calls}");
    assert_eq!(lines[3], "node drain -enable -self -yes -detach -deadline 5s", "{calls}");
    let listing = lines.iter().find(|l| l.starts_with("operator api")).expect("the allocations are listed");
    assert!(listing.starts_with("operator api -X GET -namespace * -filter "), "{listing}");
    assert!(listing.contains("NodeID == \"node-1-uuid\"") && listing.contains("Job.Type != \"system\""), "{listing}");
    assert!(stdout(&output).contains("drained: no non-system allocation is pending or running on node node-1-uuid"));
}

/// A duplicate drain command must not restart the running drain's deadline: it follows the drain, then verifies.
#[test]
fn nomad_drain_already_running_is_followed_not_enabled_again() {
    let sandbox = Sandbox::new();
    let (output, _) = sandbox.run(&DrainPreset::nomad(), "already_draining", QUICK);
    assert!(output.status.success(), "{}", stdout(&output));
    let calls = sandbox.nomad_calls();
    assert!(!calls.contains("-enable"), "the drain is not enabled again: {calls}");
    assert!(calls.contains("operator api"), "the node is still verified empty: {calls}");
    assert!(stdout(&output).contains("a drain is already running on node node-1-uuid: following it"));
}

#[test]
fn nomad_drain_with_allocations_remaining_exits_non_zero_naming_them() {
    let sandbox = Sandbox::new();
    let (output, _) = sandbox.run(&DrainPreset::nomad(), "remain", &[("deadlineSeconds", "1"), ("graceSeconds", "1")]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stdout(&output).contains("NOT DRAINED: allocations still running on node node-1-uuid: ci.build[0]"));
}

#[test]
fn nomad_drain_that_cannot_be_set_exits_non_zero() {
    let sandbox = Sandbox::new();
    let (output, _) = sandbox.run(&DrainPreset::nomad(), "drain_error", QUICK);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stdout(&output).contains("NOT DRAINED: enabling the drain failed"), "{}", stdout(&output));
}

/// `nomad node drain` exits 0 once the drain is set: only the node's `LastDrain` says it completed.
#[test]
fn nomad_drain_that_never_completes_is_not_drained_even_though_nomad_exited_0() {
    let sandbox = Sandbox::new();
    let (output, elapsed) =
        sandbox.run(&DrainPreset::nomad(), "never_completes", &[("deadlineSeconds", "1"), ("graceSeconds", "1")]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(elapsed < Duration::from_secs(10), "gave up after deadline + grace, took {elapsed:?}");
    let text = stdout(&output);
    assert!(text.contains("had not completed 1s after its 1s deadline (last state: draining)"), "{text}");
}

/// A drain an operator cancels ends at once as NOT DRAINED (Nomad's own monitor would hang).
#[test]
fn nomad_drain_cancelled_by_an_operator_ends_promptly_as_not_drained() {
    let sandbox = Sandbox::new();
    let (output, elapsed) =
        sandbox.run(&DrainPreset::nomad(), "canceled", &[("deadlineSeconds", "30"), ("graceSeconds", "40")]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(
        stdout(&output).contains("NOT DRAINED: the drain of node node-1-uuid was cancelled"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn nomad_drain_state_read_that_fails_once_is_retried() {
    let sandbox = Sandbox::new();
    let (output, _) = sandbox.run(&DrainPreset::nomad(), "read_error", QUICK);
    assert!(output.status.success(), "{}", stdout(&output));
}

/// A system allocation still running is excluded by `Job.Type` (a `JobType` filter answers HTTP 400).
#[test]
fn nomad_drain_leaves_system_allocations_out_of_the_check() {
    let sandbox = Sandbox::new();
    let (output, _) = sandbox.run(&DrainPreset::nomad(), "system_running", QUICK);
    assert!(output.status.success(), "{}", stdout(&output));
}

/// `nomad operator api` exits 0 for any HTTP status: a text body is a failed listing, not "allocations remain".
#[test]
fn nomad_listing_that_answers_an_error_body_fails_saying_so() {
    let sandbox = Sandbox::new();
    let (output, _) = sandbox.run(&DrainPreset::nomad(), "forbidden", QUICK);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        text.contains("NOT DRAINED: listing the allocations of node node-1-uuid failed: Permission denied"),
        "{text}"
    );
}

/// With stdin not a terminal `nomad operator api` would POST it: the script's stdin must not change its request.
#[test]
fn nomad_listing_is_a_get_whatever_the_script_stdin_is() {
    let sandbox = Sandbox::new();
    let text = substituted(&DrainPreset::nomad(), QUICK);
    let path = format!("{}:{}", sandbox.path().display(), std::env::var("PATH").unwrap_or_default());
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(text)
        .env("PATH", path)
        .env("FAKE_NOMAD_MODE", "success")
        .env("FAKE_NOMAD_LOG", sandbox.log_path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stdout(&output));
}

/// Nomad needs up to `max_kill_timeout` (30 s) plus the drainer's 5 s deadline window to stop what the deadline
/// forced off: every budget leaves that, and the verification, after the deadline.
#[test]
fn every_budget_leaves_the_forced_stop_window_after_the_deadline() {
    for timeout in [60, 61, 90, 120, 300, 549, 600, 3600, 5400, 86400] {
        let budget = derive(timeout, None).unwrap();
        let grace = grace_seconds(&budget);
        assert!(grace >= 40, "{timeout} s budget: grace {grace} s");
        assert!(budget.nomad_deadline_seconds > 0, "{timeout} s budget: no deadline left");
        assert!(
            budget.nomad_deadline_seconds + grace + crate::budget::VERIFY_SECONDS <= timeout,
            "{timeout} s budget: deadline {} s + grace {grace} s leaves no time to verify",
            budget.nomad_deadline_seconds
        );
    }
}

#[test]
fn nomad_missing_from_path_fails_clearly() {
    let sandbox = Sandbox::new();
    std::fs::remove_file(sandbox.path().join("nomad")).unwrap();
    let text = substituted(&DrainPreset::nomad(), QUICK);
    let output = Command::new("sh").arg("-c").arg(text).env("PATH", "/usr/bin:/bin").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("nomad is not on PATH"));
}

/// The watchdog stops what the drain command started too: a background child must not outlive the deadline, holding
/// the instance (and SSM's output pipe) until it ends by itself.
#[test]
fn command_preset_watchdog_stops_the_commands_children() {
    for shell in ["sh", "bash"] {
        let sandbox = Sandbox::new();
        let pid_file = sandbox.path().join("child.pid");
        let script = format!("sleep 60 &\necho $! > '{}'\nwait\n", pid_file.display());
        let (output, elapsed) = sandbox.run_with(
            shell,
            &DrainPreset::Command(script),
            "success",
            &[("deadlineSeconds", "1"), ("graceSeconds", "1")],
        );
        assert_eq!(output.status.code(), Some(1), "{shell}: {}", stdout(&output));
        assert!(elapsed < Duration::from_secs(15), "{shell}: the child held the run for {elapsed:?}");
        let child = std::fs::read_to_string(&pid_file).unwrap().trim().to_string();
        // Gone, or a zombie waiting to be reaped by whoever adopted it: either way no longer running.
        let running = || {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .is_ok_and(|stat| stat.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
        };
        let deadline = Instant::now() + Duration::from_secs(3);
        while running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!running(), "{shell}: the command's child {child} outlived the watchdog");
    }
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

    // Read, not executed: the file needs no execute permission (nor an exec-mounted /tmp).
    let reports_mode = "#!/bin/sh\nstat -c %a \"$0\"\n";
    let (output, _) = sandbox.run(&DrainPreset::Command(reports_mode.into()), "success", QUICK);
    assert!(output.status.success(), "{}", stdout(&output));
    assert!(stdout(&output).lines().any(|line| line == "600"), "{}", stdout(&output));

    let slow = "exec sleep 30";
    let (output, elapsed) =
        sandbox.run(&DrainPreset::Command(slow.into()), "success", &[("deadlineSeconds", "1"), ("graceSeconds", "1")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert!(stdout(&output).contains("had not finished 1s after its 1s deadline"));
}

fn connection(settings: crate::nomad_settings::NomadSettingsInput) -> DrainPreset {
    DrainPreset::Nomad(settings.parse().expect("valid settings"))
}

fn tls_settings(token_file: &Path) -> crate::nomad_settings::NomadSettingsInput {
    crate::nomad_settings::NomadSettingsInput {
        address: Some("https://127.0.0.1:4646".into()),
        ca_file: Some("/etc/nomad.d/tls/ca.pem".into()),
        client_cert_file: Some("/etc/nomad.d/tls/cli.pem".into()),
        client_key_file: Some("/etc/nomad.d/tls/cli-key.pem".into()),
        tls_server_name: Some("client.global.nomad".into()),
        token_file: Some(token_file.display().to_string()),
        ..Default::default()
    }
}

/// The connection travels as parameters (paths and names, never a token), and the script stays the same text.
#[test]
fn connection_settings_are_document_parameters_not_script_text() {
    let preset = connection(tls_settings(Path::new("/etc/nomad.d/drain.token")));
    let document: serde_json::Value = serde_json::from_str(&render(&preset, &budget())).unwrap();
    let parameters = &document["parameters"];
    assert_eq!(parameters["nomadAddress"]["default"], "https://127.0.0.1:4646");
    assert_eq!(parameters["nomadCaFile"]["default"], "/etc/nomad.d/tls/ca.pem");
    assert_eq!(parameters["nomadTokenFile"]["default"], "/etc/nomad.d/drain.token");
    assert_eq!(parameters["nomadTokenParameter"]["default"], "");
    assert_eq!(script(&preset), script(&DrainPreset::nomad()));
    let sent = default_parameters(&preset, &budget());
    assert_eq!(sent["nomadClientKeyFile"], vec!["/etc/nomad.d/tls/cli-key.pem".to_string()]);
    assert_eq!(sent.len(), 9, "{sent:?}");
    // The command preset has no Nomad to reach.
    let command = default_parameters(&DrainPreset::Command("true".into()), &budget());
    assert_eq!(command.keys().collect::<Vec<_>>(), [DEADLINE_PARAMETER, GRACE_PARAMETER]);
    let document: serde_json::Value =
        serde_json::from_str(&render(&DrainPreset::Command("true".into()), &budget())).unwrap();
    assert!(document["parameters"].get("nomadAddress").is_none());
}

/// Every `nomad` call sees the address, TLS files, server name and the token read from its file.
#[test]
fn nomad_calls_run_with_the_connection_environment_and_the_token_from_its_file() {
    let sandbox = Sandbox::new();
    let token = sandbox.path().join("drain.token");
    std::fs::write(&token, "s3cr3t-token\n").unwrap();
    let seen = sandbox.path().join("env.log");
    let wrapper = format!(
        "#!/bin/sh\nprintf '%s|%s|%s|%s|%s|%s\\n' \"$NOMAD_ADDR\" \"${{NOMAD_CACERT-}}\" \"${{NOMAD_CLIENT_CERT-}}\" \"${{NOMAD_CLIENT_KEY-}}\" \"${{NOMAD_TLS_SERVER_NAME-}}\" \"${{NOMAD_TOKEN-}}\" >> '{}'\nexec '{}' \"$@\"\n",
        seen.display(),
        sandbox.path().join("real-nomad").display()
    );
    std::fs::rename(sandbox.path().join("nomad"), sandbox.path().join("real-nomad")).unwrap();
    std::fs::write(sandbox.path().join("nomad"), wrapper).unwrap();
    std::fs::set_permissions(sandbox.path().join("nomad"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (output, _) = sandbox.run(&connection(tls_settings(&token)), "success", QUICK);
    assert!(output.status.success(), "{}", stdout(&output));
    let expected = "https://127.0.0.1:4646|/etc/nomad.d/tls/ca.pem|/etc/nomad.d/tls/cli.pem|/etc/nomad.d/tls/cli-key.pem|client.global.nomad|s3cr3t-token";
    let calls = std::fs::read_to_string(&seen).unwrap();
    assert!(calls.lines().count() >= 4, "{calls}");
    assert!(calls.lines().all(|line| line == expected), "every call must see the connection:\n{calls}");
    assert!(!stdout(&output).contains("s3cr3t-token"), "the token is never printed");
}

#[test]
fn a_token_file_that_cannot_be_read_is_not_drained_before_any_nomad_call() {
    let sandbox = Sandbox::new();
    let missing = sandbox.path().join("missing.token");
    let (output, _) = sandbox.run(&connection(tls_settings(&missing)), "success", QUICK);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let expected = format!("NOT DRAINED: the Nomad token file {} is missing or not readable", missing.display());
    assert!(stdout(&output).contains(&expected), "{}", stdout(&output));
    assert_eq!(sandbox.nomad_calls(), "", "no nomad call without the token");

    let empty = sandbox.path().join("empty.token");
    std::fs::write(&empty, "").unwrap();
    let (output, _) = sandbox.run(&connection(tls_settings(&empty)), "success", QUICK);
    assert!(stdout(&output).contains("is empty"), "{}", stdout(&output));
}

/// The token parameter is read on the instance with the instance's credentials, decrypted; a failed read is a
/// failed drain naming the parameter and what the instance profile needs.
#[test]
fn a_token_parameter_is_read_with_decryption_on_the_instance() {
    let sandbox = Sandbox::new();
    let aws_log = sandbox.path().join("aws.log");
    let fake_aws = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\n[ \"$FAKE_AWS\" = ok ] || {{ echo 'An error occurred (AccessDeniedException) when calling the GetParameter operation' >&2; exit 254; }}\necho param-token\n",
        aws_log.display()
    );
    std::fs::write(sandbox.path().join("aws"), fake_aws).unwrap();
    std::fs::set_permissions(sandbox.path().join("aws"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let preset = connection(crate::nomad_settings::NomadSettingsInput {
        token_parameter: Some("/nomad/drain-token".into()),
        ..Default::default()
    });
    let text = substituted(&preset, QUICK);
    let path = format!("{}:{}", sandbox.path().display(), std::env::var("PATH").unwrap_or_default());
    let run = |aws_mode: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(&text)
            .env("PATH", &path)
            .env("FAKE_AWS", aws_mode)
            .env("FAKE_NOMAD_MODE", "success")
            .env("FAKE_NOMAD_LOG", sandbox.log_path())
            .output()
            .unwrap()
    };
    let output = run("ok");
    assert!(output.status.success(), "{}", stdout(&output));
    let calls = std::fs::read_to_string(&aws_log).unwrap();
    assert_eq!(
        calls.lines().next(),
        Some("ssm get-parameter --with-decryption --name /nomad/drain-token --query Parameter.Value --output text")
    );
    let output = run("denied");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("NOT DRAINED: reading the Nomad token from SSM parameter /nomad/drain-token failed"),
        "{}",
        stdout(&output)
    );
}

/// A build in a namespace the token may not read-job in is not listed (`-namespace '*'` skips it); the agent's own
/// gauges still count it, so the node is never reported drained.
#[test]
fn allocations_the_token_cannot_list_are_never_reported_drained() {
    let sandbox = Sandbox::new();
    let (output, elapsed) =
        sandbox.run(&DrainPreset::nomad(), "unseen", &[("deadlineSeconds", "1"), ("graceSeconds", "2")]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    let text = stdout(&output);
    assert!(text.contains("NOT DRAINED: node node-1-uuid may still run allocations the check cannot see: the agent counts 1 pending or running allocation(s), the token lists 0"), "{text}");
    assert!(!text.contains("drained: no non-system"), "{text}");
    assert!(sandbox.nomad_calls().contains("operator api -X GET /v1/metrics"), "{}", sandbox.nomad_calls());

    let (output, _) =
        sandbox.run(&DrainPreset::nomad(), "no_metrics", &[("deadlineSeconds", "1"), ("graceSeconds", "1")]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stdout(&output).contains("do not show its allocation counts"), "{}", stdout(&output));
}

/// The emulator's tests run this document (tests/emulator/tests/test_ssm_platforms.py) on each platform. Regenerate
/// the file with `GRACEFUL_WRITE_FIXTURES=1 cargo test -p drain-contract document_fixture`.
#[test]
fn document_fixture_for_the_emulator_is_the_rendered_document() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/emulator/tests/fixtures/drain-document-command.json");
    let rendered = render(&DrainPreset::Command("echo drained".into()), &budget()) + "\n";
    if std::env::var_os("GRACEFUL_WRITE_FIXTURES").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&path).expect("the fixture exists"), rendered, "regenerate {}", path.display());
}
