# The load balancer in front of every target: an ALB with one target group
# per policy target (ECS tasks by IP, the Lambda function), a listener whose
# default answer is 404, and the listener rules of rules.tf. Reached through
# an API Gateway HTTP API (apigateway.tf) or, when var.ingress is
# "public_alb", directly.

data "aws_vpc" "this" {
  id = var.vpc_id
}

locals {
  public_alb = var.ingress == "public_alb"
  https      = var.certificate_arn != null
}

resource "aws_security_group" "alb" {
  name_prefix = "${var.name}-alb-"
  description = "ALB of ${var.name}: HTTP(S) in from the API Gateway VPC link or the allowed CIDRs, out to the ECS tasks"
  vpc_id      = var.vpc_id
  tags        = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "alb_from_vpc_link" {
  count = local.public_alb ? 0 : 1

  security_group_id            = aws_security_group.alb.id
  description                  = "Listener port from the API Gateway VPC link only"
  referenced_security_group_id = aws_security_group.vpc_link[0].id
  ip_protocol                  = "tcp"
  from_port                    = local.https ? 443 : 80
  to_port                      = local.https ? 443 : 80
}

resource "aws_vpc_security_group_ingress_rule" "alb_from_cidr" {
  for_each = local.public_alb ? toset(var.allowed_cidrs) : toset([])

  security_group_id = aws_security_group.alb.id
  description       = "Listener port from an allowed client range"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = local.https ? 443 : 80
  to_port           = local.https ? 443 : 80
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id = aws_security_group.alb.id
  description       = "To the container port of the ECS tasks inside the VPC"
  cidr_ipv4         = data.aws_vpc.this.cidr_block
  ip_protocol       = "tcp"
  from_port         = var.container_port
  to_port           = var.container_port
}

resource "aws_lb" "main" {
  #checkov:skip=CKV_AWS_91:Access logs are opt-in (var.access_logs_bucket); a throwaway test bed does not need a log bucket by default.
  #checkov:skip=CKV_AWS_150:Deletion protection is var.deletion_protection; off by default because the destroy workflow must be able to remove the test bed.
  #checkov:skip=CKV2_AWS_28:WAF is out of scope for a load-test bed that is created, measured and destroyed; put a WAF ACL in front in production.
  name                       = substr("${var.name}-alb", 0, 32)
  internal                   = !local.public_alb
  load_balancer_type         = "application"
  security_groups            = [aws_security_group.alb.id]
  subnets                    = local.public_alb ? var.public_subnet_ids : var.private_subnet_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  idle_timeout               = 60
  tags                       = var.tags

  dynamic "access_logs" {
    for_each = var.access_logs_bucket == null ? [] : [var.access_logs_bucket]
    content {
      bucket  = access_logs.value
      prefix  = var.name
      enabled = true
    }
  }
}

resource "aws_lb_target_group" "target" {
  #checkov:skip=CKV_AWS_378:The backend speaks plain HTTP inside the VPC (port 3000, reachable only from the ALB's security group); TLS ends at API Gateway or the HTTPS listener. Lambda targets have no protocol.
  for_each = var.target_groups

  name        = substr("${var.name}-${each.key}", 0, 32)
  target_type = each.value.type
  port        = each.value.type == "lambda" ? null : var.container_port
  protocol    = each.value.type == "lambda" ? null : "HTTP"
  vpc_id      = each.value.type == "lambda" ? null : var.vpc_id

  # ECS tasks answer 503 on /health while draining, so the ALB stops sending
  # them requests before they stop.
  deregistration_delay = each.value.type == "lambda" ? null : var.deregistration_delay_seconds

  # Every value of a repeated header or query parameter reaches the function
  # (and it can answer with several Set-Cookie headers); off, ALB passes the
  # last value only.
  lambda_multi_value_headers_enabled = each.value.type == "lambda" ? true : null

  health_check {
    enabled             = true
    path                = "/health"
    matcher             = "200"
    interval            = each.value.type == "lambda" ? 60 : 15
    timeout             = each.value.type == "lambda" ? 30 : 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = var.tags
}

resource "aws_lb_listener" "main" {
  #checkov:skip=CKV_AWS_2:HTTPS when var.certificate_arn is set; without it the ALB is internal and reached only through the API Gateway VPC link, which terminates TLS.
  #checkov:skip=CKV_AWS_103:TLS 1.2+ policy (ELBSecurityPolicy-TLS13-1-2-2021-06) applies whenever the listener is HTTPS.
  #checkov:skip=CKV2_AWS_20:No HTTP-to-HTTPS redirect: one listener only, HTTPS when a certificate is given, else internal HTTP behind API Gateway.
  load_balancer_arn = aws_lb.main.arn
  port              = local.https ? 443 : 80
  protocol          = local.https ? "HTTPS" : "HTTP"
  ssl_policy        = local.https ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : null
  certificate_arn   = var.certificate_arn
  tags              = var.tags

  # Anything no rule claims: outside the base path there is no service.
  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "not found"
      status_code  = "404"
    }
  }
}
