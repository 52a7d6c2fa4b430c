# Listener rules built from the traffic policy (config/policy.json, decoded
# by the environment with jsondecode(file(...)) and passed in as var.policy).
#
# The mapping is deliberately plain, and the same as the Rust function
# weighbridge_policy::alb::alb_listener_rules (a test checks both against
# infra/tests/expected_rules.json):
#   - path rule i (file order)  -> priority first_path_rule_priority + i,
#     patterns "{prefix}{path}" and "{prefix}{path}/*", forward to its target;
#   - then one weighted rule    -> priority weighted_rule_priority, patterns
#     "{prefix}" and "{prefix}/*" ("/" and "/*" without a base path), forward
#     to every target with its weight, with the policy's stickiness;
#   - anything else             -> the listener's fixed 404.
# {prefix} is "/" + base path, or "" without one, so a route is "/host",
# never "//host".

locals {
  # Priority of the first path rule; rule i gets this plus i.
  first_path_rule_priority = 1
  # Lowest precedence ALB accepts: the weighted rule comes after every path rule.
  weighted_rule_priority = 50000
  # ALB's stickiness default when the policy gives no duration (1 day).
  default_stickiness_seconds = 86400

  # "dev", "api/v2", or "" ("" and "/" in the file both mean no base path).
  base_path = trim(try(var.policy.base_path, ""), "/")
  # What every pattern starts with: "/dev", or "" without a base path.
  path_prefix = local.base_path == "" ? "" : "/${local.base_path}"

  path_rules = try(var.policy.path_rules, [])

  # One rule per exclusive path, in file order (trailing "/" of the rule path dropped).
  path_listener_rules = [
    for i, rule in local.path_rules : {
      name     = "path-${i}"
      priority = local.first_path_rule_priority + i
      path_patterns = (
        "${local.path_prefix}${trimsuffix(rule.path, "/")}" == ""
        ? ["/", "/*"]
        : ["${local.path_prefix}${trimsuffix(rule.path, "/")}", "${local.path_prefix}${trimsuffix(rule.path, "/")}/*"]
      )
      forward    = [{ target = rule.target, weight = 1 }]
      stickiness = null
    }
  ]

  # The weighted split; Terraform iterates the targets object sorted by label.
  weighted_listener_rule = {
    name          = "weighted"
    priority      = local.weighted_rule_priority
    path_patterns = local.path_prefix == "" ? ["/", "/*"] : [local.path_prefix, "${local.path_prefix}/*"]
    forward       = [for label, weight in var.policy.targets : { target = label, weight = weight }]
    stickiness = {
      enabled          = try(var.policy.stickiness.enabled, false)
      duration_seconds = try(var.policy.stickiness.duration_seconds, local.default_stickiness_seconds)
    }
  }

  listener_rules = concat(local.path_listener_rules, [local.weighted_listener_rule])

  # With blue/green, CodeDeploy owns the forward action of every rule that
  # sends traffic to var.codedeploy_target: it swaps that target's group for
  # the green one and back on each deployment, so Terraform must not put it
  # back. Those rules are a second resource that ignores its action.
  codedeploy_rule = {
    for rule in local.listener_rules : rule.name => contains([for t in rule.forward : t.target], var.codedeploy_target == null ? "" : var.codedeploy_target)
  }
}

resource "aws_lb_listener_rule" "policy" {
  for_each = { for rule in local.listener_rules : rule.name => rule if !local.codedeploy_rule[rule.name] }

  listener_arn = aws_lb_listener.main.arn
  priority     = each.value.priority

  condition {
    path_pattern {
      values = each.value.path_patterns
    }
  }

  action {
    type = "forward"

    forward {
      dynamic "target_group" {
        for_each = each.value.forward
        content {
          arn    = aws_lb_target_group.target[target_group.value.target].arn
          weight = target_group.value.weight
        }
      }

      stickiness {
        enabled  = each.value.stickiness == null ? false : each.value.stickiness.enabled
        duration = each.value.stickiness == null ? 1 : each.value.stickiness.duration_seconds
      }
    }
  }

  # Which policy rule this is and where it forwards, as label=weight (what
  # the console and the Terraform tests read; the action holds only ARNs).
  tags = merge(var.tags, {
    "weighbridge:rule"    = each.key
    "weighbridge:forward" = join(" ", [for t in each.value.forward : "${t.target}=${t.weight}"])
  })

  lifecycle {
    precondition {
      condition     = alltrue([for t in each.value.forward : contains(keys(var.target_groups), t.target)])
      error_message = "Every policy target must have a target group: add it to var.target_groups."
    }
  }
}

resource "aws_lb_listener_rule" "codedeploy" {
  for_each = { for rule in local.listener_rules : rule.name => rule if local.codedeploy_rule[rule.name] }

  listener_arn = aws_lb_listener.main.arn
  priority     = each.value.priority

  condition {
    path_pattern {
      values = each.value.path_patterns
    }
  }

  action {
    type = "forward"

    forward {
      dynamic "target_group" {
        for_each = each.value.forward
        content {
          arn    = aws_lb_target_group.target[target_group.value.target].arn
          weight = target_group.value.weight
        }
      }

      stickiness {
        enabled  = each.value.stickiness == null ? false : each.value.stickiness.enabled
        duration = each.value.stickiness == null ? 1 : each.value.stickiness.duration_seconds
      }
    }
  }

  # Which policy rule this is and where it forwards, as label=weight (what
  # the console and the Terraform tests read; the action holds only ARNs).
  tags = merge(var.tags, {
    "weighbridge:rule"    = each.key
    "weighbridge:forward" = join(" ", [for t in each.value.forward : "${t.target}=${t.weight}"])
  })

  lifecycle {
    # CodeDeploy's: it points the action at blue or green (see codedeploy_rule).
    ignore_changes = [action]

    precondition {
      condition     = alltrue([for t in each.value.forward : contains(keys(var.target_groups), t.target)])
      error_message = "Every policy target must have a target group: add it to var.target_groups."
    }
  }
}
