# API Gateway HTTP API -> VPC link -> internal ALB listener (the seeds'
# ingress). The stage is named after the policy's base path ("dev"), or is
# "$default" without one, and the path sent to the ALB is rebuilt explicitly
# as "/{base path}/{rest}", so the ALB rules always see the base path and
# never a "//".

locals {
  # The stage is the base path, so clients call {invoke url}/{path} with the
  # same paths the policy and verify see.
  stage_name = local.base_path == "" ? "$default" : local.base_path
}

resource "aws_security_group" "vpc_link" {
  count = local.public_alb ? 0 : 1

  name_prefix = "${var.name}-vpclink-"
  description = "API Gateway VPC link of ${var.name}: out to the ALB listener only"
  vpc_id      = var.vpc_id
  tags        = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "vpc_link_to_alb" {
  count = local.public_alb ? 0 : 1

  security_group_id            = aws_security_group.vpc_link[0].id
  description                  = "To the ALB listener"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = local.https ? 443 : 80
  to_port                      = local.https ? 443 : 80
}

resource "aws_apigatewayv2_vpc_link" "this" {
  count = local.public_alb ? 0 : 1

  name               = "${var.name}-vpclink"
  security_group_ids = [aws_security_group.vpc_link[0].id]
  subnet_ids         = var.private_subnet_ids
  tags               = var.tags
}

resource "aws_apigatewayv2_api" "this" {
  count = local.public_alb ? 0 : 1

  name          = "${var.name}-http"
  protocol_type = "HTTP"
  description   = "weighbridge ${var.name}: every request goes to the ALB, which splits it by the traffic policy"
  tags          = var.tags
}

resource "aws_apigatewayv2_integration" "alb" {
  count = local.public_alb ? 0 : 1

  api_id             = aws_apigatewayv2_api.this[0].id
  integration_type   = "HTTP_PROXY"
  integration_method = "ANY"
  integration_uri    = aws_lb_listener.main.arn
  connection_type    = "VPC_LINK"
  connection_id      = aws_apigatewayv2_vpc_link.this[0].id

  request_parameters = {
    "overwrite:path" = "${local.path_prefix}/$request.path.proxy"
  }

  dynamic "tls_config" {
    for_each = local.https ? [1] : []
    content {
      server_name_to_verify = var.tls_server_name
    }
  }
}

# "ANY /{proxy+}" needs at least one path segment: the bare stage URL
# ({invoke url}, i.e. "/dev" itself, or "/" without a base path) is the
# "ANY /" route, sent to the ALB as the base path alone.
resource "aws_apigatewayv2_integration" "alb_root" {
  count = local.public_alb ? 0 : 1

  api_id             = aws_apigatewayv2_api.this[0].id
  integration_type   = "HTTP_PROXY"
  integration_method = "ANY"
  integration_uri    = aws_lb_listener.main.arn
  connection_type    = "VPC_LINK"
  connection_id      = aws_apigatewayv2_vpc_link.this[0].id

  request_parameters = {
    "overwrite:path" = local.path_prefix == "" ? "/" : local.path_prefix
  }

  dynamic "tls_config" {
    for_each = local.https ? [1] : []
    content {
      server_name_to_verify = var.tls_server_name
    }
  }
}

resource "aws_apigatewayv2_route" "root" {
  #checkov:skip=CKV_AWS_309:The test bed is a public sample endpoint that load generators call without credentials; restrict it with var.allowed_cidrs via a public ALB or add a JWT authorizer in production.
  count = local.public_alb ? 0 : 1

  api_id    = aws_apigatewayv2_api.this[0].id
  route_key = "ANY /"
  target    = "integrations/${aws_apigatewayv2_integration.alb_root[0].id}"
}

resource "aws_apigatewayv2_route" "proxy" {
  #checkov:skip=CKV_AWS_309:The test bed is a public sample endpoint that load generators call without credentials; restrict it with var.allowed_cidrs via a public ALB or add a JWT authorizer in production.
  count = local.public_alb ? 0 : 1

  api_id    = aws_apigatewayv2_api.this[0].id
  route_key = "ANY /{proxy+}"
  target    = "integrations/${aws_apigatewayv2_integration.alb[0].id}"
}

resource "aws_cloudwatch_log_group" "api_access" {
  #checkov:skip=CKV_AWS_158:Access logs hold no secrets; CloudWatch encrypts them at rest with its own key.
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (short by default): the test bed lives for one run.
  count = local.public_alb ? 0 : 1

  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  count = local.public_alb ? 0 : 1

  api_id      = aws_apigatewayv2_api.this[0].id
  name        = local.stage_name
  auto_deploy = true
  tags        = var.tags

  lifecycle {
    precondition {
      condition     = can(regex("^[A-Za-z0-9_-]*$", local.base_path))
      error_message = "With API Gateway the policy's base_path is the stage name: one segment of letters, digits, '-' or '_' (use ingress = \"public_alb\" for a multi-segment base path)."
    }
  }

  default_route_settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access[0].arn
    format = jsonencode({
      requestId      = "$context.requestId"
      requestTime    = "$context.requestTime"
      httpMethod     = "$context.httpMethod"
      path           = "$context.path"
      status         = "$context.status"
      latencyMs      = "$context.responseLatency"
      integrationMs  = "$context.integration.latency"
      integrationErr = "$context.integrationErrorMessage"
    })
  }
}
