//! terraform-provider-graceful: started by Terraform, serves the plugin protocol (see `tfplugin`).

use std::process::ExitCode;
use terraform_provider_graceful::{GracefulProvider, PROVIDER_ADDRESS};

fn main() -> ExitCode {
    tfplugin::serve_from_env_and_args(GracefulProvider::new(), PROVIDER_ADDRESS)
}
