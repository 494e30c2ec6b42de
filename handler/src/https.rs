//! The handler's HTTPS client: ring-only rustls (one TLS stack) trusting only the roots AWS's service endpoints chain
//! to, compiled in. Reading the system store (a bundle plus ~150 files under /etc/ssl/certs) took about 4 ms of each
//! cold start, more than half of it; AWS endpoints (public, FIPS and VPC interface endpoints alike) present
//! certificates of Amazon Trust Services, whose roots are these five.

use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// Amazon Root CA 1-4 and Starfield Services Root Certificate Authority - G2, PEM (see the file's header).
pub const AWS_ROOTS_PEM: &[u8] = include_bytes!("aws-roots.pem");

pub fn client() -> SharedHttpClient {
    let trust = TrustStore::empty().with_native_roots(false).with_pem_certificate(AWS_ROOTS_PEM);
    let context = TlsContext::builder().with_trust_store(trust).build().expect("a trust store of PEM roots is valid");
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https()
}

#[cfg(test)]
mod tests {
    use super::*;

    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    #[test]
    fn the_bundle_parses_as_the_five_roots_aws_documents() {
        // The smithy client parses the bundle this way and panics on an error: in Lambda, at the first AWS call.
        let certificates: Vec<CertificateDer> =
            CertificateDer::pem_slice_iter(AWS_ROOTS_PEM).collect::<Result<_, _>>().expect("every PEM block parses");
        assert_eq!(certificates.len(), 5);
        let text = std::str::from_utf8(AWS_ROOTS_PEM).unwrap();
        for name in [
            "Amazon_Root_CA_1",
            "Amazon_Root_CA_2",
            "Amazon_Root_CA_3",
            "Amazon_Root_CA_4",
            "Starfield_Services_Root_Certificate_Authority_-_G2",
        ] {
            assert!(text.contains(&format!("# {name}\n-----BEGIN CERTIFICATE-----")), "{name} is missing");
        }
    }
}
