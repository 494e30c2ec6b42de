//! Test harness: one emulator per test, SDK clients pointed at it, Auto Scaling groups to hook, a desired resource.

#![allow(dead_code)] // Each test file uses a different part of the harness.

pub mod inventory;
pub mod recording;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use acceptance::emulator::Emulator;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_iam::config::Credentials;
use drain_contract::budget;
use drain_contract::names::RoleScope;
use graceful_provision::{
    Architecture, Clients, DesiredResource, DrainPreset, LifecycleResult, Ownership, lambda_code_sha256,
};

use recording::{OperationLog, RecordingClient};

pub struct TestAws {
    pub clients: Clients,
    pub operations: OperationLog,
    // Dropped last: stops the emulator and everything it started.
    pub emulator: Emulator,
}

/// Starts an emulator on a free port; the test fails (never skips) when the emulator cannot start.
pub async fn start() -> TestAws {
    let emulator = tokio::task::spawn_blocking(Emulator::start)
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("the emulated AWS is required for these tests: {e}"));
    // Explicit endpoint, dummy credentials and region: the same values `emulator.aws_env()` would export, without
    // mutating the environment of a multi-threaded test process.
    let base = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(emulator.endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
        // Enough attempts that a throttled test (see `throttled_calls_are_retried_by_the_sdk`) always gets through.
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(10))
        .load()
        .await;
    let operations = OperationLog::default();
    // The emulator speaks plain HTTP; the wrapper records each request before passing it on.
    let inner = aws_smithy_http_client::Builder::new().build_http();
    let recording = RecordingClient { inner, log: operations.clone() };
    let config = base.to_builder().http_client(recording_client(recording)).build();
    TestAws { clients: Clients::new(&config), operations, emulator }
}

fn recording_client(client: RecordingClient) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_runtime_api::client::http::SharedHttpClient::new(client)
}

/// Creates Auto Scaling groups (empty, so nothing launches) to put hooks on.
pub async fn create_groups(clients: &Clients, names: &[&str]) {
    clients
        .autoscaling
        .create_launch_configuration()
        .launch_configuration_name("test-lc")
        .image_id("ami-12c6146b")
        .instance_type("t3.micro")
        .send()
        .await
        .expect("CreateLaunchConfiguration");
    for name in names {
        clients
            .autoscaling
            .create_auto_scaling_group()
            .auto_scaling_group_name(*name)
            .launch_configuration_name("test-lc")
            .min_size(0)
            .max_size(0)
            .desired_capacity(0)
            .availability_zones("us-east-1a")
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateAutoScalingGroup {name}: {e:?}"));
    }
}

/// A customer-managed policy to use as a permissions boundary, as an organisation's platform team would provide: it
/// allows everything but the IAM user actions a drain never needs. A boundary limits what a role's session may do (IAM
/// User Guide, "Permissions boundaries for IAM entities"), so one that allows nothing would stop every drain.
pub async fn create_boundary_policy(clients: &Clients, name: &str) -> String {
    let document = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":["iam:CreateUser","iam:CreateAccessKey"],"Resource":"*"}]}"#;
    let created = clients
        .iam
        .create_policy()
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreatePolicy {name}: {e:?}"));
    created.policy.and_then(|p| p.arn).expect("CreatePolicy answers the policy's ARN")
}

/// A deployment zip with an executable `bootstrap` at its root. The provisioning tests treat the code as opaque
/// bytes; what matters is that Lambda gets a valid zip and reports its hash back.
pub fn handler_zip(marker: &str) -> &'static [u8] {
    let mut buffer = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buffer);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options).unwrap();
    write!(zip, "#!/bin/sh\n# {marker}\nexit 0\n").unwrap();
    zip.finish().unwrap();
    Box::leak(buffer.into_inner().into_boxed_slice())
}

pub fn groups(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

pub fn desired(name: &str, group_names: &[&str], drain_seconds: u64) -> DesiredResource {
    let zip = handler_zip("v1");
    DesiredResource {
        name: name.to_owned(),
        role_scope: RoleScope::Region,
        autoscaling_group_names: groups(group_names),
        budget: budget::derive(drain_seconds, None).unwrap(),
        preset: DrainPreset::nomad(),
        on_failure: LifecycleResult::Continue,
        architecture: Architecture::X86_64,
        handler_zip: zip,
        handler_code_sha256: lambda_code_sha256(zip),
        tags: BTreeMap::from([("team".to_owned(), "ci".to_owned())]),
        permissions_boundary: None,
        iam_path: "/".to_owned(),
        kms_key_id: None,
        log_retention_days: 14,
        ownership: owner(),
        wait_for_drains: true,
        spot: None,
    }
}

/// The ownership every test resource is created with.
pub fn owner() -> Ownership {
    Ownership::Tagged("test-owner".to_owned())
}
