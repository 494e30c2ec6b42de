//! The protocol cases, each against a fresh plugin process.

use crate::client::{self, ClientIdentity, parse_handshake, terraform_like_client_identity};
use crate::fixture::{RESOURCE_TYPE, STOPPED_SUMMARY};
use crate::plugin_process::{Launch, PluginProcess};
use crate::tfplugin6 as proto;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

type Case = fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        pub static ALL: &[(&str, Case)] = &[$((stringify!($name), || Box::pin($name()))),*];
    };
}

cases!(
    handshake_line_has_the_go_plugin_shape,
    without_the_magic_cookie_a_human_gets_an_explanation,
    the_client_with_the_terraform_certificate_gets_the_schema,
    a_client_without_a_certificate_is_refused,
    a_client_with_another_certificate_is_refused,
    shutdown_makes_the_process_exit,
    stop_provider_reaches_the_provider,
    rpcs_for_unknown_types_answer_error_diagnostics,
    the_port_range_is_honoured,
    debug_mode_prints_a_reattach_line_and_serves_without_tls,
    unexpected_arguments_are_refused,
);

fn check(condition: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(message()) }
}

/// A plugin started like Terraform starts it, and the identity that may talk to it.
fn start_like_terraform() -> Result<(PluginProcess, ClientIdentity), String> {
    let identity = terraform_like_client_identity();
    let process = PluginProcess::start(&Launch::like_terraform(&identity.cert_pem))?;
    Ok((process, identity))
}

async fn handshake_line_has_the_go_plugin_shape() -> Result<(), String> {
    let (process, _) = start_like_terraform()?;
    let handshake = parse_handshake(&process.first_line)?;
    check(handshake.core_version == "1", || format!("core version {:?}", handshake.core_version))?;
    check(handshake.protocol_version == "6", || format!("protocol version {:?}", handshake.protocol_version))?;
    check(handshake.network == "tcp", || format!("network {:?}", handshake.network))?;
    check(handshake.address.ip().is_loopback(), || format!("address {} is not loopback", handshake.address))?;
    check(handshake.protocol == "grpc", || format!("protocol {:?}", handshake.protocol))?;
    let (rest, certificate) = x509_parser::parse_x509_certificate(&handshake.server_cert_der)
        .map_err(|e| format!("the handshake certificate is not X.509 DER: {e}"))?;
    check(rest.is_empty(), || "trailing bytes after the certificate".into())?;
    let names = certificate
        .subject_alternative_name()
        .map_err(|e| e.to_string())?
        .map(|san| format!("{:?}", san.value.general_names))
        .unwrap_or_default();
    check(names.contains("localhost"), || format!("go-plugin verifies the name localhost; SANs: {names}"))
}

async fn without_the_magic_cookie_a_human_gets_an_explanation() -> Result<(), String> {
    let launch = Launch { cookie: false, ..Launch::default() };
    let (status, stdout, stderr) = PluginProcess::run_to_exit(&launch, Duration::from_secs(20))?;
    check(status.code() == Some(1), || format!("exit status {status}, expected 1; stderr: {stderr}"))?;
    check(stdout.is_empty(), || format!("nothing may go to stdout, got {stdout:?}"))?;
    check(stderr.contains("is a Terraform provider plugin") && stderr.contains("not meant to be run directly"), || {
        format!("stderr does not explain: {stderr}")
    })
}

async fn the_client_with_the_terraform_certificate_gets_the_schema() -> Result<(), String> {
    let (process, identity) = start_like_terraform()?;
    let handshake = parse_handshake(&process.first_line)?;
    let channel = client::connect_tls(&handshake, Some(&identity)).await?;
    let schema = client::provider(channel)
        .get_provider_schema(proto::get_provider_schema::Request {})
        .await
        .map_err(|status| format!("GetProviderSchema failed: {status:?}; plugin stderr:\n{}", process.stderr()))?
        .into_inner();
    check(schema.resource_schemas.contains_key(RESOURCE_TYPE), || {
        format!("resource schemas: {:?}", schema.resource_schemas.keys().collect::<Vec<_>>())
    })?;
    let capabilities = schema.server_capabilities.ok_or("no server capabilities")?;
    check(capabilities.plan_destroy && capabilities.get_provider_schema_optional, || format!("{capabilities:?}"))?;
    let attributes = &schema.resource_schemas[RESOURCE_TYPE].block.as_ref().ok_or("no block")?.attributes;
    let name = attributes.iter().find(|a| a.name == "name").ok_or("no name attribute")?;
    check(name.r#type == br#""string""# && name.required, || format!("{name:?}"))
}

/// Connects with `identity` and expects the server to refuse: either the connection or the first call fails,
/// and the server logs the refusal.
async fn expect_refused(identity: Option<&ClientIdentity>) -> Result<(), String> {
    let (process, _) = start_like_terraform()?;
    let handshake = parse_handshake(&process.first_line)?;
    if let Ok(channel) = client::connect_tls(&handshake, identity).await {
        let answer = client::provider(channel).get_provider_schema(proto::get_provider_schema::Request {}).await;
        check(answer.is_err(), || "the server answered a client it must refuse".into())?;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let stderr = process.stderr();
        if stderr.contains("refused TLS client") {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("the server did not log the refusal; stderr:\n{stderr}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_client_without_a_certificate_is_refused() -> Result<(), String> {
    expect_refused(None).await
}

async fn a_client_with_another_certificate_is_refused() -> Result<(), String> {
    let stranger = terraform_like_client_identity();
    expect_refused(Some(&stranger)).await
}

async fn shutdown_makes_the_process_exit() -> Result<(), String> {
    let (mut process, identity) = start_like_terraform()?;
    let handshake = parse_handshake(&process.first_line)?;
    let channel = client::connect_tls(&handshake, Some(&identity)).await?;
    // Open the stdio stream first, as go-plugin does: it must not hold the shutdown up.
    let mut stdio = crate::plugin::grpc_stdio_client::GrpcStdioClient::new(channel.clone());
    let _stream = stdio.stream_stdio(()).await.map_err(|s| format!("StreamStdio: {s:?}"))?;
    let started = Instant::now();
    client::controller(channel)
        .shutdown(crate::plugin::Empty {})
        .await
        .map_err(|status| format!("Shutdown failed: {status:?}"))?;
    let status = tokio::task::block_in_place(|| process.wait_exit(Duration::from_secs(10)))?;
    check(status.success(), || format!("exit status {status}; stderr:\n{}", process.stderr()))?;
    check(started.elapsed() < Duration::from_secs(5), || format!("exit took {:?}", started.elapsed()))?;
    let extra = process.further_stdout();
    check(extra.is_empty(), || format!("stdout must hold only the handshake line, also got {extra:?}"))
}

async fn stop_provider_reaches_the_provider() -> Result<(), String> {
    let (process, identity) = start_like_terraform()?;
    let handshake = parse_handshake(&process.first_line)?;
    let channel = client::connect_tls(&handshake, Some(&identity)).await?;
    let mut applying = client::provider(channel.clone());
    let apply = tokio::spawn(async move {
        applying
            .apply_resource_change(proto::apply_resource_change::Request {
                type_name: RESOURCE_TYPE.into(),
                ..Default::default()
            })
            .await
    });
    // Let the apply reach the provider before stopping it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    check(!apply.is_finished(), || "the fixture's apply returned before StopProvider".into())?;
    let stop = client::provider(channel)
        .stop_provider(proto::stop_provider::Request {})
        .await
        .map_err(|status| format!("StopProvider failed: {status:?}"))?
        .into_inner();
    check(stop.error.is_empty(), || format!("StopProvider error: {}", stop.error))?;
    let applied = tokio::time::timeout(Duration::from_secs(5), apply)
        .await
        .map_err(|_| "the in-flight apply did not return within 5 s of StopProvider".to_string())?
        .map_err(|e| e.to_string())?
        .map_err(|status| format!("ApplyResourceChange failed: {status:?}"))?
        .into_inner();
    let summaries: Vec<&str> = applied.diagnostics.iter().map(|d| d.summary.as_str()).collect();
    check(summaries == [STOPPED_SUMMARY], || format!("apply diagnostics: {summaries:?}"))
}

async fn rpcs_for_unknown_types_answer_error_diagnostics() -> Result<(), String> {
    let (process, identity) = start_like_terraform()?;
    let handshake = parse_handshake(&process.first_line)?;
    let mut provider = client::provider(client::connect_tls(&handshake, Some(&identity)).await?);
    let plan = provider
        .plan_resource_change(proto::plan_resource_change::Request { type_name: "nope".into(), ..Default::default() })
        .await
        .map_err(|status| format!("PlanResourceChange must answer with diagnostics, got {status:?}"))?
        .into_inner();
    let diagnostic = plan.diagnostics.first().ok_or("no diagnostic for an unknown resource type")?;
    check(diagnostic.severity == proto::diagnostic::Severity::Error as i32, || format!("{diagnostic:?}"))?;
    check(diagnostic.summary == "Unsupported resource type \"nope\"", || format!("{diagnostic:?}"))?;
    let data = provider
        .read_data_source(proto::read_data_source::Request { type_name: "d".into(), ..Default::default() })
        .await
        .map_err(|status| format!("ReadDataSource must answer with diagnostics, got {status:?}"))?
        .into_inner();
    check(data.diagnostics.len() == 1, || format!("{:?}", data.diagnostics))?;
    // A malformed value names the attribute.
    let bad_config = proto::DynamicValue { msgpack: vec![0x81, 0xa4, b'n', b'a', b'm', b'e', 0x05], json: vec![] };
    let validated = provider
        .validate_resource_config(proto::validate_resource_config::Request {
            type_name: RESOURCE_TYPE.into(),
            config: Some(bad_config),
            client_capabilities: None,
        })
        .await
        .map_err(|status| format!("ValidateResourceConfig failed: {status:?}"))?
        .into_inner();
    let diagnostic = validated.diagnostics.first().ok_or("no diagnostic for a malformed config")?;
    check(diagnostic.detail == "name: expected a string, got an integer", || format!("{diagnostic:?}"))
}

async fn the_port_range_is_honoured() -> Result<(), String> {
    let free = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = free.local_addr().map_err(|e| e.to_string())?.port();
    drop(free);
    let identity = terraform_like_client_identity();
    let launch = Launch { port_range: Some((port, port)), ..Launch::like_terraform(&identity.cert_pem) };
    let process = PluginProcess::start(&launch)?;
    let handshake = parse_handshake(&process.first_line)?;
    check(handshake.address.port() == port, || format!("asked for port {port}, got {}", handshake.address))
}

async fn debug_mode_prints_a_reattach_line_and_serves_without_tls() -> Result<(), String> {
    let launch = Launch { cookie: false, args: vec!["--debug".into()], ..Launch::default() };
    let process = PluginProcess::start(&launch)?;
    let json = process
        .first_line
        .strip_prefix("TF_REATTACH_PROVIDERS='")
        .and_then(|rest| rest.strip_suffix('\''))
        .ok_or_else(|| format!("not a reattach line: {:?}", process.first_line))?;
    let reattach: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("reattach JSON: {e}"))?;
    let entry = &reattach[crate::FIXTURE_ADDRESS];
    check(entry["Protocol"] == "grpc" && entry["ProtocolVersion"] == 6, || format!("{reattach}"))?;
    let address = entry["Addr"]["String"].as_str().ok_or("no Addr.String")?;
    let address = address.parse().map_err(|e| format!("{address}: {e}"))?;
    let schema = client::provider(client::connect_plain(address).await?)
        .get_provider_schema(proto::get_provider_schema::Request {})
        .await
        .map_err(|status| format!("GetProviderSchema over plain TCP: {status:?}"))?;
    check(schema.get_ref().resource_schemas.contains_key(RESOURCE_TYPE), || "schema without the fixture".into())
}

async fn unexpected_arguments_are_refused() -> Result<(), String> {
    let identity = terraform_like_client_identity();
    let launch = Launch { args: vec!["--verbose".into()], ..Launch::like_terraform(&identity.cert_pem) };
    let (status, stdout, stderr) = PluginProcess::run_to_exit(&launch, Duration::from_secs(20))?;
    check(status.code() == Some(2), || format!("exit status {status}, expected 2; stderr: {stderr}"))?;
    check(stdout.is_empty(), || format!("nothing may go to stdout, got {stdout:?}"))?;
    check(stderr.contains("unexpected argument \"--verbose\""), || format!("stderr: {stderr}"))
}
