//! The drain budget: the user gives one `timeout`; every other timeout is derived from it here, and a budget AWS
//! cannot honour is refused before anything is created.

use std::fmt;

/// Heartbeat timeout bounds of `PutLifecycleHook`.
pub const HEARTBEAT_MIN_SECONDS: u64 = 30;
pub const HEARTBEAT_MAX_SECONDS: u64 = 7200;
/// An instance may wait at most the smaller of 48 h and 100 x the heartbeat timeout.
pub const GLOBAL_WAIT_MAX_SECONDS: u64 = 48 * 3600;
pub const GLOBAL_WAIT_HEARTBEAT_FACTOR: u64 = 100;
/// The shortest drain budget accepted: below it a drain cannot meaningfully stop work.
pub const MIN_DRAIN_SECONDS: u64 = 60;
/// The reconcile schedule's period; heartbeats and recovery happen at least this often.
pub const RECONCILE_INTERVAL_SECONDS: u64 = 60;
/// The EventBridge schedule that invokes the reconcile sweep every `RECONCILE_INTERVAL_SECONDS` (EventBridge
/// `rate(value unit)`: a value of 1 takes the singular unit). A test checks the two agree.
pub const RECONCILE_SCHEDULE_EXPRESSION: &str = "rate(1 minute)";
/// Time after the drain budget for the handler to observe the command's end and complete the action:
/// three reconcile ticks, so one lost tick or notification still completes in time.
pub const COMPLETION_GRACE_SECONDS: u64 = 3 * RECONCILE_INTERVAL_SECONDS;
/// Seconds Nomad may still need after a drain's deadline before every allocation has stopped: the drainer acts on a
/// deadline within 5 s (`NodeDeadlineCoalesceWindow`, nomad/drainer/drainer.go), then each task gets its kill timeout,
/// capped by the client's `max_kill_timeout` (default 30 s), plus a few seconds of `shutdown_delay` and signalling.
pub const FORCED_STOP_SECONDS: u64 = 40;
/// Seconds the drain script needs after the forced-stop window to verify the node and exit.
pub const VERIFY_SECONDS: u64 = 15;
/// How long an unreachable SSM agent is waited for, at most.
pub const AGENT_WAIT_MAX_SECONDS: u64 = 300;
/// How long a drain lock may stand with no command of it listed before the next generation may be taken: longer
/// than the function's 120 s timeout, so the holder's invocation has ended, plus a minute for `ListCommands` to
/// show a command it sent (the listing is eventually consistent). It is also how late a drain can start after the
/// lock was taken: an invocation that crashed, or lost `PutParameter`'s answer, between the lock and `SendCommand`
/// leaves the drain to whoever takes the next generation once this lock is stale.
pub const LOCK_STALE_SECONDS: u64 = 3 * RECONCILE_INTERVAL_SECONDS;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrainBudget {
    /// The user's budget; also the SSM execution timeout of the drain script.
    pub drain_timeout_seconds: u64,
    /// `nomad node drain -deadline`: leaves the script time to verify and exit before the execution timeout.
    pub nomad_deadline_seconds: u64,
    /// The lifecycle hook's heartbeat timeout.
    pub heartbeat_timeout_seconds: u64,
    /// True when the drain can outlast one heartbeat timeout, so the handler must send heartbeats.
    pub heartbeats_needed: bool,
    /// The longest AWS lets an instance wait with this heartbeat timeout.
    pub wait_ceiling_seconds: u64,
    /// Bounded wait for an unreachable agent / an instance SSM does not manage.
    pub agent_wait_seconds: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BudgetError {
    /// The drain timeout is below [`MIN_DRAIN_SECONDS`].
    DrainTooShort { seconds: u64 },
    /// A heartbeat timeout outside 30..7200.
    HeartbeatOutOfRange { seconds: u64 },
    /// Heartbeats are needed but the timeout leaves no room for a reconcile tick in every window.
    HeartbeatTooShortForTicks { seconds: u64 },
    /// agent wait + stale-lock takeover + drain + grace exceeds the smaller of 48 h and 100 x heartbeat timeout.
    ExceedsWaitCeiling { needed_seconds: u64, ceiling_seconds: u64 },
}

impl fmt::Display for BudgetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BudgetError::DrainTooShort { seconds } => write!(
                f,
                "the drain timeout is {}, expected at least {}",
                format_duration(*seconds),
                format_duration(MIN_DRAIN_SECONDS)
            ),
            BudgetError::HeartbeatOutOfRange { seconds } => write!(
                f,
                "the heartbeat timeout is {seconds} seconds, expected {HEARTBEAT_MIN_SECONDS} to {HEARTBEAT_MAX_SECONDS} seconds (the range AWS accepts for a lifecycle hook)"
            ),
            BudgetError::HeartbeatTooShortForTicks { seconds } => write!(
                f,
                "the heartbeat timeout is {seconds} seconds but the drain can last longer, so heartbeats are needed; they are sent on the {RECONCILE_INTERVAL_SECONDS}-second reconcile tick, so expected at least {} seconds",
                2 * RECONCILE_INTERVAL_SECONDS
            ),
            BudgetError::ExceedsWaitCeiling { needed_seconds, ceiling_seconds } => write!(
                f,
                "the drain needs an instance to wait up to {} (up to {} for the SSM agent, {} for a drain start that a crash held back, the drain timeout, and {} to complete, counted from when the instance starts waiting), but AWS lets an instance wait at most {} with this heartbeat timeout (the smaller of 48h and 100 x heartbeat timeout)",
                format_duration(*needed_seconds),
                format_duration(AGENT_WAIT_MAX_SECONDS),
                format_duration(LOCK_STALE_SECONDS),
                format_duration(COMPLETION_GRACE_SECONDS),
                format_duration(*ceiling_seconds)
            ),
        }
    }
}

impl std::error::Error for BudgetError {}

/// How long an instance may have to wait, counted from `Terminating:Wait` (where AWS's hook clock starts): the
/// lock can be taken as late as the end of the agent wait; a crash or a lost answer between the lock and the send
/// delays the drain by a stale-lock takeover; the drain then runs its budget, then needs the completion grace.
/// Saturating: a budget near `u64::MAX` seconds is refused as over the wait ceiling, not an overflow.
pub fn needed_wait_seconds(drain_timeout_seconds: u64, agent_wait_seconds: u64) -> u64 {
    agent_wait_seconds
        .saturating_add(LOCK_STALE_SECONDS)
        .saturating_add(drain_timeout_seconds)
        .saturating_add(COMPLETION_GRACE_SECONDS)
}

/// Whether a hook with this heartbeat timeout can expire before a drain of this budget ends, so the handler must send
/// heartbeats. The one rule for it: the provider's budget and the handler's heartbeat schedule both ask here.
pub fn heartbeats_needed(heartbeat_timeout_seconds: u64, drain_timeout_seconds: u64, agent_wait_seconds: u64) -> bool {
    heartbeat_timeout_seconds < needed_wait_seconds(drain_timeout_seconds, agent_wait_seconds)
}

/// The bounded wait for an unreachable agent under a drain budget.
pub fn agent_wait_seconds(drain_timeout_seconds: u64) -> u64 {
    AGENT_WAIT_MAX_SECONDS.min(drain_timeout_seconds)
}

/// AWS's global timeout of a lifecycle action: the longest an instance waits, however many heartbeats it gets.
pub fn wait_ceiling_seconds(heartbeat_timeout_seconds: u64) -> u64 {
    GLOBAL_WAIT_MAX_SECONDS.min(GLOBAL_WAIT_HEARTBEAT_FACTOR.saturating_mul(heartbeat_timeout_seconds))
}

/// Derives every timeout from the drain budget and an optional explicit heartbeat timeout.
pub fn derive(drain_timeout_seconds: u64, heartbeat_override: Option<u64>) -> Result<DrainBudget, BudgetError> {
    if drain_timeout_seconds < MIN_DRAIN_SECONDS {
        return Err(BudgetError::DrainTooShort { seconds: drain_timeout_seconds });
    }
    let agent_wait_seconds = agent_wait_seconds(drain_timeout_seconds);
    let needed_wait = needed_wait_seconds(drain_timeout_seconds, agent_wait_seconds);
    let heartbeat_timeout_seconds = match heartbeat_override {
        Some(seconds) if !(HEARTBEAT_MIN_SECONDS..=HEARTBEAT_MAX_SECONDS).contains(&seconds) => {
            return Err(BudgetError::HeartbeatOutOfRange { seconds });
        }
        Some(seconds) => seconds,
        // Long enough that a drain inside the budget needs no heartbeat at all; capped by AWS.
        None => needed_wait.min(HEARTBEAT_MAX_SECONDS),
    };
    let heartbeats_needed = heartbeats_needed(heartbeat_timeout_seconds, drain_timeout_seconds, agent_wait_seconds);
    if heartbeats_needed && heartbeat_timeout_seconds < 2 * RECONCILE_INTERVAL_SECONDS {
        return Err(BudgetError::HeartbeatTooShortForTicks { seconds: heartbeat_timeout_seconds });
    }
    let wait_ceiling_seconds = wait_ceiling_seconds(heartbeat_timeout_seconds);
    if needed_wait > wait_ceiling_seconds {
        return Err(BudgetError::ExceedsWaitCeiling {
            needed_seconds: needed_wait,
            ceiling_seconds: wait_ceiling_seconds,
        });
    }
    // The margin after the deadline holds the forced-stop window and the verification.
    let verify_margin = (drain_timeout_seconds / 10).clamp(FORCED_STOP_SECONDS + VERIFY_SECONDS, 300);
    Ok(DrainBudget {
        drain_timeout_seconds,
        nomad_deadline_seconds: drain_timeout_seconds - verify_margin,
        heartbeat_timeout_seconds,
        heartbeats_needed,
        wait_ceiling_seconds,
        agent_wait_seconds,
    })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurationError(pub String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses `"3600"` (seconds), `"45s"`, `"90m"`, `"2h"`, `"1h30m"`, `"1h0m30s"` into seconds.
pub fn parse_duration(text: &str) -> Result<u64, DurationError> {
    let expected = "expected a duration like \"90m\", \"1h30m\", \"45s\" or a number of seconds";
    let text = text.trim();
    if text.is_empty() {
        return Err(DurationError(format!("empty duration, {expected}")));
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(seconds);
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut last_unit_rank = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let (unit_seconds, rank) = match c {
            'h' => (3600, 3),
            'm' => (60, 2),
            's' => (1, 1),
            _ => return Err(DurationError(format!("unexpected {c:?} in {text:?}, {expected}"))),
        };
        if digits.is_empty() {
            return Err(DurationError(format!("missing number before {c:?} in {text:?}, {expected}")));
        }
        if last_unit_rank != 0 && rank >= last_unit_rank {
            return Err(DurationError(format!("units out of order in {text:?}, {expected}")));
        }
        last_unit_rank = rank;
        let amount: u64 = digits.parse().map_err(|_| DurationError(format!("number too large in {text:?}")))?;
        total = amount
            .checked_mul(unit_seconds)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(|| DurationError(format!("duration too large: {text:?}")))?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(DurationError(format!("missing unit after {digits:?} in {text:?}, {expected}")));
    }
    Ok(total)
}

/// Formats seconds the way `parse_duration` reads them: `5400` → `"1h30m"`.
pub fn format_duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_expression_invokes_the_sweep_every_reconcile_interval() {
        let (value, unit) = RECONCILE_SCHEDULE_EXPRESSION
            .strip_prefix("rate(")
            .and_then(|rest| rest.strip_suffix(')'))
            .and_then(|inner| inner.split_once(' '))
            .expect("rate(value unit)");
        let unit_seconds = match unit {
            "minute" | "minutes" => 60,
            "hour" | "hours" => 3600,
            "day" | "days" => 86_400,
            other => panic!("EventBridge rate unit {other:?}"),
        };
        assert_eq!(value.parse::<u64>().unwrap() * unit_seconds, RECONCILE_INTERVAL_SECONDS);
    }

    #[test]
    fn parses_the_documented_forms() {
        for (text, seconds) in [
            ("3600", 3600),
            ("45s", 45),
            ("90m", 5400),
            ("2h", 7200),
            ("1h30m", 5400),
            ("1h0m30s", 3630),
            (" 10m ", 600),
        ] {
            assert_eq!(parse_duration(text), Ok(seconds), "{text}");
        }
    }

    #[test]
    fn rejects_malformed_durations_saying_what_is_expected() {
        for text in ["", "1d", "h", "30m1h", "1.5h", "-5", "10 m", "5m5m"] {
            let error = parse_duration(text).expect_err(text);
            assert!(error.0.contains("expected") || error.0.contains("order"), "{text}: {error}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for seconds in [1, 59, 60, 61, 3600, 5400, 3630, 172800] {
            assert_eq!(parse_duration(&format_duration(seconds)), Ok(seconds));
        }
    }

    #[test]
    fn default_heartbeat_covers_a_short_drain_without_heartbeats() {
        let budget = derive(3600, None).unwrap();
        // The hook's clock starts at Terminating:Wait: the drain may start after the whole agent wait.
        // A crash between the lock and the send holds the drain back by a stale-lock takeover.
        assert_eq!(
            budget.heartbeat_timeout_seconds,
            AGENT_WAIT_MAX_SECONDS + LOCK_STALE_SECONDS + 3600 + COMPLETION_GRACE_SECONDS
        );
        assert!(!budget.heartbeats_needed);
        assert_eq!(budget.nomad_deadline_seconds, 3600 - 300);
    }

    #[test]
    fn long_drain_caps_heartbeat_and_needs_heartbeats() {
        let budget = derive(10 * 3600, None).unwrap();
        assert_eq!(budget.heartbeat_timeout_seconds, HEARTBEAT_MAX_SECONDS);
        assert!(budget.heartbeats_needed);
        assert_eq!(budget.wait_ceiling_seconds, GLOBAL_WAIT_MAX_SECONDS);
    }

    #[test]
    fn refuses_what_aws_cannot_honour() {
        assert_eq!(derive(59, None), Err(BudgetError::DrainTooShort { seconds: 59 }));
        assert_eq!(derive(3600, Some(29)), Err(BudgetError::HeartbeatOutOfRange { seconds: 29 }));
        assert_eq!(derive(3600, Some(7201)), Err(BudgetError::HeartbeatOutOfRange { seconds: 7201 }));
        assert_eq!(derive(3600, Some(60)), Err(BudgetError::HeartbeatTooShortForTicks { seconds: 60 }));
        // 48 h is the ceiling even with the largest heartbeat timeout.
        assert!(matches!(derive(48 * 3600, None), Err(BudgetError::ExceedsWaitCeiling { .. })));
        // 100 x 300 s = 8h20m: a 9 h drain cannot fit.
        assert_eq!(
            derive(9 * 3600, Some(300)),
            Err(BudgetError::ExceedsWaitCeiling { needed_seconds: 300 + 180 + 9 * 3600 + 180, ceiling_seconds: 30000 })
        );
        let longest = 48 * 3600 - AGENT_WAIT_MAX_SECONDS - LOCK_STALE_SECONDS - COMPLETION_GRACE_SECONDS;
        assert!(derive(longest, None).is_ok());
        // The agent wait counts: a drain that fits only without it is refused.
        assert!(matches!(derive(longest + 1, None), Err(BudgetError::ExceedsWaitCeiling { .. })));
        // 100 x 120 s = 12000 s: this drain fits only if the agent wait is ignored.
        let drain = 12_000 - COMPLETION_GRACE_SECONDS - LOCK_STALE_SECONDS - AGENT_WAIT_MAX_SECONDS + 1;
        assert!(matches!(derive(drain, Some(120)), Err(BudgetError::ExceedsWaitCeiling { .. })));
    }

    #[test]
    fn a_budget_of_u64_max_seconds_is_refused_not_an_overflow() {
        // Found by `cargo xtask fuzz duration`: "18446744073709551615" parsed, then overflowed in derive.
        let seconds = parse_duration("18446744073709551615").unwrap();
        assert!(matches!(derive(seconds, None), Err(BudgetError::ExceedsWaitCeiling { .. })));
        assert!(matches!(derive(seconds, Some(HEARTBEAT_MAX_SECONDS)), Err(BudgetError::ExceedsWaitCeiling { .. })));
    }

    #[test]
    fn short_heartbeat_is_fine_when_the_drain_fits_inside_it() {
        // 60 s of agent wait + 180 s of stale-lock takeover + 60 s of drain + 180 s of grace, counted from the
        // start of the wait.
        let budget = derive(60, Some(480)).unwrap();
        assert!(!budget.heartbeats_needed);
        assert!(derive(60, Some(479)).unwrap().heartbeats_needed);
        // The shortest budget still leaves the forced-stop window and the verification after the deadline.
        assert_eq!(budget.nomad_deadline_seconds, 60 - FORCED_STOP_SECONDS - VERIFY_SECONDS);
    }
}
