resource "graceful_shutdown_asg" "nomad_clients" {
  name                    = "nomad-clients"
  autoscaling_group_names = [aws_autoscaling_group.nomad_clients.name]

  drain {
    preset  = "nomad" # or "command" with command = "..."
    timeout = "1h"    # the one drain budget; everything else is derived from it
  }

  on_failure = "continue" # or "abandon"
  tags       = { team = "ci" }
}
