//! `--debug` mode: serve without Terraform starting us (no cookie, no TLS) and print the `TF_REATTACH_PROVIDERS`
//! value that lets Terraform attach to this process, so a developer can run the provider under a debugger.

use crate::handshake::PROTOCOL_VERSION;
use std::net::SocketAddr;

/// The JSON value of `TF_REATTACH_PROVIDERS` for a provider at `provider_address` listening on `address`.
pub(crate) fn reattach_config(provider_address: &str, address: SocketAddr, pid: u32) -> String {
    serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": "tcp", "String": address.to_string() },
        }
    })
    .to_string()
}

/// The ready-to-paste shell line printed on stdout.
pub(crate) fn reattach_line(provider_address: &str, address: SocketAddr, pid: u32) -> String {
    format!("TF_REATTACH_PROVIDERS='{}'", reattach_config(provider_address, address, pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reattach_line_is_what_terraform_parses() {
        let line = reattach_line("registry.terraform.io/acme/thing", "127.0.0.1:5555".parse().unwrap(), 42);
        let json = line.strip_prefix("TF_REATTACH_PROVIDERS='").and_then(|l| l.strip_suffix('\'')).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"registry.terraform.io/acme/thing": {
                "Protocol": "grpc", "ProtocolVersion": 6, "Pid": 42, "Test": true,
                "Addr": {"Network": "tcp", "String": "127.0.0.1:5555"}
            }})
        );
    }
}
