//! The host side: Terraform-like client certificates (ECDSA P-521 / SHA-512, as go-plugin makes them), parsing
//! the handshake line, and gRPC channels over AutoMTLS or plain TCP.

use crate::plugin::grpc_controller_client::GrpcControllerClient;
use crate::tfplugin6::provider_client::ProviderClient;
use base64::Engine;
use std::net::SocketAddr;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

pub struct ClientIdentity {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A client certificate shaped like go-plugin's: self-signed P-521 with SHA-512, CN localhost, CA flag set.
pub fn terraform_like_client_identity() -> ClientIdentity {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("P-521 key (aws-lc-rs)");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("certificate params");
    params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "HashiCorp");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyAgreement,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages =
        vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth, rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&key).expect("self-signed P-521 certificate");
    ClientIdentity { cert_pem: cert.pem(), key_pem: key.serialize_pem() }
}

/// The parts of a go-plugin handshake line.
pub struct Handshake {
    pub core_version: String,
    pub protocol_version: String,
    pub network: String,
    pub address: SocketAddr,
    pub protocol: String,
    pub server_cert_der: Vec<u8>,
}

pub fn parse_handshake(line: &str) -> Result<Handshake, String> {
    let parts: Vec<&str> = line.split('|').collect();
    let [core_version, protocol_version, network, address, protocol, cert] = parts.as_slice() else {
        return Err(format!("expected 6 '|'-separated fields, got {}: {line:?}", parts.len()));
    };
    let address = address.parse().map_err(|e| format!("address {address:?} is not host:port: {e}"))?;
    let server_cert_der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(cert)
        .map_err(|e| format!("certificate field is not unpadded standard base64: {e}"))?;
    Ok(Handshake {
        core_version: core_version.to_string(),
        protocol_version: protocol_version.to_string(),
        network: network.to_string(),
        address,
        protocol: protocol.to_string(),
        server_cert_der,
    })
}

fn pem_of(der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// Connects the way go-plugin does: trust only the server certificate from the handshake, for name `localhost`,
/// presenting `identity` if given.
pub async fn connect_tls(handshake: &Handshake, identity: Option<&ClientIdentity>) -> Result<Channel, String> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(pem_of(&handshake.server_cert_der)))
        .domain_name("localhost");
    if let Some(identity) = identity {
        tls = tls.identity(Identity::from_pem(&identity.cert_pem, &identity.key_pem));
    }
    Endpoint::from_shared(format!("https://{}", handshake.address))
        .map_err(|e| e.to_string())?
        .tls_config(tls)
        .map_err(|e| format!("client TLS configuration: {e}"))?
        .connect()
        .await
        .map_err(|e| format!("connecting: {e:?}"))
}

pub async fn connect_plain(address: SocketAddr) -> Result<Channel, String> {
    Endpoint::from_shared(format!("http://{address}"))
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("connecting: {e:?}"))
}

pub fn provider(channel: Channel) -> ProviderClient<Channel> {
    ProviderClient::new(channel)
}

pub fn controller(channel: Channel) -> GrpcControllerClient<Channel> {
    GrpcControllerClient::new(channel)
}
