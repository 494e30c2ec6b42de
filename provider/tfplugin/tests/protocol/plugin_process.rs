//! Starting this test binary as a plugin child process, reading its handshake, and always stopping it (Drop).

use crate::ROLE_VARIABLE;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);

/// How the child is started: the environment a go-plugin host would set, and arguments.
#[derive(Default, Clone)]
pub struct Launch {
    pub cookie: bool,
    pub client_cert_pem: Option<String>,
    pub port_range: Option<(u16, u16)>,
    pub args: Vec<String>,
}

impl Launch {
    /// What Terraform does: cookie, protocol versions, and the client certificate for AutoMTLS.
    pub fn like_terraform(client_cert_pem: &str) -> Self {
        Launch { cookie: true, client_cert_pem: Some(client_cert_pem.to_string()), ..Launch::default() }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(std::env::current_exe().expect("the test binary's path"));
        command
            .args(&self.args)
            .env(ROLE_VARIABLE, "plugin")
            .env("TF_LOG_PROVIDER", "debug")
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env_remove("TF_PLUGIN_MAGIC_COOKIE")
            .env_remove("PLUGIN_CLIENT_CERT")
            .env_remove("PLUGIN_MIN_PORT")
            .env_remove("PLUGIN_MAX_PORT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.cookie {
            command.env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE);
        }
        if let Some(pem) = &self.client_cert_pem {
            command.env("PLUGIN_CLIENT_CERT", pem);
        }
        if let Some((min, max)) = self.port_range {
            command.env("PLUGIN_MIN_PORT", min.to_string()).env("PLUGIN_MAX_PORT", max.to_string());
        }
        command
    }
}

/// A running plugin child. Dropping it kills the process if it is still running.
pub struct PluginProcess {
    child: Child,
    stdout_lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// The first stdout line (the handshake, or the reattach line in debug mode).
    pub first_line: String,
}

fn collect_stderr(child: &mut Child) -> Arc<Mutex<String>> {
    let collected = Arc::new(Mutex::new(String::new()));
    let mut stderr = child.stderr.take().expect("piped stderr");
    let sink = collected.clone();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buffer) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    });
    collected
}

fn stdout_lines(child: &mut Child) -> Receiver<String> {
    let (sender, receiver) = channel();
    let stdout = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

impl PluginProcess {
    /// Starts the child and waits for its first stdout line.
    pub fn start(launch: &Launch) -> Result<Self, String> {
        let mut child = launch.command().spawn().map_err(|e| format!("starting the plugin child: {e}"))?;
        let stderr = collect_stderr(&mut child);
        let stdout_lines = stdout_lines(&mut child);
        let mut process = PluginProcess { child, stdout_lines, stderr, first_line: String::new() };
        match process.stdout_lines.recv_timeout(HANDSHAKE_TIMEOUT) {
            Ok(line) => process.first_line = line,
            Err(_) => {
                return Err(format!(
                    "no handshake line within {HANDSHAKE_TIMEOUT:?}; plugin stderr:\n{}",
                    process.stderr()
                ));
            }
        }
        Ok(process)
    }

    /// Runs the child to completion (it is expected to exit on its own) and returns its status, stdout, stderr.
    pub fn run_to_exit(launch: &Launch, timeout: Duration) -> Result<(ExitStatus, String, String), String> {
        let mut child = launch.command().spawn().map_err(|e| format!("starting the plugin child: {e}"))?;
        let stderr = collect_stderr(&mut child);
        let stdout_lines = stdout_lines(&mut child);
        let mut process = PluginProcess { child, stdout_lines, stderr, first_line: String::new() };
        let status = process.wait_exit(timeout)?;
        let stdout: Vec<String> = process.stdout_lines.try_iter().collect();
        Ok((status, stdout.join("\n"), process.stderr()))
    }

    pub fn stderr(&self) -> String {
        // The reader thread may still be copying the last bytes after exit.
        std::thread::sleep(Duration::from_millis(50));
        self.stderr.lock().unwrap().clone()
    }

    /// Waits up to `timeout` for the process to exit on its own.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| format!("waiting for the plugin: {e}"))? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                return Err(format!("the plugin did not exit within {timeout:?}; stderr:\n{}", self.stderr()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Lines the child wrote to stdout after the first one (waits briefly for any in flight).
    pub fn further_stdout(&self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            match self.stdout_lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => lines.push(line),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return lines,
            }
        }
    }
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
