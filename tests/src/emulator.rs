//! The emulated AWS for tests and `cargo xtask`: starts `python -m graceful_emulator` (moto + our extension) from the
//! project's venv on a free port, waits for it, drives its control API, and stops its whole process group on drop.

use serde_json::{Value, json};
use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variable that overrides where the emulator's venv lives.
pub const VENV_ENV_VAR: &str = "GRACEFUL_EMULATOR_VENV";
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_GRACE: Duration = Duration::from_secs(3);
const START_ATTEMPTS: u32 = 5;

/// A running emulator. Dropping it stops the emulator and every process it started (handlers, drain scripts).
pub struct Emulator {
    child: Child,
    endpoint: String,
    log_path: PathBuf,
    agent: ureq::Agent,
}

/// Fails the next `count` calls of an API with an AWS error (`POST /_graceful/faults`).
#[derive(Clone, Debug)]
pub struct Fault {
    /// Signing name of the service (`autoscaling`, `ssm`, `sns`, `lambda`, ...); `None` matches every service.
    pub service: Option<String>,
    /// Operation name (`CompleteLifecycleAction`); `None` matches every operation of `service`.
    pub action: Option<String>,
    pub count: u32,
    pub code: String,
    pub message: String,
    pub status: u16,
}

/// How the stand-in `nomad` behaves in drain scripts (`POST /_graceful/nomad`).
#[derive(Clone, Debug, Default)]
pub struct NomadBehaviour {
    /// Only this instance; `None` sets the default for all instances.
    pub instance_id: Option<String>,
    pub drain_seconds: f64,
    pub remaining_allocations: u32,
    pub fail: bool,
}

/// Whether a `nomad-call` ledger event's `argv` is `nomad node drain ... -enable ...`: the drain script's start on
/// the instance, which must happen once per lifecycle action (enabling it again would restart its deadline).
pub fn is_drain_enable(argv: &Value) -> bool {
    argv.as_array().is_some_and(|argv| argv.iter().any(|a| a == "drain") && argv.iter().any(|a| a == "-enable"))
}

/// The workspace root (the parent of `tests/`): the one home of it for the harness and xtask.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ lives in the workspace").to_path_buf()
}

/// Where the emulator's venv is: `GRACEFUL_EMULATOR_VENV`, else `<workspace>/target/emulator-venv`.
pub fn venv_dir() -> PathBuf {
    std::env::var_os(VENV_ENV_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target").join("emulator-venv"))
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("finding a free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| format!("finding a free port: {e}"))
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(2000);
    text[text.floor_char_boundary(start)..].to_string()
}

impl Emulator {
    /// Starts the emulator on a free port and waits (bounded) until its control API answers.
    pub fn start() -> Result<Emulator, String> {
        let python = venv_dir().join("bin").join("python");
        if !python.is_file() {
            return Err(format!(
                "the emulator's Python venv is missing ({} not found): run `cargo xtask setup`",
                python.display()
            ));
        }
        // The port is free when probed but another process can take it before the emulator binds it (tests run in
        // parallel): that start-up failure, and only that one, is retried on a new port.
        let mut attempt = 1;
        loop {
            match Self::start_on(&python, free_port()?) {
                Err(error) if error.contains("Address already in use") && attempt < START_ATTEMPTS => attempt += 1,
                outcome => return outcome,
            }
        }
    }

    fn start_on(python: &Path, port: u16) -> Result<Emulator, String> {
        let log_dir = workspace_root().join("target").join("emulator-logs");
        std::fs::create_dir_all(&log_dir).map_err(|e| format!("creating {}: {e}", log_dir.display()))?;
        let log_path = log_dir.join(format!("emulator-{port}.log"));
        let log = File::create(&log_path).map_err(|e| format!("creating {}: {e}", log_path.display()))?;
        let stderr = log.try_clone().map_err(|e| format!("cloning the log handle: {e}"))?;
        let child = Command::new(python)
            .args(["-m", "graceful_emulator", "-H", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(workspace_root().join("tests").join("emulator"))
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            // Its own process group, so drop can stop the emulator and everything it started in one signal.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", python.display()))?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut emulator = Emulator { child, endpoint: format!("http://127.0.0.1:{port}"), log_path, agent };
        emulator.wait_ready()?;
        Ok(emulator)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if self.control_get("health").is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "the emulator exited during start-up ({status}); log {}:\n{}",
                    self.log_path.display(),
                    log_tail(&self.log_path)
                ));
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(format!(
                    "the emulator did not answer within {} s; log {}:\n{}",
                    READY_TIMEOUT.as_secs(),
                    self.log_path.display(),
                    log_tail(&self.log_path)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The URL to give the AWS SDKs (`AWS_ENDPOINT_URL`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The emulator's process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The emulator's log file (its stdout/stderr, handler and drain output included).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Environment for an AWS client (SDK or Terraform) pointed at this emulator.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ]
    }

    /// Wipes all AWS state and every knob; kills running drain scripts and handler processes.
    pub fn reset(&self) -> Result<(), String> {
        self.control("reset", &json!({})).map(|_| ())
    }

    pub fn set_fault(&self, fault: &Fault) -> Result<(), String> {
        let body = json!({"service": fault.service, "action": fault.action, "count": fault.count,
                          "code": fault.code, "message": fault.message, "status": fault.status});
        self.control("faults", &body).map(|_| ())
    }

    /// Throttles `fraction` (0..=1) of the calls to `service` (all services when `None`).
    pub fn throttle(&self, fraction: f64, service: Option<&str>) -> Result<(), String> {
        self.control("throttle", &json!({"fraction": fraction, "service": service})).map(|_| ())
    }

    pub fn set_nomad(&self, behaviour: &NomadBehaviour) -> Result<(), String> {
        let mut body = json!({"drain_seconds": behaviour.drain_seconds,
                              "remaining_allocations": behaviour.remaining_allocations, "fail": behaviour.fail});
        if let Some(instance) = &behaviour.instance_id {
            body["instance_id"] = json!(instance);
        }
        self.control("nomad", &body).map(|_| ())
    }

    /// Marks an instance's SSM agent: `ping_status` Online / ConnectionLost / Inactive, or not managed at all.
    pub fn set_agent(&self, instance_id: &str, ping_status: &str, managed: bool) -> Result<(), String> {
        self.control("agents", &json!({"instance_id": instance_id, "ping_status": ping_status, "managed": managed}))
            .map(|_| ())
    }

    /// Delivery knobs: `{"drop_next": n, "duplicate_next": n, "kill_next": n, "kill_after_seconds": s,
    /// "retry_delays": [s1, s2]}` (any subset).
    pub fn set_deliveries(&self, knobs: &Value) -> Result<(), String> {
        self.control("deliveries", knobs).map(|_| ())
    }

    /// Emulated seconds per real second for hook timeouts, schedules and Lambda retry delays.
    pub fn set_clock_scale(&self, scale: f64) -> Result<(), String> {
        self.control("clock", &json!({"scale": scale})).map(|_| ())
    }

    /// The event log: every lifecycle transition, notification, delivery, command and completion, in order.
    pub fn events(&self) -> Result<Vec<Value>, String> {
        let log = self.control_get("events")?;
        log["events"].as_array().cloned().ok_or_else(|| format!("event log without an events array: {log}"))
    }

    /// The events logged after sequence number `seq` (cheaper than the whole log when it is long).
    pub fn events_since(&self, seq: u64) -> Result<Vec<Value>, String> {
        let log = self.control_get(&format!("events?since={seq}"))?;
        log["events"].as_array().cloned().ok_or_else(|| format!("event log without an events array: {log}"))
    }

    /// AWS API calls received since the last reset: (total, per `service:Action`).
    pub fn api_calls(&self) -> Result<(u64, Value), String> {
        let calls = self.control_get("calls")?;
        Ok((calls["total"].as_u64().unwrap_or(0), calls["calls"].clone()))
    }

    /// The events of one kind (for example `lifecycle-action-completed`).
    pub fn events_of_kind(&self, kind: &str) -> Result<Vec<Value>, String> {
        Ok(self.events()?.into_iter().filter(|e| e["kind"] == kind).collect())
    }

    /// `POST /_graceful/<path>` with a JSON body; the control API's error text on a 4xx.
    pub fn control(&self, path: &str, body: &Value) -> Result<Value, String> {
        let url = format!("{}/_graceful/{path}", self.endpoint);
        let response = self.agent.post(&url).send_json(body).map_err(|e| format!("POST {url}: {e}"))?;
        Self::decode(&url, response)
    }

    fn control_get(&self, path: &str) -> Result<Value, String> {
        let url = format!("{}/_graceful/{path}", self.endpoint);
        let response = self.agent.get(&url).call().map_err(|e| format!("GET {url}: {e}"))?;
        Self::decode(&url, response)
    }

    fn decode(url: &str, mut response: ureq::http::Response<ureq::Body>) -> Result<Value, String> {
        let status = response.status();
        let body: Value = response.body_mut().read_json().map_err(|e| format!("{url}: reading the answer: {e}"))?;
        if !status.is_success() {
            return Err(format!("{url}: {status}: {}", body["error"].as_str().unwrap_or(&body.to_string())));
        }
        Ok(body)
    }

    fn signal_group(&self, signal: libc::c_int) {
        let group = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) with a negative pid signals the process group we created at spawn; no memory involved.
        #[allow(unsafe_code)] // libc has no safe kill(2)
        unsafe {
            libc::kill(-group, signal);
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // SIGTERM first: the emulator kills the drain scripts it runs in their own sessions, then exits.
        self.signal_group(libc::SIGTERM);
        let started = Instant::now();
        while started.elapsed() < STOP_GRACE {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.signal_group(libc::SIGKILL);
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("emulator log kept: {}", self.log_path.display());
        } else {
            let _ = std::fs::remove_file(&self.log_path);
        }
    }
}
