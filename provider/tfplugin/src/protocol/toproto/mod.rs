//! Converters from domain types and provider answers to generated response messages.

mod diagnostics;
mod responses;
mod schema;

pub(crate) use diagnostics::diagnostics;
pub(crate) use responses::*;
pub(crate) use schema::{provider_schema, server_capabilities};
