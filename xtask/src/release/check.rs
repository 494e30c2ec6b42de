//! The release check `cargo xtask test` runs: two release runs signed with a throwaway RSA key in a temporary
//! `GNUPGHOME`, then what a registry and a Terraform user rely on: the signature verifies, SHA256SUMS matches every
//! file, the two runs are byte-identical, the arm64 binary is an aarch64 ELF that runs (under qemu-user here) and
//! answers as a plugin does when run by hand, and the real Terraform CLI installs the linux_amd64 build from a
//! `filesystem_mirror` (packed layout), `terraform providers lock -fs-mirror` records its hashes and `terraform plan`
//! on examples/quickstart works. Nothing under `~/.terraform.d` is involved: HOME points at an empty directory.

use super::{Options, PLATFORMS, Version, package};
use crate::{Result, cmd, lambda};
use acceptance::emulator::Emulator;
use std::path::{Path, PathBuf};
use std::process::Command;

const MANIFEST: &str = r#"{"version":1,"metadata":{"protocol_versions":["6.0"]}}"#;
/// The line a provider prints when a person runs it (tfplugin's handshake error).
const HUMAN_MESSAGE: &str = "is a Terraform provider plugin: Terraform starts it, it is not meant to be run directly";

pub fn run(args: &[String]) -> Result {
    let profile = match args {
        [] => "provider-release".to_string(),
        [flag, value] if flag == "--profile" => value.clone(),
        _ => return Err("usage: cargo xtask release-check [--profile PROFILE]".into()),
    };
    let work = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let outcome = check_all(work.path(), &profile);
    // gpg started an agent for the throwaway keyring: stop it with the directory it serves.
    let _ = Command::new("gpgconf").args(["--kill", "gpg-agent"]).status();
    let (passed, failed) =
        (outcome.iter().filter(|(_, r)| r.is_ok()).count(), outcome.iter().filter(|(_, r)| r.is_err()).count());
    for (name, result) in &outcome {
        match result {
            Ok(()) => println!("release check {name}: ok"),
            Err(error) => println!("release check {name}: FAILED: {error}"),
        }
    }
    println!("release checks: {passed} passed, {failed} failed");
    if failed > 0 { Err(format!("{failed} release check(s) failed").into()) } else { Ok(()) }
}

type Outcome = Vec<(&'static str, std::result::Result<(), String>)>;

fn check_all(work: &Path, profile: &str) -> Outcome {
    let mut outcome: Outcome = Vec::new();
    let fingerprint = match throwaway_key(&work.join("gnupg")) {
        Ok(fingerprint) => fingerprint,
        Err(error) => {
            outcome.push(("throwaway signing key", Err(error.to_string())));
            return outcome;
        }
    };
    let version = Version::parse(env!("CARGO_PKG_VERSION")).expect("the crate version is semantic");
    let mut releases = Vec::new();
    for run in ["first", "second"] {
        let options = Options {
            version: version.clone(),
            out_dir: work.join(format!("release-{run}")),
            profile: profile.to_string(),
            fingerprint: Some(fingerprint.clone()),
        };
        match super::build(&options) {
            Ok(release) if release.signed => releases.push(release.dir),
            Ok(_) => {
                outcome.push(("release build", Err("the release came out unsigned with a key given".into())));
                return outcome;
            }
            Err(error) => {
                outcome.push(("release build", Err(error.to_string())));
                return outcome;
            }
        }
    }
    let dir = &releases[0];
    outcome.push(("signature verifies with gpg", verify_signature(dir, &version)));
    outcome.push(("SHA256SUMS lists and matches every file", verify_sums(dir, &version)));
    outcome.push(("manifest", verify_manifest(dir, &version)));
    outcome.push(("two runs are byte-identical", compare_runs(&releases[0], &releases[1])));
    outcome.push(("arm64 binary runs and answers a person", verify_arm64(dir, &version, work)));
    outcome.push((
        "terraform installs, locks and plans from a filesystem mirror",
        terraform_from_mirror(dir, &version, work),
    ));
    outcome
}

/// An RSA key without passphrase in a new `GNUPGHOME`, which this process and its children use from now on.
fn throwaway_key(home: &Path) -> Result<String> {
    std::fs::create_dir_all(home)?;
    std::fs::set_permissions(home, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    // SAFETY: xtask is single-threaded here; gpg children inherit the variable.
    #[allow(unsafe_code)] // set_var is unsafe since Rust 2024 (other threads may read the environment)
    unsafe {
        std::env::set_var("GNUPGHOME", home)
    };
    cmd::output(Command::new("gpg").args([
        "--batch",
        "--passphrase",
        "",
        "--quick-gen-key",
        "graceful release check <release-check@example.invalid>",
        "rsa3072",
        "sign",
        "never",
    ]))?;
    let listing = cmd::output(Command::new("gpg").args(["--batch", "--with-colons", "--list-secret-keys"]))?;
    let fingerprint = listing
        .lines()
        .find(|line| line.starts_with("fpr:"))
        .and_then(|line| line.split(':').nth(9))
        .ok_or("gpg listed no fingerprint for the new key")?;
    Ok(fingerprint.to_string())
}

fn read(path: &Path) -> std::result::Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

fn verify_signature(dir: &Path, version: &Version) -> std::result::Result<(), String> {
    cmd::output(
        Command::new("gpg")
            .args(["--batch", "--verify"])
            .arg(dir.join(version.signature_name()))
            .arg(dir.join(version.sums_name())),
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

fn verify_sums(dir: &Path, version: &Version) -> std::result::Result<(), String> {
    let sums = String::from_utf8(read(&dir.join(version.sums_name()))?).map_err(|e| e.to_string())?;
    let mut expected: Vec<String> = PLATFORMS.iter().map(|p| version.zip_name(p.name)).collect();
    expected.push(version.manifest_name());
    expected.sort();
    let mut listed = Vec::new();
    for line in sums.lines() {
        let (digest, name) = line.split_once("  ").ok_or_else(|| format!("malformed line {line:?}"))?;
        let actual = package::sha256_hex(&read(&dir.join(name))?);
        if actual != digest {
            return Err(format!("{name}: SHA256SUMS says {digest}, the file hashes to {actual}"));
        }
        listed.push(name.to_string());
    }
    if listed != expected {
        return Err(format!("SHA256SUMS lists {listed:?}, expected {expected:?}"));
    }
    Ok(())
}

fn verify_manifest(dir: &Path, version: &Version) -> std::result::Result<(), String> {
    let manifest = read(&dir.join(version.manifest_name()))?;
    if manifest.trim_ascii_end() != MANIFEST.as_bytes() {
        return Err(format!("manifest is {:?}, expected {MANIFEST}", String::from_utf8_lossy(&manifest)));
    }
    Ok(())
}

fn compare_runs(first: &Path, second: &Path) -> std::result::Result<(), String> {
    let mut names: Vec<String> = std::fs::read_dir(first)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        // Signatures carry a creation time; everything they sign must be identical.
        .filter(|name| !name.ends_with(".sig"))
        .collect();
    // Zips first, so a difference names the platform rather than the checksum file that follows from it.
    names.sort_by_key(|name| (!name.ends_with(".zip"), name.clone()));
    let differing: Vec<&String> =
        names.iter().filter(|name| read(&first.join(name)).ok() != read(&second.join(name)).ok()).collect();
    match differing.first() {
        None => Ok(()),
        Some(name) => Err(format!("{name} differs between the two runs (all differing: {differing:?})")),
    }
}

/// The single entry of a release zip.
fn unzip_binary(zip_path: &Path, version: &Version) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(read(zip_path)?)).map_err(|e| e.to_string())?;
    if archive.len() != 1 {
        return Err(format!("{} holds {} entries, expected 1", zip_path.display(), archive.len()));
    }
    let mut entry = archive.by_index(0).map_err(|e| e.to_string())?;
    let name = entry.name().map_err(|e| e.to_string())?.to_string();
    if name != version.binary_name() {
        return Err(format!("{} holds {name:?}, expected {:?}", zip_path.display(), version.binary_name()));
    }
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

fn verify_arm64(dir: &Path, version: &Version, work: &Path) -> std::result::Result<(), String> {
    let platform = PLATFORMS.iter().find(|p| p.name == "linux_arm64").expect("linux_arm64 is released");
    let binary = unzip_binary(&dir.join(version.zip_name(platform.name)), version)?;
    lambda::check_static_elf(&binary, platform.target.elf_machine)?;
    let path = work.join("arm64").join(version.binary_name());
    std::fs::create_dir_all(path.parent().unwrap()).map_err(|e| e.to_string())?;
    std::fs::write(&path, &binary).map_err(|e| e.to_string())?;
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).map_err(|e| e.to_string())?;
    let out = platform
        .target
        .run_command(&path)
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .map_err(|e| format!("running {}: {e}", path.display()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() || !stderr.contains(HUMAN_MESSAGE) {
        return Err(format!("run by hand it exited {} and printed {stderr:?}", out.status));
    }
    Ok(())
}

/// The CLI configuration that installs our provider from `mirror` only.
fn cli_config(mirror: &Path) -> String {
    let source = acceptance::terraform::PROVIDER_SOURCE;
    let host_namespace = source.rsplit_once('/').expect("source has a namespace").0;
    format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{source}\"]\n  }}\n  \
direct {{\n    exclude = [\"{host_namespace}/*\"]\n  }}\n}}\n",
        mirror.display()
    )
}

fn terraform_from_mirror(dir: &Path, version: &Version, work: &Path) -> std::result::Result<(), String> {
    // Packed layout: HOSTNAME/NAMESPACE/TYPE/terraform-provider-TYPE_VERSION_TARGET.zip
    let source = acceptance::terraform::PROVIDER_SOURCE;
    let mirror = work.join("mirror");
    let zip_name = version.zip_name("linux_amd64");
    let packed = mirror.join(source);
    std::fs::create_dir_all(&packed).map_err(|e| e.to_string())?;
    std::fs::copy(dir.join(&zip_name), packed.join(&zip_name)).map_err(|e| e.to_string())?;
    let config_file = work.join("terraform.rc");
    std::fs::write(&config_file, cli_config(&mirror)).map_err(|e| e.to_string())?;
    let home = work.join("home");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;

    let example = work.join("quickstart");
    copy_config_files(&cmd::workspace_root().join("examples").join("quickstart"), &example)?;
    let emulator = Emulator::start()?;
    let terraform = |args: &[&str]| -> std::result::Result<String, String> {
        let mut command = Command::new(acceptance::terraform::terraform_binary());
        command
            .args(args)
            .current_dir(&example)
            .env("TF_CLI_CONFIG_FILE", &config_file)
            .env("HOME", &home)
            .env("TF_IN_AUTOMATION", "1")
            .env_remove("TF_PLUGIN_CACHE_DIR")
            .envs(emulator.aws_env());
        cmd::output(&mut command).map_err(|e| e.to_string())
    };
    terraform(&["init", "-input=false", "-no-color"])?;
    let mirror_arg = format!("-fs-mirror={}", mirror.display());
    terraform(&["providers", "lock", &mirror_arg, "-platform=linux_amd64", "-no-color", source])?;
    // From a filesystem mirror Terraform records the package's `h1:` hash (zh: hashes come only from a registry's
    // signed SHA256SUMS): it must be the hash of exactly the binary this release zipped.
    let lock = String::from_utf8_lossy(&read(&example.join(".terraform.lock.hcl"))?).into_owned();
    let binary = unzip_binary(&dir.join(&zip_name), version)?;
    let expected = h1_hash(&[(version.binary_name(), binary)]);
    if !lock.contains(&expected) {
        return Err(format!("the lock file does not record {expected}, the hash of the released binary:\n{lock}"));
    }
    let plan =
        terraform(&["plan", "-input=false", "-no-color", "-var", "autoscaling_group_names=[\"release-check\"]"])?;
    if !plan.contains("graceful_shutdown_asg.nomad_clients will be created") {
        return Err(format!("terraform plan did not plan the resource:\n{plan}"));
    }
    Ok(())
}

/// Terraform's `h1:` package hash (Go's `dirhash.Hash1`, which Terraform's `getproviders.PackageHashV1` uses): the
/// SHA-256 of the lines `<hex sha256>  <name>\n` for the package's files sorted by name, base64-encoded.
fn h1_hash(files: &[(String, Vec<u8>)]) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let mut sorted: Vec<&(String, Vec<u8>)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let summary: String =
        sorted.iter().map(|(name, bytes)| format!("{}  {name}\n", package::sha256_hex(bytes))).collect();
    format!("h1:{}", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(summary.as_bytes())))
}

/// Copies the configuration files of an example (not its tests or local Terraform state) into `to`.
fn copy_config_files(from: &Path, to: &Path) -> std::result::Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| e.to_string())?;
    let entries: Vec<PathBuf> =
        std::fs::read_dir(from).map_err(|e| e.to_string())?.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    for path in entries.iter().filter(|p| p.extension().is_some_and(|x| x == "tf")) {
        std::fs::copy(path, to.join(path.file_name().unwrap())).map_err(|e| e.to_string())?;
    }
    Ok(())
}
