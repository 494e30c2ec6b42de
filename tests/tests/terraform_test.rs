//! Terraform's own checks of the examples a user copies: `terraform fmt -check` on every example, and `terraform test`
//! (the `.tftest.hcl` plan-only tests) in every example directory that ships tests, each run in a copy of the
//! example with the provider installed from a private mirror. Terraform's output is printed, so CI logs show it.

use acceptance::examples::{
    DOC_SNIPPET_DIRS, dirs_with_tests, examples_root, run_blocks, test_summary, workspace_from,
};
use acceptance::terraform::terraform_binary;
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// Where a plan would send AWS calls: a closed local port, so a test that contacted AWS fails instead of passing.
const UNREACHABLE_AWS: &str = "http://127.0.0.1:9";

fn relative(dir: &Path) -> String {
    dir.strip_prefix(examples_root().parent().unwrap()).unwrap_or(dir).display().to_string()
}

#[test]
fn every_example_is_terraform_fmt_clean() {
    let root = examples_root();
    let output = Command::new(terraform_binary())
        .args(["fmt", "-check", "-recursive", "-diff", "-no-color"])
        .arg(&root)
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("starting terraform fmt");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "terraform fmt -check found unformatted files under examples/ (run `terraform fmt -recursive examples`):\n{stdout}{stderr}"
    );
}

#[test]
fn every_runnable_example_ships_terraform_tests() {
    let root = examples_root();
    let with_tests = dirs_with_tests(&root);
    let examples: Vec<_> = std::fs::read_dir(&root)
        .expect("reading examples/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir() && !DOC_SNIPPET_DIRS.iter().any(|d| e.file_name() == *d))
        .map(|e| e.path())
        .collect();
    assert!(!examples.is_empty(), "no runnable example under {}", root.display());
    for example in examples {
        assert!(
            with_tests.contains(&example),
            "{} has no .tftest.hcl files (add tests/<name>.tftest.hcl)",
            relative(&example)
        );
    }
}

#[test]
fn terraform_test_passes_in_every_example() {
    let dirs = dirs_with_tests(&examples_root());
    assert!(!dirs.is_empty(), "no .tftest.hcl files found under {}", examples_root().display());
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = relative(dir);
        let declared = run_blocks(dir);
        let mut ws = workspace_from(dir);
        ws.env("AWS_ENDPOINT_URL", UNREACHABLE_AWS)
            .env("AWS_ACCESS_KEY_ID", "plan-needs-no-credentials")
            .env("AWS_SECRET_ACCESS_KEY", "plan-needs-no-credentials")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        ws.init();
        let run = ws.run(&["test", "-no-color"]);
        // Straight to stderr, not `println!`: the test harness captures the macros, and CI logs should show
        // Terraform's own report of every run even when all pass.
        let report = format!("== terraform test in {name}\n{}{}", run.stdout, run.stderr);
        std::io::stderr().write_all(report.as_bytes()).expect("writing to stderr");
        match test_summary(&run.stdout) {
            summary if !run.success => failures.push(format!("{name}: terraform test failed ({summary:?})")),
            None => failures.push(format!("{name}: no summary line in the output of terraform test")),
            Some(summary) if summary.passed == 0 => failures.push(format!("{name}: no test ran ({summary:?})")),
            Some(summary) if summary.passed != declared || summary.failed > 0 || summary.skipped > 0 => failures
                .push(format!("{name}: {declared} run blocks declared, but terraform test reported {summary:?}")),
            Some(_) => {}
        }
    }
    assert!(failures.is_empty(), "terraform test failed (output above):\n{}", failures.join("\n"));
}
