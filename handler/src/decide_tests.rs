//! Decision-table tests: one row per rule of the drain flow, plus duplicates, reordering and every terminal state.

use super::*;
use crate::event::{LifecycleNotice, StatusScope};
use drain_contract::names::notification_metadata;

const NOW: u64 = 1_800_000_000;
const TOKEN: &str = "87654321-4321-4321-4321-210987654321";

fn config() -> HandlerConfig {
    let config =
        HandlerConfig { autoscaling_group_names: vec!["ci-a".into(), "ci-b".into()], ..HandlerConfig::example() };
    // What the budget derives for 3600 s: agent wait + stale-lock takeover + drain + grace.
    assert_eq!((config.drain_timeout_seconds, config.heartbeat_timeout_seconds), (3600, 300 + 180 + 3600 + 180));
    config
}

/// A long drain whose hook must be kept alive with heartbeats.
fn heartbeat_config() -> HandlerConfig {
    HandlerConfig { drain_timeout_seconds: 7200, heartbeat_timeout_seconds: 600, ..config() }
}

fn lifecycle() -> Trigger {
    Trigger::Lifecycle { group: "ci-a".into(), instance_id: "i-1".into(), token: TOKEN.into(), time: None }
}

fn tick() -> Trigger {
    Trigger::Tick { group: "ci-a".into(), instance_id: "i-1".into() }
}

fn status_event(status: &str) -> Trigger {
    Trigger::CommandStatus {
        instance_id: "i-1".into(),
        command_id: "c-1".into(),
        status: status.into(),
        requested_at: None,
    }
}

fn waiting() -> Observed {
    Observed {
        membership: Some(("ci-a".into(), TERMINATING_WAIT.into())),
        agent: Agent::Online,
        command: None,
        waiting_since: Some(NOW - 10),
        lock: None,
        stopped_in_warm_pool: false,
    }
}

/// A command sent `age` seconds ago, 10 s after the instance began waiting.
fn with_command(status: &str, age: u64) -> Observed {
    Observed {
        waiting_since: Some(NOW - age - 10),
        command: Some(CommandSeen {
            command_id: "c-1".into(),
            comment: drain_comment(TOKEN),
            status: status.into(),
            requested_at: NOW - age,
        }),
        ..waiting()
    }
}

fn complete(result: LifecycleResult, outcome: Outcome, drain_seconds: u64) -> Action {
    Action::Complete { group: "ci-a".into(), instance_id: "i-1".into(), result, outcome, drain_seconds }
}

fn send(comment: String) -> Action {
    send_generation(comment, 1)
}

fn send_generation(comment: String, lock_generation: u32) -> Action {
    Action::SendDrain { group: "ci-a".into(), instance_id: "i-1".into(), comment, lock_generation, at_notice: false }
}

fn locked(age: u64, generation: u32) -> Observed {
    Observed { lock: Some(LockSeen { generation, taken_at: NOW - age }), ..waiting() }
}

#[test]
fn decision_table() {
    let cfg = config();
    let heartbeats = heartbeat_config();
    // A 3 min budget with a 6 min hook: heartbeats in the last 3 min of each window of the wait.
    let late_agent = HandlerConfig {
        drain_timeout_seconds: 180,
        heartbeat_timeout_seconds: 360,
        agent_wait_seconds: 180,
        ..config()
    };
    let continue_on_failure = HandlerConfig { on_failure: LifecycleResult::Continue, ..config() };
    let earlier_action = Observed {
        command: Some(CommandSeen {
            command_id: "c-0".into(),
            comment: drain_comment("11111111-1111-1111-1111-111111111111"),
            status: "Success".into(),
            requested_at: NOW - 90_000,
        }),
        ..waiting()
    };
    let unreachable = |waited: u64| Observed {
        agent: Agent::Unreachable("ConnectionLost".into()),
        waiting_since: Some(NOW - waited),
        ..waiting()
    };
    let not_managed =
        |waited: u64| Observed { agent: Agent::NotManaged, waiting_since: Some(NOW - waited), ..waiting() };
    let in_state =
        |state: &str| Observed { membership: Some(("ci-a".into(), state.into())), ..with_command("Success", 60) };
    let in_other_group = Observed { membership: Some(("other".into(), TERMINATING_WAIT.into())), ..waiting() };
    let listing_lags = Observed { command: None, ..waiting() };
    // The drain started late (the agent came online near the end of its wait): heartbeats count from the wait.
    let started_late = Observed { waiting_since: Some(NOW - 450), ..with_command("InProgress", 150) };
    let unreachable_since_lock = Observed {
        agent: Agent::Unreachable("ConnectionLost".into()),
        waiting_since: None,
        lock: Some(LockSeen { generation: 1, taken_at: NOW - 300 }),
        ..waiting()
    };

    #[rustfmt::skip]
    let rows: Vec<(&str, Trigger, Observed, &HandlerConfig, Vec<Action>)> = vec![
        ("waiting, no command: send the drain keyed on the token",
            lifecycle(), waiting(), &cfg, vec![send(format!("graceful-drain {TOKEN}"))]),
        ("duplicate lifecycle notification: the command exists, nothing new",
            lifecycle(), with_command("InProgress", 30), &cfg, vec![Action::Wait { reason: "the drain is in progress" }]),
        ("duplicate after the drain finished: complete again (AWS answers no active action = done)",
            lifecycle(), with_command("Success", 30), &cfg, vec![complete(LifecycleResult::Continue, Outcome::Drained, 30)]),
        ("the instance's earlier lifecycle action had a command: a new token gets a new drain",
            lifecycle(), earlier_action, &cfg, vec![send(drain_comment(TOKEN))]),
        ("tick finds a waiting instance whose notification was lost: send keyed on the instance",
            tick(), waiting(), &cfg, vec![send("graceful-drain-instance i-1".into())]),
        ("in progress, no heartbeat needed",
            tick(), with_command("InProgress", 600), &cfg, vec![Action::Wait { reason: "the drain is in progress" }]),
        ("in progress, heartbeat not yet due",
            tick(), with_command("InProgress", 100), &heartbeats, vec![Action::Wait { reason: "the drain is in progress" }]),
        ("in progress, heartbeat due before the hook's timeout",
            tick(), with_command("InProgress", 450), &heartbeats,
            vec![Action::Heartbeat { group: "ci-a".into(), instance_id: "i-1".into() }]),
        ("a drain started late: the heartbeat is due by the hook's clock, which started at the wait",
            tick(), started_late, &heartbeats,
            vec![Action::Heartbeat { group: "ci-a".into(), instance_id: "i-1".into() }]),
        ("the listing lags behind a drain another sender started: its lock stands, nothing is sent",
            tick(), locked(5, 1), &cfg, vec![Action::Wait { reason: "a drain of this action is being started" }]),
        ("a redelivered notification while the lock is fresh: nothing is sent",
            lifecycle(), locked(LOCK_STALE_SECONDS - 1, 1), &cfg,
            vec![Action::Wait { reason: "a drain of this action is being started" }]),
        ("a fresh lock while a heartbeat is due: its holder may have crashed; keep the hook alive while it goes stale",
            tick(), Observed { waiting_since: Some(NOW - 450), ..locked(100, 1) }, &heartbeats,
            vec![Action::Heartbeat { group: "ci-a".into(), instance_id: "i-1".into() }]),
        ("a fresh lock and the wait's start unknown, no heartbeat due even on an early estimate of it",
            tick(), Observed { waiting_since: None, ..locked(100, 1) }, &heartbeats,
            vec![Action::Wait { reason: "a drain of this action is being started" }]),
        ("a fresh lock and the wait's start unknown: heartbeats count from an estimate no later than the wait's start \
          (the lock was taken up to an agent wait after it), not from the lock's time",
            tick(), Observed { waiting_since: None, ..locked(120, 1) }, &late_agent,
            vec![Action::Heartbeat { group: "ci-a".into(), instance_id: "i-1".into() }]),
        ("a stale lock with no command of it listed: its holder never sent; take the next generation",
            tick(), locked(LOCK_STALE_SECONDS, 2), &cfg, vec![send_generation("graceful-drain-instance i-1".into(), 3)]),
        ("agent unreachable and the wait's start unknown: the lock bounds it",
            tick(), unreachable_since_lock, &cfg, vec![complete(LifecycleResult::Abandon, Outcome::AgentUnreachable, 0)]),
        ("agent unreachable past its wait, but a fresh lock stands for a drain that may be sent and not listed yet \
          (found by the model: the agent dropped right after the drain was sent): wait for the listing",
            tick(), Observed { lock: Some(LockSeen { generation: 1, taken_at: NOW - 10 }), ..unreachable(300) }, &cfg,
            vec![Action::Wait { reason: "a drain of this action may be sent and not listed yet" }]),
        ("pending delivery counts as in progress",
            tick(), with_command("Pending", 20), &cfg, vec![Action::Wait { reason: "the drain is in progress" }]),
        ("cancelling is not terminal yet",
            tick(), with_command("Cancelling", 20), &cfg, vec![Action::Wait { reason: "the drain is in progress" }]),
        ("succeeded: complete CONTINUE",
            status_event("Success"), with_command("Success", 1200), &cfg,
            vec![complete(LifecycleResult::Continue, Outcome::Drained, 1200)]),
        ("succeeded with on_failure = continue: still CONTINUE",
            status_event("Success"), with_command("Success", 5), &continue_on_failure,
            vec![complete(LifecycleResult::Continue, Outcome::Drained, 5)]),
        ("failed with on_failure = continue: CONTINUE",
            status_event("Failed"), with_command("Failed", 5), &continue_on_failure,
            vec![complete(LifecycleResult::Continue, Outcome::DrainFailed, 5)]),
        ("budget exceeded: cancel, then complete with on_failure",
            tick(), with_command("InProgress", 3600 + EXECUTION_OVERRUN_SECONDS + 1), &cfg,
            vec![Action::CancelCommand { command_id: "c-1".into(), instance_id: "i-1".into() },
                 complete(LifecycleResult::Abandon, Outcome::BudgetExceeded, 3600 + EXECUTION_OVERRUN_SECONDS + 1)]),
        ("just inside the budget: keep waiting",
            tick(), with_command("InProgress", 3600 + EXECUTION_OVERRUN_SECONDS), &cfg,
            vec![Action::Wait { reason: "the drain is in progress" }]),
        ("agent unreachable: bounded wait",
            lifecycle(), unreachable(100), &cfg, vec![Action::Wait { reason: "the SSM agent is not reachable yet" }]),
        ("agent unreachable past the wait: complete with on_failure",
            tick(), unreachable(300), &cfg, vec![complete(LifecycleResult::Abandon, Outcome::AgentUnreachable, 0)]),
        ("instance not managed by SSM: bounded wait",
            tick(), not_managed(10), &cfg, vec![Action::Wait { reason: "the SSM agent is not reachable yet" }]),
        ("instance not managed by SSM past the wait: complete with on_failure",
            lifecycle(), not_managed(301), &continue_on_failure,
            vec![complete(LifecycleResult::Continue, Outcome::AgentUnreachable, 0)]),
        ("instance already gone: done",
            lifecycle(), Observed { membership: None, ..waiting() }, &cfg,
            vec![Action::Done { reason: "the instance is no longer in an Auto Scaling group" }]),
        ("instance proceeding to terminate (already completed): done",
            status_event("Success"), in_state("Terminating:Proceed"), &cfg,
            vec![Action::Done { reason: "the instance is not held by a terminate hook" }]),
        ("instance in service (lifecycle action abandoned or expired): done",
            tick(), in_state("InService"), &cfg, vec![Action::Done { reason: "the instance is not held by a terminate hook" }]),
        ("scale-in back into a warm pool (Warmed:Pending:Wait): drained like a termination",
            lifecycle(), Observed { membership: Some(("ci-a".into(), "Warmed:Pending:Wait".into())), ..waiting() }, &cfg,
            vec![send(format!("graceful-drain {TOKEN}"))]),
        ("a running warm pool instance terminated out of the pool: drained",
            lifecycle(), Observed { membership: Some(("ci-a".into(), "Warmed:Terminating:Wait".into())), ..waiting() },
            &cfg, vec![send(format!("graceful-drain {TOKEN}"))]),
        ("a stopped warm pool instance terminated out of the pool: nothing runs, complete at once",
            lifecycle(),
            Observed {
                membership: Some(("ci-a".into(), "Warmed:Terminating:Wait".into())),
                stopped_in_warm_pool: true,
                ..waiting()
            },
            &cfg, vec![complete(LifecycleResult::Continue, Outcome::NothingToDrain, 0)]),
        ("a late notification for an instance back in the warm pool (Warmed:Stopped): done, never drained",
            lifecycle(), Observed { membership: Some(("ci-a".into(), "Warmed:Stopped".into())), ..waiting() }, &cfg,
            vec![Action::Done { reason: "the instance is not held by a terminate hook" }]),
        ("instance in a group this resource does not manage: done",
            lifecycle(), in_other_group, &cfg,
            vec![Action::Done { reason: "the instance's group is not managed by this resource" }]),
        ("reordering: the success notification overtakes ListCommands",
            status_event("Success"), listing_lags.clone(), &cfg,
            vec![complete(LifecycleResult::Continue, Outcome::Drained, 10)]),
        ("reordering: the success notification overtakes a listing still saying InProgress",
            status_event("Success"), with_command("InProgress", 40), &cfg,
            vec![complete(LifecycleResult::Continue, Outcome::Drained, 40)]),
        ("reordering: an InProgress notification while the listing lags never sends a second drain",
            status_event("InProgress"), listing_lags, &cfg, vec![Action::Wait { reason: "the drain is in progress" }]),
        ("stale InProgress notification after the listing shows Failed: the failure wins",
            status_event("InProgress"), with_command("Failed", 40), &cfg,
            vec![complete(LifecycleResult::Abandon, Outcome::DrainFailed, 40)]),
    ];
    for (name, trigger, observed, config, expected) in rows {
        assert_eq!(decide(&trigger, &observed, config, NOW), expected, "{name}");
    }
}

#[test]
fn every_terminal_failure_completes_with_on_failure() {
    let terminal_failures = [
        "Failed",
        "TimedOut",
        "Cancelled",
        "DeliveryTimedOut",
        "ExecutionTimedOut",
        "Undeliverable",
        "Terminated",
        "InvalidPlatform",
        "AccessDenied",
    ];
    for on_failure in [LifecycleResult::Abandon, LifecycleResult::Continue] {
        let cfg = HandlerConfig { on_failure, ..config() };
        for status in terminal_failures {
            assert!(is_terminal(status), "{status}");
            for trigger in [status_event(status), tick(), lifecycle()] {
                assert_eq!(
                    decide(&trigger, &with_command(status, 77), &cfg, NOW),
                    vec![complete(on_failure, Outcome::DrainFailed, 77)],
                    "{status} via {trigger:?}"
                );
            }
        }
    }
}

#[test]
fn triage_table() {
    let cfg = config();
    let notice = |hook: &str, metadata: Option<String>, group: &str| {
        Event::Lifecycle(LifecycleNotice {
            group: group.into(),
            hook: hook.into(),
            instance_id: "i-1".into(),
            token: TOKEN.into(),
            transition: crate::event::TERMINATING_TRANSITION.into(),
            metadata,
            time: Some("2026-11-25T21:00:00Z".into()),
        })
    };
    let ours = Some(notification_metadata("ci"));
    let status = |document: &str, ids: &[&str]| {
        Event::CommandStatus(CommandStatusNotice {
            scope: StatusScope::Command,
            command_id: "c-1".into(),
            document_name: document.into(),
            instance_ids: ids.iter().map(|s| s.to_string()).collect(),
            status: "Success".into(),
            requested_at: Some(1_795_640_401),
        })
    };
    let skipped = |triage: Triage, needle: &str| match triage {
        Triage::Skip { reason } => assert!(reason.contains(needle), "{reason:?} should mention {needle:?}"),
        other => panic!("expected a skip mentioning {needle:?}, got {other:?}"),
    };
    skipped(triage(&Event::Foreign { reason: "garbage".into() }, &cfg), "garbage");
    skipped(triage(&Event::TestNotification { group: "ci-a".into() }, &cfg), "test notification");
    skipped(triage(&notice("other-drain", ours.clone(), "ci-a"), &cfg), "hook \"other-drain\" is not ours");
    skipped(triage(&notice("ci-drain", Some(notification_metadata("other")), "ci-a"), &cfg), "metadata");
    skipped(triage(&notice("ci-drain", None, "ci-a"), &cfg), "metadata");
    skipped(triage(&notice("ci-drain", ours.clone(), "elsewhere"), &cfg), "not managed");
    skipped(triage(&status("AWS-RunShellScript", &["i-1"]), &cfg), "not ours");
    assert_eq!(triage(&Event::Tick, &cfg), Triage::Reconcile);
    assert_eq!(
        triage(&notice("ci-drain", ours, "ci-b"), &cfg),
        Triage::Observe(vec![Trigger::Lifecycle {
            group: "ci-b".into(),
            instance_id: "i-1".into(),
            token: TOKEN.into(),
            time: Some("2026-11-25T21:00:00Z".into()),
        }])
    );
    assert_eq!(
        triage(&status("ci-drain", &["i-1", "i-2"]), &cfg),
        Triage::Observe(vec![
            Trigger::CommandStatus {
                instance_id: "i-1".into(),
                command_id: "c-1".into(),
                status: "Success".into(),
                requested_at: Some(1_795_640_401),
            },
            Trigger::CommandStatus {
                instance_id: "i-2".into(),
                command_id: "c-1".into(),
                status: "Success".into(),
                requested_at: Some(1_795_640_401),
            },
        ])
    );
}

#[test]
fn comment_is_the_token_key_within_100_chars() {
    assert_eq!(drain_comment(TOKEN), format!("graceful-drain {TOKEN}"));
    assert_eq!(drain_comment(&"x".repeat(300)).chars().count(), COMMENT_MAX_CHARS);
}

/// Simulates reconcile ticks (every interval, any phase, one tick lost in each window) through `decide` over a
/// whole wait: the agent is unreachable until the lock is taken, anywhere from seconds to the whole agent wait after
/// the instance began waiting; the drain starts then, or, when the lock's taker crashed before sending, once the
/// lock is stale; then the drain runs its budget. The hook's clock starts at the wait; it must never run out before
/// the drain ends.
#[test]
fn heartbeat_schedule_keeps_the_hook_alive_for_the_whole_drain() {
    // With the shortest heartbeat timeout the budget allows (two ticks) every tick is needed; longer ones survive a
    // lost tick in every window.
    for (heartbeat_timeout_seconds, losses) in
        [(120, &[None][..]), (181, &[None, Some(0usize), Some(1)]), (600, &[None, Some(0), Some(1)])]
    {
        let cfg = HandlerConfig { heartbeat_timeout_seconds, ..heartbeat_config() };
        let window = cfg.heartbeat_timeout_seconds;
        let interval = RECONCILE_INTERVAL_SECONDS;
        let began = NOW - 100_000;
        for (locked_at, held_back) in
            [15, 200, cfg.agent_wait_seconds - 1].into_iter().flat_map(|at| [(at, 0), (at, LOCK_STALE_SECONDS)])
        {
            let drain_starts_at = locked_at + held_back;
            let observed_after = |waited: u64| {
                if waited < locked_at {
                    Observed {
                        agent: Agent::Unreachable("ConnectionLost".into()),
                        waiting_since: Some(began),
                        ..waiting()
                    }
                } else if waited < drain_starts_at {
                    Observed {
                        lock: Some(LockSeen { generation: 1, taken_at: began + locked_at }),
                        waiting_since: Some(began),
                        ..waiting()
                    }
                } else {
                    Observed {
                        command: Some(CommandSeen {
                            command_id: "c-1".into(),
                            comment: drain_comment(TOKEN),
                            status: "InProgress".into(),
                            requested_at: began + drain_starts_at,
                        }),
                        waiting_since: Some(began),
                        ..waiting()
                    }
                }
            };
            for phase in 0..interval {
                for &lost in losses {
                    // Seconds since the instance began waiting.
                    let mut expires_at = window;
                    let mut due_in_window = 0usize;
                    let mut waited = phase;
                    while waited < drain_starts_at + cfg.drain_timeout_seconds {
                        assert!(
                            waited < expires_at,
                            "hook expired at {expires_at}s (drain from {drain_starts_at}s, phase {phase}, window {window})"
                        );
                        let actions = decide(&tick(), &observed_after(waited), &cfg, began + waited);
                        if actions.iter().any(|a| matches!(a, Action::Heartbeat { .. })) {
                            let index = due_in_window;
                            due_in_window += 1;
                            if Some(index) != lost {
                                expires_at = waited + window;
                            }
                        } else {
                            due_in_window = 0;
                        }
                        waited += interval;
                    }
                }
            }
        }
    }
}

#[test]
fn no_heartbeats_when_the_hook_outlasts_the_drain() {
    let cfg = config();
    assert!((0..10_000).all(|elapsed| !heartbeat_due(&cfg, elapsed)));
}

fn spot_config() -> HandlerConfig {
    HandlerConfig {
        spot: Some(drain_contract::spot::SpotDrain::from_deadline(drain_contract::spot::DEFAULT_DEADLINE).unwrap()),
        ..config()
    }
}

fn notice(action: &str) -> Event {
    Event::SpotInterruption { instance_id: "i-1".into(), action: action.into() }
}

fn in_state(group: &str, state: &str) -> Observed {
    Observed { membership: Some((group.into(), state.into())), waiting_since: None, ..waiting() }
}

#[test]
fn a_spot_notice_is_acted_on_only_with_a_spot_block_and_time_to_drain() {
    let spot = Trigger::SpotInterruption { instance_id: "i-1".into() };
    assert_eq!(triage(&notice("terminate"), &spot_config()), Triage::Observe(vec![spot.clone()]));
    assert_eq!(triage(&notice("stop"), &spot_config()), Triage::Observe(vec![spot]));
    assert!(
        matches!(triage(&notice("terminate"), &config()), Triage::Skip { reason } if reason.contains("no spot block"))
    );
    assert!(
        matches!(triage(&notice("hibernate"), &spot_config()), Triage::Skip { reason } if reason.contains("hibernates"))
    );
}

#[test]
fn a_spot_notice_drains_an_instance_in_service_of_a_managed_group_once() {
    let spot = Trigger::SpotInterruption { instance_id: "i-1".into() };
    let drain = |group: &str| Action::SendDrain {
        group: group.into(),
        instance_id: "i-1".into(),
        comment: spot_comment("i-1"),
        lock_generation: 1,
        at_notice: true,
    };
    let cfg = spot_config();
    assert_eq!(decide(&spot, &in_state("ci-a", "InService"), &cfg, NOW), vec![drain("ci-a")]);
    assert_eq!(decide(&spot, &in_state("ci-b", "Standby"), &cfg, NOW), vec![drain("ci-b")]);
    for (observed, why) in [
        (in_state("other", "InService"), "not managed"),
        (Observed { membership: None, ..waiting() }, "in no Auto Scaling group"),
        (in_state("ci-a", TERMINATING_WAIT), "held by a terminate hook"),
        (in_state("ci-a", "Warmed:Pending:Wait"), "held by a terminate hook"),
        (in_state("ci-a", "Pending"), "not in service"),
    ] {
        let actions = decide(&spot, &observed, &cfg, NOW);
        assert!(matches!(&actions[..], [Action::Done { reason }] if reason.contains(why)), "{why}: {actions:?}");
    }
}

#[test]
fn the_hook_takes_the_drain_a_spot_notice_started_as_its_own() {
    let at_notice = |status: &str| Observed {
        command: Some(CommandSeen {
            command_id: "c-spot".into(),
            comment: spot_comment("i-1"),
            status: status.into(),
            requested_at: NOW - 40,
        }),
        ..waiting()
    };
    let cfg = spot_config();
    assert_eq!(
        decide(&lifecycle(), &at_notice("InProgress"), &cfg, NOW),
        vec![Action::Wait { reason: "the drain is in progress" }]
    );
    assert_eq!(
        decide(&lifecycle(), &at_notice("Success"), &cfg, NOW),
        vec![complete(LifecycleResult::Continue, Outcome::Drained, 40)]
    );
    assert_eq!(
        decide(&lifecycle(), &at_notice("Failed"), &cfg, NOW),
        vec![complete(LifecycleResult::Abandon, Outcome::DrainFailed, 40)]
    );
}
