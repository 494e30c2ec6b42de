//! `graceful_shutdown_asg`: schema, model, validation, plan, apply, read, import, in the framework's order.

pub mod apply;
pub mod import;
pub mod model;
pub mod plan;
pub mod read;
pub mod schema;
pub mod state;
pub mod tags;
pub mod timeouts;
pub mod upgrade;
pub mod validate;

#[cfg(test)]
mod tests;
