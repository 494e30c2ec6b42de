//! `cargo xtask release [--version X.Y.Z] [--out DIR]`: the provider for every platform this machine can build, in
//! the layout the Terraform Registry and `terraform providers mirror` use, with SHA256SUMS signed by the key named in
//! `GPG_FINGERPRINT`. Reproducible: zip timestamps come from `SOURCE_DATE_EPOCH` (else the last commit's time).
//!
//! Platforms: linux_amd64 and linux_arm64, as static musl binaries (they run on any Linux, whatever its glibc).
//! darwin and windows are not built: see the README's "Releases" section for why.

pub mod check;
mod package;
mod sign;

use crate::capability::{CrossTarget, MUSL_TARGETS};
use crate::{Result, cmd, lambda, setup};
pub use package::{Version, zip_one_executable};
use std::path::{Path, PathBuf};
use std::process::Command;

const PACKAGE: &str = "terraform-provider-graceful";
const BINARY: &str = "terraform-provider-graceful";
/// The manifest the registry reads from each release; its one home is the repository root.
const MANIFEST_FILE: &str = "terraform-registry-manifest.json";

/// A registry platform (`<os>_<arch>`) and the Rust target that builds it.
pub struct Platform {
    pub name: &'static str,
    pub target: &'static CrossTarget,
}

pub const PLATFORMS: [Platform; 2] = [
    Platform { name: "linux_amd64", target: &MUSL_TARGETS[0] },
    Platform { name: "linux_arm64", target: &MUSL_TARGETS[1] },
];

pub struct Options {
    pub version: Version,
    pub out_dir: PathBuf,
    /// The cargo profile the provider is built with (`provider-release` for a real release).
    pub profile: String,
    /// The signing key (`GPG_FINGERPRINT`); `None` makes an unsigned release, said loudly.
    pub fingerprint: Option<String>,
}

/// What a release run wrote.
pub struct Release {
    pub dir: PathBuf,
    pub version: Version,
    pub signed: bool,
}

pub fn run(args: &[String]) -> Result {
    let options = parse_args(args)?;
    let release = build(&options)?;
    let signature = if release.signed { "signed" } else { "UNSIGNED" };
    println!("release {} ({signature}) in {}", release.version.as_str(), release.dir.display());
    for entry in list_files(&release.dir)? {
        println!("  {entry}");
    }
    Ok(())
}

fn parse_args(args: &[String]) -> Result<Options> {
    const USAGE: &str = "usage: cargo xtask release [--version X.Y.Z] [--out DIR] [--profile PROFILE]";
    let mut version = Version::parse(env!("CARGO_PKG_VERSION"))?;
    let mut out_dir = None;
    let mut profile = "provider-release".to_string();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let mut value = || rest.next().ok_or_else(|| format!("{flag} needs a value; {USAGE}"));
        match flag.as_str() {
            "--version" => version = Version::parse(value()?)?,
            "--out" => out_dir = Some(PathBuf::from(value()?)),
            "--profile" => profile = value()?.clone(),
            other => return Err(format!("unexpected argument {other:?}; {USAGE}").into()),
        }
    }
    let out_dir = out_dir.unwrap_or_else(|| cmd::target_dir().join("dist").join(version.as_str()));
    let fingerprint = std::env::var(sign::FINGERPRINT_VAR).ok().filter(|f| !f.trim().is_empty());
    Ok(Options { version, out_dir, profile, fingerprint })
}

/// Seconds since the epoch for every timestamp in the release: `SOURCE_DATE_EPOCH`, else the last commit's time.
fn source_date_epoch() -> Result<i64> {
    if let Ok(text) = std::env::var("SOURCE_DATE_EPOCH") {
        return text.trim().parse().map_err(|_| format!("SOURCE_DATE_EPOCH={text:?}: expected whole seconds").into());
    }
    let out = cmd::output(Command::new("git").args(["log", "-1", "--format=%ct"]).current_dir(cmd::workspace_root()))
        .map_err(|e| format!("{e}\n(set SOURCE_DATE_EPOCH when building outside a git checkout)"))?;
    out.trim().parse().map_err(|_| format!("git log printed {out:?}, not a commit time").into())
}

/// The one cargo command that builds the provider for every release platform in `profile`.
pub fn provider_build(profile: &str) -> Command {
    let mut build = cmd::cargo();
    build.args(["build", "--profile", profile, "-p", PACKAGE, "--bin", BINARY]);
    for platform in &PLATFORMS {
        build.args(["--target", platform.target.triple]);
        platform.target.apply_env(&mut build);
    }
    build
}

/// Builds the provider for every platform and writes the release files into `options.out_dir`.
pub fn build(options: &Options) -> Result<Release> {
    let targets: Vec<&CrossTarget> = PLATFORMS.iter().map(|p| p.target).collect();
    setup::ensure_targets(&targets)?;
    lambda::run(&[])?; // the provider embeds the handler zips

    cmd::run(&mut provider_build(&options.profile))?;

    let modified = package::zip_time(source_date_epoch()?)?;
    let version = &options.version;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for platform in &PLATFORMS {
        let binary_path = binary_path(platform.target, &options.profile);
        let binary = std::fs::read(&binary_path).map_err(|e| format!("reading {}: {e}", binary_path.display()))?;
        lambda::check_static_elf(&binary, platform.target.elf_machine)
            .map_err(|e| format!("{}: {e}", binary_path.display()))?;
        files.push((
            version.zip_name(platform.name),
            package::zip_one_executable(&version.binary_name(), &binary, modified)?,
        ));
    }
    let manifest_path = cmd::workspace_root().join(MANIFEST_FILE);
    let manifest = std::fs::read(&manifest_path).map_err(|e| format!("reading {}: {e}", manifest_path.display()))?;
    files.push((version.manifest_name(), manifest));
    let sums = package::sha256sums(&files);
    files.push((version.sums_name(), sums.into_bytes()));

    let dir = &options.out_dir;
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let stale_signature = dir.join(version.signature_name());
    if stale_signature.exists() {
        std::fs::remove_file(&stale_signature).map_err(|e| format!("removing {}: {e}", stale_signature.display()))?;
    }
    for (name, bytes) in &files {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    let signed = match &options.fingerprint {
        Some(fingerprint) => {
            sign::detach_sign(fingerprint, &dir.join(version.sums_name()), &stale_signature)?;
            true
        }
        None => {
            println!(
                "release: UNSIGNED: {} is not set, so {} has no signature; the Terraform Registry refuses an unsigned \
release (set it to the fingerprint of an RSA or DSA key in your keyring)",
                sign::FINGERPRINT_VAR,
                version.sums_name()
            );
            false
        }
    };
    Ok(Release { dir: dir.clone(), version: version.clone(), signed })
}

fn binary_path(target: &CrossTarget, profile: &str) -> PathBuf {
    let profile_dir = if profile == "dev" { "debug" } else { profile };
    cmd::target_dir().join(target.triple).join(profile_dir).join(BINARY)
}

fn list_files(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("listing {}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}
