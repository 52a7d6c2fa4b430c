//! The AWS side of a rollout: the weights of an ALB listener rule's forward
//! action, changed with ELBv2 `ModifyRule` and read back with
//! `DescribeRules`.
//!
//! A rollout labels targets (`ecs`, `lambda`); the rule knows only target
//! group ARNs. [`ListenerRule::connect`] takes the mapping label → ARN and
//! refuses, before anything is changed, a rule that it could not drive
//! faithfully: one that does not exist, has no (or several) forward actions,
//! forwards to a target group no label names (its weight would be set
//! blindly), or lacks a group a label names.
//!
//! `ModifyRule` replaces a rule's whole action list, so every write starts
//! from the rule as it is *now* (read again, not the copy from `connect`):
//! the other actions, the forward action's stickiness and anything else in
//! it go back exactly as read, only the weights change. The conditions are
//! never sent, so ALB keeps them as they are.

use std::fmt::Write as _;

use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::error::DisplayErrorContext;
use elbv2::types::{Action, ActionTypeEnum, Rule, TargetGroupTuple};

/// The highest weight ALB accepts for a target group of a forward action.
const MAX_WEIGHT: u32 = 999;

/// The weight ALB gives a target group whose weight is not set (the legacy
/// single `TargetGroupArn` form, or a tuple without `Weight`).
const DEFAULT_WEIGHT: u32 = 1;

/// An ALB listener rule whose forward action's weights a rollout changes.
#[derive(Debug, Clone)]
pub struct ListenerRule {
    client: elbv2::Client,
    rule_arn: String,
    /// label → target group ARN, in the order given to `connect`.
    target_groups: Vec<(String, String)>,
}

/// Why a listener rule cannot be driven, or a call to ELBv2 failed.
#[derive(Debug, thiserror::Error)]
pub enum Elbv2Error {
    #[error(
        "listener rule {rule_arn}: the rule does not exist (check --listener-rule and the region)"
    )]
    RuleNotFound { rule_arn: String },

    #[error(
        "listener rule {rule_arn} has no forward action with target groups (its actions: {actions}); a rollout sets the weights of one"
    )]
    NoForwardAction { rule_arn: String, actions: String },

    #[error(
        "listener rule {rule_arn} has {count} forward actions; a rollout needs exactly one to set the weights of"
    )]
    SeveralForwardActions { rule_arn: String, count: usize },

    #[error(
        "label `{label}` has no --target-group (listener rule {rule_arn} is driven with {known})"
    )]
    LabelWithoutTargetGroup {
        label: String,
        rule_arn: String,
        known: String,
    },

    #[error(
        "--target-group {label}={arn}: listener rule {rule_arn} does not forward to that target group (it forwards to {in_rule})"
    )]
    TargetGroupNotInRule {
        label: String,
        arn: String,
        rule_arn: String,
        in_rule: String,
    },

    #[error(
        "listener rule {rule_arn} forwards to target group {arn}, which no label maps: add --target-group LABEL={arn}, or its weight would change unseen"
    )]
    UnmappedTargetGroup { rule_arn: String, arn: String },

    #[error("--target-group: label `{label}` is given twice")]
    DuplicateLabel { label: String },

    #[error("--target-group: target group {arn} is given for both `{first}` and `{second}`")]
    DuplicateTargetGroup {
        arn: String,
        first: String,
        second: String,
    },

    #[error("weights for listener rule {rule_arn}: {problem}")]
    BadWeights { rule_arn: String, problem: String },

    #[error("ELBv2 {operation} of listener rule {rule_arn} failed: {message}")]
    Sdk {
        operation: &'static str,
        rule_arn: String,
        message: String,
    },
}

impl Elbv2Error {
    /// Whether the error is in what was given (a rule or label that does
    /// not fit, exit 65) rather than in reaching ELBv2 (exit 69).
    pub fn is_input_error(&self) -> bool {
        !matches!(self, Elbv2Error::Sdk { .. })
    }
}

/// The one forward action of a rule, and where it sits in the action list.
#[derive(Debug)]
struct Forward<'a> {
    index: usize,
    action: &'a Action,
    /// (target group ARN, weight) in the rule's order.
    groups: Vec<(String, u32)>,
}

impl ListenerRule {
    /// Looks the rule up (DescribeRules) and checks, before any change: it
    /// exists, it has exactly one forward action (ForwardConfig with
    /// TargetGroups, or the legacy single TargetGroupArn form), every label
    /// given maps to a target group of that action and every target group of
    /// the action is mapped by a label.
    pub async fn connect(
        client: elbv2::Client,
        rule_arn: &str,
        target_groups: &[(String, String)],
    ) -> Result<Self, Elbv2Error> {
        for (i, (label, arn)) in target_groups.iter().enumerate() {
            if let Some((first, _)) = target_groups[..i].iter().find(|(l, _)| l == label) {
                return Err(Elbv2Error::DuplicateLabel {
                    label: first.clone(),
                });
            }
            if let Some((first, _)) = target_groups[..i].iter().find(|(_, a)| a == arn) {
                return Err(Elbv2Error::DuplicateTargetGroup {
                    arn: arn.clone(),
                    first: first.clone(),
                    second: label.clone(),
                });
            }
        }
        let rule = Self {
            client,
            rule_arn: rule_arn.to_owned(),
            target_groups: target_groups.to_vec(),
        };
        let read = rule.describe_rule().await?;
        rule.checked_forward(&read)?;
        Ok(rule)
    }

    /// A client from the environment (region, credentials; AWS_ENDPOINT_URL
    /// honoured by aws-config) — convenience used by the CLI.
    pub async fn client_from_env() -> elbv2::Client {
        let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        elbv2::Client::new(&conf)
    }

    /// ModifyRule: the forward action's target group weights set to these
    /// (label, weight 0..=999), every other part of the action kept as read —
    /// in particular TargetGroupStickinessConfig (enabled, duration) — and
    /// the rule's conditions untouched.
    ///
    /// Every label of `connect` needs exactly one weight: a step that left a
    /// target out would leave its old weight in place, which is never what a
    /// schedule means.
    pub async fn set_weights(&self, weights: &[(String, u32)]) -> Result<(), Elbv2Error> {
        let by_arn = self.weights_by_arn(weights)?;
        // The rule as it is now: what was changed since connect (by a person
        // or CodeDeploy) is kept, or refused if the mapping no longer fits.
        let read = self.describe_rule().await?;
        let forward = self.checked_forward(&read)?;
        let mut actions = read.actions().to_vec();
        for other in &mut actions {
            // DescribeRules never returns an OIDC client secret; sent back
            // without one, ModifyRule needs to be told to keep the secret.
            if let Some(oidc) = &mut other.authenticate_oidc_config
                && oidc.client_secret.is_none()
            {
                oidc.use_existing_client_secret = Some(true);
            }
        }
        let action = &mut actions[forward.index];
        let mut config = action
            .forward_config
            .clone()
            .unwrap_or_else(|| elbv2::types::ForwardActionConfig::builder().build());
        let tuples = forward
            .groups
            .iter()
            .map(|(arn, _)| {
                let weight = by_arn
                    .iter()
                    .find(|(a, _)| a == arn)
                    .map_or(DEFAULT_WEIGHT, |(_, w)| *w);
                TargetGroupTuple::builder()
                    .target_group_arn(arn)
                    .weight(i32::try_from(weight).unwrap_or(i32::MAX))
                    .build()
            })
            .collect();
        config.target_groups = Some(tuples);
        action.forward_config = Some(config);
        // With ForwardConfig, TargetGroupArn may name only its single group;
        // the weighted form says everything, so the legacy field goes.
        action.target_group_arn = None;
        self.client
            .modify_rule()
            .rule_arn(&self.rule_arn)
            .set_actions(Some(actions))
            .send()
            .await
            .map_err(|e| self.sdk_error("ModifyRule", &e))?;
        Ok(())
    }

    /// DescribeRules: the weights the rule holds now, per label, in the
    /// order of `target_groups` given to connect.
    pub async fn weights(&self) -> Result<Vec<(String, u32)>, Elbv2Error> {
        let read = self.describe_rule().await?;
        let forward = self.checked_forward(&read)?;
        Ok(self
            .target_groups
            .iter()
            .map(|(label, arn)| {
                let weight = forward
                    .groups
                    .iter()
                    .find(|(a, _)| a == arn)
                    .map_or(0, |(_, w)| *w);
                (label.clone(), weight)
            })
            .collect())
    }

    /// Stickiness as read back: (enabled, duration_seconds), None when the
    /// rule has no stickiness config. A config without a duration (ALB
    /// sends none while stickiness is off) reads as duration 0.
    pub async fn stickiness(&self) -> Result<Option<(bool, i32)>, Elbv2Error> {
        let read = self.describe_rule().await?;
        let forward = self.checked_forward(&read)?;
        Ok(forward
            .action
            .forward_config()
            .and_then(|c| c.target_group_stickiness_config())
            .map(|s| {
                (
                    s.enabled().unwrap_or(false),
                    s.duration_seconds().unwrap_or(0),
                )
            }))
    }

    /// For messages: "listener rule arn:... (ecs → targetgroup/..., lambda → ...)".
    pub fn describe(&self) -> String {
        let mut out = format!("listener rule {} (", self.rule_arn);
        for (i, (label, arn)) in self.target_groups.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let short = target_group_dimension(arn).unwrap_or_else(|| arn.clone());
            let _ = write!(out, "{label} → {short}");
        }
        out.push(')');
        out
    }

    /// The rule, read with DescribeRules.
    async fn describe_rule(&self) -> Result<Rule, Elbv2Error> {
        let out = self
            .client
            .describe_rules()
            .rule_arns(&self.rule_arn)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_rule_not_found_exception())
                {
                    self.not_found()
                } else {
                    self.sdk_error("DescribeRules", &e)
                }
            })?;
        out.rules()
            .iter()
            .find(|r| r.rule_arn() == Some(self.rule_arn.as_str()))
            .cloned()
            .ok_or_else(|| self.not_found())
    }

    /// The rule's one forward action, checked against the label mapping.
    fn checked_forward<'a>(&self, rule: &'a Rule) -> Result<Forward<'a>, Elbv2Error> {
        let forward = self.forward_action(rule)?;
        for (label, arn) in &self.target_groups {
            if !forward.groups.iter().any(|(a, _)| a == arn) {
                return Err(Elbv2Error::TargetGroupNotInRule {
                    label: label.clone(),
                    arn: arn.clone(),
                    rule_arn: self.rule_arn.clone(),
                    in_rule: forward
                        .groups
                        .iter()
                        .map(|(a, _)| a.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        if let Some((arn, _)) = forward
            .groups
            .iter()
            .find(|(arn, _)| !self.target_groups.iter().any(|(_, a)| a == arn))
        {
            return Err(Elbv2Error::UnmappedTargetGroup {
                rule_arn: self.rule_arn.clone(),
                arn: arn.clone(),
            });
        }
        Ok(forward)
    }

    /// The one forward action of `rule` and its (ARN, weight) pairs: from
    /// ForwardConfig when it lists groups, else the legacy TargetGroupArn.
    fn forward_action<'a>(&self, rule: &'a Rule) -> Result<Forward<'a>, Elbv2Error> {
        let forwards: Vec<(usize, &Action)> = rule
            .actions()
            .iter()
            .enumerate()
            .filter(|(_, a)| a.r#type() == Some(&ActionTypeEnum::Forward))
            .collect();
        let (index, action) = match forwards.as_slice() {
            [one] => *one,
            [] => return Err(self.no_forward(rule)),
            several => {
                return Err(Elbv2Error::SeveralForwardActions {
                    rule_arn: self.rule_arn.clone(),
                    count: several.len(),
                });
            }
        };
        let tuples = action
            .forward_config()
            .map(|c| c.target_groups())
            .unwrap_or_default();
        let groups: Vec<(String, u32)> = if tuples.is_empty() {
            action
                .target_group_arn()
                .map(|arn| vec![(arn.to_owned(), DEFAULT_WEIGHT)])
                .unwrap_or_default()
        } else {
            tuples
                .iter()
                .filter_map(|t| {
                    let weight = t
                        .weight()
                        .map_or(DEFAULT_WEIGHT, |w| u32::try_from(w).unwrap_or(0));
                    t.target_group_arn().map(|arn| (arn.to_owned(), weight))
                })
                .collect()
        };
        if groups.is_empty() {
            return Err(self.no_forward(rule));
        }
        Ok(Forward {
            index,
            action,
            groups,
        })
    }

    /// `weights` by target group ARN, after checking that every label of
    /// `connect` has exactly one weight in range and no other label is named.
    fn weights_by_arn(&self, weights: &[(String, u32)]) -> Result<Vec<(String, u32)>, Elbv2Error> {
        let bad = |problem: String| Elbv2Error::BadWeights {
            rule_arn: self.rule_arn.clone(),
            problem,
        };
        let mut out = Vec::with_capacity(weights.len());
        for (i, (label, weight)) in weights.iter().enumerate() {
            let Some((_, arn)) = self.target_groups.iter().find(|(l, _)| l == label) else {
                return Err(Elbv2Error::LabelWithoutTargetGroup {
                    label: label.clone(),
                    rule_arn: self.rule_arn.clone(),
                    known: self.labels(),
                });
            };
            if weights[..i].iter().any(|(l, _)| l == label) {
                return Err(bad(format!("`{label}` is given twice")));
            }
            if *weight > MAX_WEIGHT {
                return Err(bad(format!(
                    "`{label}`={weight} is out of range (ALB accepts 0 to {MAX_WEIGHT})"
                )));
            }
            out.push((arn.clone(), *weight));
        }
        if let Some((label, _)) = self
            .target_groups
            .iter()
            .find(|(l, _)| !weights.iter().any(|(w, _)| w == l))
        {
            return Err(bad(format!(
                "no weight for `{label}` (every target of the rule needs one)"
            )));
        }
        Ok(out)
    }

    fn labels(&self) -> String {
        let labels: Vec<String> = self
            .target_groups
            .iter()
            .map(|(l, a)| format!("{l}={a}"))
            .collect();
        if labels.is_empty() {
            "no --target-group".to_owned()
        } else {
            labels.join(", ")
        }
    }

    fn no_forward(&self, rule: &Rule) -> Elbv2Error {
        let actions: Vec<&str> = rule
            .actions()
            .iter()
            .map(|a| a.r#type().map_or("(no type)", ActionTypeEnum::as_str))
            .collect();
        Elbv2Error::NoForwardAction {
            rule_arn: self.rule_arn.clone(),
            actions: if actions.is_empty() {
                "none".to_owned()
            } else {
                actions.join(", ")
            },
        }
    }

    fn not_found(&self) -> Elbv2Error {
        Elbv2Error::RuleNotFound {
            rule_arn: self.rule_arn.clone(),
        }
    }

    fn sdk_error<E>(&self, operation: &'static str, e: &E) -> Elbv2Error
    where
        E: std::error::Error,
    {
        Elbv2Error::Sdk {
            operation,
            rule_arn: self.rule_arn.clone(),
            message: DisplayErrorContext(e).to_string(),
        }
    }
}

/// The load balancer's CloudWatch dimension (`app/NAME/ID`) from a
/// listener-rule ARN
/// (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/NAME/LBID/LISTENERID/RULEID).
/// None for an ARN of another shape.
pub fn load_balancer_dimension(rule_arn: &str) -> Option<String> {
    match resource_path(rule_arn, "listener-rule")?.as_slice() {
        ["app", name, lb, _listener, _rule] => Some(format!("app/{name}/{lb}")),
        _ => None,
    }
}

/// A target group's CloudWatch dimension (`targetgroup/NAME/ID`) from its
/// ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID).
/// None for an ARN of another shape.
pub fn target_group_dimension(tg_arn: &str) -> Option<String> {
    match resource_path(tg_arn, "targetgroup")?.as_slice() {
        [name, id] => Some(format!("targetgroup/{name}/{id}")),
        _ => None,
    }
}

/// The `/`-separated parts after `kind/` of an ELBv2 ARN's resource, each
/// non-empty; None when the ARN is not an ELBv2 one of that kind.
fn resource_path<'a>(arn: &'a str, kind: &str) -> Option<Vec<&'a str>> {
    // arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:RESOURCE
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [
        "arn",
        partition,
        "elasticloadbalancing",
        region,
        account,
        resource,
    ] = parts.as_slice()
    else {
        return None;
    };
    if partition.is_empty() || region.is_empty() || account.is_empty() {
        return None;
    }
    let mut path = resource.split('/');
    if path.next() != Some(kind) {
        return None;
    }
    let rest: Vec<&str> = path.collect();
    if rest.iter().any(|p| p.is_empty() || p.contains(':')) {
        return None;
    }
    Some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/weighbridge-dev/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee";
    const TG: &str =
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/wb-ecs/73e2d6bc24d8a067";

    #[test]
    fn load_balancer_dimension_from_a_rule_arn() {
        assert_eq!(
            load_balancer_dimension(RULE).as_deref(),
            Some("app/weighbridge-dev/50dc6c495c0c9188")
        );
        let china = RULE.replace("arn:aws:", "arn:aws-cn:");
        assert_eq!(
            load_balancer_dimension(&china).as_deref(),
            Some("app/weighbridge-dev/50dc6c495c0c9188")
        );
    }

    #[test]
    fn load_balancer_dimension_refuses_other_shapes() {
        let listener = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/weighbridge-dev/50dc6c495c0c9188/f2f7dc8efc522ab2";
        for arn in [
            "",
            "app/weighbridge-dev/50dc6c495c0c9188",
            listener,
            TG,
            // A network load balancer's listeners have no rules.
            &RULE.replace("/app/", "/net/"),
            // One part short, one too many, one empty.
            &RULE.replace("/9683b2d02a6cabee", ""),
            &format!("{RULE}/extra"),
            &RULE.replace("/f2f7dc8efc522ab2/", "//"),
            &RULE.replace(":elasticloadbalancing:", ":ec2:"),
            &RULE.replace(":123456789012:", "::"),
            &RULE.replacen("arn:", "urn:", 1),
        ] {
            assert_eq!(load_balancer_dimension(arn), None, "{arn}");
        }
    }

    #[test]
    fn target_group_dimension_from_its_arn() {
        assert_eq!(
            target_group_dimension(TG).as_deref(),
            Some("targetgroup/wb-ecs/73e2d6bc24d8a067")
        );
    }

    #[test]
    fn target_group_dimension_refuses_other_shapes() {
        for arn in [
            "",
            "targetgroup/wb-ecs/73e2d6bc24d8a067",
            RULE,
            &TG.replace("/73e2d6bc24d8a067", ""),
            &format!("{TG}/x"),
            &TG.replace("targetgroup/", "targetgroups/"),
            &TG.replace(":eu-west-1:", "::"),
            &TG.replace(":elasticloadbalancing:", ":elb:"),
        ] {
            assert_eq!(target_group_dimension(arn), None, "{arn}");
        }
    }
}
