# Two roles: the execution role (ECS pulls the image and writes logs) and the
# task role (what the backend and the collector may call). Every statement
# names its resources, except X-Ray's, whose actions have no resource-level
# permissions.

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "execution" {
  name_prefix        = substr("${var.name}-exec-", 0, 38)
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "PullImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [var.ecr_repository_arn]
  }

  statement {
    # GetAuthorizationToken is account-wide: it has no resource to scope to.
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-and-log"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  name_prefix        = substr("${var.name}-task-", 0, 38)
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "task" {
  statement {
    #checkov:skip=CKV_AWS_111:X-Ray's PutTraceSegments/PutTelemetryRecords have no resource-level permissions; "*" is the only valid resource.
    sid = "Traces"
    actions = [
      "xray:PutTraceSegments",
      "xray:PutTelemetryRecords",
      "xray:GetSamplingRules",
      "xray:GetSamplingTargets",
    ]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = var.queue_access == "send" ? [1] : []
    content {
      sid       = "SendToQueue"
      actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
      resources = [var.queue_arn]
    }
  }

  dynamic "statement" {
    for_each = var.queue_access == "consume" ? [1] : []
    content {
      sid = "ConsumeQueue"
      actions = [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
      ]
      resources = [var.queue_arn]
    }
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "traces-and-queue"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}
