//! `cargo xtask bench handler`: cold start of the shipped x86_64 `bootstrap` (spawn → first `GET /next`, AWS clients
//! built) and its peak RSS, beside a Node.js 20 handler building the AWS SDK v3 Auto Scaling + SSM clients, in one run.
//!
//! The harness is single-threaded: it timestamps just before spawning and stops the clock when the first request
//! line arrives on its own Runtime API socket (a threaded HTTP server would add its own scheduling noise).

use crate::{Result, cmd, lambda, stats};
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NODE_PEER_DIR: &str = "bench/node-handler";
const FIRST_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const POLL_PAUSE: Duration = Duration::from_micros(50);
/// A valid handler configuration, so the Rust bootstrap starts exactly as deployed.
const HANDLER_CONFIG: &str = r#"{"resource_name":"bench","hook_name":"bench-drain","notification_metadata":"{\"graceful_shutdown_asg\":\"bench\"}","autoscaling_group_names":["bench-a"],"document_name":"bench-drain","notification_topic_arn":"arn:aws:sns:us-east-1:123456789012:bench-lifecycle","notification_role_arn":"arn:aws:iam::123456789012:role/bench-publisher","drain_timeout_seconds":3600,"heartbeat_timeout_seconds":4260,"on_failure":"ABANDON","agent_wait_seconds":300}"#;

struct Sample {
    start_ms: f64,
    peak_rss_kb: f64,
}

pub fn run(args: &[String]) -> Result {
    let rounds: usize = args.first().map(|n| n.parse()).transpose()?.unwrap_or(20);
    let work = std::env::temp_dir().join(format!("graceful-bench-handler-{}", std::process::id()));
    let _cleanup = RemoveOnDrop(work.clone());
    let bootstrap = extract_shipped_bootstrap(&work)?;
    let node_peer = prepare_node_peer()?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let api = listener.local_addr()?.to_string();
    let rust = |listener: &TcpListener| measure(listener, Command::new(&bootstrap), &api);
    let node = |listener: &TcpListener| {
        let mut command = Command::new("node");
        command.arg(node_peer.join("index.mjs")).current_dir(&node_peer);
        measure(listener, command, &api)
    };
    // One warm-up each (page cache), then interleaved rounds so machine noise hits both alike.
    rust(&listener)?;
    node(&listener)?;
    let (mut rust_samples, mut node_samples) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        rust_samples.push(rust(&listener)?);
        node_samples.push(node(&listener)?);
    }
    let node_version = cmd::output(Command::new("node").arg("--version"))?;
    let (rust_ms, rust_rss) = summarize(&rust_samples);
    let (node_ms, node_rss) = summarize(&node_samples);
    println!("handler cold start: spawn -> first GET /next (AWS clients built), {rounds} rounds, medians");
    println!("  rust bootstrap (shipped x86_64 zip)  {rust_ms:>8.2} ms   peak RSS {:>7.1} MB", rust_rss / 1024.0);
    println!("  node {:<31} {node_ms:>8.2} ms   peak RSS {:>7.1} MB", node_version.trim(), node_rss / 1024.0);
    println!(
        "  ratio: rust is {:.1}x faster to first /next and uses {:.1}x less memory",
        node_ms / rust_ms,
        node_rss / rust_rss
    );
    println!("  targets: <= 5 ms, <= 6 MB, >= 20x faster than node");
    for arch in ["x86_64", "arm64"] {
        let bytes = std::fs::metadata(lambda::zip_path(arch))?.len();
        println!(
            "  zip {arch:<7} {:.2} MB ({bytes} bytes; target <= {:.1} MB)",
            bytes as f64 / 1e6,
            lambda::MAX_ZIP_BYTES as f64 / 1e6
        );
    }
    Ok(())
}

fn summarize(samples: &[Sample]) -> (f64, f64) {
    let mut times: Vec<f64> = samples.iter().map(|s| s.start_ms).collect();
    let mut peaks: Vec<f64> = samples.iter().map(|s| s.peak_rss_kb).collect();
    (stats::median(&mut times), stats::median(&mut peaks))
}

/// Spawns one function process, waits for its first Runtime API request line, reads its peak RSS, and kills it.
fn measure(listener: &TcpListener, mut command: Command, api: &str) -> Result<Sample> {
    command
        .env("AWS_LAMBDA_RUNTIME_API", api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench-drain-handler")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("GRACEFUL_CONFIG", HANDLER_CONFIG)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut running = Running(command.spawn().map_err(|e| format!("spawning {}: {e}", cmd::describe(&command)))?);
    let child = &mut running.0;
    listener.set_nonblocking(true)?;
    let stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(status) = child.try_wait()? {
                    let mut stderr = String::new();
                    child.stderr.take().map(|mut s| s.read_to_string(&mut stderr));
                    return Err(
                        format!("{} exited ({status}) before polling: {stderr}", cmd::describe(&command)).into()
                    );
                }
                if started.elapsed() > FIRST_REQUEST_TIMEOUT {
                    return Err(format!("{} never polled /next", cmd::describe(&command)).into());
                }
                // Short sleeps rather than spinning: a spinning harness would steal a core from the child.
                std::thread::sleep(POLL_PAUSE);
            }
            Err(e) => return Err(e.into()),
        }
    };
    stream.set_nonblocking(false)?;
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line)?;
    let start_ms = started.elapsed().as_secs_f64() * 1e3;
    if !line.starts_with("GET /2018-06-01/runtime/invocation/next") {
        return Err(format!("unexpected first request {line:?}").into());
    }
    // The process is blocked on /next: its high-water mark covers everything init did.
    let peak_rss_kb = peak_rss_kb(child.id())?;
    Ok(Sample { start_ms, peak_rss_kb })
}

fn peak_rss_kb(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).ok_or("no VmHWM in /proc status")?;
    Ok(line.split_whitespace().nth(1).ok_or("malformed VmHWM")?.parse()?)
}

/// The `bootstrap` exactly as shipped: unpacked from the x86_64 zip the provider embeds.
fn extract_shipped_bootstrap(work: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let zip_path = lambda::zip_path("x86_64");
    let file = std::fs::File::open(&zip_path)
        .map_err(|e| format!("opening {}: {e} (run `cargo xtask lambda` first)", zip_path.display()))?;
    let mut archive = zip::ZipArchive::new(file)?;
    let mut entry = archive.by_name("bootstrap")?;
    std::fs::create_dir_all(work)?;
    let path = work.join("bootstrap");
    let mut out = std::fs::File::create(&path)?;
    std::io::copy(&mut entry, &mut out)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok(path)
}

/// `npm ci` from the committed lock file when `node_modules` is missing or older than the lock file.
fn prepare_node_peer() -> Result<PathBuf> {
    let dir = cmd::workspace_root().join(NODE_PEER_DIR);
    let version = cmd::output(Command::new("node").arg("--version"))
        .map_err(|e| format!("{e}\n(the benchmark's peer needs Node.js 20: apt-get install nodejs npm)"))?;
    if !version.trim().starts_with("v20.") {
        println!("note: the Node.js peer is meant for Node.js 20; found {}", version.trim());
    }
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules").join(".package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&installed).is_none() || modified(&installed) < modified(&lock) {
        cmd::run(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--omit=dev"]).current_dir(&dir))?;
    }
    Ok(dir)
}

/// Kills the measured process however `measure` returns.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
