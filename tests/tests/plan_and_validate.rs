//! The real Terraform CLI against the provider, offline, for what needs no AWS: init from the mirror, schema,
//! validation errors (message and the line they point at), create plans with derived values, unknown inputs, and
//! in-place versus replacing updates planned against a stored state (`-refresh=false`).

use acceptance::terraform::{PROVIDER_SOURCE, Workspace, actions, provider_header, resource_change};
use serde_json::{Value as Json, json};

fn config(resource_body: &str) -> String {
    let header = provider_header();
    format!(
        r#"{header}resource "graceful_shutdown_asg" "ci" {{
{resource_body}
}}
"#
    )
}

const MINIMAL: &str = r#"  name                    = "nomad-clients"
  autoscaling_group_names = ["nomad-a"]
  drain {}"#;

#[test]
fn schema_lists_every_attribute_with_a_description() {
    let ws = Workspace::new(&config(MINIMAL));
    ws.init();
    let schema: Json =
        serde_json::from_str(&ws.run(&["providers", "schema", "-json"]).ok("providers schema").stdout).unwrap();
    let resource = &schema["provider_schemas"][PROVIDER_SOURCE]["resource_schemas"]["graceful_shutdown_asg"]["block"];
    let attributes = resource["attributes"].as_object().expect("attributes");
    for name in [
        "id",
        "name",
        "autoscaling_group_names",
        "on_failure",
        "heartbeat_timeout",
        "architecture",
        "log_retention_days",
        "iam_path",
        "permissions_boundary",
        "kms_key_id",
        "tags",
        "sns_topic_arn",
        "lambda_function_name",
        "lambda_function_arn",
        "ssm_document_name",
        "log_group_name",
        "publisher_role_arn",
        "handler_role_arn",
        "publisher_role_name",
        "handler_role_name",
        "lifecycle_hook_names",
        "handler_code_sha256",
    ] {
        let attribute = attributes.get(name).unwrap_or_else(|| panic!("attribute {name} missing"));
        assert!(attribute["description"].as_str().is_some_and(|d| d.len() > 10), "{name} has no description");
        assert_eq!(attribute["description_kind"], "markdown", "{name}");
    }
    assert_eq!(attributes["name"]["required"], true);
    assert_eq!(attributes["heartbeat_timeout"]["optional"], true);
    assert_eq!(attributes["heartbeat_timeout"]["computed"], true);
    assert_eq!(attributes["autoscaling_group_names"]["type"], json!(["set", "string"]));
    let drain = &resource["block_types"]["drain"];
    assert_eq!(drain["nesting_mode"], "single");
    assert_eq!(drain["min_items"], 1);
    for name in ["preset", "command", "timeout", "timeout_seconds", "nomad_deadline_seconds"] {
        assert!(drain["block"]["attributes"][name]["description"].is_string(), "drain.{name}");
    }
    let provider = &schema["provider_schemas"][PROVIDER_SOURCE]["provider"]["block"]["attributes"];
    for name in ["region", "profile", "endpoint"] {
        assert!(provider[name]["description"].is_string(), "provider {name}");
    }
}

#[test]
fn create_plan_shows_derived_values_without_contacting_aws() {
    let mut ws = Workspace::new(&config(
        r#"  name                    = "nomad-clients"
  autoscaling_group_names = ["nomad-a", "nomad-b"]
  drain {
    timeout = "90m"
  }"#,
    ));
    // No AWS is reachable from here: a plan that called AWS would fail on this endpoint.
    ws.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9").env("AWS_ACCESS_KEY_ID", "x").env("AWS_SECRET_ACCESS_KEY", "x");
    ws.init();
    let plan = ws.plan_json();
    assert_eq!(actions(&plan, "graceful_shutdown_asg.ci"), ["create"]);
    let change = resource_change(&plan, "graceful_shutdown_asg.ci");
    let after = &change["after"];
    assert_eq!(after["id"], "nomad-clients");
    assert_eq!(after["on_failure"], "continue");
    assert_eq!(after["architecture"], "arm64");
    assert_eq!(after["iam_path"], "/");
    assert_eq!(after["log_retention_days"], 30);
    // Counted from Terminating:Wait: agent wait (up to 5 min) + 3 min for a held-back start + drain budget + 3 min
    // to complete.
    assert_eq!(after["heartbeat_timeout"], 300 + 180 + 5400 + 180);
    assert_eq!(after["drain"]["preset"], "nomad");
    assert_eq!(after["drain"]["timeout_seconds"], 5400);
    assert_eq!(after["drain"]["nomad_deadline_seconds"], 5100);
    assert_eq!(after["lambda_function_name"], "nomad-clients-drain-handler");
    assert_eq!(after["ssm_document_name"], "nomad-clients-drain");
    assert_eq!(after["log_group_name"], "/aws/lambda/nomad-clients-drain-handler");
    // IAM names are global to the account: the roles carry the provider block's region.
    assert_eq!(after["publisher_role_name"], "nomad-clients-us-east-1-publisher");
    assert_eq!(after["handler_role_name"], "nomad-clients-us-east-1-handler");
    assert_eq!(
        after["lifecycle_hook_names"],
        json!({"nomad-a": "nomad-clients-drain", "nomad-b": "nomad-clients-drain"})
    );
    let sha = after["handler_code_sha256"].as_str().expect("handler sha known at plan time");
    assert_eq!(sha.len(), 44, "base64 of a SHA-256: {sha}");
    for arn in ["sns_topic_arn", "lambda_function_arn", "publisher_role_arn", "handler_role_arn"] {
        assert_eq!(change["after_unknown"][arn], true, "{arn} must be known after apply");
    }
    assert_eq!(change["after_unknown"]["owner_id"], true, "a create chooses its owner id at apply");
}

/// (attribute line to put in the resource, drain block body, expected summary, text in detail, attribute the error points at)
const INVALID: &[(&str, &str, &str, &str, &str)] = &[
    (r#"name = "nomad clients""#, "", "Invalid name", "expected only letters, digits", "name"),
    (
        r#"name = "this-name-is-far-too-long-for-a-lambda-function-name-x""#,
        "",
        "Invalid name",
        "expected 1 to 50",
        "name",
    ),
    (
        r#"autoscaling_group_names = []"#,
        "",
        "No Auto Scaling group",
        "expected at least one",
        "autoscaling_group_names",
    ),
    (r#"on_failure = "retry""#, "", "Invalid on_failure", r#"expected one of "continue", "abandon""#, "on_failure"),
    (r#"architecture = "i386""#, "", "Invalid architecture", r#""arm64", "x86_64""#, "architecture"),
    (r#"heartbeat_timeout = 20"#, "", "Invalid heartbeat_timeout", "expected 120 to 7200", "heartbeat_timeout"),
    (r#"heartbeat_timeout = 100"#, "", "Invalid heartbeat_timeout", "expected 120 to 7200", "heartbeat_timeout"),
    (
        r#"heartbeat_timeout = 300"#,
        r#"timeout = "9h""#,
        "Invalid heartbeat_timeout",
        "100 x heartbeat timeout",
        "heartbeat_timeout",
    ),
    (r#"log_retention_days = 10"#, "", "Invalid log_retention_days", "expected one of 1, 3, 5", "log_retention_days"),
    (r#"iam_path = "graceful""#, "", "Invalid iam_path", "begins and ends with '/'", "iam_path"),
    (
        r#"permissions_boundary = "Boundary""#,
        "",
        "Invalid permissions_boundary",
        "ARN of an IAM policy",
        "permissions_boundary",
    ),
    (r#"tags = { "aws:owner" = "ci" }"#, "", "Invalid tag key", "reserves", "tags"),
    // IAM's tag pattern, checked at plan time instead of failing at apply after the topic exists.
    (r#"tags = { "bad{key}" = "v" }"#, "", "Invalid tag key", "contains '{'", "tags"),
    (r#"tags = { "team" = "v<>" }"#, "", "Invalid tag value", "contains '<'", "tags"),
    (r#"tags = { "graceful:owner" = "me" }"#, "", "Invalid tag key", "is reserved", "tags"),
    (r#"timeouts { create = "soon" }"#, "", "Invalid timeout", "expected a duration like", "create"),
    (r#"timeouts { delete = "30h" }"#, "", "Invalid timeout", "expected 1s to 24h", "delete"),
    (
        "",
        r#"preset = "command"
    command = format("%5000s", "exit 0")"#,
        "Drain command too long",
        "longer than 4096 bytes",
        "command",
    ),
    ("", r#"timeout = "1 hour""#, "Invalid drain timeout", "expected a duration like", "timeout"),
    // The 1m minimum is the provider's own rule, so the summary does not blame AWS.
    ("", r#"timeout = "30s""#, "Drain timeout too short", "expected at least 1m", "timeout"),
    // Bounded before any arithmetic: this once wrapped around to a 179 s heartbeat.
    ("", r#"timeout = "18446744073709551615""#, "Drain timeout too long", "expected at most 48h", "timeout"),
    ("", r#"timeout = "2d""#, "Invalid drain timeout", "expected a duration like", "timeout"),
    ("", r#"timeout = "48h""#, "Drain budget AWS cannot honour", "at most 48h", "timeout"),
    ("", r#"preset = "consul""#, "Invalid drain.preset", r#"expected one of "nomad", "command""#, "preset"),
    ("", r#"preset = "command""#, "Missing drain command", "drain.command is required", "drain"),
    ("", r#"command = "systemctl stop worker""#, "Unexpected drain command", "only used with drain.preset", "command"),
];

#[test]
fn every_validation_error_names_its_attribute_and_what_was_expected() {
    // One workspace, rewritten per case: init once.
    let ws = Workspace::new(&config(MINIMAL));
    ws.init();
    for (attribute_line, drain_body, summary, detail_part, points_at) in INVALID {
        let mut lines =
            vec![r#"  name = "nomad-clients""#.to_string(), r#"  autoscaling_group_names = ["nomad-a"]"#.to_string()];
        if !attribute_line.is_empty() {
            let key = attribute_line.split('=').next().unwrap().trim();
            lines.retain(|l| l.split('=').next().unwrap().trim() != key);
            lines.push(format!("  {attribute_line}"));
        }
        lines.push(format!("  drain {{\n    {drain_body}\n  }}"));
        ws.write("main.tf", &config(&lines.join("\n")));
        let run = ws.validate();
        assert!(!run.success, "validate accepted {attribute_line} {drain_body}");
        let diagnostics = run.diagnostics();
        let found = diagnostics
            .iter()
            .find(|d| d.summary == *summary)
            .unwrap_or_else(|| panic!("no {summary:?} for `{attribute_line}` `{drain_body}`: {diagnostics:#?}"));
        assert!(found.detail.contains(detail_part), "{summary}: {:?} lacks {detail_part:?}", found.detail);
        assert!(
            found.code.contains(points_at),
            "{summary} should point at `{points_at}` but points at line {}: {:?}",
            found.line,
            found.code
        );
    }
}

#[test]
fn unknown_inputs_plan_as_unknown_outputs() {
    let ws = Workspace::new(&format!(
        "{}\nresource \"terraform_data\" \"upstream\" {{\n  input = \"x\"\n}}\n",
        config(
            r#"  name                    = "ci-${substr(terraform_data.upstream.id, 0, 4)}"
  autoscaling_group_names = [terraform_data.upstream.id]
  drain {
    timeout = "${length(terraform_data.upstream.id)}m"
  }"#
        )
    ));
    ws.init();
    let plan = ws.plan_json();
    let change = resource_change(&plan, "graceful_shutdown_asg.ci");
    for attribute in
        ["id", "name", "lambda_function_name", "ssm_document_name", "lifecycle_hook_names", "heartbeat_timeout"]
    {
        assert_eq!(change["after_unknown"][attribute], true, "{attribute} should be unknown: {change:#}");
    }
    assert_eq!(change["after_unknown"]["drain"]["timeout_seconds"], true);
    assert_eq!(change["after"]["on_failure"], "continue", "known defaults stay known");
}

/// A stored state matching `planned` with ARNs filled in, as if apply had run.
fn state_from_plan(plan: &Json) -> String {
    let mut attributes = resource_change(plan, "graceful_shutdown_asg.ci")["after"].clone();
    for arn in ["sns_topic_arn", "lambda_function_arn", "publisher_role_arn", "handler_role_arn"] {
        attributes[arn] = json!(format!("arn:aws:test:us-east-1:123456789012:{arn}"));
    }
    // Apply chooses the owner id (kept in state and in every piece's graceful:owner tag).
    attributes["owner_id"] = json!("0b5e1d2c-0000-4000-8000-00000000abcd");
    json!({
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 1,
        "lineage": "6d1e4c9e-0000-4000-8000-000000000001",
        "outputs": {},
        "resources": [{
            "mode": "managed",
            "type": "graceful_shutdown_asg",
            "name": "ci",
            "provider": format!("provider[\"{PROVIDER_SOURCE}\"]"),
            "instances": [{"schema_version": 1, "attributes": attributes, "sensitive_attributes": []}]
        }]
    })
    .to_string()
}

#[test]
fn updates_plan_in_place_and_a_rename_replaces() {
    let ws = Workspace::new(&config(MINIMAL));
    ws.init();
    let created = ws.plan_json();
    ws.write("terraform.tfstate", &state_from_plan(&created));
    let plan_without_refresh = || {
        ws.run(&["plan", "-refresh=false", "-no-color", "-input=false", "-out=tfplan"]).ok("plan");
        serde_json::from_str::<Json>(&ws.run(&["show", "-json", "tfplan"]).ok("show").stdout).unwrap()
    };

    // Same configuration: nothing to do.
    assert_eq!(actions(&plan_without_refresh(), "graceful_shutdown_asg.ci"), ["no-op"]);

    // More groups, a longer budget, another failure policy: all in place, ARNs kept.
    ws.write(
        "main.tf",
        &config(
            r#"  name                    = "nomad-clients"
  autoscaling_group_names = ["nomad-a", "nomad-b"]
  on_failure              = "abandon"
  drain {
    timeout = "2h"
  }"#,
        ),
    );
    let update = plan_without_refresh();
    assert_eq!(actions(&update, "graceful_shutdown_asg.ci"), ["update"]);
    let change = resource_change(&update, "graceful_shutdown_asg.ci");
    assert_eq!(change["after"]["sns_topic_arn"], change["before"]["sns_topic_arn"]);
    assert_eq!(change["after"]["heartbeat_timeout"], 7200);
    assert_eq!(change["after"]["lifecycle_hook_names"]["nomad-b"], "nomad-clients-drain");
    assert!(change["replace_paths"].is_null(), "{change:#}");

    // A new name: every AWS name changes, so the resource is replaced.
    ws.write("main.tf", &config(&MINIMAL.replace("nomad-clients", "nomad-workers")));
    let rename = plan_without_refresh();
    assert_eq!(actions(&rename, "graceful_shutdown_asg.ci"), ["delete", "create"]);
    assert_eq!(resource_change(&rename, "graceful_shutdown_asg.ci")["replace_paths"], json!([["name"]]));
}

#[test]
fn quickstart_example_plans_the_full_resource() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/quickstart/main.tf");
    let ws = Workspace::new(&std::fs::read_to_string(&example).expect("examples/quickstart/main.tf"));
    ws.init();
    ws.run(&[
        "plan",
        "-input=false",
        "-no-color",
        "-out=tfplan",
        "-var",
        "autoscaling_group_names=[\"nomad-clients\"]",
    ])
    .ok("plan");
    let plan: Json = serde_json::from_str(&ws.run(&["show", "-json", "tfplan"]).ok("show").stdout).unwrap();
    let change = resource_change(&plan, "graceful_shutdown_asg.nomad_clients");
    assert_eq!(actions(&plan, "graceful_shutdown_asg.nomad_clients"), ["create"]);
    assert_eq!(change["after"]["heartbeat_timeout"], 300 + 180 + 3600 + 180);
    assert_eq!(change["after"]["drain"]["nomad_deadline_seconds"], 3300);
    assert_eq!(change["after"]["tags"], json!({"team": "ci"}));
    assert_eq!(change["after"]["lifecycle_hook_names"], json!({"nomad-clients": "nomad-clients-drain"}));
}
