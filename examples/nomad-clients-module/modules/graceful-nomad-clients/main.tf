# One Nomad client fleet drained before its instances terminate: the module fixes the preset (nomad) and the
# conventions of this platform (tags, names); the root module chooses the fleet's groups, budget and policy.

locals {
  tags = merge({ "nomad-fleet" = var.name, "managed-by" = "graceful-nomad-clients" }, var.tags)
}

resource "graceful_shutdown_asg" "this" {
  name                    = var.name
  autoscaling_group_names = var.autoscaling_group_names

  drain {
    preset  = "nomad"
    timeout = var.drain_timeout
  }

  on_failure           = var.on_failure
  architecture         = var.architecture
  log_retention_days   = var.log_retention_days
  iam_path             = var.iam_path
  permissions_boundary = var.permissions_boundary
  kms_key_id           = var.kms_key_id
  tags                 = local.tags
}
