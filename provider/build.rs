//! Embeds the drain handler zips built by `cargo xtask lambda`. No nested cargo here: the zips are built in their own
//! step; this only checks they exist and hashes them, so a missing or stale bundle is a clear error, not a surprise.

use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const ARCHITECTURES: &[(&str, &str)] = &[("arm64", "ARM64"), ("x86_64", "X86_64")];

fn main() {
    println!("cargo:rerun-if-env-changed=GRACEFUL_HANDLER_ZIP_DIR");
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let zip_dir = match std::env::var_os("GRACEFUL_HANDLER_ZIP_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => manifest_dir.join("..").join("target").join("lambda"),
    };
    for line in directives(&zip_dir) {
        println!("{line}");
    }
}

/// The cargo directives for the bundles in `zip_dir`. A missing bundle is one `cargo::error` line, not a panic with
/// a backtrace: a fresh clone's `cargo build` tells the user what to run.
pub(crate) fn directives(zip_dir: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    for (architecture, env_suffix) in ARCHITECTURES {
        let zip = zip_dir.join(architecture).join("bootstrap.zip");
        lines.push(format!("cargo:rerun-if-changed={}", zip.display()));
        match std::fs::read(&zip).and_then(|bytes| Ok((bytes, zip.canonicalize()?))) {
            Ok((bytes, path)) => {
                let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
                lines.push(format!("cargo:rustc-env=GRACEFUL_HANDLER_ZIP_{env_suffix}={}", path.display()));
                lines.push(format!("cargo:rustc-env=GRACEFUL_HANDLER_SHA256_{env_suffix}={sha256}"));
            }
            Err(error) => {
                lines.push(format!(
                    "cargo::error=the drain handler bundle {} is missing ({error}): run `cargo xtask lambda` first \
(or set GRACEFUL_HANDLER_ZIP_DIR to a directory holding arm64/bootstrap.zip and x86_64/bootstrap.zip)",
                    zip.display()
                ));
                return lines;
            }
        }
    }
    lines
}
