//! Drives the real Terraform CLI against this provider, offline: each `Workspace` has its own directory, its own CLI
//! configuration with a filesystem mirror holding the freshly built provider, and nothing else.

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The provider's source address, as users write it in `required_providers`.
pub const PROVIDER_SOURCE: &str = "registry.terraform.io/graceful-shutdown/graceful";
pub const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The `terraform { required_providers }` and `provider "graceful"` blocks every test and benchmark configuration
/// starts with (region us-east-1, where the emulator lives).
pub fn provider_header() -> String {
    format!(
        "terraform {{\n  required_providers {{\n    graceful = {{ source = \"{PROVIDER_SOURCE}\" }}\n  }}\n}}\n\n\
provider \"graceful\" {{\n  region = \"us-east-1\"\n}}\n\n"
    )
}

/// The `terraform` executable: `TERRAFORM` if set, else the one on PATH. Panics (fails the test) when missing.
pub fn terraform_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TERRAFORM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|dir| dir.join("terraform")).find(|candidate| candidate.is_file()).unwrap_or_else(
        || {
            panic!(
                "the Terraform CLI is missing: these acceptance tests drive the real `terraform` (1.11 or newer). \
Install it on PATH or set TERRAFORM to its path."
            )
        },
    )
}

/// The provider binary under test: `GRACEFUL_PROVIDER_BIN` if set, else built once per test process with cargo.
pub fn provider_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(path) = std::env::var_os("GRACEFUL_PROVIDER_BIN") {
            let path = PathBuf::from(path);
            assert!(path.is_file(), "GRACEFUL_PROVIDER_BIN={} does not exist", path.display());
            return path;
        }
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the workspace");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "terraform-provider-graceful", "--bin", "terraform-provider-graceful"])
            .current_dir(workspace)
            .status()
            .expect("running cargo to build the provider");
        assert!(status.success(), "building the provider failed (see above)");
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace.join("target"));
        let path = target.join("debug").join("terraform-provider-graceful");
        assert!(path.is_file(), "the provider build left no binary at {}", path.display());
        path
    })
}

/// Terraform's name for this platform in mirror paths.
fn platform() -> String {
    let os = std::env::consts::OS;
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{os}_{arch}")
}

/// Installs `binary` in an implied/filesystem mirror layout under `mirror_root`.
pub fn install_into_mirror(binary: &Path, mirror_root: &Path) -> std::io::Result<PathBuf> {
    let (host, rest) = PROVIDER_SOURCE.split_once('/').expect("source has a host");
    let (namespace, type_name) = rest.split_once('/').expect("source has a namespace");
    let dir = mirror_root.join(host).join(namespace).join(type_name).join(PROVIDER_VERSION).join(platform());
    std::fs::create_dir_all(&dir)?;
    let target = dir.join(format!("terraform-provider-{type_name}_v{PROVIDER_VERSION}"));
    // Copy, not link: Terraform hashes the file, and a rebuilt binary must not change an existing workspace under it.
    std::fs::copy(binary, &target)?;
    Ok(target)
}

/// One Terraform working directory with its own CLI configuration and provider mirror.
pub struct Workspace {
    dir: tempfile::TempDir,
    cli_config: PathBuf,
    env: Vec<(String, String)>,
}

/// The result of one terraform command.
#[derive(Debug)]
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Run {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with both streams when the command failed.
    pub fn ok(self, what: &str) -> Self {
        assert!(self.success, "terraform {what} failed\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    /// The JSON lines of a `-json` run.
    pub fn json_lines(&self) -> Vec<Json> {
        self.stdout.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
    }

    /// Diagnostics of a `-json` run: (severity, summary, detail, snippet code line).
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut found = Vec::new();
        let mut push = |d: &Json| {
            found.push(Diagnostic {
                severity: d["severity"].as_str().unwrap_or_default().to_string(),
                summary: d["summary"].as_str().unwrap_or_default().to_string(),
                detail: d["detail"].as_str().unwrap_or_default().to_string(),
                code: d["snippet"]["code"].as_str().unwrap_or_default().to_string(),
                line: d["range"]["start"]["line"].as_u64().unwrap_or(0),
            })
        };
        // `terraform validate -json` prints one document; plan/apply print one JSON object per line.
        if let Ok(doc) = serde_json::from_str::<Json>(&self.stdout) {
            for d in doc["diagnostics"].as_array().into_iter().flatten() {
                push(d);
            }
        }
        for line in self.json_lines() {
            if line["type"] == "diagnostic" {
                push(&line["diagnostic"]);
            }
        }
        found
    }
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: String,
    pub summary: String,
    pub detail: String,
    /// The configuration line Terraform points at (its `snippet.code`).
    pub code: String,
    pub line: u64,
}

impl Workspace {
    /// A fresh directory holding `main.tf` = `config`, with the provider installed in a private mirror.
    pub fn new(config: &str) -> Self {
        let dir = tempfile::Builder::new().prefix("graceful-tf-").tempdir().expect("temp dir");
        let mirror = dir.path().join(".mirror");
        install_into_mirror(provider_binary(), &mirror).expect("installing the provider into the mirror");
        let cli_config = dir.path().join(".terraformrc");
        let host_namespace = PROVIDER_SOURCE.rsplit_once('/').unwrap().0;
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{host_namespace}/*\"]\n  }}\n  direct {{\n    exclude = [\"{host_namespace}/*\"]\n  }}\n}}\n",
                mirror.display()
            ),
        )
        .expect("writing the CLI config");
        std::fs::write(dir.path().join("main.tf"), config).expect("writing main.tf");
        Workspace { dir, cli_config, env: Vec::new() }
    }

    /// [`Workspace::new`] with `env` set for every command (e.g. an emulator's `aws_env()`), after `terraform init`.
    pub fn initialised(config: &str, env: &[(&str, String)]) -> Self {
        let mut ws = Workspace::new(config);
        for (key, value) in env {
            ws.env(key, value);
        }
        ws.init();
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Sets an environment variable for every terraform command of this workspace (e.g. `AWS_ENDPOINT_URL`).
    pub fn env(&mut self, key: &str, value: &str) -> &mut Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn write(&self, file: &str, contents: &str) {
        let path = self.dir.path().join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("creating a config directory");
        }
        std::fs::write(path, contents).expect("writing a config file");
    }

    /// Runs `terraform <args>` in this workspace.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut command = Command::new(terraform_binary());
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env_remove("TF_LOG")
            .env_remove("TF_REATTACH_PROVIDERS");
        for (key, value) in &self.env {
            command.env(key, value);
        }
        Run::from(command.output().expect("starting terraform"))
    }

    pub fn init(&self) -> Run {
        self.run(&["init", "-input=false", "-no-color"]).ok("init")
    }

    pub fn validate(&self) -> Run {
        self.run(&["validate", "-json", "-no-color"])
    }

    /// `terraform plan -out`, then the plan as JSON (`terraform show -json`). Panics when the plan fails.
    pub fn plan_json(&self) -> Json {
        self.run(&["plan", "-input=false", "-no-color", "-out=tfplan"]).ok("plan");
        let shown = self.run(&["show", "-json", "tfplan"]).ok("show -json");
        serde_json::from_str(&shown.stdout).expect("plan JSON")
    }

    /// `terraform plan -json` (for diagnostics of a failing plan).
    pub fn plan_lines(&self) -> Run {
        self.run(&["plan", "-input=false", "-no-color", "-json"])
    }

    pub fn apply(&self) -> Run {
        self.run(&["apply", "-input=false", "-no-color", "-auto-approve"])
    }

    pub fn destroy(&self) -> Run {
        self.run(&["destroy", "-input=false", "-no-color", "-auto-approve"])
    }

    /// The state as JSON (`terraform show -json`).
    pub fn state_json(&self) -> Json {
        let shown = self.run(&["show", "-json"]).ok("show -json");
        serde_json::from_str(&shown.stdout).expect("state JSON")
    }

    /// The attribute values of root-module resource `address` in the state; null when the state has none.
    pub fn resource_values(&self, address: &str) -> Json {
        let state = self.state_json();
        state["values"]["root_module"]["resources"]
            .as_array()
            .and_then(|resources| resources.iter().find(|r| r["address"] == address))
            .map(|resource| resource["values"].clone())
            .unwrap_or(Json::Null)
    }
}

/// The `change` of resource `address` in a plan JSON.
pub fn resource_change<'a>(plan: &'a Json, address: &str) -> &'a Json {
    plan["resource_changes"]
        .as_array()
        .and_then(|changes| changes.iter().find(|c| c["address"] == address))
        .map(|c| &c["change"])
        .unwrap_or_else(|| panic!("no change for {address} in plan: {plan:#}"))
}

/// The actions (`["create"]`, `["update"]`, `["delete","create"]`, `["no-op"]`) planned for `address`.
pub fn actions(plan: &Json, address: &str) -> Vec<String> {
    resource_change(plan, address)["actions"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}
