//! Test harness: emulated AWS, Terraform CLI runner, the example configurations.
pub mod emulator;
pub mod examples;
pub mod terraform;
