//! tfplugin: a Terraform plugin protocol 6 server. Generated protobuf types never leave this crate; providers
//! implement [`Provider`] over [`Value`], [`Schema`] and [`Diagnostics`].
//!
//! A provider's `main` hands its [`Provider`] to [`serve_from_env_and_args`]:
//!
//! ```no_run
//! # fn demo<P: tfplugin::Provider>(provider: P) -> std::process::ExitCode {
//! tfplugin::serve_from_env_and_args(provider, "registry.terraform.io/acme/thing")
//! # }
//! ```
//!
//! Started by Terraform, the binary checks the go-plugin magic cookie (a human running it gets an explanation and
//! exit code 1), listens on 127.0.0.1 (inside `PLUGIN_MIN_PORT`..`PLUGIN_MAX_PORT` if given), prints the one
//! handshake line `1|6|tcp|127.0.0.1:PORT|grpc|<server certificate>` on stdout and serves until Terraform calls
//! `GRPCController.Shutdown`. Nothing else is ever written to stdout; logs go to stderr at the level of
//! `TF_LOG_PROVIDER` / `TF_LOG`.
//!
//! **AutoMTLS** is enforced: the server certificate is generated per process, and only a client presenting exactly
//! the certificate in `PLUGIN_CLIENT_CERT` completes the TLS handshake. A host that sets no `PLUGIN_CLIENT_CERT`
//! gets plain TCP on loopback, as go-plugin does (Terraform always sets it).
//!
//! Ctrl-C is ignored in this mode: Terraform forwards it as `StopProvider`, which calls [`Provider::stop`].
//! With `--debug` the binary needs no cookie, serves without TLS, prints a ready-to-paste
//! `TF_REATTACH_PROVIDERS='…'` line on stdout and serves until Ctrl-C.
//!
//! [`serve`] builds its own tokio runtime; code already inside a runtime calls the async [`run`] instead.
//!
//! Values cross the wire as msgpack (or JSON) and arrive as [`Value`], typed by the schema; unknown ("known after
//! apply") and null are kept at every nesting level. Anything Terraform sends for a type the provider does not
//! have is answered with an error diagnostic, never a panic or a transport error.

mod controller;
mod debug;
pub mod diag;
mod handshake;
mod logging;
mod protocol;
pub mod provider;
pub mod schema;
mod serve;
mod tls;
pub mod value;
mod value_error;

pub use diag::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
pub use handshake::HandshakeError;
pub use provider::*;
pub use schema::{Attribute, Block, NestedBlock, Nesting, ProviderSchema, Schema};
pub use serve::{ServeConfig, ServeError, run, serve, serve_from_env_and_args};
pub use tls::TlsError;
pub use value::{Type, Value};
pub use value_error::ValueError;

/// Decodes stored state JSON (what [`Provider::upgrade_resource_state`] receives) as a value of type `ty`, for
/// example `schema.block.value_type()`. Errors name the attribute that does not fit.
pub fn value_from_json(json: &[u8], ty: &Type) -> Result<Value, ValueError> {
    protocol::json_value::decode(json, ty)
}

/// Decodes a msgpack DynamicValue (what plan, apply and read requests carry) as a value of type `ty`: the decoder
/// every request goes through, public so the fuzzer drives it as Terraform would.
pub fn value_from_msgpack(msgpack: &[u8], ty: &Type) -> Result<Value, ValueError> {
    protocol::dynamic_value::decode(msgpack, ty)
}
