# The dev environment: the whole test bed, composed from ../../modules.
#   artifacts  - ECR repositories (backend, loadgen) and the artifact bucket
#   network    - ALB, target groups, listener rules from the policy, API Gateway
#   sqs        - work queue + dead-letter queue
#   web        - ECS service behind the ALB (label "ecs"), scaled by var.web_scaling_strategy
#   worker     - ECS service running `backend consume`, scaled on queue depth
#   lambda     - the Lambda target (label "lambda")
#   codedeploy - optional blue/green for the web service
#   loadgen    - task definition for N parallel load generators

locals {
  name          = "weighbridge-${var.environment}"
  backend_image = "${module.artifacts.repository_urls["backend"]}:${var.image_tag}"
  loadgen_image = "${module.artifacts.repository_urls["loadgen"]}:${var.image_tag}"
  lambda_zip    = coalesce(var.lambda_zip_path, "${path.module}/../../../target/lambda/lambda/bootstrap.zip")
}

module "artifacts" {
  source = "../../modules/artifacts"

  name = local.name
}

module "network" {
  source = "../../modules/network"

  name   = local.name
  policy = local.policy
  target_groups = {
    (var.ecs_label)    = { type = "ip" }
    (var.lambda_label) = { type = "lambda" }
  }

  vpc_id             = var.vpc_id
  private_subnet_ids = var.private_subnet_ids
  public_subnet_ids  = var.public_subnet_ids
  ingress            = var.ingress
  allowed_cidrs      = var.allowed_cidrs
  container_port     = var.container_port

  codedeploy_target = var.blue_green ? var.ecs_label : null
}

module "sqs" {
  source = "../../modules/sqs"

  name = "${local.name}-work"
}

module "web" {
  source = "../../modules/ecs"

  name               = "${local.name}-web"
  image              = local.backend_image
  ecr_repository_arn = module.artifacts.repository_arns["backend"]
  label              = var.ecs_label
  base_path          = local.base_path
  container_port     = var.container_port
  drain_seconds      = var.drain_seconds
  adot_image         = var.adot_image

  vpc_id                = var.vpc_id
  subnet_ids            = var.private_subnet_ids
  target_group_arn      = module.network.target_group_arns[var.ecs_label]
  alb_security_group_id = module.network.alb_security_group_id

  queue_access = "send"
  queue_arn    = module.sqs.queue_arn
  queue_url    = module.sqs.queue_url

  scaling_strategy        = var.web_scaling_strategy
  scaling                 = var.web_scaling
  alb_arn_suffix          = module.network.alb_arn_suffix
  target_group_arn_suffix = module.network.target_group_arn_suffixes[var.ecs_label]

  deployment_controller = var.blue_green ? "CODE_DEPLOY" : "ECS"
  wait_for_steady_state = var.wait_for_steady_state
}

module "worker" {
  source = "../../modules/ecs"

  name               = "${local.name}-worker"
  cluster            = module.web.cluster
  image              = local.backend_image
  ecr_repository_arn = module.artifacts.repository_arns["backend"]
  command            = ["consume"]
  adot_image         = var.adot_image
  label              = "worker"
  container_port     = null

  vpc_id     = var.vpc_id
  subnet_ids = var.private_subnet_ids

  queue_access = "consume"
  queue_arn    = module.sqs.queue_arn
  queue_url    = module.sqs.queue_url
  queue_name   = module.sqs.queue_name

  scaling_strategy      = "sqs"
  scaling               = var.worker_scaling
  wait_for_steady_state = var.wait_for_steady_state
}

module "lambda" {
  source = "../../modules/lambda"

  name             = "${local.name}-backend"
  zip_path         = local.lambda_zip
  artifact_bucket  = module.artifacts.bucket_name
  architecture     = var.lambda_architecture
  label            = var.lambda_label
  base_path        = local.base_path
  target_group_arn = module.network.target_group_arns[var.lambda_label]
  queue_arn        = module.sqs.queue_arn
  queue_url        = module.sqs.queue_url

  reserved_concurrency = var.lambda_reserved_concurrency

  vpc = var.lambda_in_vpc ? { vpc_id = var.vpc_id, subnet_ids = var.private_subnet_ids } : null
}

module "codedeploy" {
  source = "../../modules/codedeploy"
  count  = var.blue_green ? 1 : 0

  name                         = "${local.name}-web"
  cluster_name                 = module.web.cluster_name
  service_name                 = module.web.service_name
  listener_arn                 = module.network.listener_arn
  alb_arn                      = module.network.alb_arn
  alb_security_group_id        = module.network.alb_security_group_id
  blue_target_group_name       = module.network.target_group_names[var.ecs_label]
  blue_target_group_arn_suffix = module.network.target_group_arn_suffixes[var.ecs_label]
  alb_arn_suffix               = module.network.alb_arn_suffix
  vpc_id                       = var.vpc_id
  container_port               = var.container_port
  traffic_shifting             = var.traffic_shifting
}

module "loadgen" {
  source = "../../modules/loadgen"

  name               = "${local.name}-loadgen"
  image              = local.loadgen_image
  ecr_repository_arn = module.artifacts.repository_arns["loadgen"]
  report_bucket      = module.artifacts.bucket_name
  vpc_id             = var.vpc_id
  default_url        = "${module.network.service_url}/host"
}
