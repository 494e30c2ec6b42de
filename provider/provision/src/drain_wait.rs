//! Before a hook is deleted: wait until no instance of its group is held in a lifecycle wait. "If there are any
//! outstanding lifecycle actions, they are completed first (ABANDON for launching instances, CONTINUE for terminating
//! instances)" (DeleteLifecycleHook, Amazon EC2 Auto Scaling API Reference): deleting at once would terminate an
//! instance in the middle of its drain; the handler keeps draining while the
//! hook stands, so waiting lets every running drain end the way the resource says.
//!
//! An instance that starts terminating during the wait is drained too and extends the wait: Auto Scaling has no way
//! to stop one hook from catching new terminations other than deleting it. The wait is bounded by the operation's
//! timeout (Ctrl-C and the `timeouts` block interrupt it), and [`DrainWatch`] tells the interrupted caller what it was
//! still waiting for.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use crate::aws::autoscaling;
use crate::clients::Clients;
use crate::error::StepError;

/// How often the groups' instances are read while waiting: a drain takes minutes, and each read is one
/// `DescribeAutoScalingGroups` per group.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// What the wait is waiting for right now: `(group, instance)` pairs, empty when nothing is held.
#[derive(Debug, Default)]
pub struct DrainWatch {
    held: Mutex<Vec<(String, String)>>,
}

impl DrainWatch {
    /// The instances still held at the last look, as `i-1 (group-a), i-2 (group-b)`; `None` when none were.
    pub fn describe(&self) -> Option<String> {
        let held = self.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if held.is_empty() {
            return None;
        }
        Some(held.iter().map(|(group, instance)| format!("{instance} ({group})")).collect::<Vec<_>>().join(", "))
    }

    fn set(&self, held: Vec<(String, String)>) {
        *self.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = held;
    }
}

/// Returns once no instance of `groups` is in a hook wait state; polls every `poll`.
pub async fn until_released(
    clients: &Clients,
    groups: &BTreeSet<String>,
    watch: &DrainWatch,
    poll: Duration,
) -> Result<(), StepError> {
    loop {
        let mut held = Vec::new();
        for group in groups {
            for instance in autoscaling::held_instances(clients, group).await? {
                held.push((group.clone(), instance));
            }
        }
        watch.set(held);
        let Some(waiting) = watch.describe() else { return Ok(()) };
        tracing::info!(waiting = %waiting, "waiting for running drains to finish before deleting lifecycle hooks");
        tokio::time::sleep(poll).await;
    }
}

/// The message of an operation interrupted while waiting: what was left and what the user can do.
pub fn interrupted_message(reason: &str, watch: &DrainWatch) -> String {
    match watch.describe() {
        Some(waiting) => format!(
            "{reason}, while waiting for drains to finish on {waiting}. The lifecycle hooks are kept so those drains \
end as configured; run the operation again once they finish, allow longer with timeouts {{ ... }}, or set \
wait_for_drains = false to delete the hooks at once (AWS then lets the waiting instances terminate, cutting their \
drains short)"
        ),
        None => reason.to_string(),
    }
}
