//! Resources this provider serves (one: `graceful_shutdown_asg`).

pub mod shutdown_asg;
