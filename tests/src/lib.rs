//! Test harness: emulated AWS, Terraform CLI runner.
pub mod emulator;
pub mod terraform;
