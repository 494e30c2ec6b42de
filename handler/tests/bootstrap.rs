//! The real `bootstrap` binary under a Lambda Runtime API served by the test: it answers each invocation within
//! its deadline and logs JSON lines on stdout that name the instance they are about.

mod support;

use drain_contract::{CONFIG_ENV_VAR, HandlerConfig};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::runtime_api::{Answer, RuntimeApi};

/// Kills the function process when the test ends, passing or not (Lambda has no shutdown call either).
struct Function {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Function {
    fn start(api: &RuntimeApi, endpoint: &str) -> Function {
        let config = HandlerConfig::example();
        let mut child = Command::new(env!("CARGO_BIN_EXE_bootstrap"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", api.address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "ci-drain-handler")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/config")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
            .env("AWS_ENDPOINT_URL", endpoint)
            .env(CONFIG_ENV_VAR, config.to_json())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning the bootstrap binary");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let lines = stdout.clone();
        let pipe = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let function = Function { child, stdout };
        assert!(api.wait_polled(Duration::from_secs(20)), "bootstrap never polled /next");
        function
    }

    fn lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Invokes once and returns the answer and how long it took.
fn invoke(api: &RuntimeApi, request_id: &str, payload: &Value, deadline: Duration) -> (Answer, Duration) {
    let started = Instant::now();
    api.invoke(request_id, payload, deadline);
    let answer = api
        .answer(deadline + Duration::from_secs(5))
        .unwrap_or_else(|| panic!("{request_id}: no answer within its {deadline:?} deadline (+5 s)"));
    assert_eq!(answer.request_id, request_id);
    (answer, started.elapsed())
}

/// A local port that accepts connections and never answers: the worst endpoint for a client that does not bound
/// its calls. The listener lives as long as the returned guard.
fn black_hole() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// A local port nothing listens on: connections are refused.
fn refused_port() -> String {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}")
}

fn json_lines(function: &Function) -> Vec<Value> {
    function
        .lines()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}")))
        .collect()
}

#[test]
fn skips_test_notifications_and_foreign_events_without_calling_aws() {
    let api = RuntimeApi::start();
    let (_hole, endpoint) = black_hole();
    let function = Function::start(&api, &endpoint);

    let (answer, elapsed) = invoke(&api, "req-test", &fixture("sns-test-notification.json"), Duration::from_secs(10));
    assert_eq!(answer.kind, "response", "{:?}", answer.body);
    assert!(answer.body["handled"][0]["skipped"].as_str().unwrap().contains("test notification"), "{:?}", answer.body);
    assert!(elapsed < Duration::from_secs(2), "no AWS call is needed, took {elapsed:?}");

    let (answer, _) =
        invoke(&api, "req-foreign", &fixture("eventbridge-ec2-state-change.json"), Duration::from_secs(10));
    assert_eq!(answer.kind, "response", "garbage must not make AWS retry: {:?}", answer.body);
    assert_eq!(answer.body["handled"][0]["event"], "foreign");

    let (answer, _) = invoke(&api, "req-garbage", &serde_json::json!([1, 2, 3]), Duration::from_secs(10));
    assert_eq!(answer.kind, "response", "{:?}", answer.body);

    std::thread::sleep(Duration::from_millis(200));
    let logs = json_lines(&function);
    let skipped: Vec<&Value> = logs.iter().filter(|line| line["message"] == "skipped event").collect();
    assert_eq!(skipped.len(), 3, "one log line per skipped event: {logs:#?}");
    assert_eq!(skipped[0]["event"], "test_notification");
    assert_eq!(skipped[0]["level"], "INFO");
    assert!(skipped[1]["reason"].as_str().unwrap().contains("aws.ec2"));
}

#[test]
fn lifecycle_event_with_a_hanging_endpoint_answers_an_error_within_its_deadline() {
    let api = RuntimeApi::start();
    let (_hole, endpoint) = black_hole();
    let function = Function::start(&api, &endpoint);
    let deadline = Duration::from_secs(6);

    let (answer, elapsed) = invoke(&api, "req-lifecycle", &fixture("sns-lifecycle-terminating.json"), deadline);
    assert_eq!(answer.kind, "error", "{:?}", answer.body);
    assert!(elapsed < deadline, "answered after {elapsed:?}, past the {deadline:?} deadline");
    assert_eq!(answer.body["errorType"], "Retryable", "{:?}", answer.body);
    assert!(answer.body["errorMessage"].as_str().unwrap().contains("stopped after"), "{:?}", answer.body);

    // The function is still serving after the failed invocation.
    let (answer, _) = invoke(&api, "req-after", &fixture("sns-test-notification.json"), Duration::from_secs(10));
    assert_eq!(answer.kind, "response");
    drop(function);
}

#[test]
fn lifecycle_event_with_a_refused_endpoint_reports_the_aws_failure_in_instance_logs() {
    let api = RuntimeApi::start();
    let function = Function::start(&api, &refused_port());
    let deadline = Duration::from_secs(20);

    let (answer, elapsed) = invoke(&api, "req-lifecycle", &fixture("sns-lifecycle-terminating.json"), deadline);
    assert_eq!(answer.kind, "error", "{:?}", answer.body);
    assert!(elapsed < deadline, "{elapsed:?}");
    let message = answer.body["errorMessage"].as_str().unwrap();
    // A notification is not proof the instance still waits: looking at it is the first call.
    assert!(message.contains("describing Auto Scaling instance (i-0123456789abcdef0)"), "{message}");

    std::thread::sleep(Duration::from_millis(200));
    let logs = json_lines(&function);
    let failure = logs
        .iter()
        .find(|line| line["level"] == "ERROR" && line["span"]["name"] == "instance")
        .unwrap_or_else(|| panic!("no error line about the instance: {logs:#?}"));
    let span = &failure["span"];
    assert_eq!(span["asg"], "ci-a");
    assert_eq!(span["hook"], "ci-drain");
    assert_eq!(span["instance_id"], "i-0123456789abcdef0");
    assert_eq!(span["token"], "87654321-4321-4321-4321-210987654321");
}
