//! An AWS endpoint that accepts connections and never answers must not hang Terraform: the `timeouts` block bounds
//! an apply, and Ctrl-C (Terraform's StopProvider) interrupts an apply and a refresh promptly.

mod support;

use acceptance::emulator::Emulator;
use acceptance::terraform::{Workspace, provider_header, terraform_binary};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::aws::Aws;

fn config(name: &str, group: &str, timeouts: &str) -> String {
    let header = provider_header();
    format!(
        r#"{header}resource "graceful_shutdown_asg" "fleet" {{
  name                    = "{name}"
  autoscaling_group_names = ["{group}"]
  architecture            = "x86_64"
  drain {{
    timeout = "10m"
  }}
  {timeouts}
}}
"#
    )
}

/// A loopback port whose listen backlog takes connections that nobody ever accepts or answers.
fn black_hole() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a black-hole port");
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

fn workspace(config: &str, endpoint: &str) -> Workspace {
    let mut ws = Workspace::new(config);
    for (key, value) in [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ] {
        ws.env(key, value);
    }
    ws.init();
    ws
}

/// `terraform <args>` in `ws` as a child process, with the workspace's CLI configuration and `endpoint`.
fn spawn(ws: &Workspace, endpoint: &str, args: &[&str]) -> Child {
    Command::new(terraform_binary())
        .args(args)
        .current_dir(ws.path())
        .env("TF_CLI_CONFIG_FILE", ws.path().join(".terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("TF_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting terraform")
}

/// Waits up to `limit` for `child` to exit; kills it (and fails) when it does not.
fn exits_within(mut child: Child, limit: Duration, what: &str) -> (Duration, String) {
    let started = Instant::now();
    loop {
        if child.try_wait().expect("polling terraform").is_some() {
            let output = child.wait_with_output().expect("terraform output");
            let text =
                format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
            return (started.elapsed(), text);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().expect("terraform output");
            panic!(
                "{what}: terraform still running after {limit:?}\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[allow(unsafe_code)] // libc has no safe kill(2)
fn interrupt(child: &Child) {
    let pid = i32::try_from(child.id()).expect("pid fits");
    // SAFETY: sends a signal to a child process this test started and still owns.
    unsafe { libc::kill(pid, libc::SIGINT) };
}

#[test]
fn the_create_timeout_bounds_an_apply_against_an_endpoint_that_never_answers() {
    let (_listener, endpoint) = black_hole();
    let ws = workspace(&config("hang", "hang-a", "timeouts {\n    create = \"5s\"\n  }"), &endpoint);
    let child = spawn(&ws, &endpoint, &["apply", "-input=false", "-no-color", "-auto-approve"]);
    let (took, output) = exits_within(child, Duration::from_secs(60), "apply with timeouts.create = 5s");
    assert!(took < Duration::from_secs(30), "apply took {took:?}\n{output}");
    assert!(output.contains("Timed out"), "{output}");
    assert!(output.contains("create timeout of 5s passed"), "{output}");
}

#[test]
fn ctrl_c_interrupts_a_hung_apply_promptly() {
    let (_listener, endpoint) = black_hole();
    let ws = workspace(&config("hang", "hang-a", ""), &endpoint);
    let child = spawn(&ws, &endpoint, &["apply", "-input=false", "-no-color", "-auto-approve"]);
    std::thread::sleep(Duration::from_secs(3));
    interrupt(&child);
    let (took, output) = exits_within(child, Duration::from_secs(60), "apply after Ctrl-C");
    assert!(took < Duration::from_secs(10), "Terraform needed {took:?} to stop after Ctrl-C\n{output}");
    assert!(output.contains("Stopped"), "{output}");
}

#[test]
fn ctrl_c_interrupts_a_hung_refresh_promptly() {
    let emulator = Emulator::start().expect("starting the emulator");
    let aws = Aws::new(&emulator);
    aws.create_group("refresh-a", 0);
    let ws = workspace(&config("refresh", "refresh-a", ""), emulator.endpoint());
    ws.apply().ok("apply against the emulator");

    // The endpoint now accepts and never answers: the plan's refresh (ReadResource) hangs until interrupted.
    let (_listener, endpoint) = black_hole();
    let child = spawn(&ws, &endpoint, &["plan", "-input=false", "-no-color"]);
    std::thread::sleep(Duration::from_secs(3));
    interrupt(&child);
    let (took, output) = exits_within(child, Duration::from_secs(60), "plan after Ctrl-C");
    assert!(took < Duration::from_secs(10), "Terraform needed {took:?} to stop a refresh after Ctrl-C\n{output}");

    ws.destroy().ok("destroy against the emulator");
}
