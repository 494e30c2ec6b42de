//! `on_failure = "abandon"` keeps a failed instance only where the group's instance lifecycle policy retains
//! instances whose terminate hook ends ABANDON ("Control instance retention with instance lifecycle policies", Amazon
//! EC2 Auto Scaling User Guide; the emulator's retention.py). Apply reads each managed group's policy and warns for
//! the groups where abandon terminates anyway.

mod support;

use acceptance::emulator::Emulator;
use acceptance::terraform::Workspace;
use aws_sdk_autoscaling::types::{InstanceLifecyclePolicy, RetentionAction, RetentionTriggers};
use support::aws::Aws;
use support::drain::{Resource, config};

const WARNING: &str = "on_failure = \"abandon\" will not keep failed instances";

fn retain_abandoned(aws: &Aws, group: &str) {
    aws.runtime.block_on(async {
        aws.autoscaling
            .update_auto_scaling_group()
            .auto_scaling_group_name(group)
            .instance_lifecycle_policy(
                InstanceLifecyclePolicy::builder()
                    .retention_triggers(
                        RetentionTriggers::builder().terminate_hook_abandon(RetentionAction::Retain).build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("setting the group's instance lifecycle policy");
    });
}

fn applied(emulator: &Emulator, resource: Resource) -> String {
    let mut ws = Workspace::new(&config(&[resource]));
    for (key, value) in emulator.aws_env() {
        ws.env(key, &value);
    }
    ws.init();
    let run = ws.apply().ok("apply");
    // Terraform wraps diagnostic text at its terminal width: compare with single spaces.
    let said = format!("{}{}", run.stdout, run.stderr).split_whitespace().collect::<Vec<_>>().join(" ");
    ws.destroy().ok("destroy");
    said
}

#[test]
fn retention_abandon_warns_at_apply_for_each_group_that_would_terminate_anyway() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    aws.create_group("rt-kept", 1);
    aws.create_group("rt-lost", 1);
    retain_abandoned(&aws, "rt-kept");

    let said = applied(&emulator, Resource { on_failure: "abandon", ..Resource::new("rt", &["rt-kept", "rt-lost"]) });
    let warning = said.find(WARNING).map(|at| &said[at..]).unwrap_or_else(|| panic!("no warning:\n{said}"));
    let warning = warning.split("Apply complete").next().unwrap_or(warning);
    assert!(warning.contains("rt-lost"), "names the group without the policy:\n{warning}");
    assert!(!warning.contains("rt-kept"), "a group that retains is not named:\n{warning}");
    assert!(warning.contains("terminate_hook_abandon = \"retain\""), "says what to set:\n{warning}");
}

#[test]
fn retention_no_warning_when_every_group_retains_or_on_failure_is_continue() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    aws.create_group("rn-kept", 1);
    aws.create_group("rn-plain", 1);
    retain_abandoned(&aws, "rn-kept");

    let said = applied(&emulator, Resource { on_failure: "abandon", ..Resource::new("rn", &["rn-kept"]) });
    assert!(!said.contains(WARNING), "every group retains:\n{said}");
    let said = applied(&emulator, Resource::new("rc", &["rn-plain"]));
    assert!(!said.contains(WARNING), "continue never needs retention:\n{said}");
}
