# A task definition for loadgen, so a workflow can run N of them at once
# (`aws ecs run-task --count N`, up to 10 per call) for more load than one
# machine makes. Each task runs
#   loadgen --url $URL --rps $RPS --duration $DURATION --out /work/report.json
# (infra/docker/loadgen-task.sh) and uploads its report to
#   s3://{bucket}/reports/{RUN_ID}/{task}.json
# where the verify workflow downloads them all; verify merges the reports
# (counts add, histograms merge, timelines align on wall-clock time).
# URL, RPS, DURATION and RUN_ID are set per run with container overrides.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Load generator logs hold no secrets; CloudWatch encrypts them at rest with its own key.
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (short by default): the test bed lives for one run.
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # Scratch space for the report; the root filesystem stays read-only.
  volume {
    name = "work"
  }

  container_definitions = jsonencode([{
    name                   = "loadgen"
    image                  = var.image
    essential              = true
    readonlyRootFilesystem = true
    environment = [
      { name = "URL", value = var.default_url },
      { name = "RPS", value = tostring(var.default_rps) },
      { name = "DURATION", value = var.default_duration },
      { name = "RUN_ID", value = "manual" },
      { name = "LOADGEN_ARGS", value = "" },
      { name = "REPORT_BUCKET", value = var.report_bucket },
      { name = "REPORT_PREFIX", value = "reports" },
      { name = "HOME", value = "/work" },
    ]
    mountPoints = [{ sourceVolume = "work", containerPath = "/work", readOnly = false }]
    # Load generators open many sockets.
    ulimits = [{ name = "nofile", softLimit = 65536, hardLimit = 65536 }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "loadgen"
      }
    }
  }])
}

resource "aws_security_group" "this" {
  #checkov:skip=CKV2_AWS_5:Attached at run time: the verify workflow passes it in run-task's network configuration (output security_group_id).
  name_prefix = "${var.name}-"
  description = "loadgen tasks: no inbound; out to the HTTP(S) port of the service under test, and HTTPS for ECR, S3 and logs"
  vpc_id      = var.vpc_id
  tags        = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "this" {
  for_each = toset([for p in distinct(concat([443], var.target_ports)) : tostring(p)])

  security_group_id = aws_security_group.this.id
  description       = "Out to port ${each.key} (the service under test; 443 also reaches AWS APIs)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)
}

data "aws_iam_policy_document" "assume" {
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
  assume_role_policy = data.aws_iam_policy_document.assume.json
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
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "UploadReports"
    actions   = ["s3:PutObject"]
    resources = ["arn:aws:s3:::${var.report_bucket}/reports/*"]
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "upload-reports"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}
