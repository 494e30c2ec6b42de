//! Helpers shared by the acceptance tests.

pub mod asg;
// Each test crate uses a different part of the shared helpers.
#[allow(dead_code)]
pub mod aws;
pub mod drain;
