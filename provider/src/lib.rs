//! terraform-provider-graceful: the `graceful_shutdown_asg` resource.
//!
//! Architecture invariant: this crate never sees protobuf or msgpack (that is `tfplugin`), and the AWS provisioning
//! it drives (`graceful-provision`) never sees Terraform values.

mod aws;
pub mod bundle;
pub mod config;
pub mod docs;
pub mod provider;
pub mod resource;

pub use provider::{GracefulProvider, PROVIDER_ADDRESS};
