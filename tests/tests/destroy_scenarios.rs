//! Destroy and group removal never cut a running drain: a real `terraform destroy` / `apply` of
//! `graceful_shutdown_asg`, the real handler, emulated AWS. Deleting a lifecycle hook completes its outstanding
//! terminate actions with CONTINUE at once (DeleteLifecycleHook, Amazon EC2 Auto Scaling API Reference; the emulator
//! does the same and logs the completion with reason "lifecycle hook deleted"), so the provider waits for the drains
//! first, unless `wait_for_drains = false`.

mod support;

use std::time::Duration;
use support::drain::{Resource, Scenario};

const MINUTE: Duration = Duration::from_secs(60);
/// Every drain script runs this long (real seconds): long enough that destroy starts while it runs.
const DRAIN_SECONDS: f64 = 30.0;

#[test]
fn destroy_waits_for_a_running_drain_then_removes_everything() {
    let world = Scenario::apply(1.0, DRAIN_SECONDS, &[("dw-g", 2)], &[Resource::new("dw", &["dw-g"])]);
    let draining = world.scale_in("dw-g", 1);
    let instance = &draining[0];
    world.wait_until(MINUTE, "the drain running", |l| !l.commands(instance).is_empty());
    world.ws.destroy().ok("destroy");
    let ledger = world.ledger();
    ledger.assert_drained(instance, "Success", "CONTINUE");
    assert!(world.aws.leftovers("dw", &["dw-g"]).is_empty(), "destroy left resources behind");
    // Completed by the handler after the drain (`assert_drained`), not by the hook's deletion: the hook went after.
}

#[test]
fn destroy_waits_is_turned_off_by_wait_for_drains_false() {
    let resource = Resource { extra: "  wait_for_drains         = false\n", ..Resource::new("dn", &["dn-g"]) };
    let world = Scenario::apply(1.0, DRAIN_SECONDS, &[("dn-g", 2)], &[resource]);
    let draining = world.scale_in("dn-g", 1);
    let instance = &draining[0];
    world.wait_until(MINUTE, "the drain running", |l| !l.commands(instance).is_empty());
    world.ws.destroy().ok("destroy");
    let ledger = world.wait_terminated(&draining, Duration::from_secs(10));
    let completions = ledger.completions(instance);
    assert_eq!(completions.len(), 1, "{}", ledger.summary());
    assert_eq!(completions[0]["reason"], "lifecycle hook deleted", "{}", ledger.summary());
    assert_eq!(completions[0]["result"], "CONTINUE");
    assert!(ledger.drain_end(instance).is_none(), "the drain was still running when destroy released the instance");
    assert!(world.aws.leftovers("dn", &["dn-g"]).is_empty(), "destroy left resources behind");
}

#[test]
fn destroy_waits_until_its_timeout_then_keeps_everything_and_says_which_instance_drains() {
    let resource = Resource { extra: "  timeouts {\n    delete = \"5s\"\n  }\n", ..Resource::new("dt", &["dt-g"]) };
    let world = Scenario::apply(1.0, DRAIN_SECONDS, &[("dt-g", 2)], &[resource]);
    let draining = world.scale_in("dt-g", 1);
    let instance = &draining[0];
    world.wait_until(MINUTE, "the drain running", |l| !l.commands(instance).is_empty());
    let refused = world.ws.destroy();
    assert!(!refused.success, "destroy must stop at its timeout while the drain runs");
    let said = format!("{}{}", refused.stdout, refused.stderr).replace('\n', " ");
    assert!(said.contains(instance.as_str()), "the error names the draining instance: {said}");
    assert!(said.contains("timeouts") && said.contains("wait_for_drains = false"), "the error says what to do: {said}");
    // Nothing was cut: the hook still holds the instance, and the drain ends the way the resource says.
    assert!(world.ledger().completions(instance).is_empty(), "released during the refused destroy");
    let ledger = world.wait_terminated(&draining, MINUTE);
    ledger.assert_drained(instance, "Success", "CONTINUE");
    world.ws.destroy().ok("destroy after the drain");
    assert!(world.aws.leftovers("dt", &["dt-g"]).is_empty(), "destroy left resources behind");
}

#[test]
fn group_removal_waits_for_the_groups_running_drain() {
    let world =
        Scenario::apply(1.0, DRAIN_SECONDS, &[("gr-a", 1), ("gr-b", 2)], &[Resource::new("gr", &["gr-a", "gr-b"])]);
    let draining = world.scale_in("gr-b", 1);
    let instance = &draining[0];
    world.wait_until(MINUTE, "the drain running", |l| !l.commands(instance).is_empty());
    world.ws.write("main.tf", &support::drain::config(&[Resource::new("gr", &["gr-a"])]));
    world.ws.apply().ok("apply without gr-b");
    let ledger = world.ledger();
    ledger.assert_drained(instance, "Success", "CONTINUE");
    assert!(world.aws.hooks("gr-b").is_empty(), "the removed group's hook is gone");
    assert_eq!(world.aws.hooks("gr-a").len(), 1, "the kept group's hook stays");
}
