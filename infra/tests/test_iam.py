"""IAM: no statement allows "*" on "*" (in the plans, the applied state, the
policy documents' source and the deployment role), and the deployment role
(infra/deploy-role-policy.json, the one list the README points to) allows
every action Terraform needs for the resource types the plans create."""

import fnmatch
import json

import pytest

from conftest import INFRA, ROOT, VARIANTS, Plan

DEPLOY_ROLE = INFRA / "deploy-role-policy.json"

# The managed policies the modules attach, and nothing else.
MANAGED = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS",
}


def as_list(x):
    return x if isinstance(x, list) else [x]


def statements(doc):
    if isinstance(doc, str):
        doc = json.loads(doc)
    return as_list(doc.get("Statement", []))


def star_on_star(statement):
    actions = as_list(statement.get("Action", []))
    resources = as_list(statement.get("Resource", []))
    return statement.get("Effect") == "Allow" and any(a in ("*", "*:*") for a in actions) and "*" in resources


def service_wildcard(statement):
    return [a for a in as_list(statement.get("Action", [])) if a == "*" or a.endswith(":*")]


def test_the_checks_catch_star_on_star():
    assert star_on_star({"Effect": "Allow", "Action": "*", "Resource": "*"})
    assert star_on_star({"Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": ["*"]})
    assert not star_on_star({"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert not star_on_star({"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"})
    assert service_wildcard({"Action": ["sqs:*"]}) == ["sqs:*"]


def known_policy_documents(resources):
    """Policy JSON strings known in a plan or a state: inline policies, assume-role policies."""
    for r in resources:
        v = r["values"]
        for key in ("policy", "assume_role_policy"):
            if isinstance(v.get(key), str) and v[key]:
                yield r["address"] if "address" in r else r.get("type"), v[key]


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_star_on_star_in_the_plans(variant):
    plan = Plan(variant)
    for address, doc in known_policy_documents(plan.created()):
        for s in statements(doc):
            assert not star_on_star(s), (variant, address, s)


def test_no_star_on_star_in_the_applied_state(state):
    docs = list(known_policy_documents(state.resources()))
    assert len(docs) >= 10, "the applied state has every role's policies"
    for address, doc in docs:
        for s in statements(doc):
            assert not star_on_star(s), (address, s)
            if s.get("Effect") == "Allow":
                assert not service_wildcard(s), (address, s)


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_star_on_star_in_the_policy_documents(variant):
    """The aws_iam_policy_document sources, statement by statement (their
    constant actions and resources), as written in the configuration."""
    plan = Plan(variant)

    def walk(module):
        for r in module.get("resources", []):
            yield r
        for call in module.get("module_calls", {}).values():
            yield from walk(call["module"])

    found = 0
    for r in walk(plan.json["configuration"]["root_module"]):
        if r["type"] != "aws_iam_policy_document":
            continue
        for s in r["expressions"].get("statement", []):
            found += 1
            actions = s.get("actions", {}).get("constant_value", [])
            resources = s.get("resources", {}).get("constant_value", [])
            effect = s.get("effect", {}).get("constant_value", "Allow")
            assert not star_on_star({"Effect": effect, "Action": actions, "Resource": resources}), (r["address"], s)
    assert found >= 10


@pytest.mark.parametrize("variant", VARIANTS)
def test_only_the_expected_managed_policies_are_attached(variant):
    for r in Plan(variant).created("aws_iam_role_policy_attachment"):
        assert r["values"]["policy_arn"] in MANAGED, r["address"]


# --- the deployment role ----------------------------------------------------

# What Terraform (provider 5.x) calls to create, read, update and delete each
# resource type the plans contain, and what deploy.yml calls itself. A new
# resource type fails test_every_planned_type_is_mapped until it is added.
NEEDED = {
    "aws_ecr_repository": ["ecr:CreateRepository", "ecr:DescribeRepositories", "ecr:DeleteRepository", "ecr:ListTagsForResource", "ecr:TagResource", "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability"],
    "aws_ecr_lifecycle_policy": ["ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy"],
    "aws_s3_bucket": ["s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketWebsite", "s3:GetBucketVersioning", "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment", "s3:GetBucketLogging", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration", "s3:GetBucketObjectLockConfiguration", "s3:GetBucketTagging", "s3:PutBucketTagging", "s3:GetBucketPolicy", "s3:DeleteObject", "s3:DeleteObjectVersion"],
    "aws_s3_bucket_public_access_block": ["s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"],
    "aws_s3_bucket_ownership_controls": ["s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"],
    "aws_s3_bucket_versioning": ["s3:PutBucketVersioning", "s3:GetBucketVersioning"],
    "aws_s3_bucket_server_side_encryption_configuration": ["s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"],
    "aws_s3_bucket_lifecycle_configuration": ["s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"],
    "aws_s3_bucket_policy": ["s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"],
    "aws_s3_object": ["s3:PutObject", "s3:GetObject", "s3:GetObjectTagging", "s3:PutObjectTagging", "s3:DeleteObject"],
    "aws_iam_role": ["iam:CreateRole", "iam:GetRole", "iam:DeleteRole", "iam:TagRole", "iam:UpdateAssumeRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole"],
    "aws_iam_role_policy": ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
    "aws_iam_role_policy_attachment": ["iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies"],
    "aws_security_group": ["ec2:CreateSecurityGroup", "ec2:DescribeSecurityGroups", "ec2:DeleteSecurityGroup", "ec2:CreateTags", "ec2:RevokeSecurityGroupEgress", "ec2:DescribeNetworkInterfaces"],
    "aws_vpc_security_group_ingress_rule": ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DescribeSecurityGroupRules", "ec2:ModifySecurityGroupRules", "ec2:CreateTags"],
    "aws_vpc_security_group_egress_rule": ["ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress", "ec2:DescribeSecurityGroupRules", "ec2:ModifySecurityGroupRules", "ec2:CreateTags"],
    "aws_lb": ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:AddTags", "elasticloadbalancing:DescribeTags", "iam:CreateServiceLinkedRole"],
    "aws_lb_target_group": ["elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:AddTags", "elasticloadbalancing:DescribeTags"],
    "aws_lb_listener": ["elasticloadbalancing:CreateListener", "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:ModifyListener", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:AddTags", "elasticloadbalancing:DescribeTags"],
    "aws_lb_listener_rule": ["elasticloadbalancing:CreateRule", "elasticloadbalancing:DescribeRules", "elasticloadbalancing:ModifyRule", "elasticloadbalancing:SetRulePriorities", "elasticloadbalancing:DeleteRule", "elasticloadbalancing:AddTags", "elasticloadbalancing:DescribeTags"],
    "aws_lb_target_group_attachment": ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:DescribeTargetHealth"],
    "aws_apigatewayv2_api": ["apigateway:POST", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE", "apigateway:TagResource"],
    "aws_apigatewayv2_integration": ["apigateway:POST", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"],
    "aws_apigatewayv2_route": ["apigateway:POST", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"],
    "aws_apigatewayv2_vpc_link": ["apigateway:POST", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE", "iam:CreateServiceLinkedRole"],
    # Access logs: the log delivery and the log group's resource policy.
    "aws_apigatewayv2_stage": ["apigateway:POST", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE", "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"],
    "aws_cloudwatch_log_group": ["logs:CreateLogGroup", "logs:DescribeLogGroups", "logs:PutRetentionPolicy", "logs:DeleteLogGroup", "logs:TagResource", "logs:ListTagsForResource"],
    "aws_ecs_cluster": ["ecs:CreateCluster", "ecs:DescribeClusters", "ecs:DeleteCluster", "ecs:TagResource", "ecs:ListTagsForResource", "iam:CreateServiceLinkedRole"],
    "aws_ecs_task_definition": ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition", "ecs:TagResource", "ecs:ListTagsForResource", "iam:PassRole"],
    "aws_ecs_service": ["ecs:CreateService", "ecs:DescribeServices", "ecs:UpdateService", "ecs:DeleteService", "ecs:TagResource", "ecs:ListTagsForResource"],
    "aws_appautoscaling_target": ["application-autoscaling:RegisterScalableTarget", "application-autoscaling:DescribeScalableTargets", "application-autoscaling:DeregisterScalableTarget", "application-autoscaling:TagResource", "application-autoscaling:ListTagsForResource", "iam:CreateServiceLinkedRole"],
    "aws_appautoscaling_policy": ["application-autoscaling:PutScalingPolicy", "application-autoscaling:DescribeScalingPolicies", "application-autoscaling:DeleteScalingPolicy"],
    "aws_cloudwatch_metric_alarm": ["cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:ListTagsForResource"],
    "aws_sqs_queue": ["sqs:CreateQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:GetQueueUrl", "sqs:DeleteQueue", "sqs:TagQueue", "sqs:ListQueueTags"],
    "aws_sqs_queue_policy": ["sqs:SetQueueAttributes", "sqs:GetQueueAttributes"],
    "aws_sqs_queue_redrive_allow_policy": ["sqs:SetQueueAttributes", "sqs:GetQueueAttributes"],
    "aws_lambda_function": ["lambda:CreateFunction", "lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig", "lambda:ListVersionsByFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:DeleteFunction", "lambda:TagResource", "lambda:ListTags", "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "iam:PassRole", "s3:GetObject", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"],
    "aws_lambda_permission": ["lambda:AddPermission", "lambda:GetPolicy", "lambda:RemovePermission"],
    "aws_codedeploy_app": ["codedeploy:CreateApplication", "codedeploy:GetApplication", "codedeploy:DeleteApplication", "codedeploy:TagResource", "codedeploy:ListTagsForResource"],
    "aws_codedeploy_deployment_group": ["codedeploy:CreateDeploymentGroup", "codedeploy:GetDeploymentGroup", "codedeploy:UpdateDeploymentGroup", "codedeploy:DeleteDeploymentGroup", "codedeploy:TagResource", "codedeploy:ListTagsForResource", "iam:PassRole"],
}
DATA_SOURCES = {
    "aws_vpc": ["ec2:DescribeVpcs"],
    "aws_caller_identity": [],  # sts:GetCallerIdentity needs no permission
    "aws_region": [],
    "aws_iam_policy_document": [],
}
WORKFLOWS = {
    "state": ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
    "images": ["ecr:GetAuthorizationToken", "ecr:DescribeImages", "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage"],
    "blue/green deployment": ["codedeploy:CreateDeployment", "codedeploy:GetDeployment", "codedeploy:GetDeploymentConfig", "codedeploy:RegisterApplicationRevision", "codedeploy:GetApplicationRevision"],
    "verify": ["ecs:RunTask", "ecs:DescribeTasks", "iam:PassRole", "ecs:DescribeServices", "application-autoscaling:DescribeScalingActivities"],
}


def deploy_role():
    return json.loads(DEPLOY_ROLE.read_text())


def allowed(policy, action):
    return any(
        s["Effect"] == "Allow" and any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in as_list(s["Action"]))
        for s in policy["Statement"]
    )


def planned_types(kind):
    types = set()
    for variant in VARIANTS:
        for change in Plan(variant).json["resource_changes"]:
            if change["mode"] == kind:
                types.add(change["type"])
    return types


def test_every_planned_type_is_mapped():
    assert planned_types("managed") <= set(NEEDED), sorted(planned_types("managed") - set(NEEDED))
    assert planned_types("data") <= set(DATA_SOURCES), sorted(planned_types("data") - set(DATA_SOURCES))


def test_the_deployment_role_allows_what_the_plans_need():
    policy = deploy_role()
    missing = sorted(
        {f"{t}: {a}" for t in planned_types("managed") for a in NEEDED[t] if not allowed(policy, a)}
        | {f"{t}: {a}" for t in planned_types("data") for a in DATA_SOURCES[t] if not allowed(policy, a)}
    )
    assert not missing, missing


def test_the_deployment_role_allows_what_the_workflows_do():
    policy = deploy_role()
    missing = sorted(f"{what}: {a}" for what, actions in WORKFLOWS.items() for a in actions if not allowed(policy, a))
    assert not missing, missing


def test_the_http_api_access_logs_permissions_are_there():
    """The two the README's list lacked: without them the stage's access
    logs fail at apply."""
    policy = deploy_role()
    assert allowed(policy, "logs:PutResourcePolicy")
    assert allowed(policy, "logs:DescribeResourcePolicies")


def test_the_deployment_role_has_no_wildcard_service_or_star_on_star():
    for s in deploy_role()["Statement"]:
        assert not star_on_star(s), s
        assert not service_wildcard(s), s
        assert s["Effect"] == "Allow" and s.get("Sid"), s


def test_the_matcher_can_say_no():
    policy = {"Statement": [{"Effect": "Allow", "Action": ["s3:GetBucket*", "sqs:CreateQueue"]}]}
    assert allowed(policy, "s3:GetBucketTagging") and allowed(policy, "SQS:createqueue")
    assert not allowed(policy, "s3:PutBucketTagging") and not allowed(policy, "logs:PutResourcePolicy")


def test_the_readme_shows_the_one_list():
    readme = (INFRA / "README.md").read_text()
    assert "deploy-role-policy.json" in readme
    # The actions live in the file only, not copied into a table that drifts.
    assert "iam:CreateRole" not in readme and "logs:CreateLogDelivery" not in readme
    assert "deploy-role-policy.json" in (ROOT / "README.md").read_text() or "infra/README.md" in (ROOT / "README.md").read_text()
