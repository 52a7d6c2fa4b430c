# The backend as a Lambda function behind the ALB: the zip that cargo-lambda
# builds (target/lambda/lambda/bootstrap.zip, runtime provided.al2023),
# uploaded to the artifact bucket under its hash, X-Ray active tracing, the
# ALB's invoke permission and the target-group attachment.
#
# VPC attachment is optional (var.vpc). The seeds' destroy problem - the
# function's network interfaces keep its security group alive, so deleting
# the group hangs until Terraform times out - is handled here, not left to a
# manual step: replace_security_groups_on_destroy moves the function onto the
# VPC's default group before it is deleted, so AWS releases the interfaces
# from our group at once, and the group's delete timeout covers the rest.

locals {
  in_vpc   = var.vpc != null
  zip_hash = filebase64sha256(var.zip_path)
  environment = merge(
    {
      BACKEND_LABEL = var.label
      BASE_PATH     = var.base_path
    },
    var.queue_url == null ? {} : { QUEUE_URL = var.queue_url },
    var.environment,
  )
}

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

resource "aws_s3_object" "zip" {
  bucket      = var.artifact_bucket
  key         = "lambda/${var.name}/${filemd5(var.zip_path)}.zip"
  source      = var.zip_path
  source_hash = filemd5(var.zip_path)
  tags        = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Function logs hold no secrets; CloudWatch encrypts them at rest with its own key.
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (short by default): the test bed lives for one run.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_security_group" "function" {
  count = local.in_vpc ? 1 : 0

  name_prefix = "${var.name}-fn-"
  description = "Lambda ${var.name} in the VPC: no inbound (the ALB invokes it through the Lambda API), HTTPS out"
  vpc_id      = var.vpc.vpc_id
  tags        = var.tags

  # Lambda can take a while to let go of its network interfaces.
  timeouts {
    delete = "45m"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "function_https" {
  count = local.in_vpc ? 1 : 0

  security_group_id = aws_security_group.function[0].id
  description       = "HTTPS to SQS and X-Ray (through NAT or VPC endpoints)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:The ALB invokes the function synchronously; a dead-letter queue only applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_173:The environment holds a label, a base path and a queue URL, no secrets; Lambda encrypts it at rest with its own key.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile the test bed does not have; the zip is built and uploaded by the deploy workflow under its hash.
  #checkov:skip=CKV_AWS_117:VPC attachment is optional by design (var.vpc): the backend needs no VPC resources, and outside a VPC there is no ENI to clean up.
  function_name                  = var.name
  description                    = "weighbridge backend (${var.label}) behind the ALB"
  role                           = aws_iam_role.this.arn
  s3_bucket                      = aws_s3_object.zip.bucket
  s3_key                         = aws_s3_object.zip.key
  source_code_hash               = local.zip_hash
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.architecture]
  memory_size                    = var.memory_size
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency
  tags                           = var.tags

  environment {
    variables = local.environment
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  dynamic "vpc_config" {
    for_each = local.in_vpc ? [var.vpc] : []
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = [aws_security_group.function[0].id]
    }
  }

  # The destroy problem, handled: detach our security group (onto the VPC's
  # default group) before the function is deleted.
  replace_security_groups_on_destroy = local.in_vpc ? true : null

  # The role's permissions exist before the function and outlive it: in a
  # VPC that includes the managed network-interface policy, or a destroy
  # detaches it while Lambda still needs it to release the interfaces.
  depends_on = [aws_iam_role_policy.this, aws_iam_role_policy_attachment.vpc]
}

resource "aws_lambda_permission" "alb" {
  statement_id  = "AllowInvokeFromAlbTargetGroup"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "elasticloadbalancing.amazonaws.com"
  source_arn    = var.target_group_arn
}

resource "aws_lb_target_group_attachment" "this" {
  target_group_arn = var.target_group_arn
  target_id        = aws_lambda_function.this.arn

  depends_on = [aws_lambda_permission.alb]
}
