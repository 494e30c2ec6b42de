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

/// Characters a connection setting may hold: it reaches the instance as a document parameter, which SSM pastes into
/// the script between single quotes, so no quote, space, line break, `$`, backquote or brace can be among them.
fn is_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_./:@+=,~%[]-".contains(c)
}

/// The same rule as the parameters' `allowedPattern` (SSM refuses a `SendCommand` value outside it).
pub const VALUE_PATTERN: &str = r"^[A-Za-z0-9_./:@+=,~%\[\]-]*$";

fn check_text(attribute: &'static str, value: &str) -> Result<(), NomadSettingsError> {
    if value.is_empty() {
        return Err(error(attribute, "expected a non-empty value"));
    }
    if let Some(bad) = value.chars().find(|c| !is_value_char(*c)) {
        return Err(error(
            attribute,
            format!("{value:?} contains {bad:?}, expected only letters, digits and _ . / : @ + = , ~ % [ ] -"),
        ));
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

/// Document parameters carrying the settings to the instance (never a secret: the token's file path or parameter
/// name, not the token). An empty value is a setting left out.
pub const ADDRESS_PARAMETER: &str = "nomadAddress";
pub const CA_FILE_PARAMETER: &str = "nomadCaFile";
pub const CLIENT_CERT_FILE_PARAMETER: &str = "nomadClientCertFile";
pub const CLIENT_KEY_FILE_PARAMETER: &str = "nomadClientKeyFile";
pub const TLS_SERVER_NAME_PARAMETER: &str = "nomadTlsServerName";
pub const TOKEN_FILE_PARAMETER: &str = "nomadTokenFile";
pub const TOKEN_PARAMETER_PARAMETER: &str = "nomadTokenParameter";

/// Each parameter with the description the document shows.
pub const PARAMETERS: [(&str, &str); 7] = [
    (ADDRESS_PARAMETER, "Address of the local Nomad agent (NOMAD_ADDR)"),
    (CA_FILE_PARAMETER, "CA certificate file on the instance (NOMAD_CACERT); empty: none"),
    (CLIENT_CERT_FILE_PARAMETER, "Client certificate file on the instance (NOMAD_CLIENT_CERT); empty: none"),
    (CLIENT_KEY_FILE_PARAMETER, "Client key file on the instance (NOMAD_CLIENT_KEY); empty: none"),
    (TLS_SERVER_NAME_PARAMETER, "Server name checked in the agent's certificate (NOMAD_TLS_SERVER_NAME); empty: none"),
    (TOKEN_FILE_PARAMETER, "File on the instance holding the Nomad ACL token; empty: none"),
    (
        TOKEN_PARAMETER_PARAMETER,
        "SSM SecureString parameter holding the Nomad ACL token, read on the instance; empty: none",
    ),
];

impl NomadConnection {
    /// The settings as document parameter values (every parameter, empty for a setting left out).
    pub fn document_parameters(&self) -> Vec<(&'static str, String)> {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let (token_file, token_parameter) = match &self.token {
            TokenSource::None => (String::new(), String::new()),
            TokenSource::File(path) => (path.clone(), String::new()),
            TokenSource::SecureStringParameter(name) => (String::new(), name.clone()),
        };
        vec![
            (ADDRESS_PARAMETER, self.address.clone()),
            (CA_FILE_PARAMETER, text(&self.ca_file)),
            (CLIENT_CERT_FILE_PARAMETER, text(&self.client_cert_file)),
            (CLIENT_KEY_FILE_PARAMETER, text(&self.client_key_file)),
            (TLS_SERVER_NAME_PARAMETER, text(&self.tls_server_name)),
            (TOKEN_FILE_PARAMETER, token_file),
            (TOKEN_PARAMETER_PARAMETER, token_parameter),
        ]
    }

    /// The settings back from the parameter values a handler configuration holds (import); `None` if they are not
    /// this resource's (a missing parameter reads as left out, the address as the default).
    pub fn from_document_parameters(value: impl Fn(&str) -> Option<String>) -> Option<NomadConnection> {
        let set = |name: &str| value(name).filter(|v| !v.is_empty());
        NomadSettingsInput {
            address: set(ADDRESS_PARAMETER),
            ca_file: set(CA_FILE_PARAMETER),
            client_cert_file: set(CLIENT_CERT_FILE_PARAMETER),
            client_key_file: set(CLIENT_KEY_FILE_PARAMETER),
            tls_server_name: set(TLS_SERVER_NAME_PARAMETER),
            token_file: set(TOKEN_FILE_PARAMETER),
            token_parameter: set(TOKEN_PARAMETER_PARAMETER),
        }
        .parse()
        .ok()
    }
}

/// The nomad preset's first lines: the Nomad CLI's connection from the document parameters, and the token read on
/// the instance (a token that cannot be read is a drain that cannot be checked: NOT DRAINED).
pub const SCRIPT_PRELUDE: &str = r#"nomad_address='{{ nomadAddress }}'
nomad_ca_file='{{ nomadCaFile }}'
nomad_client_cert_file='{{ nomadClientCertFile }}'
nomad_client_key_file='{{ nomadClientKeyFile }}'
nomad_tls_server_name='{{ nomadTlsServerName }}'
nomad_token_file='{{ nomadTokenFile }}'
nomad_token_parameter='{{ nomadTokenParameter }}'
export NOMAD_ADDR="$nomad_address"
[ -z "$nomad_ca_file" ] || export NOMAD_CACERT="$nomad_ca_file"
[ -z "$nomad_client_cert_file" ] || export NOMAD_CLIENT_CERT="$nomad_client_cert_file"
[ -z "$nomad_client_key_file" ] || export NOMAD_CLIENT_KEY="$nomad_client_key_file"
[ -z "$nomad_tls_server_name" ] || export NOMAD_TLS_SERVER_NAME="$nomad_tls_server_name"
if [ -n "$nomad_token_file" ]; then
  [ -r "$nomad_token_file" ] || fail "the Nomad token file ${nomad_token_file} is missing or not readable"
  NOMAD_TOKEN=$(cat "$nomad_token_file") || fail "reading the Nomad token file ${nomad_token_file} failed"
  [ -n "$NOMAD_TOKEN" ] || fail "the Nomad token file ${nomad_token_file} is empty"
  export NOMAD_TOKEN
elif [ -n "$nomad_token_parameter" ]; then
  command -v aws >/dev/null 2>&1 || fail "the aws CLI is not on PATH: it reads the Nomad token from SSM parameter ${nomad_token_parameter}"
  NOMAD_TOKEN=$(aws ssm get-parameter --with-decryption --name "$nomad_token_parameter" --query Parameter.Value --output text </dev/null) || fail "reading the Nomad token from SSM parameter ${nomad_token_parameter} failed (the instance profile needs ssm:GetParameter on it and kms:Decrypt on its key)"
  [ -n "$NOMAD_TOKEN" ] || fail "SSM parameter ${nomad_token_parameter} holds an empty Nomad token"
  export NOMAD_TOKEN
fi
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NomadSettingsInput {
        NomadSettingsInput::default()
    }

    #[test]
    fn defaults_reach_a_plain_local_agent() {
        let connection = input().parse().unwrap();
        assert_eq!(connection, NomadConnection::default());
        let parameters = connection.document_parameters();
        assert_eq!(parameters[0], (ADDRESS_PARAMETER, DEFAULT_ADDRESS.to_string()));
        assert!(parameters[1..].iter().all(|(_, value)| value.is_empty()), "{parameters:?}");
    }

    #[test]
    fn tls_and_a_token_file_become_parameters_and_come_back() {
        let connection = NomadSettingsInput {
            address: Some("https://127.0.0.1:4646".into()),
            ca_file: Some("/etc/nomad.d/tls/ca.pem".into()),
            client_cert_file: Some("/etc/nomad.d/tls/cli.pem".into()),
            client_key_file: Some("/etc/nomad.d/tls/cli-key.pem".into()),
            tls_server_name: Some("client.global.nomad".into()),
            token_file: Some("/etc/nomad.d/drain.token".into()),
            ..input()
        }
        .parse()
        .unwrap();
        let parameters: std::collections::BTreeMap<_, _> = connection.document_parameters().into_iter().collect();
        assert_eq!(parameters[CA_FILE_PARAMETER], "/etc/nomad.d/tls/ca.pem");
        assert_eq!(parameters[TOKEN_FILE_PARAMETER], "/etc/nomad.d/drain.token");
        assert_eq!(parameters[TOKEN_PARAMETER_PARAMETER], "");
        let back = NomadConnection::from_document_parameters(|name| parameters.get(name).cloned());
        assert_eq!(back, Some(connection));
        let pattern = regex::Regex::new(VALUE_PATTERN).unwrap();
        assert!(parameters.values().all(|value| pattern.is_match(value)), "{parameters:?}");
    }

    #[test]
    fn the_parameter_pattern_and_the_plan_check_agree() {
        let pattern = regex::Regex::new(VALUE_PATTERN).unwrap();
        for value in [
            "/etc/nomad.d/ca.pem",
            "https://[::1]:4646",
            "/nomad/drain-token",
            "a'b",
            "a b",
            "$(id)",
            "`id`",
            "{{x}}",
            "a\nb",
            "é",
        ] {
            let planned = NomadSettingsInput { token_file: Some(format!("/{value}")), ..input() }.parse().is_ok();
            assert_eq!(planned, pattern.is_match(&format!("/{value}")), "{value:?}");
        }
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
