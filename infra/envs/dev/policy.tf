# The traffic policy: config/policy.json is the single source of truth for
# weights, exclusive path rules, stickiness and the base path. It is read
# here exactly as written (jsondecode(file(...))) and handed to the network
# module, whose rules.tf turns it into listener rules; the local router and
# `verify --policy` read the same file.

locals {
  policy_file = coalesce(var.policy_file, "${path.module}/../../../config/policy.json")
  policy      = jsondecode(file(local.policy_file))

  # "dev", or "" without a base path: what the backend gets as BASE_PATH.
  base_path = trim(try(local.policy.base_path, ""), "/")
}
