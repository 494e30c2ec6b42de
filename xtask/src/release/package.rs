//! The registry's release layout, from built binaries: one zip per platform holding `terraform-provider-graceful_vX.Y.Z`,
//! the manifest, and `SHA256SUMS` over both. Pure functions of their inputs (fixed timestamps), so two runs on the
//! same binaries give the same bytes.

use crate::Result;
use sha2::{Digest, Sha256};
use std::io::Write;

pub const PROVIDER_TYPE: &str = "graceful";

/// A release version: `X.Y.Z` with an optional `-prerelease`, as the registry reads tags (`vX.Y.Z`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version(String);

impl Version {
    pub fn parse(text: &str) -> std::result::Result<Version, String> {
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (text, None),
        };
        let numbers: Vec<&str> = core.split('.').collect();
        let numeric =
            |n: &&str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (n.len() == 1 || !n.starts_with('0'));
        let pre_ok = pre.is_none_or(|p| {
            !p.is_empty()
                && p.split('.').all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        });
        if numbers.len() != 3 || !numbers.iter().all(numeric) || !pre_ok {
            return Err(format!("--version: expected a semantic version X.Y.Z (optionally -prerelease), got {text:?}"));
        }
        Ok(Version(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn file_prefix(&self) -> String {
        format!("terraform-provider-{PROVIDER_TYPE}_{}", self.0)
    }

    /// `terraform-provider-graceful_X.Y.Z_<os>_<arch>.zip`
    pub fn zip_name(&self, platform: &str) -> String {
        format!("{}_{platform}.zip", self.file_prefix())
    }

    /// The executable inside each zip: `terraform-provider-graceful_vX.Y.Z`.
    pub fn binary_name(&self) -> String {
        format!("terraform-provider-{PROVIDER_TYPE}_v{}", self.0)
    }

    pub fn manifest_name(&self) -> String {
        format!("{}_manifest.json", self.file_prefix())
    }

    pub fn sums_name(&self) -> String {
        format!("{}_SHA256SUMS", self.file_prefix())
    }

    pub fn signature_name(&self) -> String {
        format!("{}.sig", self.sums_name())
    }
}

/// The zip entry timestamp for `SOURCE_DATE_EPOCH` seconds (UTC), clamped to what zip can hold (1980..2107) and
/// rounded down to zip's two-second resolution.
pub fn zip_time(epoch_seconds: i64) -> Result<zip::DateTime> {
    let min = 315_532_800; // 1980-01-01T00:00:00Z
    let max = 4_354_819_198; // 2107-12-31T23:59:58Z
    let seconds = epoch_seconds.clamp(min, max);
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (second_of_day / 3600, second_of_day % 3600 / 60, second_of_day % 60 / 2 * 2);
    Ok(zip::DateTime::from_date_and_time(year as u16, month as u8, day as u8, hour as u8, minute as u8, second as u8)
        .map_err(|e| format!("zip timestamp for epoch {epoch_seconds}: {e}"))?)
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A zip holding one executable (mode 0755) with a fixed timestamp and no extra fields.
pub fn zip_one_executable(name: &str, contents: &[u8], modified: zip::DateTime) -> Result<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(modified)
        .unix_permissions(0o755);
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file(name, options)?;
    writer.write_all(contents)?;
    Ok(writer.finish()?.into_inner())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::lambda::hex(&Sha256::digest(bytes))
}

/// `SHA256SUMS` as `shasum -a 256` writes it: `<hex>  <name>` per file, sorted by name.
pub fn sha256sums(files: &[(String, Vec<u8>)]) -> String {
    let mut lines: Vec<(String, String)> =
        files.iter().map(|(name, bytes)| (name.clone(), sha256_hex(bytes))).collect();
    lines.sort();
    lines.into_iter().map(|(name, digest)| format!("{digest}  {name}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn versions_are_semantic() {
        assert!(Version::parse("1.2.3").is_ok());
        assert!(Version::parse("0.1.0-rc.1").is_ok());
        for bad in ["1.2", "v1.2.3", "1.2.3.4", "01.2.3", "1.2.x", "1.2.3-", "", "1.2.3-a..b"] {
            let error = Version::parse(bad).unwrap_err();
            assert!(error.contains("--version"), "{bad}: {error}");
        }
    }

    #[test]
    fn names_follow_the_registry_layout() {
        let v = Version::parse("1.2.3").unwrap();
        assert_eq!(v.zip_name("linux_arm64"), "terraform-provider-graceful_1.2.3_linux_arm64.zip");
        assert_eq!(v.binary_name(), "terraform-provider-graceful_v1.2.3");
        assert_eq!(v.manifest_name(), "terraform-provider-graceful_1.2.3_manifest.json");
        assert_eq!(v.sums_name(), "terraform-provider-graceful_1.2.3_SHA256SUMS");
        assert_eq!(v.signature_name(), "terraform-provider-graceful_1.2.3_SHA256SUMS.sig");
    }

    #[test]
    fn epoch_seconds_map_to_utc_calendar_time() {
        let t = zip_time(1_700_000_001).unwrap(); // 2023-11-14T22:13:21Z
        assert_eq!((t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second()), (2023, 11, 14, 22, 13, 20));
        let leap = zip_time(951_782_400).unwrap(); // 2000-02-29T00:00:00Z
        assert_eq!((leap.year(), leap.month(), leap.day()), (2000, 2, 29));
        let early = zip_time(0).unwrap();
        assert_eq!((early.year(), early.month(), early.day()), (1980, 1, 1));
    }

    #[test]
    fn the_zip_is_reproducible_and_holds_one_executable() {
        let time = zip_time(1_700_000_000).unwrap();
        let first = zip_one_executable("terraform-provider-graceful_v1.0.0", b"\x7fELF...", time).unwrap();
        assert_eq!(first, zip_one_executable("terraform-provider-graceful_v1.0.0", b"\x7fELF...", time).unwrap());
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(first)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "terraform-provider-graceful_v1.0.0");
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        let mut contents = Vec::new();
        entry.read_to_end(&mut contents).unwrap();
        assert_eq!(contents, b"\x7fELF...");
    }

    #[test]
    fn sums_are_sorted_shasum_lines() {
        let sums = sha256sums(&[("b.zip".into(), b"b".to_vec()), ("a.json".into(), b"".to_vec())]);
        let lines: Vec<&str> = sums.lines().collect();
        assert_eq!(lines[0], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.json");
        assert!(lines[1].ends_with("  b.zip"));
        assert_eq!(lines.len(), 2);
    }
}
