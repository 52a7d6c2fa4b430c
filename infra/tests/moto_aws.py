"""Helpers scripts/test-infra runs against moto_server (AWS_ENDPOINT_URL).

    python infra/tests/moto_aws.py network   prints the tfvars of a fresh
                                             account's VPC (what a user brings)
    python infra/tests/moto_aws.py leftovers lists what the project's
                                             resources left behind; exit 1 if any

Only ever pointed at a local moto: it refuses an endpoint that is not
127.0.0.1 or localhost.
"""

import json
import os
import sys
from urllib.parse import urlparse

import boto3

REGION = os.environ.get("AWS_REGION", "us-east-1")


def client(service):
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if urlparse(endpoint).hostname not in ("127.0.0.1", "localhost"):
        sys.exit(f"moto_aws.py talks to a local moto_server only, not {endpoint!r}")
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)


def network():
    """A VPC with two private and two public subnets in two zones."""
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    zones = [f"{REGION}a", f"{REGION}b"]
    private = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24", AvailabilityZone=z)["Subnet"]["SubnetId"]
        for i, z in enumerate(zones)
    ]
    public = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{10 + i}.0/24", AvailabilityZone=z)["Subnet"]["SubnetId"]
        for i, z in enumerate(zones)
    ]
    print(json.dumps({"vpc_id": vpc, "private_subnet_ids": private, "public_subnet_ids": public}))


def leftovers():
    """Everything the dev environment creates, by service: what is still there."""
    found = []

    def add(kind, names):
        found.extend(f"{kind}: {n}" for n in names)

    ecs = client("ecs")
    # A deleted service or cluster stays listed as INACTIVE for a while, as on AWS.
    for arn in ecs.list_clusters()["clusterArns"]:
        services = ecs.list_services(cluster=arn)["serviceArns"]
        if services:
            described = ecs.describe_services(cluster=arn, services=services)["services"]
            add("ecs service", [s["serviceArn"] for s in described if s["status"] != "INACTIVE"])
    clusters = ecs.list_clusters()["clusterArns"]
    if clusters:
        add("ecs cluster", [c["clusterArn"] for c in ecs.describe_clusters(clusters=clusters)["clusters"] if c["status"] != "INACTIVE"])
    add("ecs task definition", ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"])
    elb = client("elbv2")
    add("load balancer", [lb["LoadBalancerName"] for lb in elb.describe_load_balancers()["LoadBalancers"]])
    add("target group", [tg["TargetGroupName"] for tg in elb.describe_target_groups()["TargetGroups"]])
    ec2 = client("ec2")
    add("security group", [g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"])
    add("iam role", [r["RoleName"] for r in client("iam").list_roles()["Roles"] if r["RoleName"].startswith("weighbridge")])
    add("s3 bucket", [b["Name"] for b in client("s3").list_buckets()["Buckets"]])
    add("ecr repository", [r["repositoryName"] for r in client("ecr").describe_repositories()["repositories"]])
    add("sqs queue", client("sqs").list_queues().get("QueueUrls", []))
    add("lambda function", [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]])
    add("log group", [g["logGroupName"] for g in client("logs").describe_log_groups()["logGroups"]])
    add("alarm", [a["AlarmName"] for a in client("cloudwatch").describe_alarms()["MetricAlarms"]])
    scaling = client("application-autoscaling")
    add("scalable target", [t["ResourceId"] for t in scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]])
    add("scaling policy", [p["PolicyName"] for p in scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]])
    apigw = client("apigatewayv2")
    add("http api", [a["Name"] for a in apigw.get_apis()["Items"]])
    add("vpc link", [v["Name"] for v in apigw.get_vpc_links()["Items"]])

    for line in found:
        print(line)
    print(f"{len(found)} resources left in moto" if found else "nothing left in moto")
    return 1 if found else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "network":
        network()
    elif command == "leftovers":
        sys.exit(leftovers())
    else:
        sys.exit(__doc__)
