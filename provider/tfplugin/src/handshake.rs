//! go-plugin's handshake: the environment Terraform starts a plugin with, and the one line the plugin answers on
//! stdout (`1|6|tcp|127.0.0.1:PORT|grpc|<server certificate>`).

use base64::Engine;
use std::net::SocketAddr;

/// The cookie go-plugin hosts set so a plugin can tell it was started by Terraform and not by hand.
pub(crate) const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub(crate) const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's own protocol version, the first field of the handshake line.
const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol this server speaks.
pub(crate) const PROTOCOL_VERSION: u32 = 6;

/// What the host asked for in the environment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct HostRequest {
    /// `PLUGIN_CLIENT_CERT` (PEM): the only client certificate to admit. Absent: the host did not ask for TLS.
    pub(crate) client_certificate_pem: Option<String>,
    /// `PLUGIN_MIN_PORT`..=`PLUGIN_MAX_PORT`, when both are given.
    pub(crate) port_range: Option<(u16, u16)>,
}

/// Why the environment does not look like a go-plugin host started us.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HandshakeError {
    #[error(
        "{binary} is a Terraform provider plugin: Terraform starts it, it is not meant to be run directly.\n\
         Declare the provider in a Terraform configuration and run `terraform init` and `terraform plan`, or \
         start it with `--debug` and paste the TF_REATTACH_PROVIDERS line it prints into Terraform's environment."
    )]
    NotStartedByTerraform { binary: String },
    #[error(
        "Terraform offered plugin protocol versions {offered:?} (PLUGIN_PROTOCOL_VERSIONS), but this provider only \
         speaks version {PROTOCOL_VERSION}: use Terraform 1.0 or later"
    )]
    UnsupportedProtocol { offered: String },
    #[error("{name} must be a port number (0-65535), got {value:?}")]
    BadPort { name: &'static str, value: String },
    #[error("PLUGIN_MIN_PORT ({min}) is greater than PLUGIN_MAX_PORT ({max})")]
    EmptyPortRange { min: u16, max: u16 },
    #[error(
        "PLUGIN_CLIENT_CERT is set but holds only whitespace: the host asked for TLS without a certificate; \
         refusing to serve without TLS"
    )]
    BlankClientCertificate,
}

/// Checks the environment a go-plugin host provides; `env` looks a variable up.
pub(crate) fn read_host_request(
    binary: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<HostRequest, HandshakeError> {
    if env(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(HandshakeError::NotStartedByTerraform { binary: binary.to_string() });
    }
    if let Some(offered) = env("PLUGIN_PROTOCOL_VERSIONS") {
        let six = PROTOCOL_VERSION.to_string();
        if !offered.split(',').any(|version| version.trim() == six) {
            return Err(HandshakeError::UnsupportedProtocol { offered });
        }
    }
    let port = |name: &'static str| -> Result<Option<u16>, HandshakeError> {
        match env(name).filter(|value| !value.is_empty()) {
            None => Ok(None),
            Some(value) => value.parse().map(Some).map_err(|_| HandshakeError::BadPort { name, value }),
        }
    };
    let port_range = match (port("PLUGIN_MIN_PORT")?, port("PLUGIN_MAX_PORT")?) {
        (Some(min), Some(max)) if min > max => return Err(HandshakeError::EmptyPortRange { min, max }),
        (Some(min), Some(max)) => Some((min, max)),
        _ => None,
    };
    // As go-plugin: an empty variable means "no TLS", any other value asks for AutoMTLS, so a blank value must not
    // fall back to plaintext.
    let client_certificate_pem = env("PLUGIN_CLIENT_CERT").filter(|pem| !pem.is_empty());
    if client_certificate_pem.as_deref().is_some_and(|pem| pem.trim().is_empty()) {
        return Err(HandshakeError::BlankClientCertificate);
    }
    Ok(HostRequest { client_certificate_pem, port_range })
}

/// The handshake line (without newline). `server_certificate` is empty when the host did not ask for TLS.
pub(crate) fn handshake_line(address: SocketAddr, server_certificate: &[u8]) -> String {
    let certificate = base64::engine::general_purpose::STANDARD_NO_PAD.encode(server_certificate);
    format!("{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|tcp|{address}|grpc|{certificate}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<HostRequest, HandshakeError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        read_host_request("terraform-provider-x", |name| vars.get(name).cloned())
    }

    const COOKIE: (&str, &str) = (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE);

    #[test]
    fn host_request_table() {
        assert_eq!(read(&[COOKIE]).unwrap(), HostRequest { client_certificate_pem: None, port_range: None });
        let full = read(&[
            COOKIE,
            ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
            ("PLUGIN_MIN_PORT", "10000"),
            ("PLUGIN_MAX_PORT", "25000"),
            ("PLUGIN_CLIENT_CERT", "-----BEGIN CERTIFICATE-----"),
        ])
        .unwrap();
        assert_eq!(full.port_range, Some((10000, 25000)));
        assert_eq!(full.client_certificate_pem.as_deref(), Some("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        let no_cookie = read(&[]).unwrap_err().to_string();
        assert!(no_cookie.starts_with("terraform-provider-x is a Terraform provider plugin"), "{no_cookie}");
        assert!(matches!(read(&[(MAGIC_COOKIE_KEY, "wrong")]), Err(HandshakeError::NotStartedByTerraform { .. })));
        assert_eq!(
            read(&[COOKIE, ("PLUGIN_PROTOCOL_VERSIONS", "4,5")]).unwrap_err(),
            HandshakeError::UnsupportedProtocol { offered: "4,5".into() }
        );
        assert_eq!(
            read(&[COOKIE, ("PLUGIN_MIN_PORT", "x"), ("PLUGIN_MAX_PORT", "2")]).unwrap_err().to_string(),
            "PLUGIN_MIN_PORT must be a port number (0-65535), got \"x\""
        );
        assert_eq!(
            read(&[COOKIE, ("PLUGIN_MIN_PORT", "9"), ("PLUGIN_MAX_PORT", "2")]).unwrap_err(),
            HandshakeError::EmptyPortRange { min: 9, max: 2 }
        );
        assert_eq!(
            read(&[COOKIE, ("PLUGIN_CLIENT_CERT", " \n\t ")]).unwrap_err(),
            HandshakeError::BlankClientCertificate
        );
        assert_eq!(read(&[COOKIE, ("PLUGIN_CLIENT_CERT", "")]).unwrap().client_certificate_pem, None);
    }

    #[test]
    fn handshake_line_shape() {
        let address: SocketAddr = "127.0.0.1:4321".parse().unwrap();
        assert_eq!(handshake_line(address, &[0xff, 0x00]), "1|6|tcp|127.0.0.1:4321|grpc|/wA");
        assert_eq!(handshake_line(address, &[]), "1|6|tcp|127.0.0.1:4321|grpc|");
    }
}
