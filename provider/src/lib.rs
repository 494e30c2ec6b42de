//! terraform-provider-graceful: the `graceful_shutdown_asg` resource.
