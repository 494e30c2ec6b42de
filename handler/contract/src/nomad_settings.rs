//! How the nomad preset's script reaches the local Nomad agent: address, TLS files and the ACL token's source, all
//! on the instance. The Nomad CLI reads these only from flags and its environment (api/api.go `DefaultConfig`:
//! NOMAD_ADDR, default `http://127.0.0.1:4646`; NOMAD_CACERT, NOMAD_CLIENT_CERT, NOMAD_CLIENT_KEY,
//! NOMAD_TLS_SERVER_NAME; NOMAD_TOKEN), and SSM runs the script with the SSM agent's environment, which has none of
//! them. Secrets never travel through the document: the token is read on the instance, from a root-only file or an
//! SSM SecureString parameter the instance profile may read.

use std::fmt;

/// Where the drain script's ACL token comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// No token: a cluster without ACLs.
    None,
    /// A file on the instance holding only the token (mode 0400, root).
    File(String),
    /// An SSM `SecureString` parameter, read on the instance with its own credentials (`aws ssm get-parameter
    /// --with-decryption`; the instance profile needs `ssm:GetParameter` on it and `kms:Decrypt` on its key).
    SecureStringParameter(String),
}

/// The `drain.nomad` settings, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NomadConnection {
    /// `http(s)://host:port` of the local agent.
    pub address: String,
    pub ca_file: Option<String>,
    pub client_cert_file: Option<String>,
    pub client_key_file: Option<String>,
    pub tls_server_name: Option<String>,
    pub token: TokenSource,
}

/// The agent every Nomad client runs, without TLS or ACLs (Nomad's own default address).
pub const DEFAULT_ADDRESS: &str = "http://127.0.0.1:4646";

impl Default for NomadConnection {
    fn default() -> Self {
        NomadConnection {
            address: DEFAULT_ADDRESS.to_string(),
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            tls_server_name: None,
            token: TokenSource::None,
        }
    }
}

/// A setting that cannot work, naming the attribute and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NomadSettingsError {
    pub attribute: &'static str,
    pub message: String,
}

impl fmt::Display for NomadSettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "drain.nomad.{}: {}", self.attribute, self.message)
    }
}

impl std::error::Error for NomadSettingsError {}

/// The settings as the user wrote them (every one optional).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NomadSettingsInput {
    pub address: Option<String>,
    pub ca_file: Option<String>,
    pub client_cert_file: Option<String>,
    pub client_key_file: Option<String>,
    pub tls_server_name: Option<String>,
    pub token_file: Option<String>,
    pub token_parameter: Option<String>,
}

fn error(attribute: &'static str, message: impl Into<String>) -> NomadSettingsError {
    NomadSettingsError { attribute, message: message.into() }
}

/// Text that goes into the script single-quoted: no quote, no line break, no `{{` (SSM would read a parameter).
fn check_text(attribute: &'static str, value: &str) -> Result<(), NomadSettingsError> {
    if value.is_empty() {
        return Err(error(attribute, "expected a non-empty value"));
    }
    if value.contains(['\'', '\n', '\r', '\0']) || value.contains("{{") {
        return Err(error(attribute, format!("{value:?} may not contain quotes, line breaks or \"{{{{\"")));
    }
    Ok(())
}

fn check_path(attribute: &'static str, value: &str) -> Result<(), NomadSettingsError> {
    check_text(attribute, value)?;
    if !value.starts_with('/') {
        return Err(error(attribute, format!("expected an absolute path on the instance, got {value:?}")));
    }
    Ok(())
}

impl NomadSettingsInput {
    /// Checks the settings (plan time) and fills in the defaults.
    pub fn parse(&self) -> Result<NomadConnection, NomadSettingsError> {
        let address = self.address.clone().unwrap_or_else(|| DEFAULT_ADDRESS.to_string());
        check_text("address", &address)?;
        let https = match address.split_once("://") {
            Some(("https", rest)) if !rest.is_empty() => true,
            Some(("http", rest)) if !rest.is_empty() => false,
            _ => {
                return Err(error(
                    "address",
                    format!("expected http://host:port or https://host:port, got {address:?}"),
                ));
            }
        };
        for (attribute, value) in [
            ("ca_file", &self.ca_file),
            ("client_cert_file", &self.client_cert_file),
            ("client_key_file", &self.client_key_file),
            ("token_file", &self.token_file),
        ] {
            if let Some(path) = value {
                check_path(attribute, path)?;
            }
        }
        if let Some(name) = &self.tls_server_name {
            check_text("tls_server_name", name)?;
        }
        let tls_setting = [
            ("ca_file", &self.ca_file),
            ("client_cert_file", &self.client_cert_file),
            ("client_key_file", &self.client_key_file),
            ("tls_server_name", &self.tls_server_name),
        ]
        .into_iter()
        .find(|(_, value)| value.is_some());
        if let (false, Some((attribute, _))) = (https, tls_setting) {
            return Err(error(attribute, format!("is a TLS setting, but address {address:?} is not https://")));
        }
        match (&self.client_cert_file, &self.client_key_file) {
            (Some(_), None) => return Err(error("client_key_file", "is required with client_cert_file")),
            (None, Some(_)) => return Err(error("client_cert_file", "is required with client_key_file")),
            _ => {}
        }
        let token = match (&self.token_file, &self.token_parameter) {
            (Some(_), Some(_)) => {
                return Err(error("token_parameter", "expected either token_file or token_parameter, not both"));
            }
            (Some(path), None) => TokenSource::File(path.clone()),
            (None, Some(name)) => {
                check_text("token_parameter", name)?;
                // SSM parameter names: letters, digits, . - _ and / for hierarchies.
                if !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c)) {
                    return Err(error("token_parameter", format!("{name:?} is not an SSM parameter name")));
                }
                TokenSource::SecureStringParameter(name.clone())
            }
            (None, None) => TokenSource::None,
        };
        Ok(NomadConnection {
            address,
            ca_file: self.ca_file.clone(),
            client_cert_file: self.client_cert_file.clone(),
            client_key_file: self.client_key_file.clone(),
            tls_server_name: self.tls_server_name.clone(),
            token,
        })
    }
}

impl NomadConnection {
    /// The script lines that give the Nomad CLI its connection (nothing for the default local agent).
    pub fn script_prelude(&self) -> String {
        let mut lines = Vec::new();
        if self.address != DEFAULT_ADDRESS {
            lines.push(format!("export NOMAD_ADDR='{}'", self.address));
        }
        for (variable, value) in [
            ("NOMAD_CACERT", &self.ca_file),
            ("NOMAD_CLIENT_CERT", &self.client_cert_file),
            ("NOMAD_CLIENT_KEY", &self.client_key_file),
            ("NOMAD_TLS_SERVER_NAME", &self.tls_server_name),
        ] {
            if let Some(value) = value {
                lines.push(format!("export {variable}='{value}'"));
            }
        }
        match &self.token {
            TokenSource::None => {}
            TokenSource::File(path) => {
                lines.push(format!("[ -r '{path}' ] || fail \"the Nomad token file {path} is not readable\""));
                lines.push(format!(
                    "NOMAD_TOKEN=$(cat '{path}') || fail \"reading the Nomad token file {path} failed\""
                ));
                lines.push("export NOMAD_TOKEN".to_string());
            }
            TokenSource::SecureStringParameter(name) => {
                lines.push("command -v aws >/dev/null 2>&1 || fail \"the aws CLI is not on PATH (needed to read the Nomad token)\"".to_string());
                lines.push(format!(
                    "NOMAD_TOKEN=$(aws ssm get-parameter --with-decryption --name '{name}' --query Parameter.Value --output text </dev/null) || fail \"reading the Nomad token from SSM parameter {name} failed\""
                ));
                lines.push("export NOMAD_TOKEN".to_string());
            }
        }
        lines.iter().map(|line| format!("{line}\n")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NomadSettingsInput {
        NomadSettingsInput::default()
    }

    #[test]
    fn defaults_reach_a_plain_local_agent_with_no_extra_lines() {
        let connection = input().parse().unwrap();
        assert_eq!(connection, NomadConnection::default());
        assert_eq!(connection.script_prelude(), "");
    }

    #[test]
    fn tls_and_a_token_file_become_the_cli_environment() {
        let connection = NomadSettingsInput {
            address: Some("https://127.0.0.1:4646".into()),
            ca_file: Some("/etc/nomad.d/tls/ca.pem".into()),
            client_cert_file: Some("/etc/nomad.d/tls/cli.pem".into()),
            client_key_file: Some("/etc/nomad.d/tls/cli-key.pem".into()),
            token_file: Some("/etc/nomad.d/drain.token".into()),
            ..input()
        }
        .parse()
        .unwrap();
        let prelude = connection.script_prelude();
        for line in [
            "export NOMAD_ADDR='https://127.0.0.1:4646'",
            "export NOMAD_CACERT='/etc/nomad.d/tls/ca.pem'",
            "export NOMAD_CLIENT_CERT='/etc/nomad.d/tls/cli.pem'",
            "export NOMAD_CLIENT_KEY='/etc/nomad.d/tls/cli-key.pem'",
            "NOMAD_TOKEN=$(cat '/etc/nomad.d/drain.token')",
        ] {
            assert!(prelude.contains(line), "{line} missing from:\n{prelude}");
        }
        assert!(!prelude.contains("{{"), "{prelude}");
    }

    #[test]
    fn impossible_combinations_are_refused_naming_the_attribute() {
        let cases = [
            (NomadSettingsInput { address: Some("127.0.0.1:4646".into()), ..input() }, "address"),
            (NomadSettingsInput { ca_file: Some("/ca.pem".into()), ..input() }, "ca_file"),
            (
                NomadSettingsInput {
                    address: Some("https://nomad:4646".into()),
                    client_cert_file: Some("/c.pem".into()),
                    ..input()
                },
                "client_key_file",
            ),
            (NomadSettingsInput { token_file: Some("token".into()), ..input() }, "token_file"),
            (
                NomadSettingsInput {
                    token_file: Some("/t".into()),
                    token_parameter: Some("/nomad/token".into()),
                    ..input()
                },
                "token_parameter",
            ),
            (NomadSettingsInput { token_parameter: Some("bad name!".into()), ..input() }, "token_parameter"),
            (NomadSettingsInput { token_file: Some("/t'; reboot; '".into()), ..input() }, "token_file"),
            (NomadSettingsInput { token_file: Some("/{{ x }}".into()), ..input() }, "token_file"),
        ];
        for (settings, attribute) in cases {
            let error = settings.parse().expect_err(attribute);
            assert_eq!(error.attribute, attribute, "{error}");
            assert!(error.to_string().starts_with(&format!("drain.nomad.{attribute}: ")), "{error}");
        }
    }
}
