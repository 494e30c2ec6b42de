//! Capability probes: setup checks what the builds will do, not that a binary is on PATH. Each probe compiles, links
//! or runs something small with the very compiler, linker or emulator the build uses, and names the Debian package
//! that provides the capability when it fails.

use crate::cmd;
use crate::debian::installed_by_setup as pkg;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A Rust target the project builds for, and the C toolchain cargo uses for it (ring and aws-lc compile C).
pub struct CrossTarget {
    pub triple: &'static str,
    /// `CC_<triple>` for cc-rs, and the linker (`CARGO_TARGET_<TRIPLE>_LINKER`); `None` = cargo's default `cc`.
    pub c_compiler: &'static str,
    pub linker: Option<&'static str>,
    /// Debian packages that provide the compiler, its headers and its static libc.
    pub packages: &'static [&'static str],
    /// Runs a binary of this target on this host (`None` = natively).
    pub runner: Option<&'static str>,
    /// The ELF `e_machine` of its binaries.
    pub elf_machine: u16,
}

/// Static musl targets: the handler for Lambda, and the provider's Linux releases (static, so they run on any Linux
/// a CI runner has, whatever its glibc). Debian has no aarch64 musl gcc; its glibc cross compiler works as C compiler
/// and linker for static musl binaries (measured: static, runs on AL2023).
pub const MUSL_TARGETS: [CrossTarget; 2] = [
    CrossTarget {
        triple: "x86_64-unknown-linux-musl",
        c_compiler: "musl-gcc",
        linker: None,
        packages: &[pkg::MUSL_TOOLS],
        runner: None,
        elf_machine: 0x3e,
    },
    CrossTarget {
        triple: "aarch64-unknown-linux-musl",
        c_compiler: "aarch64-linux-gnu-gcc",
        linker: Some("aarch64-linux-gnu-gcc"),
        packages: &[pkg::GCC_AARCH64, pkg::LIBC_DEV_ARM64],
        runner: Some("qemu-aarch64-static"),
        elf_machine: 0xb7,
    },
];

impl CrossTarget {
    /// The environment cargo needs to build for this target with this toolchain.
    pub fn apply_env(&self, command: &mut Command) {
        let underscored = self.triple.replace('-', "_");
        command.env(format!("CC_{underscored}"), self.c_compiler);
        if let Some(linker) = self.linker {
            command.env(format!("CARGO_TARGET_{}_LINKER", underscored.to_uppercase()), linker);
        }
    }

    /// The emulator that runs this target's binaries here, when this host cannot run them natively.
    pub fn foreign_runner(&self) -> Option<&'static str> {
        self.runner.filter(|_| !self.triple.starts_with(std::env::consts::ARCH))
    }

    /// Runs `program` (built for this target) on this host, through qemu-user where needed.
    pub fn run_command(&self, program: &Path) -> Command {
        match self.foreign_runner() {
            Some(runner) => {
                let mut command = Command::new(runner);
                // The cross toolchain's sysroot, for a dynamically linked glibc binary (a static one ignores it).
                command.arg("-L").arg(AARCH64_SYSROOT).arg(program);
                command
            }
            None => Command::new(program),
        }
    }
}

/// Where `libc6-dev-arm64-cross` puts the aarch64 libc, loader and headers.
pub const AARCH64_SYSROOT: &str = "/usr/aarch64-linux-gnu";

/// A failed probe: what could not be done, why, and which packages provide it.
pub struct Missing {
    pub capability: String,
    pub detail: String,
    pub packages: Vec<&'static str>,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed: {} (Debian package: {})", self.capability, self.detail, self.packages.join(", "))
    }
}

fn probe_dir() -> PathBuf {
    cmd::target_dir().join("setup-probes")
}

const C_PROBE: &str = "#include <stdint.h>\n#include <stdio.h>\nint main(void) { uint32_t v = 42; printf(\"probe %u\\n\", v); return 0; }\n";
const RUST_PROBE: &str = "fn main() { println!(\"probe {}\", 6 * 7); }\n";

fn run_checked(command: &mut Command, expect_stdout: &str) -> Result<(), String> {
    let out = command.output().map_err(|e| format!("cannot run {}: {e}", cmd::describe(command)))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !stdout.contains(expect_stdout) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first_error =
            stderr.lines().find(|l| l.contains("error")).or_else(|| stderr.lines().next()).unwrap_or("").trim();
        return Err(format!("`{}` exited {}: {first_error}", cmd::describe(command), out.status));
    }
    Ok(())
}

/// Compiles and statically links a C program that includes libc headers with the target's C compiler, links a Rust
/// program for the target with its linker, and runs both (through qemu-user for a foreign architecture).
pub fn probe_target(target: &CrossTarget) -> Vec<Missing> {
    let dir = probe_dir().join(target.triple);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return vec![Missing {
            capability: "creating the probe directory".into(),
            detail: format!("{}: {e}", dir.display()),
            packages: vec![],
        }];
    }
    let mut missing = Vec::new();
    let packages = || target.packages.to_vec();
    // Probed on its own too, so one round of installs brings it even while the compiler is still missing; the
    // other probes still run, so that round also brings the compiler (a fresh machine lacks both).
    if let Some(runner) = target.foreign_runner()
        && let Err(detail) = run_checked(Command::new(runner).arg("--version"), "qemu")
    {
        missing.push(Missing { capability: format!("running {runner}"), detail, packages: vec![pkg::QEMU_USER] });
    }

    let c_source = dir.join("probe.c");
    let c_binary = dir.join("probe-c");
    let compiled = std::fs::write(&c_source, C_PROBE).map_err(|e| e.to_string()).and_then(|()| {
        run_checked(Command::new(target.c_compiler).arg("-static").arg(&c_source).arg("-o").arg(&c_binary), "")
    });
    match compiled {
        Err(detail) => missing.push(Missing {
            capability: format!("compiling and statically linking C for {} with {}", target.triple, target.c_compiler),
            detail,
            packages: packages(),
        }),
        Ok(()) => {
            if let Err(detail) = run_checked(&mut target.run_command(&c_binary), "probe 42") {
                missing.push(Missing {
                    capability: format!("running a {} binary on this host", target.triple),
                    detail,
                    packages: target.runner.map(|_| vec![pkg::QEMU_USER]).unwrap_or_default(),
                });
            }
        }
    }

    let rust_source = dir.join("probe.rs");
    let rust_binary = dir.join("probe-rs");
    let mut rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()));
    rustc.args(["--edition", "2021", "--target", target.triple, "-C", "opt-level=0"]);
    if let Some(linker) = target.linker {
        rustc.arg("-C").arg(format!("linker={linker}"));
    }
    rustc.arg(&rust_source).arg("-o").arg(&rust_binary);
    let linked =
        std::fs::write(&rust_source, RUST_PROBE).map_err(|e| e.to_string()).and_then(|()| run_checked(&mut rustc, ""));
    match linked {
        Err(detail) => missing.push(Missing {
            capability: format!("linking a Rust program for {}", target.triple),
            detail,
            packages: packages(),
        }),
        Ok(()) => {
            if let Err(detail) = run_checked(&mut target.run_command(&rust_binary), "probe 42") {
                missing.push(Missing {
                    capability: format!("running a Rust {} binary on this host", target.triple),
                    detail,
                    packages: target.runner.map(|_| vec![pkg::QEMU_USER]).unwrap_or_default(),
                });
            }
        }
    }
    missing
}

/// Python can create a venv with pip in it (what the emulator's venv needs).
pub fn probe_python_venv() -> Vec<Missing> {
    let dir = probe_dir().join("venv");
    let _ = std::fs::remove_dir_all(&dir);
    let created = run_checked(Command::new("python3").args(["-m", "venv"]).arg(&dir), "").and_then(|()| {
        run_checked(Command::new(dir.join("bin").join("python")).args(["-m", "pip", "--version"]), "pip")
    });
    let _ = std::fs::remove_dir_all(&dir);
    match created {
        Ok(()) => vec![],
        Err(detail) => vec![Missing {
            capability: "creating a Python venv with pip (python3 -m venv)".into(),
            detail,
            packages: vec![pkg::PYTHON_VENV],
        }],
    }
}

/// `gpg` can run (the release signs and verifies SHA256SUMS with it).
pub fn probe_gpg() -> Vec<Missing> {
    match run_checked(Command::new("gpg").arg("--version"), "GnuPG") {
        Ok(()) => vec![],
        Err(detail) => vec![Missing { capability: "running gpg".into(), detail, packages: vec![pkg::GNUPG] }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh machine lacks both the cross compiler and qemu-user: one probe must name the packages of both, so the
    /// single round of installs setup does brings everything (it once stopped at the missing qemu).
    #[test]
    fn a_target_missing_its_runner_and_its_compiler_names_the_packages_of_both() {
        let foreign_arch = if std::env::consts::ARCH == "aarch64" { "x86_64" } else { "aarch64" };
        let triple: &'static str = Box::leak(format!("{foreign_arch}-unknown-linux-musl").into_boxed_str());
        let target = CrossTarget {
            triple,
            c_compiler: "graceful-no-such-cc",
            linker: Some("graceful-no-such-cc"),
            packages: &["compiler-package", "headers-package"],
            runner: Some("graceful-no-such-qemu"),
            elf_machine: 0,
        };
        let missing = probe_target(&target);
        let mut packages: Vec<&str> = missing.iter().flat_map(|m| m.packages.iter().copied()).collect();
        packages.sort_unstable();
        packages.dedup();
        let mut expected = vec!["compiler-package", "headers-package", pkg::QEMU_USER];
        expected.sort_unstable();
        assert_eq!(packages, expected, "{}", missing.iter().map(|m| m.to_string()).collect::<Vec<_>>().join("\n"));
    }
}
