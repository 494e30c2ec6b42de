//! `cargo xtask lambda`: builds the drain handler for Lambda (static musl, x86_64 and arm64) in one cargo run,
//! verifies each binary is static, and packs each into a deterministic zip the provider embeds.

use crate::capability::{CrossTarget, MUSL_TARGETS};
use crate::{Result, cmd, setup};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Each Rust target and its Lambda architecture directory.
pub const TARGETS: [(&CrossTarget, &str); 2] = [(&MUSL_TARGETS[0], "x86_64"), (&MUSL_TARGETS[1], "arm64")];
/// Each zip must stay at or under 2.5 MB (the handler-size target; Lambda itself allows 50 MB zipped).
pub const MAX_ZIP_BYTES: u64 = 2_500_000;
const PACKAGE: &str = "graceful-handler";
const BINARY: &str = "bootstrap";

/// Where the zips land: `<workspace>/target/lambda/<arch>/bootstrap.zip` (the provider's build embeds them from here).
pub fn zip_dir() -> PathBuf {
    cmd::workspace_root().join("target").join("lambda")
}

/// The zip of one Lambda architecture (`x86_64` or `arm64`).
pub fn zip_path(arch: &str) -> PathBuf {
    zip_dir().join(arch).join("bootstrap.zip")
}

pub fn run(args: &[String]) -> Result {
    if let Some(unknown) = args.first() {
        return Err(format!("unexpected argument {unknown:?}; usage: cargo xtask lambda").into());
    }
    setup::ensure_targets(&MUSL_TARGETS.iter().collect::<Vec<_>>())?;
    let mut build = cmd::cargo();
    build.args(["build", "--release", "-p", PACKAGE, "--bin", BINARY]);
    for target in &MUSL_TARGETS {
        build.args(["--target", target.triple]);
        target.apply_env(&mut build);
    }
    cmd::run(&mut build)?;

    for (target, arch) in TARGETS {
        let binary_path = cmd::target_dir().join(target.triple).join("release").join(BINARY);
        let binary = std::fs::read(&binary_path).map_err(|e| format!("reading {}: {e}", binary_path.display()))?;
        check_static_elf(&binary, target.elf_machine).map_err(|e| format!("{}: {e}", binary_path.display()))?;
        let zip = zip_bytes(&binary)?;
        let path = zip_path(arch);
        write_atomically(&path, &zip)?;
        let digest = Sha256::digest(&zip);
        println!(
            "{arch:<7} {}  {} bytes ({:.2} MB)  binary {:.2} MB\n        sha256 {}\n        base64 {} (Lambda CodeSha256)",
            path.display(),
            zip.len(),
            zip.len() as f64 / 1e6,
            binary.len() as f64 / 1e6,
            hex(&digest),
            base64::engine::general_purpose::STANDARD.encode(digest)
        );
        if zip.len() as u64 > MAX_ZIP_BYTES {
            return Err(
                format!("{} is {} bytes, over the {MAX_ZIP_BYTES}-byte limit", path.display(), zip.len()).into()
            );
        }
    }
    Ok(())
}

/// A zip holding only `bootstrap` at the root, mode 0755, with a fixed timestamp: same binary, same bytes.
pub fn zip_bytes(binary: &[u8]) -> Result<Vec<u8>> {
    let timestamp =
        zip::DateTime::from_date_and_time(1980, 1, 1, 0, 0, 2).map_err(|e| format!("zip timestamp: {e}"))?;
    crate::release::zip_one_executable(BINARY, binary, timestamp)
}

/// Checks an ELF64 little-endian executable for the expected machine and no `PT_INTERP` (no dynamic loader).
pub fn check_static_elf(binary: &[u8], expected_machine: u16) -> std::result::Result<(), String> {
    const PT_INTERP: u32 = 3;
    let u16_at = |offset: usize| binary.get(offset..offset + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |offset: usize| binary.get(offset..offset + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    let u64_at = |offset: usize| binary.get(offset..offset + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap()));
    if binary.get(..6) != Some(&[0x7f, b'E', b'L', b'F', 2, 1][..]) {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let machine = u16_at(0x12).ok_or("truncated ELF header")?;
    if machine != expected_machine {
        return Err(format!("ELF machine {machine:#x}, expected {expected_machine:#x}"));
    }
    let table = u64_at(0x20).ok_or("truncated ELF header")? as usize;
    let entry_size = u16_at(0x36).ok_or("truncated ELF header")? as usize;
    let entries = u16_at(0x38).ok_or("truncated ELF header")? as usize;
    for index in 0..entries {
        let kind = u32_at(table + index * entry_size).ok_or("truncated program header table")?;
        if kind == PT_INTERP {
            return Err("dynamically linked (has a PT_INTERP program header); Lambda needs a static binary".into());
        }
    }
    Ok(())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result {
    let dir = path.parent().expect("zip paths have a parent");
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let temporary = path.with_extension("zip.tmp");
    std::fs::write(&temporary, bytes).map_err(|e| format!("writing {}: {e}", temporary.display()))?;
    std::fs::rename(&temporary, path).map_err(|e| format!("renaming to {}: {e}", path.display()))?;
    Ok(())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn zip_is_deterministic_with_bootstrap_at_the_root_mode_0755() {
        let binary: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let first = zip_bytes(&binary).unwrap();
        assert_eq!(first, zip_bytes(&binary).unwrap(), "same input, same bytes");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(first)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "bootstrap");
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        let modified = entry.last_modified().unwrap();
        assert_eq!((modified.year(), modified.month(), modified.day(), modified.second()), (1980, 1, 1, 2));
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        assert_eq!(content, binary);
    }

    /// A minimal ELF64 header with one program header of the given type.
    fn elf(machine: u16, program_header_type: u32) -> Vec<u8> {
        let mut bytes = vec![0u8; 0x40 + 0x38];
        bytes[..6].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1]);
        bytes[0x12..0x14].copy_from_slice(&machine.to_le_bytes());
        bytes[0x20..0x28].copy_from_slice(&0x40u64.to_le_bytes());
        bytes[0x36..0x38].copy_from_slice(&0x38u16.to_le_bytes());
        bytes[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        bytes[0x40..0x44].copy_from_slice(&program_header_type.to_le_bytes());
        bytes
    }

    #[test]
    fn static_check_refuses_dynamic_binaries_and_the_wrong_architecture() {
        assert_eq!(check_static_elf(&elf(0x3e, 1), 0x3e), Ok(()));
        assert!(check_static_elf(&elf(0x3e, 3), 0x3e).unwrap_err().contains("PT_INTERP"));
        assert!(check_static_elf(&elf(0xb7, 1), 0x3e).unwrap_err().contains("machine"));
        assert!(check_static_elf(b"#!/bin/sh\n", 0x3e).unwrap_err().contains("not a 64-bit"));
        assert!(check_static_elf(&elf(0x3e, 1)[..0x40], 0x3e).unwrap_err().contains("truncated"));
    }

    #[test]
    fn the_host_test_binary_is_recognised_as_dynamic() {
        // The test binary itself is a dynamically linked host executable: the check must see it.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        if cfg!(all(target_arch = "x86_64", target_env = "gnu")) {
            assert!(check_static_elf(&me, 0x3e).unwrap_err().contains("PT_INTERP"));
        }
    }
}
