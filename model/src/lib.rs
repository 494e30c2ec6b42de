//! drain-model: exhaustive exploration of the drain handler (the real `execute::handle`, through its AWS port)
//! against an abstract AWS whose every interleaving of notifications, faults and clock is tried within bounds.

pub mod config;
pub mod explore;
pub mod invoke;
pub mod liveness;
pub mod payloads;
pub mod properties;
pub mod session;
pub mod steps;
pub mod world;
