//! Where the weights go, and where they are read back from: the HAProxy
//! runtime API of the local topology, or an ALB listener rule on AWS.
//! Every driver is checked when it is opened (reachable, the policy's
//! labels all there), so a bad address fails before any weight changes.

use std::path::PathBuf;

use topology::runtime::RuntimeApi;
use weighbridge_policy::Policy;
use weighbridge_policy::alb::ForwardTarget;

/// A router a rollout drives.
#[derive(Debug)]
pub enum Router {
    /// HAProxy's runtime API (`set map`, `show map`).
    Haproxy {
        api: RuntimeApi,
        /// The draw's label order, which the map's cumulative bounds follow.
        order: Vec<String>,
    },
    /// An ALB listener rule's forward action (`ModifyRule`, `DescribeRules`).
    Elbv2(Box<crate::elbv2::ListenerRule>),
}

/// A router that could not be opened, changed or read.
#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    #[error("{0}")]
    Haproxy(#[from] topology::runtime::RuntimeError),
    #[error("the router has no weight for {missing}, a target of the policy (it has {has})")]
    MissingLabel { missing: String, has: String },
    #[error("{0}")]
    Elbv2(#[from] crate::elbv2::Elbv2Error),
    #[error("the router call did not finish: {0}")]
    Join(String),
}

impl Router {
    /// Opens the HAProxy runtime API at `socket` and reads the weights once.
    pub async fn haproxy(socket: PathBuf, policy: &Policy) -> Result<Router, RouterError> {
        let order = topology::haproxy::draw_order(policy);
        let api = blocking(move || RuntimeApi::discover(socket)).await??;
        let router = Router::Haproxy { api, order };
        router.read(policy).await?;
        Ok(router)
    }

    /// Opens an ALB listener rule (`target_groups`: label → target group
    /// ARN) and reads the weights once.
    pub async fn elbv2(
        rule_arn: &str,
        target_groups: &[(String, String)],
        policy: &Policy,
    ) -> Result<Router, RouterError> {
        let client = crate::elbv2::ListenerRule::client_from_env().await;
        let rule = crate::elbv2::ListenerRule::connect(client, rule_arn, target_groups).await?;
        let router = Router::Elbv2(Box::new(rule));
        router.read(policy).await?;
        Ok(router)
    }

    /// For messages and the report.
    pub fn describe(&self) -> String {
        match self {
            Router::Haproxy { api, .. } => format!(
                "HAProxy runtime API {} (map {})",
                api.socket.display(),
                api.weights_map.display()
            ),
            Router::Elbv2(rule) => rule.describe(),
        }
    }

    /// Sets the weights of every label given.
    pub async fn set(&self, weights: &[(String, u32)]) -> Result<(), RouterError> {
        match self {
            Router::Haproxy { api, order } => {
                // The map's bounds are cumulative in the draw's order.
                let w: Vec<ForwardTarget> = order
                    .iter()
                    .map(|l| ForwardTarget {
                        target: l.clone(),
                        weight: weights.iter().find(|(k, _)| k == l).map_or(0, |(_, w)| *w),
                    })
                    .collect();
                let api = api.clone();
                blocking(move || api.set_weights(&w)).await??;
                Ok(())
            }
            Router::Elbv2(rule) => Ok(rule.set_weights(weights).await?),
        }
    }

    /// The weights the router reports now, for every target of `policy`,
    /// in the policy's order.
    pub async fn read(&self, policy: &Policy) -> Result<Vec<(String, u32)>, RouterError> {
        let got: Vec<(String, u32)> = match self {
            Router::Haproxy { api, order } => {
                let (api, order) = (api.clone(), order.clone());
                blocking(move || api.weights(&order))
                    .await??
                    .into_iter()
                    .map(|f| (f.target, f.weight))
                    .collect()
            }
            Router::Elbv2(rule) => rule.weights().await?,
        };
        policy
            .targets()
            .iter()
            .map(|t| {
                got.iter()
                    .find(|(l, _)| *l == t.label)
                    .map(|(l, w)| (l.clone(), *w))
                    .ok_or_else(|| RouterError::MissingLabel {
                        missing: t.label.clone(),
                        has: got
                            .iter()
                            .map(|(l, _)| l.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
            })
            .collect()
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, RouterError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RouterError::Join(e.to_string()))
}

/// `a` and `b` as shares: whether they route alike (weights 10/90 and
/// 1/9 do). Both as `(label, weight)` in the same label order.
pub fn same_split(a: &[(String, u32)], b: &[(String, u32)]) -> bool {
    let total = |w: &[(String, u32)]| w.iter().map(|(_, x)| u64::from(*x)).sum::<u64>();
    let (ta, tb) = (total(a), total(b));
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((la, wa), (lb, wb))| la == lb && u64::from(*wa) * tb == u64::from(*wb) * ta)
}

/// Why the weights the router reports after a change (`applied`) are not
/// the step's (`weights`): it kept the `previous` ones, or reports others.
/// None when they route alike.
pub fn mismatch(
    previous: Option<&[(String, u32)]>,
    applied: &[(String, u32)],
    weights: &[(String, u32)],
) -> Option<String> {
    if same_split(applied, weights) {
        return None;
    }
    let kept = previous.is_some_and(|p| same_split(p, applied));
    Some(format!(
        "the router {} {} after {} was set",
        if kept {
            "kept its previous weights"
        } else {
            "reports"
        },
        weights_text(applied),
        weights_text(weights)
    ))
}

/// `stable=95, canary=5`.
pub fn weights_text(w: &[(String, u32)]) -> String {
    w.iter()
        .map(|(l, x)| format!("{l}={x}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(pairs: &[(&str, u32)]) -> Vec<(String, u32)> {
        pairs.iter().map(|(l, x)| ((*l).to_owned(), *x)).collect()
    }

    #[test]
    fn splits_compare_as_shares() {
        assert!(same_split(
            &w(&[("a", 10), ("b", 90)]),
            &w(&[("a", 1), ("b", 9)])
        ));
        assert!(!same_split(
            &w(&[("a", 10), ("b", 90)]),
            &w(&[("a", 9), ("b", 91)])
        ));
        assert!(!same_split(
            &w(&[("a", 10), ("b", 90)]),
            &w(&[("b", 10), ("a", 90)])
        ));
        assert_eq!(weights_text(&w(&[("a", 1), ("b", 2)])), "a=1, b=2");
    }
}
