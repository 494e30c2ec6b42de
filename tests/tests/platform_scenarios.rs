//! End-to-end: an instance that cannot run the drain (a Windows instance: the drain is a Linux shell script) is
//! never reported drained. The SSM agent skips a step whose platformType precondition fails and counts skipped as
//! success (amazon-ssm-agent agent/contracts/aggregator.go `DocumentResultAggregator`), so the document carries a
//! failing step for each other platform; the emulator's agent follows the same rules (ssm_document_rules.py).

mod support;

use std::time::Duration;
use support::drain::{Resource, Scenario};

const MINUTE: Duration = Duration::from_secs(60);
/// moto's bundled Windows Server image (EC2 `Platform` "windows").
const WINDOWS_AMI: &str = "ami-12c6146b";

#[test]
fn a_windows_instance_is_not_drained_and_completes_with_on_failure() {
    let resource = Resource { on_failure: "abandon", ..Resource::new("pw", &["pw-g"]) };
    let world = Scenario::apply(1.0, 1.0, &[("pw-g", 0)], &[resource]);
    world.aws.use_image("pw-g", WINDOWS_AMI);
    world.aws.set_capacity("pw-g", 1);
    let windows = world.scale_in("pw-g", 0);
    let ledger = world.wait_terminated(&windows, MINUTE);
    ledger.assert_drained(&windows[0], "Failed", "ABANDON");
    // No drain ran: the Windows step said why, and the handler recorded the outcome as a failed drain.
    let log = std::fs::read_to_string(world.emulator.log_path()).expect("reading the emulator log");
    let outcome = |name: &str| {
        log.lines().any(|l| {
            l.contains(&format!("\"drain_outcome\":\"{name}\""))
                && l.contains(&format!("\"instance_id\":\"{}\"", windows[0]))
        })
    };
    assert!(outcome("drain_failed"), "no drain_failed outcome for {}", windows[0]);
    assert!(!outcome("drained"), "{} reported drained", windows[0]);
    assert_eq!(ledger.of_kind("nomad-call").filter(|e| e["instance_id"] == windows[0].as_str()).count(), 0);
}
