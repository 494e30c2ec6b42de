# The Nomad ACL policy the drain script's token needs (nomad preset). Apply it and make a client token with:
#
#   nomad acl policy apply -description "graceful_shutdown_asg drain" graceful-drain nomad-drain-acl.policy.hcl
#   nomad acl token create -name graceful-drain -type client -policy graceful-drain
#
# agent:read  - every `-self` call first asks the local agent for its node ID (GET /v1/agent/self)
# node:write  - `nomad node eligibility -disable` and `nomad node drain -enable` (node:write also grants node:read,
#               which `nomad node status` needs)
# read-job on every namespace - the script lists the node's allocations with `-namespace '*'`, which silently skips
#               the namespaces the token cannot read; a namespace left out here is a build the check cannot see.

agent {
  policy = "read"
}

node {
  policy = "write"
}

namespace "*" {
  capabilities = ["read-job"]
}
