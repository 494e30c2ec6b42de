//! Spot interruption notices: the one input a terminate hook never sees in time.
//!
//! Amazon EC2 emits `EC2 Spot Instance Interruption Warning` (source `aws.ec2`) to EventBridge "two minutes prior to
//! the actual interruption" (EC2 User Guide, "Spot Instance interruption notices"), and "a lifecycle hook does not
//! prevent an instance from terminating in the event that capacity is no longer available, which can happen at any
//! time with a two-minute interruption notice" (EC2 Auto Scaling User Guide, "Amazon EC2 Auto Scaling lifecycle
//! hooks", considerations). Without Capacity Rebalancing, Auto Scaling replaces an interrupted instance only after it
//! is gone, so its terminate hook comes too late to drain anything. With `spot { on_interruption = "drain" }` the
//! handler starts the drain at the notice, with a deadline that fits in the two minutes; the terminate hook of the
//! same instance, if it comes, finds that drain (same drain lock) instead of starting another.

use crate::budget::{FORCED_STOP_SECONDS, parse_duration};
use crate::document::{DEADLINE_PARAMETER, GRACE_PARAMETER};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `source` of the notice.
pub const INTERRUPTION_SOURCE: &str = "aws.ec2";
/// `detail-type` of the notice.
pub const INTERRUPTION_DETAIL_TYPE: &str = "EC2 Spot Instance Interruption Warning";
/// The notice comes this long before EC2 interrupts the instance.
pub const NOTICE_SECONDS: u64 = 120;
/// From the notice to the script's start: EventBridge to Lambda, the handler's calls, SSM's delivery to the agent.
pub const DELIVERY_MARGIN_SECONDS: u64 = 15;
/// The nomad preset's last check after the grace (the allocation listing and the agent's metrics gauges).
pub const FINAL_CHECK_SECONDS: u64 = 20;
/// The longest deadline that still fits: delivery, the deadline, Nomad's forced stop, the final check.
pub const MAX_DEADLINE_SECONDS: u64 =
    NOTICE_SECONDS - DELIVERY_MARGIN_SECONDS - FORCED_STOP_SECONDS - FINAL_CHECK_SECONDS;
pub const MIN_DEADLINE_SECONDS: u64 = 5;
pub const DEFAULT_DEADLINE: &str = "30s";

/// The drain started at a Spot interruption notice: its deadline and the grace after it (the document's
/// `deadlineSeconds` / `graceSeconds` for this command only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpotDrain {
    pub deadline_seconds: u64,
    pub grace_seconds: u64,
}

impl SpotDrain {
    /// The drain for a `spot.deadline` setting, or why it cannot fit in the notice.
    pub fn from_deadline(text: &str) -> Result<SpotDrain, String> {
        let deadline_seconds = parse_duration(text).map_err(|e| e.0)?;
        if !(MIN_DEADLINE_SECONDS..=MAX_DEADLINE_SECONDS).contains(&deadline_seconds) {
            return Err(format!(
                "expected {MIN_DEADLINE_SECONDS}s to {MAX_DEADLINE_SECONDS}s, got {text:?}: the drain must end within \
the {NOTICE_SECONDS}s notice, after {DELIVERY_MARGIN_SECONDS}s to deliver it, with {FORCED_STOP_SECONDS}s for Nomad's \
forced stop and {FINAL_CHECK_SECONDS}s for the final check"
            ));
        }
        Ok(SpotDrain { deadline_seconds, grace_seconds: FORCED_STOP_SECONDS })
    }
}

impl SpotDrain {
    /// The `SendCommand` parameters of a drain started at the notice: the resource's, with this deadline and grace.
    pub fn parameters(&self, base: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, Vec<String>> {
        let mut parameters = base.clone();
        parameters.insert(DEADLINE_PARAMETER.to_string(), vec![self.deadline_seconds.to_string()]);
        parameters.insert(GRACE_PARAMETER.to_string(), vec![self.grace_seconds.to_string()]);
        parameters
    }
}

/// The EventBridge pattern of the notice. Instances of every group (and of none) match: the handler drops those
/// outside its groups, since the event names only the instance.
pub fn event_pattern() -> serde_json::Value {
    serde_json::json!({ "source": [INTERRUPTION_SOURCE], "detail-type": [INTERRUPTION_DETAIL_TYPE] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_fits_in_the_notice() {
        let drain = SpotDrain::from_deadline(DEFAULT_DEADLINE).unwrap();
        assert_eq!(drain, SpotDrain { deadline_seconds: 30, grace_seconds: FORCED_STOP_SECONDS });
        let longest = SpotDrain::from_deadline(&format!("{MAX_DEADLINE_SECONDS}s")).unwrap();
        assert!(
            DELIVERY_MARGIN_SECONDS + longest.deadline_seconds + longest.grace_seconds + FINAL_CHECK_SECONDS
                <= NOTICE_SECONDS
        );
        for bad in ["2m", "46s", "4s", "soon"] {
            let error = SpotDrain::from_deadline(bad).unwrap_err();
            assert!(error.contains("expected") || error.contains("duration"), "{bad}: {error}");
        }
    }
}
