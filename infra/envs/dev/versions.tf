terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60.0, < 7.0.0"
    }
  }

  # Partial configuration: the deploy workflow passes bucket, key, region and
  # use_lockfile with -backend-config (see infra/README.md).
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      project     = "weighbridge"
      environment = var.environment
      managed-by  = "terraform"
    }
  }
}
