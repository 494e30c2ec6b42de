//! A state written by schema version 0, when the IAM roles were named per account (`<name>-publisher`), read by the
//! real Terraform CLI and this provider. The fixture is a real state file: `terraform apply` of [`config`] with the
//! provider at schema version 0, against the emulator. Its AWS side is rebuilt here the way that provider built it
//! (the same `converge`, with the account-wide role names), so the upgraded state must match AWS exactly.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use acceptance::terraform::{Workspace, actions, provider_header};
use drain_contract::names::RoleScope;
use graceful_provision::{Ownership, lambda_code_sha256};
use serde_json::Value as Json;

const FIXTURE: &str = include_str!("fixtures/schema-0.tfstate");
const NAME: &str = "legacy";
const GROUP: &str = "legacy-a";
const ADDRESS: &str = "graceful_shutdown_asg.fleet";

/// The configuration the fixture was applied from; `on_failure` is what the test changes.
fn config(on_failure: &str) -> String {
    format!(
        r#"{}resource "graceful_shutdown_asg" "fleet" {{
  name                    = "{NAME}"
  autoscaling_group_names = ["{GROUP}"]
  architecture            = "x86_64"
  on_failure              = "{on_failure}"
  drain {{
    timeout = "10m"
  }}
}}
"#,
        provider_header()
    )
}

/// The x86_64 handler zip the provider under test embeds (its build script reads the same file).
fn bundled_handler_zip() -> &'static [u8] {
    let dir = std::env::var_os("GRACEFUL_HANDLER_ZIP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| acceptance::emulator::workspace_root().join("target").join("lambda"));
    let path = dir.join("x86_64").join("bootstrap.zip");
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("the handler bundle {} is missing ({e}): run `cargo xtask lambda`", path.display()));
    Box::leak(bytes.into_boxed_slice())
}

fn workspace(emulator: &acceptance::emulator::Emulator, config: &str) -> Workspace {
    Workspace::initialised(config, &emulator.aws_env())
}

fn role_exists(runtime: &tokio::runtime::Runtime, aws: &support::TestAws, name: &str) -> bool {
    runtime.block_on(aws.clients.iam.get_role().role_name(name).send()).is_ok()
}

#[test]
fn a_schema_0_state_keeps_its_account_wide_roles_through_refresh_update_import_and_destroy() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let aws = runtime.block_on(support::start());
    runtime.block_on(support::create_groups(&aws.clients, &[GROUP]));
    let fixture: Json = serde_json::from_str(FIXTURE).expect("fixture JSON");
    let instance = &fixture["resources"][0]["instances"][0];
    assert_eq!(instance["schema_version"], 0, "the fixture is a schema version 0 state");
    let recorded = &instance["attributes"];
    assert!(recorded.get("handler_role_name").is_none(), "schema 0 had no role name attributes");
    let owner_id = recorded["owner_id"].as_str().expect("the fixture records its owner id");

    // AWS as the schema 0 provider left it.
    let zip = bundled_handler_zip();
    let mut legacy = support::desired(NAME, &[GROUP], 600);
    legacy.role_scope = RoleScope::Account;
    legacy.handler_zip = zip;
    legacy.handler_code_sha256 = lambda_code_sha256(zip);
    legacy.tags = BTreeMap::new();
    legacy.log_retention_days = 30;
    legacy.ownership = Ownership::Tagged(owner_id.to_owned());
    let seeded = runtime.block_on(graceful_provision::converge(&aws.clients, &legacy, None)).unwrap();
    assert_eq!(seeded.handler_role.as_ref().map(|r| r.arn.as_str()), recorded["handler_role_arn"].as_str());

    let ws = workspace(&aws.emulator, &config("continue"));
    ws.write("terraform.tfstate", FIXTURE);
    // Refresh + plan upgrade the state: the roles it names are the ones that exist, so nothing changes.
    let plan = ws.plan_json();
    assert_eq!(actions(&plan, ADDRESS), ["no-op"], "{:#}", acceptance::terraform::resource_change(&plan, ADDRESS));

    // An update acts on the existing roles and creates no regional ones.
    ws.write("main.tf", &config("abandon"));
    ws.apply().ok("apply (update of an upgraded state)");
    let updated = ws.resource_values(ADDRESS);
    assert_eq!(updated["on_failure"], "abandon");
    assert_eq!(updated["handler_role_name"], "legacy-handler");
    assert_eq!(updated["publisher_role_name"], "legacy-publisher");
    assert_eq!(updated["handler_role_arn"], recorded["handler_role_arn"]);
    for regional in ["legacy-us-east-1-handler", "legacy-us-east-1-publisher"] {
        assert!(!role_exists(&runtime, &aws, regional), "the update created {regional}");
    }
    let stored: Json = serde_json::from_str(&std::fs::read_to_string(ws.path().join("terraform.tfstate")).unwrap())
        .expect("state file JSON");
    assert_eq!(stored["resources"][0]["instances"][0]["schema_version"], 1, "the state is stored upgraded");

    // An import by name finds the account-wide roles too (the function's role tells which).
    let imported = workspace(&aws.emulator, &config("abandon"));
    imported.run(&["import", "-no-color", "-input=false", ADDRESS, NAME]).ok("import");
    assert_eq!(imported.resource_values(ADDRESS)["handler_role_name"], "legacy-handler");
    let after_import = imported.plan_json();
    assert_eq!(
        actions(&after_import, ADDRESS),
        ["no-op"],
        "{:#}",
        acceptance::terraform::resource_change(&after_import, ADDRESS)
    );

    ws.destroy().ok("destroy");
    for role in ["legacy-handler", "legacy-publisher"] {
        assert!(!role_exists(&runtime, &aws, role), "destroy left {role} behind");
    }
    let functions = runtime.block_on(aws.clients.lambda.list_functions().send()).unwrap();
    assert!(functions.functions().is_empty(), "destroy left the function behind");
}
