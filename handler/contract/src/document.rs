//! The SSM drain document (schema 2.2, `aws:runShellScript`): its JSON, its parameters, and the drain scripts.
//!
//! The script is POSIX `sh` (what the SSM agent runs `runCommand` with), quotes every expansion, and honours one
//! contract for both presets: exit 0 means "safe to terminate", anything else means the drain did not finish.

use crate::budget::{DrainBudget, FORCED_STOP_SECONDS};
use crate::nomad_settings::{self, NomadConnection, SCRIPT_PRELUDE, VALUE_PATTERN};
use serde_json::json;
use std::collections::BTreeMap;

/// How the instance is drained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DrainPreset {
    /// Nomad client: disable eligibility, drain with a deadline, wait for Nomad to complete it, verify no non-system
    /// allocation is pending or running in any namespace. The connection reaches the script as document parameters.
    Nomad(NomadConnection),
    /// The user's own script (any shell; a `#!` line picks the interpreter, otherwise `sh`).
    Command(String),
}

impl DrainPreset {
    /// The nomad preset for a plain local agent (no TLS, no ACL token).
    pub fn nomad() -> Self {
        DrainPreset::Nomad(NomadConnection::default())
    }
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

/// Seconds a drain that has not ended by its deadline is given before it is reported: half the margin the budget
/// leaves between the deadline and the execution timeout, and never less than Nomad's forced-stop window.
pub fn grace_seconds(budget: &DrainBudget) -> u64 {
    (budget.drain_timeout_seconds.saturating_sub(budget.nomad_deadline_seconds) / 2).max(FORCED_STOP_SECONDS)
}

/// The parameter values `SendCommand` passes, which are also the document's defaults: the budget's seconds, and for
/// the nomad preset its connection settings.
pub fn default_parameters(preset: &DrainPreset, budget: &DrainBudget) -> BTreeMap<String, Vec<String>> {
    let mut parameters = BTreeMap::from([
        (DEADLINE_PARAMETER.to_string(), vec![budget.nomad_deadline_seconds.to_string()]),
        (GRACE_PARAMETER.to_string(), vec![grace_seconds(budget).to_string()]),
    ]);
    if let DrainPreset::Nomad(connection) = preset {
        for (name, value) in connection.document_parameters() {
            parameters.insert(name.to_string(), vec![value]);
        }
    }
    parameters
}

/// The document's `parameters` element: each parameter's type, description, default and allowed pattern.
fn declared_parameters(preset: &DrainPreset, budget: &DrainBudget) -> serde_json::Map<String, serde_json::Value> {
    let seconds = [
        (DEADLINE_PARAMETER, "Seconds the drain may take before it is forced"),
        (GRACE_PARAMETER, "Seconds after the deadline before a drain that has not returned is stopped"),
    ];
    let described = seconds.iter().map(|(name, description)| (*name, *description, SECONDS_PATTERN));
    let connection = nomad_settings::PARAMETERS.iter().map(|(name, description)| (*name, *description, VALUE_PATTERN));
    let defaults = default_parameters(preset, budget);
    described
        .chain(connection)
        .filter_map(|(name, description, pattern)| {
            // An empty default is how AWS's own documents declare an optional String parameter (AWS-RunShellScript's
            // workingDirectory: "default": "").
            let default = defaults.get(name)?.first()?.clone();
            Some((
                name.to_string(),
                json!({ "type": "String", "description": description, "default": default, "allowedPattern": pattern }),
            ))
        })
        .collect()
}

/// Name of the step that runs the drain script on Linux.
pub const DRAIN_STEP: &str = "drain";
/// Seconds a `not_drained_*` step may take: it prints one line and exits.
pub const NOT_DRAINED_TIMEOUT_SECONDS: u64 = 60;

/// A step that runs only on `platform` (where the drain step is skipped) and fails the command there, so an instance
/// that cannot run the drain is never reported drained (the platform types SSM knows: DescribeInstanceInformation
/// `PlatformType` Windows | Linux | MacOS). What the SSM agent does (amazon-ssm-agent):
/// - A schema 2.2 step with a precondition that does not hold, or whose plugin this platform's agent has no handler
///   for, is `Skipped` (agent/framework/runpluginutil/runpluginutil.go `getStepExecutionOperation`,
///   `evaluatePreconditions`: `platformType` is compared case-insensitively with `platform.PlatformType`, which is
///   "linux" on linux/freebsd/netbsd/openbsd, "windows", "macos": agent/platform/platform_{unix,windows,darwin}.go
///   `getPlatformType`); and "Skipped is a form of success" (agent/contracts/aggregator.go
///   `DocumentResultAggregator`): with the drain step alone, a Windows or macOS instance's command ends `Success`.
/// - Dropping the precondition does not help on Windows: the Windows agent registers no `aws:runShellScript` handler
///   (agent/framework/processor/executer/plugin/plugin_windows.go `loadPlatformDependentPlugins`; the shell plugin is
///   only in plugin_unix.go), and a 2.2 step without precondition whose handler is missing is `Skipped` too. On macOS
///   it would run the Linux drain script.
/// - So each other platform gets its own step, with a plugin its agent runs: `aws:runPowerShellScript` is registered
///   on every platform (plugin.go `loadPlatformIndependentPlugins`), `aws:runShellScript` on macOS (plugin_unix.go;
///   runpluginutil_darwin.go `supportedPlugins`). Its `exit 1` is `Failed` (agent/plugins/pluginutil
///   `GetStatus`: any exit code but 0, the reboot code and the stopped code - 194/137 on Unix, 3010/-1 on Windows,
///   agent/appconfig/constants_*.go - is Failed), and `Failed` outranks `Skipped` and
///   `Success` in `DocumentResultAggregator`. Steps run in order whatever the previous one's status
///   (runpluginutil.go `RunPlugins`: only exit codes 168/169, `onFailure`/`onSuccess: exit` and a reboot stop it),
///   so on Linux both extra steps are evaluated after the drain and skipped by their preconditions: the command's
///   status is the drain step's.
fn not_drained_step(action: &str, name: &str, platform: &str) -> serde_json::Value {
    let line =
        format!("{LOG_PREFIX} NOT DRAINED: this document drains Linux instances only; this instance is {platform}");
    // `Write-Output` (PowerShell) and `printf` (sh) print the line; `exit 1` means the same in both.
    let print = match action {
        "aws:runPowerShellScript" => format!("Write-Output '{line}'"),
        _ => format!("printf '%s\\n' '{line}'"),
    };
    json!({
        "action": action,
        "name": name,
        "precondition": { "StringEquals": ["platformType", platform] },
        "inputs": { "timeoutSeconds": NOT_DRAINED_TIMEOUT_SECONDS, "runCommand": [print, "exit 1"] },
    })
}

/// The SSM Command document's content (JSON), as `CreateDocument`/`UpdateDocument` take it.
pub fn render(preset: &DrainPreset, budget: &DrainBudget) -> String {
    let description = match preset {
        DrainPreset::Nomad(_) => "Drains this Nomad client before the instance terminates (graceful_shutdown_asg)",
        DrainPreset::Command(_) => "Runs the drain command before the instance terminates (graceful_shutdown_asg)",
    };
    let document = json!({
        "schemaVersion": "2.2",
        "description": description,
        "parameters": declared_parameters(preset, budget),
        "mainSteps": [
            {
                "action": "aws:runShellScript",
                "name": DRAIN_STEP,
                "precondition": { "StringEquals": ["platformType", "Linux"] },
                "inputs": {
                    "timeoutSeconds": budget.drain_timeout_seconds,
                    "runCommand": script(preset).lines().collect::<Vec<_>>(),
                },
            },
            not_drained_step("aws:runPowerShellScript", "not_drained_windows", "Windows"),
            not_drained_step("aws:runShellScript", "not_drained_macos", "MacOS"),
        ],
    });
    serde_json::to_string_pretty(&document).expect("a JSON value serializes")
}

/// The whole drain script for a preset, with `{{ parameter }}` placeholders SSM substitutes. The nomad preset's
/// connection settings are parameters too, exported before the first `nomad` call.
pub fn script(preset: &DrainPreset) -> String {
    let body = match preset {
        DrainPreset::Nomad(_) => format!("{SCRIPT_PRELUDE}{NOMAD_BODY}"),
        DrainPreset::Command(user_script) => command_body(user_script),
    };
    format!("{PRELUDE}{body}")
}

/// Shared by both presets: parameters, messages, and `run_bounded` which stops a step that outlives
/// deadline + grace (a hung drain must not silently eat the execution timeout). The step runs in its own process
/// group (`setsid`: a background child of a non-interactive shell is no group leader, so setsid does not fork and
/// `$!` is the step itself), and the watchdog signals the whole group: what the step started stops with it.
const PRELUDE: &str = r#"set -u
deadline_seconds='{{ deadlineSeconds }}'
grace_seconds='{{ graceSeconds }}'
say() { printf 'graceful-drain: %s\n' "$*"; }
fail() { say "NOT DRAINED: $*"; exit 1; }
run_bounded() {
  if command -v setsid >/dev/null 2>&1; then setsid "$@" & else "$@" & fi
  bounded_pid=$!
  ( sleep "$((deadline_seconds + grace_seconds))"; kill -TERM "-$bounded_pid" || kill "$bounded_pid" ) >/dev/null 2>&1 &
  watchdog_pid=$!
  bounded_status=0
  wait "$bounded_pid" || bounded_status=$?
  kill "$watchdog_pid" >/dev/null 2>&1 || true
  return "$bounded_status"
}
"#;

/// The nomad preset. Every rule here follows hashicorp/nomad's own behaviour:
/// - `nomad node drain` exits 0 once the drain is set whatever happens next (command/node_drain.go `Run`, api/nodes.go
///   `monitorDrainMultiplex` stops at its first error) and its monitor hangs after a cancel, so the drain is started
///   `-detach`ed and its end is read from the node: `LastDrain.Status` is `complete` or `canceled`
///   (nomad/structs/structs.go `DrainStatus*`).
/// - At the deadline Nomad marks the drain complete as soon as it has told the remaining allocations to stop
///   (nomad/drainer/drainer.go `handleDeadlinedNodes`), so "complete" is not "empty": the node's allocations are then
///   listed until none but system ones is pending or running (sysbatch counts: the drainer waits for it too).
/// - The listing filter sees the whole `Allocation` (nomad/state/paginator `next`): `Job.Type`, not `JobType`; and
///   `Alloc.List` lists only the `default` namespace unless asked for `*` (nomad/alloc_endpoint.go).
/// - `-namespace '*'` silently skips namespaces the token may not read-job in (nomad/alloc_endpoint.go `List`,
///   `AllowNsOpFunc`), so the agent's own gauges `client.allocations.{running,pending,blocked,migrating}`
///   (client/client.go `emitClientMetrics`, every namespace) are read from `/v1/metrics` (no ACL:
///   command/agent/metrics_endpoint.go) and must not count more than the listed system allocations. The endpoint
///   answers the last finished 10 s interval (go-metrics inmem_endpoint.go `DisplayMetrics`), so a count can lag.
/// - `nomad operator api` exits 0 for any HTTP status and POSTs its stdin when stdin is not a terminal
///   (command/operator_api.go `Run`): an explicit GET, stdin from /dev/null, and anything but a JSON list is a failure.
const NOMAD_BODY: &str = r#"command -v nomad >/dev/null 2>&1 || fail "nomad is not on PATH"
now() { date +%s; }
# Polls come every second at first, then every 5 s (a long build needs no faster answer); never past the give-up time.
poll_interval=1
pause() {
  remaining_seconds=$((give_up_at - $(now)))
  [ "$remaining_seconds" -gt 0 ] || return 0
  [ "$poll_interval" -le "$remaining_seconds" ] || poll_interval=$remaining_seconds
  sleep "$poll_interval"
  [ "$poll_interval" -ge 5 ] || poll_interval=$((poll_interval + 1))
}
nomad node eligibility -disable -self </dev/null || fail "disabling scheduling eligibility failed"
# Go-template braces are split so SSM does not read them as a parameter.
template_open='{''{'
node_id=$(nomad node status -self -t "${template_open} .ID }}" </dev/null) || fail "reading this node's ID failed"
[ -n "$node_id" ] || fail "nomad returned an empty node ID"
drain_state_template="${template_open} if .DrainStrategy }}draining${template_open} else if .LastDrain }}${template_open} .LastDrain.Status }}${template_open} end }}"
drain_state() { nomad node status -self -t "$drain_state_template" </dev/null; }
drain_state=$(drain_state) || fail "reading this node's drain state failed"
started_at=$(now)
give_up_at=$((started_at + deadline_seconds + grace_seconds))
# A repeated drain command (a duplicate delivery's, cancelled moments later) follows the running drain: enabling it
# again would restart its deadline.
followed=0
if [ "$drain_state" = "draining" ]; then
  followed=1
  say "eligibility disabled; a drain is already running on node ${node_id}: following it"
else
  nomad node drain -enable -self -yes -detach -deadline "${deadline_seconds}s" </dev/null || fail "enabling the drain failed"
  say "eligibility disabled; draining node ${node_id} with a deadline of ${deadline_seconds}s"
fi
# Wait for Nomad to end the drain. A read that fails is retried (a leader election is brief) until the give-up time.
while :; do
  if drain_state=$(drain_state); then
    case "$drain_state" in
      complete) break ;;
      draining) ;;
      canceled) fail "the drain of node ${node_id} was cancelled (nomad node drain -disable)" ;;
      *) fail "node ${node_id} reports drain state '${drain_state}', expected draining, complete or canceled" ;;
    esac
  fi
  [ "$(now)" -lt "$give_up_at" ] || fail "the drain of node ${node_id} had not completed ${grace_seconds}s after its ${deadline_seconds}s deadline (last state: ${drain_state})"
  pause
done
# System allocations stay to the end (Nomad stops them last); sysbatch ones are waited for like batch ones
# (nomad/drainer/draining_node.go IsDone skips only system jobs).
# "complete" is not "empty": after a deadline the last allocations are still being stopped, and those of a namespace
# the token cannot read are not listed; so a drain that may have been forced (it ran into its deadline, or it was
# another command's, whose deadline is unknown) is given the whole grace before the check.
if [ "$followed" -eq 1 ] || [ $(($(now) - started_at)) -ge "$deadline_seconds" ]; then
  say "the drain of node ${node_id} may have been forced at its deadline: waiting until ${grace_seconds}s after it for Nomad to stop what was left"
  remaining_seconds=$((give_up_at - $(now)))
  [ "$remaining_seconds" -le 0 ] || sleep "$remaining_seconds"
fi
live="NodeID == \"${node_id}\" and (ClientStatus == \"running\" or ClientStatus == \"pending\")"
filter="${live} and Job.Type != \"system\""
system_filter="${live} and Job.Type == \"system\""
# The listing shows only the namespaces the token may read-job in; the agent's own allocation gauges count them all.
# A finished metrics interval is up to 20 s old and, the node being ineligible, counts only go down: so when the
# agent counts no more pending or running allocations than the token sees system ones, none is hidden from it.
unseen_allocations() {
  unseen=''
  system_listing=$(nomad operator api -X GET -namespace '*' -filter "$system_filter" /v1/allocations </dev/null) || system_listing="nomad operator api exited with status $?"
  case "$system_listing" in
    '[]') listed_system=0 ;;
    '[{'*) listed_system=$(printf '%s\n' "$system_listing" | tr ',' '\n' | grep -c '^[[{]*"ID":') ;;
    *) unseen="listing the system allocations of node ${node_id} failed: $(printf '%s' "$system_listing" | head -c 300)"; return 0 ;;
  esac
  metrics=$(nomad operator api -X GET /v1/metrics </dev/null) || metrics="nomad operator api exited with status $?"
  gauges=$(printf '%s\n' "$metrics" | tr '{}' '\n\n' | grep -E '"Name":"[^"]*client\.allocations\.(running|pending|blocked|migrating)"') || gauges=''
  if [ -z "$gauges" ]; then
    unseen="the agent's metrics (GET /v1/metrics) do not show its allocation counts: $(printf '%s' "$metrics" | head -c 200)"
    return 0
  fi
  agent_count=$(printf '%s\n' "$gauges" | sed -n 's/.*"Value":\([0-9.eE+-]*\).*/\1/p' | awk '{ total += $1 } END { printf "%d", total }')
  [ "$agent_count" -le "$listed_system" ] || unseen="the agent counts ${agent_count} pending or running allocation(s), the token lists ${listed_system} (system jobs): a namespace the token may not read-job in (see examples/nomad-drain-acl.policy.hcl), or allocations stopped less than 20 s ago"
}
while :; do
  remaining=$(nomad operator api -X GET -namespace '*' -filter "$filter" /v1/allocations </dev/null) || remaining="nomad operator api exited with status $?"
  case "$remaining" in
    '[]')
      unseen_allocations
      [ -n "$unseen" ] || break
      [ "$(now)" -lt "$give_up_at" ] || fail "node ${node_id} may still run allocations the check cannot see: ${unseen}" ;;
    '[{'*)
      names=$(printf '%s\n' "$remaining" | tr ',' '\n' | grep '^"Name":' | sed 's/^"Name":"//; s/"$//' | tr '\n' ' ')
      [ "$(now)" -lt "$give_up_at" ] || fail "allocations still running on node ${node_id}: ${names}" ;;
    *) fail "listing the allocations of node ${node_id} failed: $(printf '%s' "$remaining" | head -c 300)" ;;
  esac
  pause
done
say "drained: no non-system allocation is pending or running on node ${node_id}"
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
export {COMMAND_DEADLINE_ENV}="$deadline_seconds"
say "running the drain command with a deadline of ${{deadline_seconds}}s"
command_status=0
# Run through the interpreter its first line names, as the kernel would (words split as the kernel does not, so
# `#!/usr/bin/env python3` works): the file is only read, so a /tmp mounted noexec cannot stop it.
first_line=$(head -n 1 "$script_file")
case "$first_line" in
  '#!'*) run_bounded ${{first_line#??}} "$script_file" || command_status=$? ;;
  *) run_bounded sh "$script_file" || command_status=$? ;;
esac
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
