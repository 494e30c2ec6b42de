//! Test harness: emulated AWS, Terraform CLI runner.
