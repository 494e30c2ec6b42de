//! The drain handler zips embedded in this binary, one per Lambda architecture, with their Lambda `CodeSha256`.

pub struct HandlerBundle {
    pub architecture: &'static str,
    pub zip: &'static [u8],
    /// Base64 SHA-256 of `zip`, as Lambda reports `CodeSha256`; computed at build time.
    pub code_sha256: &'static str,
}

pub const BUNDLES: &[HandlerBundle] = &[
    HandlerBundle {
        architecture: "arm64",
        zip: include_bytes!(env!("GRACEFUL_HANDLER_ZIP_ARM64")),
        code_sha256: env!("GRACEFUL_HANDLER_SHA256_ARM64"),
    },
    HandlerBundle {
        architecture: "x86_64",
        zip: include_bytes!(env!("GRACEFUL_HANDLER_ZIP_X86_64")),
        code_sha256: env!("GRACEFUL_HANDLER_SHA256_X86_64"),
    },
];

pub fn for_architecture(architecture: &str) -> Option<&'static HandlerBundle> {
    BUNDLES.iter().find(|bundle| bundle.architecture == architecture)
}

#[cfg(test)]
#[path = "../build.rs"]
#[allow(dead_code)]
mod build_script;

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use sha2::{Digest, Sha256};

    #[test]
    fn a_missing_bundle_is_one_build_error_line_that_says_what_to_run() {
        let nowhere = std::env::temp_dir().join(format!("graceful-no-bundle-{}", std::process::id()));
        let lines = super::build_script::directives(&nowhere);
        let errors: Vec<&String> = lines.iter().filter(|l| l.starts_with("cargo::error=")).collect();
        assert_eq!(errors.len(), 1, "{lines:?}");
        assert!(errors[0].contains("run `cargo xtask lambda` first") && !errors[0].contains('\n'), "{}", errors[0]);
        assert!(!lines.iter().any(|l| l.starts_with("cargo:rustc-env=")), "nothing to embed: {lines:?}");
    }

    #[test]
    fn embedded_hashes_match_the_embedded_zips() {
        for bundle in BUNDLES {
            let sha = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bundle.zip));
            assert_eq!(sha, bundle.code_sha256, "{}", bundle.architecture);
            // A zip starts with a local file header.
            assert_eq!(&bundle.zip[..4], b"PK\x03\x04", "{} bundle is not a zip", bundle.architecture);
        }
    }
}
