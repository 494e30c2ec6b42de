//! The SSM drain document (schema 2.2, `aws:runShellScript`): its JSON, its parameters, and the drain scripts.
//!
//! The script is POSIX `sh` (what the SSM agent runs `runCommand` with), quotes every expansion, and honours one
//! contract for both presets: exit 0 means "safe to terminate", anything else means the drain did not finish.

use crate::budget::DrainBudget;
use serde_json::json;
use std::collections::BTreeMap;

/// How the instance is drained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DrainPreset {
    /// Nomad client: disable eligibility, drain with a deadline, verify no non-system allocation still runs.
    Nomad,
    /// The user's own script (any shell; a `#!` line picks the interpreter, otherwise `sh`).
    Command(String),
}

/// Parameter: seconds the drain may take before it is forced (`nomad node drain -deadline`).
pub const DEADLINE_PARAMETER: &str = "deadlineSeconds";
/// Parameter: seconds after the deadline before a drain that has not returned is stopped and reported.
pub const GRACE_PARAMETER: &str = "graceSeconds";
/// Both parameters are plain decimal numbers: nothing else can reach the shell through them.
pub const SECONDS_PATTERN: &str = "^[0-9]{1,6}$";
/// Environment variable the `command` preset's script receives the deadline in.
pub const COMMAND_DEADLINE_ENV: &str = "GRACEFUL_DRAIN_DEADLINE_SECONDS";
/// Prefix of every line the scripts print, so the drain's own messages stand out in the command output.
pub const LOG_PREFIX: &str = "graceful-drain:";

/// Seconds a drain that has not returned by its deadline is given before it is stopped: half the margin the budget
/// leaves between the deadline and the execution timeout, so verification still runs inside the timeout.
pub fn grace_seconds(budget: &DrainBudget) -> u64 {
    (budget.drain_timeout_seconds.saturating_sub(budget.nomad_deadline_seconds) / 2).max(1)
}

/// The parameter values `SendCommand` passes (also the document's defaults).
pub fn default_parameters(budget: &DrainBudget) -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([
        (DEADLINE_PARAMETER.to_string(), vec![budget.nomad_deadline_seconds.to_string()]),
        (GRACE_PARAMETER.to_string(), vec![grace_seconds(budget).to_string()]),
    ])
}

/// The SSM Command document's content (JSON), as `CreateDocument`/`UpdateDocument` take it.
pub fn render(preset: &DrainPreset, budget: &DrainBudget) -> String {
    let description = match preset {
        DrainPreset::Nomad => "Drains this Nomad client before the instance terminates (graceful_shutdown_asg)",
        DrainPreset::Command(_) => "Runs the drain command before the instance terminates (graceful_shutdown_asg)",
    };
    let document = json!({
        "schemaVersion": "2.2",
        "description": description,
        "parameters": {
            DEADLINE_PARAMETER: {
                "type": "String",
                "description": "Seconds the drain may take before it is forced",
                "default": budget.nomad_deadline_seconds.to_string(),
                "allowedPattern": SECONDS_PATTERN,
            },
            GRACE_PARAMETER: {
                "type": "String",
                "description": "Seconds after the deadline before a drain that has not returned is stopped",
                "default": grace_seconds(budget).to_string(),
                "allowedPattern": SECONDS_PATTERN,
            },
        },
        "mainSteps": [{
            "action": "aws:runShellScript",
            "name": "drain",
            "precondition": { "StringEquals": ["platformType", "Linux"] },
            "inputs": {
                "timeoutSeconds": budget.drain_timeout_seconds,
                "runCommand": script(preset).lines().collect::<Vec<_>>(),
            },
        }],
    });
    serde_json::to_string_pretty(&document).expect("a JSON value serializes")
}

/// The whole drain script for a preset, with `{{ parameter }}` placeholders SSM substitutes.
pub fn script(preset: &DrainPreset) -> String {
    let body = match preset {
        DrainPreset::Nomad => NOMAD_BODY.to_string(),
        DrainPreset::Command(user_script) => command_body(user_script),
    };
    format!("{PRELUDE}{body}")
}

/// Shared by both presets: parameters, messages, and `run_bounded` which stops a step that outlives
/// deadline + grace (a hung drain must not silently eat the execution timeout).
const PRELUDE: &str = r#"set -u
deadline_seconds='{{ deadlineSeconds }}'
grace_seconds='{{ graceSeconds }}'
say() { printf 'graceful-drain: %s\n' "$*"; }
fail() { say "NOT DRAINED: $*"; exit 1; }
run_bounded() {
  "$@" &
  bounded_pid=$!
  ( sleep "$((deadline_seconds + grace_seconds))"; kill "$bounded_pid" ) >/dev/null 2>&1 &
  watchdog_pid=$!
  bounded_status=0
  wait "$bounded_pid" || bounded_status=$?
  kill "$watchdog_pid" >/dev/null 2>&1 || true
  return "$bounded_status"
}
"#;

const NOMAD_BODY: &str = r#"command -v nomad >/dev/null 2>&1 || fail "nomad is not on PATH"
nomad node eligibility -disable -self || fail "disabling scheduling eligibility failed"
# Go-template braces are split so SSM does not read them as a parameter.
template_open='{''{'
# A repeated drain command (a duplicate delivery's, cancelled moments later) follows the running drain: enabling it
# again would restart its deadline.
node_draining=$(nomad node status -self -t "${template_open} .Drain }}") || fail "reading this node's drain state failed"
drain_status=0
if [ "$node_draining" = "true" ]; then
  say "eligibility disabled; a drain is already running on this node: following it"
  run_bounded nomad node drain -self -monitor || drain_status=$?
else
  say "eligibility disabled; draining with a deadline of ${deadline_seconds}s"
  run_bounded nomad node drain -enable -self -yes -deadline "${deadline_seconds}s" || drain_status=$?
fi
if [ "$drain_status" -gt 128 ]; then
  say "the drain had not returned ${grace_seconds}s after its ${deadline_seconds}s deadline; stopped it"
elif [ "$drain_status" -ne 0 ]; then
  say "nomad node drain exited with status ${drain_status}"
fi
# Verify: "ineligible" is not "empty".
node_id=$(nomad node status -self -t "${template_open} .ID }}") || fail "reading this node's ID failed"
[ -n "$node_id" ] || fail "nomad returned an empty node ID"
filter="NodeID == \"${node_id}\" and (ClientStatus == \"running\" or ClientStatus == \"pending\") and JobType != \"system\" and JobType != \"sysbatch\""
remaining=$(nomad operator api -filter "$filter" /v1/allocations) || fail "listing this node's allocations failed"
compact=$(printf '%s' "$remaining" | tr -d ' \t\r\n')
if [ "$compact" != "[]" ]; then
  names=$(printf '%s\n' "$remaining" | tr ',' '\n' | grep '"Name"' | tr -d ' "' | sed 's/^.*Name://' | tr '\n' ' ')
  fail "allocations still running on node ${node_id}: ${names}"
fi
[ "$drain_status" -eq 0 ] || fail "the drain did not finish (status ${drain_status})"
say "drained: no non-system allocation is running on node ${node_id}"
exit 0
"#;

fn command_body(user_script: &str) -> String {
    // A heredoc delimiter that is not a line of the user's script, so the script is copied verbatim.
    let mut delimiter = String::from("GRACEFUL_DRAIN_USER_SCRIPT");
    while user_script.lines().any(|line| line.trim() == delimiter) {
        delimiter.push('_');
    }
    let user_script = user_script.trim_end_matches('\n');
    format!(
        r#"script_file=$(mktemp) || fail "creating a temporary file failed"
trap 'rm -f "$script_file"' EXIT
cat > "$script_file" <<'{delimiter}'
{user_script}
{delimiter}
chmod 0700 "$script_file"
export {COMMAND_DEADLINE_ENV}="$deadline_seconds"
say "running the drain command with a deadline of ${{deadline_seconds}}s"
command_status=0
if [ "$(head -c 2 "$script_file")" = '#!' ]; then
  run_bounded "$script_file" || command_status=$?
else
  run_bounded sh "$script_file" || command_status=$?
fi
if [ "$command_status" -gt 128 ]; then
  fail "the drain command had not finished ${{grace_seconds}}s after its ${{deadline_seconds}}s deadline; stopped it"
fi
[ "$command_status" -eq 0 ] || fail "the drain command exited with status ${{command_status}}"
say "drained: the drain command exited 0"
exit 0
"#
    )
}

#[cfg(test)]
#[path = "document_tests.rs"]
mod tests;
