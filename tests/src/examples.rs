//! The project's example configurations as test inputs: where they are, which ones ship `terraform test` files, how
//! many `run` blocks those hold, and a `Workspace` holding a copy of one (so tests never write into the checkout).

use crate::terraform::Workspace;
use std::path::{Path, PathBuf};

/// `examples/` of the workspace.
pub fn examples_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the workspace").join("examples")
}

/// Registry documentation snippets under `examples/`: included in `docs/`, not runnable on their own.
pub const DOC_SNIPPET_DIRS: &[&str] = &["provider", "resources"];

/// Files and directories a local `terraform init/apply` leaves in an example; never copied into a workspace.
const LOCAL_ARTIFACTS: &[&str] =
    &[".terraform", ".terraform.lock.hcl", "terraform.tfstate", "terraform.tfstate.backup", "tfplan"];

fn is_test_file(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".tftest.hcl"))
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The `.tftest.hcl` files `terraform test` runs in `dir`: those in `dir` itself and in `dir/tests`.
pub fn test_files(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = files_in(dir).into_iter().filter(|p| is_test_file(p)).collect();
    found.extend(files_in(&dir.join("tests")).into_iter().filter(|p| is_test_file(p)));
    found
}

/// Every directory under `root` (itself included) that `terraform test` would find tests in, sorted.
pub fn dirs_with_tests(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if !test_files(root).is_empty() {
        found.push(root.to_path_buf());
    }
    for entry in files_in(root) {
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if entry.is_dir() && name != "tests" && !LOCAL_ARTIFACTS.contains(&name) {
            found.extend(dirs_with_tests(&entry));
        }
    }
    found
}

/// How many `run "<name>"` blocks the test files of `dir` declare: what `terraform test` must report as passed.
pub fn run_blocks(dir: &Path) -> usize {
    test_files(dir)
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
            text.lines().filter(|line| line.starts_with("run \"")).count()
        })
        .sum()
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if LOCAL_ARTIFACTS.iter().any(|a| name == *a) || name.to_string_lossy().starts_with("terraform.tfstate") {
            continue;
        }
        let source = entry.path();
        if source.is_dir() {
            copy_tree(&source, &to.join(&name))?;
        } else {
            std::fs::copy(&source, to.join(&name))?;
        }
    }
    Ok(())
}

/// A workspace holding a copy of the example directory `dir` (its modules and tests included), with the provider
/// in the workspace's private mirror. Not initialised yet.
pub fn workspace_from(dir: &Path) -> Workspace {
    // `Workspace::new` writes `main.tf`; the example's own `main.tf` replaces it.
    let ws = Workspace::new("");
    copy_tree(dir, ws.path()).unwrap_or_else(|e| panic!("copying {} into a workspace: {e}", dir.display()));
    ws
}

/// `N passed, M failed[, K skipped]` from the summary line `terraform test` ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestSummary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// Parses the last `Success! ...` or `Failure! ...` line of `terraform test` output.
pub fn test_summary(output: &str) -> Option<TestSummary> {
    let line = output.lines().rev().find(|l| l.starts_with("Success! ") || l.starts_with("Failure! "))?;
    let mut summary = TestSummary { passed: 0, failed: 0, skipped: 0 };
    for part in line.split_once(' ')?.1.trim_end_matches('.').split(", ") {
        let (count, what) = part.split_once(' ')?;
        let count: usize = count.parse().ok()?;
        match what {
            "passed" => summary.passed = count,
            "failed" => summary.failed = count,
            "skipped" => summary.skipped = count,
            _ => return None,
        }
    }
    Some(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_of_passing_failing_and_skipping_runs() {
        assert_eq!(
            test_summary("tests/a.tftest.hcl... pass\n\nSuccess! 16 passed, 0 failed.\n"),
            Some(TestSummary { passed: 16, failed: 0, skipped: 0 })
        );
        assert_eq!(
            test_summary("Failure! 1 passed, 1 failed, 1 skipped.\nError: Missing expected failure\n"),
            Some(TestSummary { passed: 1, failed: 1, skipped: 1 })
        );
        assert_eq!(test_summary("Error: Failed to query available provider packages"), None);
    }
}
