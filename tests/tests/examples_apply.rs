//! The examples a user copies, applied for real against the emulated AWS: `examples/multi-asg` (hooks on every zonal
//! group, a scale-in drained and completed, its failure policy) and `examples/nomad-clients-module` (two module
//! instances with the account's IAM path, permissions boundary and tags). Each ends with a no-op plan and a destroy
//! that leaves nothing behind.

mod support;

use acceptance::emulator::{Emulator, NomadBehaviour};
use acceptance::examples::{examples_root, workspace_from};
use acceptance::terraform::{Workspace, actions};
use serde_json::{Value as Json, json};
use std::time::{Duration, Instant};
use support::aws::Aws;
use support::drain::Ledger;

/// How long a drain of a few seconds may take end to end (the arm64 handler runs under emulation here).
const DRAIN_DEADLINE: Duration = Duration::from_secs(120);

fn example_workspace(emulator: &Emulator, example: &str, variables: &[(&str, String)]) -> Workspace {
    let mut ws = workspace_from(&examples_root().join(example));
    for (key, value) in emulator.aws_env() {
        ws.env(key, &value);
    }
    for (name, value) in variables {
        ws.env(&format!("TF_VAR_{name}"), value);
    }
    ws.init();
    ws
}

fn assert_empty_plan(ws: &Workspace, addresses: &[&str]) {
    let plan = ws.plan_json();
    for address in addresses {
        assert_eq!(actions(&plan, address), ["no-op"], "a second plan must change nothing for {address}");
    }
}

fn output(ws: &Workspace, name: &str) -> Json {
    ws.state_json()["values"]["outputs"][name]["value"].clone()
}

/// The emulator's event log once `instance` has terminated (bounded wait).
fn wait_terminated(emulator: &Emulator, instance: &str) -> Ledger {
    let started = Instant::now();
    loop {
        let ledger = Ledger { events: emulator.events().expect("reading the emulator's events") };
        if ledger.terminated(instance).is_some() {
            return ledger;
        }
        assert!(
            started.elapsed() < DRAIN_DEADLINE,
            "{instance} not terminated after {} s; emulator log {}; events:\n{}",
            DRAIN_DEADLINE.as_secs(),
            emulator.log_path().display(),
            ledger.summary()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The one instance of `group`.
fn only_instance(aws: &Aws, group: &str) -> String {
    let states = aws.instance_states(group);
    assert_eq!(states.len(), 1, "{group}: {states:?}");
    states.into_keys().next().unwrap()
}

#[test]
fn multi_asg_example_drains_every_zonal_group() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    let groups = ["nomad-batch-use1-az1", "nomad-batch-use1-az2", "nomad-batch-use1-az4"];
    for group in groups {
        aws.create_group(group, 1);
    }
    emulator.set_nomad(&NomadBehaviour { drain_seconds: 1.0, ..Default::default() }).expect("nomad stand-in");
    let ws = example_workspace(&emulator, "multi-asg", &[("autoscaling_group_names", json!(groups).to_string())]);

    let plan = ws.plan_json();
    assert_eq!(actions(&plan, "graceful_shutdown_asg.nomad_clients"), ["create"]);
    ws.apply().ok("apply");
    let function = output(&ws, "lambda_function_name");
    assert_eq!(function, "nomad-batch-drain-handler");
    assert_eq!(output(&ws, "heartbeat_timeout"), 7200);
    for group in groups {
        let hooks = aws.hooks(group);
        assert_eq!(hooks.len(), 1, "one hook on {group}: {hooks:#?}");
        assert_eq!(hooks[0].lifecycle_hook_name(), Some("nomad-batch-drain"));
        assert_eq!(hooks[0].heartbeat_timeout(), Some(7200));
        assert_eq!(hooks[0].notification_target_arn(), output(&ws, "sns_topic_arn").as_str());
    }
    assert_empty_plan(&ws, &["graceful_shutdown_asg.nomad_clients"]);

    // Scale-in in one zone: the instance drains, then completes with CONTINUE.
    let drained = only_instance(&aws, "nomad-batch-use1-az2");
    aws.set_capacity("nomad-batch-use1-az2", 0);
    wait_terminated(&emulator, &drained).assert_drained(&drained, "Success", "CONTINUE");

    // A failed drain in another zone: the example's on_failure = "abandon" decides the result.
    let failing = only_instance(&aws, "nomad-batch-use1-az4");
    emulator
        .set_nomad(&NomadBehaviour { instance_id: Some(failing.clone()), fail: true, ..Default::default() })
        .expect("failing nomad stand-in");
    aws.set_capacity("nomad-batch-use1-az4", 0);
    wait_terminated(&emulator, &failing).assert_drained(&failing, "Failed", "ABANDON");
    assert_eq!(aws.instance_states("nomad-batch-use1-az1").len(), 1, "the third zone is untouched");

    ws.destroy().ok("destroy");
    let left = aws.leftovers("nomad-batch", &groups);
    assert!(left.is_empty(), "destroy left resources behind: {left:#?}");
}

#[test]
fn module_example_applies_two_fleets_with_the_account_conventions() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    let ci_groups = ["nomad-ci-use1-az1", "nomad-ci-use1-az2"];
    let batch_groups = ["nomad-batch-use1-az1"];
    for group in ci_groups.iter().chain(&batch_groups) {
        aws.create_group(group, 0);
    }
    // The boundary an enterprise account requires on every role exists before any workload.
    let boundary = aws.runtime.block_on(async {
        let policy =
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let created = aws
            .iam
            .create_policy()
            .policy_name("platform-boundary")
            .policy_document(policy.to_string())
            .send()
            .await
            .expect("creating the permissions boundary policy");
        created.policy().and_then(|p| p.arn()).expect("policy ARN").to_string()
    });
    let ws = example_workspace(
        &emulator,
        "nomad-clients-module",
        &[
            ("environment", "acc".to_string()),
            ("permissions_boundary", boundary.clone()),
            ("ci_build_group_names", json!(ci_groups).to_string()),
            ("batch_group_names", json!(batch_groups).to_string()),
        ],
    );
    let resources = ["module.ci_builds.graceful_shutdown_asg.this", "module.batch_jobs.graceful_shutdown_asg.this"];
    let plan = ws.plan_json();
    for address in resources {
        assert_eq!(actions(&plan, address), ["create"], "{address}");
    }
    ws.apply().ok("apply");

    assert_eq!(output(&ws, "heartbeat_timeouts"), json!({"ci_builds": 7200, "batch_jobs": 7200}));
    assert_eq!(
        output(&ws, "lifecycle_hook_names"),
        json!({
            "ci_builds": {"nomad-ci-use1-az1": "acc-ci-builds-drain", "nomad-ci-use1-az2": "acc-ci-builds-drain"},
            "batch_jobs": {"nomad-batch-use1-az1": "acc-batch-jobs-drain"},
        })
    );
    for group in ci_groups {
        assert_eq!(aws.hooks(group)[0].lifecycle_hook_name(), Some("acc-ci-builds-drain"), "{group}");
    }
    assert_eq!(aws.hooks("nomad-batch-use1-az1")[0].lifecycle_hook_name(), Some("acc-batch-jobs-drain"));

    // Every role follows the account's conventions: path, boundary, and the root's common tags plus the fleet's.
    for (fleet, team) in [("acc-ci-builds", "ci"), ("acc-batch-jobs", "data")] {
        for role_name in [format!("{fleet}-us-east-1-publisher"), format!("{fleet}-us-east-1-handler")] {
            let role = aws.runtime.block_on(async {
                aws.iam.get_role().role_name(&role_name).send().await.expect("getting role").role.expect("role")
            });
            assert_eq!(role.path(), "/platform/", "{role_name}");
            assert_eq!(
                role.permissions_boundary().and_then(|b| b.permissions_boundary_arn()),
                Some(boundary.as_str()),
                "{role_name}"
            );
            let tags: std::collections::BTreeMap<&str, &str> =
                role.tags().iter().map(|t| (t.key(), t.value())).collect();
            for (key, value) in
                [("environment", "acc"), ("cost-center", "platform-0042"), ("team", team), ("nomad-fleet", fleet)]
            {
                assert_eq!(tags.get(key).copied(), Some(value), "tag {key} on {role_name}: {tags:?}");
            }
        }
    }
    assert_empty_plan(&ws, &resources);

    ws.destroy().ok("destroy");
    let groups: Vec<&str> = ci_groups.iter().chain(&batch_groups).copied().collect();
    for fleet in ["acc-ci-builds", "acc-batch-jobs"] {
        let left = aws.leftovers(fleet, &groups);
        assert!(left.is_empty(), "destroy left resources of {fleet} behind: {left:#?}");
    }
}
