//! drain-contract: what the provider and the drain handler must agree on, in one place.

pub mod budget;
pub mod config;
pub mod document;
pub mod lifecycle_states;
pub mod names;
pub mod nomad_settings;
pub mod operations;
pub mod spot;

pub use config::{CONFIG_ENV_VAR, HandlerConfig, LifecycleResult};
