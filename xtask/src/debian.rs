//! The Debian packages the builds and tests use: the ones setup installs when a capability probe fails, and the ones
//! it relies on a new machine having. One table, so the fresh-machine test and setup read the same facts.

use crate::{Result, cmd};
use std::process::Command;

/// Packages setup installs (with `--no-install-recommends`, so each one it needs is named here, not left to a
/// Recommends: the aarch64 C headers are only a Recommends of the cross compiler).
pub mod installed_by_setup {
    /// `musl-gcc`: the C compiler and static musl libc for `x86_64-unknown-linux-musl` (ring compiles C).
    pub const MUSL_TOOLS: &str = "musl-tools";
    /// `aarch64-linux-gnu-gcc`: C compiler and linker for the arm64 handler and the linux_arm64 provider.
    pub const GCC_AARCH64: &str = "gcc-aarch64-linux-gnu";
    /// The aarch64 C headers and static libc (`bits/libc-header-start.h`, `libc.a`) that cross compiler needs.
    pub const LIBC_DEV_ARM64: &str = "libc6-dev-arm64-cross";
    /// `qemu-aarch64-static`: runs the arm64 handler and provider on an x86_64 host.
    pub const QEMU_USER: &str = "qemu-user-static";
    /// `ensurepip` for the emulator's venv (Debian's python3 lacks it without this package).
    pub const PYTHON_VENV: &str = "python3-venv";
    /// `gpg`: signs the release's SHA256SUMS and verifies the signature in the release test.
    pub const GNUPG: &str = "gnupg";

    #[cfg(test)]
    pub const ALL: [&str; 6] = [MUSL_TOOLS, GCC_AARCH64, LIBC_DEV_ARM64, QEMU_USER, PYTHON_VENV, GNUPG];
}

/// Packages setup does not install and relies on a new machine having: the host C toolchain cargo links with and
/// the tools setup itself runs. The fresh-machine test checks each is in the machine image's package list.
pub const EXPECTED_ON_A_NEW_MACHINE: [&str; 6] = ["gcc", "libc6-dev", "apt", "ca-certificates", "git", "pkg-config"];

/// The Debian packages a new machine of this project's kind has, one a line (`#` starts a comment), as published
/// with the machine image. Kept in the repository so the check runs anywhere.
#[cfg(test)]
const NEW_MACHINE_PACKAGE_LIST: &str = include_str!("../fresh-machine-debian-packages.txt");

#[cfg(test)]
fn new_machine_packages() -> impl Iterator<Item = &'static str> {
    NEW_MACHINE_PACKAGE_LIST.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// Whether dpkg has the package installed.
pub fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f", "${Status}", package])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).ends_with("install ok installed"))
}

/// A new machine may be running another apt-get (unattended upgrades at boot, a second setup started alongside):
/// wait for its dpkg lock instead of failing at once (apt.conf(5) `DPkg::Lock::Timeout`, seconds; apt >= 1.9.11).
const WAIT_FOR_DPKG_LOCK: [&str; 2] = ["-o", "DPkg::Lock::Timeout=600"];

/// `apt-get install` of the given packages (one `apt-get update` first: a new machine has no package lists).
pub fn install(packages: &[&str]) -> Result {
    if packages.is_empty() {
        return Ok(());
    }
    println!("setup: installing Debian packages {}", packages.join(" "));
    let needs_root = |e: Box<dyn std::error::Error>| -> Box<dyn std::error::Error> {
        format!("{e}\n(setup installs Debian packages with apt-get, which needs root: {})", packages.join(" ")).into()
    };
    cmd::run(Command::new("apt-get").args(["update", "-qq"]).args(WAIT_FOR_DPKG_LOCK)).map_err(needs_root)?;
    cmd::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(WAIT_FOR_DPKG_LOCK)
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .map_err(needs_root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_package_setup_relies_on_is_on_a_new_machine_or_installed_by_setup() {
        let on_new_machine: std::collections::HashSet<&str> = new_machine_packages().collect();
        assert!(on_new_machine.len() > 100, "the package list looks truncated ({} entries)", on_new_machine.len());
        let missing: Vec<&str> =
            EXPECTED_ON_A_NEW_MACHINE.iter().copied().filter(|p| !on_new_machine.contains(p)).collect();
        assert!(
            missing.is_empty(),
            "setup relies on {missing:?}, which a new machine lacks: add them to installed_by_setup::ALL"
        );
    }

    #[test]
    fn packages_installed_by_setup_are_not_also_assumed_present() {
        for package in installed_by_setup::ALL {
            assert!(!EXPECTED_ON_A_NEW_MACHINE.contains(&package), "{package} is listed as both installed and assumed");
        }
    }
}
