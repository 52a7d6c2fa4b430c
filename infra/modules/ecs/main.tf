# One ECS Fargate service running the backend image: the web service behind
# the ALB (container_port set, target_group_arn set) or the SQS worker
# (command = ["consume"], no port). Traces go to an ADOT collector sidecar
# that sends them to X-Ray.

locals {
  # Decided by whether var.cluster is given, which is known at plan time
  # even when that cluster is created in the same run (its ARN is not, and
  # a count cannot depend on it).
  create_cluster = var.cluster == null
  cluster_name   = local.create_cluster ? aws_ecs_cluster.this[0].name : var.cluster.name
  cluster_arn    = local.create_cluster ? aws_ecs_cluster.this[0].arn : var.cluster.arn
  web            = var.container_port != null
  codedeploy     = var.deployment_controller == "CODE_DEPLOY"
  service_name   = one(concat(aws_ecs_service.rolling[*].name, aws_ecs_service.codedeploy[*].name))

  backend_environment = merge(
    {
      BACKEND_LABEL               = var.label
      BASE_PATH                   = var.base_path
      DRAIN_SECONDS               = tostring(var.drain_seconds)
      OTEL_EXPORTER_OTLP_ENDPOINT = "http://localhost:4317"
      OTEL_SERVICE_NAME           = var.name
    },
    local.web ? { PORT = tostring(var.container_port) } : {},
    var.queue_url == null ? {} : { QUEUE_URL = var.queue_url },
    var.environment,
  )

  backend_container = {
    name                   = "backend"
    image                  = var.image
    essential              = true
    command                = var.command
    readonlyRootFilesystem = true
    user                   = "65532:65532"
    environment            = [for k, v in local.backend_environment : { name = k, value = v }]
    portMappings           = local.web ? [{ containerPort = var.container_port, protocol = "tcp" }] : []
    # Liveness (the image's /live probe), not readiness: a draining task
    # answers 503 on /health but must not be killed for it.
    healthCheck = local.web ? {
      command     = ["CMD", "/usr/local/bin/backend", "probe"]
      interval    = 10
      timeout     = 3
      retries     = 3
      startPeriod = 10
    } : null
    # SIGTERM first; the backend drains for DRAIN_SECONDS before it exits.
    stopTimeout = min(var.drain_seconds + 10, 120)
    dependsOn   = [{ containerName = "otel-collector", condition = "START" }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "backend"
      }
    }
  }

  collector_container = {
    name                   = "otel-collector"
    image                  = var.adot_image
    essential              = false
    command                = ["--config=/etc/ecs/ecs-xray.yaml"]
    readonlyRootFilesystem = true
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "otel"
      }
    }
  }
}

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

resource "aws_ecs_cluster" "this" {
  count = local.create_cluster ? 1 : 0

  name = "${var.name}-cluster"
  tags = var.tags

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Container logs hold no secrets; CloudWatch encrypts them at rest with its own key.
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
  container_definitions    = jsonencode([local.backend_container, local.collector_container])
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }
}

resource "aws_security_group" "tasks" {
  name_prefix = "${var.name}-tasks-"
  description = "Tasks of ${var.name}: the container port from the ALB only; HTTPS out to AWS APIs"
  vpc_id      = var.vpc_id
  tags        = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "from_alb" {
  count = local.web ? 1 : 0

  security_group_id            = aws_security_group.tasks.id
  description                  = "Container port from the ALB"
  referenced_security_group_id = var.alb_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to ECR, CloudWatch Logs, SQS and X-Ray (through NAT or VPC endpoints)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# Two variants of the service, because Terraform cannot make `lifecycle`
# conditional: the rolling one (ECS controller, circuit breaker with
# rollback) and the CodeDeploy one, whose task definition and load balancer
# CodeDeploy owns between deployments.
resource "aws_ecs_service" "rolling" {
  count = local.codedeploy ? 0 : 1

  name                              = var.name
  cluster                           = local.cluster_arn
  task_definition                   = aws_ecs_task_definition.this.arn
  desired_count                     = var.scaling.min_tasks
  launch_type                       = "FARGATE"
  platform_version                  = "LATEST"
  health_check_grace_period_seconds = local.web ? 30 : null
  enable_execute_command            = false
  propagate_tags                    = "SERVICE"
  wait_for_steady_state             = var.wait_for_steady_state
  tags                              = var.tags

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  dynamic "load_balancer" {
    for_each = local.web ? [1] : []
    content {
      target_group_arn = var.target_group_arn
      container_name   = "backend"
      container_port   = var.container_port
    }
  }

  # Autoscaling owns the task count once the service exists.
  lifecycle {
    ignore_changes = [desired_count]
  }
}

resource "aws_ecs_service" "codedeploy" {
  count = local.codedeploy ? 1 : 0

  name                              = var.name
  cluster                           = local.cluster_arn
  task_definition                   = aws_ecs_task_definition.this.arn
  desired_count                     = var.scaling.min_tasks
  launch_type                       = "FARGATE"
  platform_version                  = "LATEST"
  health_check_grace_period_seconds = 30
  enable_execute_command            = false
  propagate_tags                    = "SERVICE"
  tags                              = var.tags

  deployment_controller {
    type = "CODE_DEPLOY"
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = "backend"
    container_port   = var.container_port
  }

  lifecycle {
    ignore_changes = [desired_count, task_definition, load_balancer]

    precondition {
      condition     = local.web
      error_message = "CODE_DEPLOY needs a web service (container_port and target_group_arn)."
    }
  }
}
