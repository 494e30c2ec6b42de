//! `cargo xtask demo --tls-acl`: the demo against a stand-in Nomad cluster whose agents serve only HTTPS and enforce
//! ACLs. The "instances" (the emulated SSM agent runs drain scripts on this machine) get a CA certificate and a drain
//! token as files, and the quickstart's `drain` block a `nomad { }` block naming them, as a real configuration would.

use crate::Result;
use acceptance::emulator::Emulator;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;

pub const FLAG: &str = "--tls-acl";
/// The only token the stand-in cluster accepts (a demo value; a real one comes from `nomad acl token create`).
const TOKEN: &str = "demo-drain-token";
/// Where the quickstart's drain block ends its settings: the `nomad` block goes after it.
const ANCHOR: &str = "    timeout = var.drain_timeout\n";

pub struct SecureCluster {
    files: tempfile::TempDir,
}

impl SecureCluster {
    /// Turns on TLS and ACLs in the stand-in and writes the files the instances hold.
    pub fn start(emulator: &Emulator) -> Result<Self> {
        let files = tempfile::tempdir()?;
        let cluster = SecureCluster { files };
        std::fs::write(cluster.path("ca.pem"), "-----BEGIN CERTIFICATE-----\n(demo CA)\n")?;
        std::fs::write(cluster.path("drain.token"), format!("{TOKEN}\n"))?;
        std::fs::set_permissions(cluster.path("drain.token"), std::fs::Permissions::from_mode(0o400))?;
        emulator.control("nomad", &json!({"agent": "tls", "acl_token": TOKEN}))?;
        println!(
            "   stand-in Nomad: HTTPS only (CA {}), ACLs on (token file {})",
            cluster.path("ca.pem"),
            cluster.path("drain.token")
        );
        Ok(cluster)
    }

    fn path(&self, name: &str) -> String {
        self.files.path().join(name).display().to_string()
    }

    /// The quickstart configuration with its drain block reaching the cluster.
    pub fn configure(&self, quickstart: &str) -> Result<String> {
        if !quickstart.contains(ANCHOR) {
            return Err(format!(
                "examples/quickstart/main.tf has no line {:?} in its drain block any more: update {}",
                ANCHOR.trim(),
                file!()
            )
            .into());
        }
        let block = format!(
            "{ANCHOR}\n    nomad {{\n      address    = \"https://127.0.0.1:4646\"\n      ca_file    = \"{}\"\n      token_file = \"{}\"\n    }}\n",
            self.path("ca.pem"),
            self.path("drain.token")
        );
        Ok(quickstart.replacen(ANCHOR, &block, 1))
    }
}
