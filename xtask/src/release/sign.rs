//! The detached GPG signature of SHA256SUMS the registry checks. The registry accepts RSA and DSA keys only, so the
//! key's algorithm is checked before signing.

use crate::{Result, cmd};
use std::path::Path;
use std::process::Command;

/// The variable naming the signing key (a fingerprint or key id in the default or `GNUPGHOME` keyring).
pub const FINGERPRINT_VAR: &str = "GPG_FINGERPRINT";

/// OpenPGP public-key algorithm ids (RFC 4880 §9.1) the registry accepts: RSA (1, 2, 3) and DSA (17).
const ACCEPTED_ALGORITHMS: [(&str, &str); 4] =
    [("1", "RSA"), ("2", "RSA (encrypt only)"), ("3", "RSA (sign only)"), ("17", "DSA")];

/// The algorithm of the secret key `fingerprint`, from `gpg --with-colons` (field 4 of the `sec` line).
fn key_algorithm(fingerprint: &str) -> Result<String> {
    let listing =
        cmd::output(Command::new("gpg").args(["--batch", "--with-colons", "--list-secret-keys", fingerprint]))
            .map_err(|e| format!("{FINGERPRINT_VAR}={fingerprint}: no such secret key in the keyring: {e}"))?;
    let sec = listing
        .lines()
        .find(|line| line.starts_with("sec:"))
        .ok_or_else(|| format!("{FINGERPRINT_VAR}={fingerprint}: gpg lists no secret key for it"))?;
    Ok(sec.split(':').nth(3).unwrap_or_default().to_string())
}

/// Signs `sums` into `signature` (binary detached signature) with `fingerprint`.
pub fn detach_sign(fingerprint: &str, sums: &Path, signature: &Path) -> Result {
    let algorithm = key_algorithm(fingerprint)?;
    if !ACCEPTED_ALGORITHMS.iter().any(|(id, _)| *id == algorithm) {
        let accepted: Vec<&str> = ACCEPTED_ALGORITHMS.iter().map(|(_, name)| *name).collect();
        return Err(format!(
            "{FINGERPRINT_VAR}={fingerprint}: the key's algorithm is OpenPGP id {algorithm}; the Terraform Registry \
accepts only {} keys",
            accepted.join(", ")
        )
        .into());
    }
    cmd::run(
        Command::new("gpg")
            // A key with a passphrase is unlocked by the user's gpg-agent, as for any other gpg signature.
            .args(["--batch", "--yes", "--local-user", fingerprint])
            .arg("--output")
            .arg(signature)
            .arg("--detach-sign")
            .arg(sums),
    )
}
