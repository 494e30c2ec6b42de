//! Test support shared by the handler's integration tests.
pub mod runtime_api;
