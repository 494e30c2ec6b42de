//! Embeds the drain handler zips built by `cargo xtask lambda`. No nested cargo here: the zips are built in their own
//! step; this only checks they exist and hashes them, so a missing or stale bundle is a clear error, not a surprise.

use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

const ARCHITECTURES: &[(&str, &str)] = &[("arm64", "ARM64"), ("x86_64", "X86_64")];

fn main() {
    println!("cargo:rerun-if-env-changed=GRACEFUL_HANDLER_ZIP_DIR");
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let zip_dir = match std::env::var_os("GRACEFUL_HANDLER_ZIP_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => manifest_dir.join("..").join("target").join("lambda"),
    };
    for (architecture, env_suffix) in ARCHITECTURES {
        let zip = zip_dir.join(architecture).join("bootstrap.zip");
        println!("cargo:rerun-if-changed={}", zip.display());
        // A missing bundle is a one-line build error, not a panic with a backtrace: a fresh clone's `cargo build`
        // tells the user what to run.
        let (bytes, path) = match std::fs::read(&zip).and_then(|bytes| Ok((bytes, zip.canonicalize()?))) {
            Ok(found) => found,
            Err(error) => {
                println!(
                    "cargo::error=the drain handler bundle {} is missing ({error}): run `cargo xtask lambda` first \
(or set GRACEFUL_HANDLER_ZIP_DIR to a directory holding arm64/bootstrap.zip and x86_64/bootstrap.zip)",
                    zip.display()
                );
                return;
            }
        };
        let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
        println!("cargo:rustc-env=GRACEFUL_HANDLER_ZIP_{env_suffix}={}", path.display());
        println!("cargo:rustc-env=GRACEFUL_HANDLER_SHA256_{env_suffix}={sha256}");
    }
}
