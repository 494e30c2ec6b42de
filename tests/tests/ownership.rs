//! Ownership with the real Terraform CLI: a create never takes over objects another state (or tool) owns, a
//! destroy deletes only its own, a `create_before_destroy` replacement with the same name fails clearly instead of
//! deleting everything, and an import still takes ownership explicitly.

mod support;

use acceptance::emulator::Emulator;
use acceptance::terraform::{Run, Workspace, actions, provider_header, resource_change};
use serde_json::Value as Json;
use support::aws::Aws;

const ADDRESS: &str = "graceful_shutdown_asg.fleet";

fn config(name: &str, groups: &[&str], lifecycle: &str) -> String {
    let groups: Vec<String> = groups.iter().map(|g| format!("\"{g}\"")).collect();
    let header = provider_header();
    format!(
        r#"{header}resource "graceful_shutdown_asg" "fleet" {{
  name                    = "{name}"
  autoscaling_group_names = [{}]
  architecture            = "x86_64"
  drain {{
    timeout = "10m"
  }}
  {lifecycle}
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

fn assert_failed_with(run: &Run, what: &str, expected: &[&str]) {
    assert!(!run.success, "{what} must fail\n--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
    // Terraform wraps long diagnostic lines; compare with the line breaks and box characters removed.
    let text: String = run.stderr.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in expected {
        assert!(text.contains(needle), "{what}: missing {needle:?} in:\n{}", run.stderr);
    }
}

#[test]
fn a_second_state_with_the_same_name_is_refused_and_leaves_the_first_alone() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    for group in ["own-a", "own-b"] {
        aws.create_group(group, 0);
    }
    let first = workspace(&emulator, &config("shared", &["own-a"], ""));
    first.apply().ok("apply (first state)");
    let owned = state_attributes(&first);
    let owner_id = owned["owner_id"].as_str().expect("owner_id is recorded").to_string();
    assert_eq!(owner_id.len(), 32, "{owned:#}");

    // Another state declares the same name for another group: refused, nothing of the first one changes.
    let second = workspace(&emulator, &config("shared", &["own-b"], ""));
    let refused = second.apply();
    assert_failed_with(
        &refused,
        "apply (second state)",
        &[
            "IAM role shared-us-east-1-publisher already exists",
            "Lambda function shared-drain-handler already exists",
            &format!("graceful:owner tag is \"{owner_id}\""),
            "terraform import",
        ],
    );
    assert!(aws.hooks("own-b").is_empty(), "the refused create put a hook on its group");
    let hooks = aws.hooks("own-a");
    assert_eq!(hooks.len(), 1, "the first state's hook must stay");
    assert_eq!(hooks[0].notification_target_arn(), owned["sns_topic_arn"].as_str());
    assert_eq!(state_attributes(&second), Json::Null, "nothing of the first state may enter the second one");
    assert_no_changes(&first);

    // The second state's destroy deletes nothing of the first one's.
    second.destroy().ok("destroy (second state)");
    assert_eq!(aws.hooks("own-a").len(), 1);
    assert_no_changes(&first);

    // A hook of someone else's, named like ours, on a group added later: refused, never overwritten.
    aws.put_plain_hook("own-b", "shared-drain");
    first.write("main.tf", &config("shared", &["own-a", "own-b"], ""));
    let refused = first.apply();
    assert_failed_with(
        &refused,
        "apply (foreign hook)",
        &["Auto Scaling lifecycle hook own-b/shared-drain already exists"],
    );
    let foreign = aws.hooks("own-b");
    assert_eq!(foreign.len(), 1);
    assert_eq!(foreign[0].notification_metadata(), Some("{\"graceful_shutdown_asg\":\"someone-else\"}"));
    assert_eq!(foreign[0].notification_target_arn(), None, "the foreign hook was rewired");

    // Import still takes ownership explicitly, and adopts the owner id of what it imports.
    let imported = workspace(&emulator, &config("shared", &["own-a"], ""));
    imported.run(&["import", "-no-color", "-input=false", ADDRESS, "shared"]).ok("import");
    assert_eq!(state_attributes(&imported)["owner_id"], owner_id.as_str());
    assert_no_changes(&imported);

    first.write("main.tf", &config("shared", &["own-a"], ""));
    first.destroy().ok("destroy (first state)");
    let left = aws.leftovers("shared", &["own-a"]);
    assert!(left.is_empty(), "destroy left resources behind: {left:#?}");
    assert_eq!(aws.hooks("own-b").len(), 1, "the destroy deleted a hook it does not own");
}

#[test]
fn create_before_destroy_with_the_same_name_fails_clearly_and_deletes_nothing() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    aws.create_group("cbd-a", 0);
    let ws = workspace(&emulator, &config("cbd", &["cbd-a"], "lifecycle {\n    create_before_destroy = true\n  }"));
    ws.apply().ok("apply (create)");
    let before = state_attributes(&ws);

    let replaced = ws.run(&["apply", "-input=false", "-no-color", "-auto-approve", &format!("-replace={ADDRESS}")]);
    assert_failed_with(&replaced, "apply -replace", &["already exists", "create_before_destroy", "new name"]);

    // Every piece of the old instance is still there and still in the state.
    let hooks = aws.hooks("cbd-a");
    assert_eq!(hooks.len(), 1, "the hook was lost");
    assert_eq!(hooks[0].notification_target_arn(), before["sns_topic_arn"].as_str());
    assert_eq!(state_attributes(&ws)["owner_id"], before["owner_id"]);
    assert_no_changes(&ws);

    ws.destroy().ok("destroy");
    let left = aws.leftovers("cbd", &["cbd-a"]);
    assert!(left.is_empty(), "destroy left resources behind: {left:#?}");
}

#[test]
fn the_same_name_in_two_regions_gets_roles_of_its_own_and_destroying_one_leaves_the_other() {
    let emulator = Emulator::start().expect("starting the emulator");
    let east = Aws::new(&emulator);
    let west = Aws::in_region(&emulator, "us-west-2");
    east.create_group("mr-east", 0);
    west.create_group("mr-west", 0);
    let east_only = config("mr", &["mr-east"], "");
    let ws = workspace(&emulator, &east_only);
    ws.apply().ok("apply (us-east-1)");
    let east_handler = east.role_policies("mr-us-east-1-handler");
    let east_publisher = east.role_policies("mr-us-east-1-publisher");

    // IAM is global to the account; the same name in us-west-2 gets its own roles, scoped to its own region.
    let both = format!(
        r#"{east_only}
provider "graceful" {{
  alias  = "west"
  region = "us-west-2"
}}

resource "graceful_shutdown_asg" "west" {{
  provider                = graceful.west
  name                    = "mr"
  autoscaling_group_names = ["mr-west"]
  architecture            = "x86_64"
  drain {{
    timeout = "10m"
  }}
}}
"#
    );
    ws.write("main.tf", &both);
    ws.apply().ok("apply (us-west-2)");
    let west_state = ws.resource_values(WEST);
    assert_eq!(west_state["handler_role_name"], "mr-us-west-2-handler");
    assert_eq!(west_state["publisher_role_name"], "mr-us-west-2-publisher");
    assert_eq!(ws.resource_values(ADDRESS)["handler_role_name"], "mr-us-east-1-handler");
    let (_, west_policies) = west.role_policies("mr-us-west-2-handler");
    let west_policy = serde_json::to_string(&west_policies).unwrap();
    assert!(west_policy.contains("arn:aws:ssm:us-west-2:"), "the west handler may act in its region: {west_policy}");
    assert!(!west_policy.contains("us-east-1"), "the west handler's policy names the east region: {west_policy}");
    assert_eq!(east.role_policies("mr-us-east-1-handler"), east_handler, "the east handler's role was rewritten");
    assert_eq!(east.role_policies("mr-us-east-1-publisher"), east_publisher, "the east publisher was rewritten");
    assert_eq!(west.hooks("mr-west")[0].role_arn(), west_state["publisher_role_arn"].as_str());

    // Destroying the west one deletes its roles only.
    let destroyed = ws.run(&["destroy", "-input=false", "-no-color", "-auto-approve", &format!("-target={WEST}")]);
    destroyed.ok("destroy -target (us-west-2)");
    assert_eq!(east.role_policies("mr-us-east-1-handler"), east_handler, "destroying west touched the east role");
    assert_eq!(east.role_policies("mr-us-east-1-publisher"), east_publisher);
    let west_left: Vec<String> =
        west.leftovers("mr", &["mr-west"]).into_iter().filter(|piece| !piece.contains("us-east-1")).collect();
    assert!(west_left.is_empty(), "destroy left the west resource's pieces behind: {west_left:#?}");
    ws.write("main.tf", &east_only);
    assert_no_changes_for(&ws, ADDRESS);

    ws.destroy().ok("destroy");
    let left = east.leftovers("mr", &["mr-east"]);
    assert!(left.is_empty(), "destroy left resources behind: {left:#?}");
}

const WEST: &str = "graceful_shutdown_asg.west";

fn assert_no_changes_for(ws: &Workspace, address: &str) {
    let plan = ws.plan_json();
    assert_eq!(actions(&plan, address), ["no-op"], "expected no change: {:#}", resource_change(&plan, address));
}

/// Two resources on one group each put a hook on it: every terminating instance would be drained twice and wait
/// for both. Apply says so, naming the other resource; a group only one resource manages gets no warning.
#[test]
fn a_group_managed_by_two_resources_is_warned_about_at_apply() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    aws.create_group("shared-g", 1);
    aws.create_group("alone-g", 1);
    let first = workspace(&emulator, &config("fleet-one", &["shared-g", "alone-g"], ""));
    let said = first.apply().ok("first apply");
    assert!(!said.stdout.contains("more than one graceful_shutdown_asg"), "nothing shared yet:\n{}", said.stdout);
    let second = workspace(&emulator, &config("fleet-two", &["shared-g"], ""));
    let said = second.apply().ok("second apply");
    let text: String = said.stdout.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("Auto Scaling group \"shared-g\" is managed by more than one graceful_shutdown_asg"),
        "{text}"
    );
    assert!(text.contains("\"fleet-one\""), "names the other resource: {text}");
    assert!(!text.contains("\"alone-g\" is managed by more than one"), "{text}");
    second.destroy().ok("destroy second");
    first.destroy().ok("destroy first");
}
