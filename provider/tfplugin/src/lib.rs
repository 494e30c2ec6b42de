//! tfplugin: a Terraform plugin protocol 6 server. Generated protobuf types never leave this crate; providers
//! implement [`Provider`] over [`Value`], [`Schema`] and [`Diagnostics`].

pub mod diag;
pub mod provider;
pub mod schema;
pub mod value;

pub use diag::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
pub use provider::*;
pub use schema::{Attribute, Block, NestedBlock, Nesting, ProviderSchema, Schema};
pub use value::{Type, Value};
