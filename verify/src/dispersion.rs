//! Non-independence: does the split stay the same across time windows (or
//! across clients)? A chi-square test of homogeneity of the table
//! rows (windows or clients) × targets, and its dispersion index.
//!
//! Under independent routing at fixed shares, every row is a multinomial
//! sample of the same shares, and the statistic
//! `X² = Σ_ij (o_ij − e_ij)² / e_ij` with `e_ij = R_i C_j / N` is
//! approximately chi-square with `(rows − 1)(cols − 1)` degrees of freedom:
//! its dispersion `X² / df` is about 1. Much more than 1 means the split
//! moved over time (a rollout step, a router that drifts) or requests come
//! in correlated clumps (stickiness, connection reuse), so the overall
//! p-value is too optimistic. Much less than 1 means rows are more even than
//! chance: a deterministic (round-robin) router.
//!
//! Homogeneity is tested against the pooled shares, not the weights, so
//! requests that no row can separate (rule-path requests in the timeline)
//! shift every row alike and do not disturb it.

use serde::Serialize;

use crate::chisq::{chi2_cdf, chi2_sf};

/// Lower-tail probability below which rows are called "more even than chance".
pub const EVEN_LOWER_TAIL: f64 = 0.01;

/// The homogeneity test of a rows × targets table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Heterogeneity {
    /// What a row is: `"window"` or `"client"`.
    pub unit: &'static str,
    /// Rows with at least one request (the others are left out).
    pub rows: usize,
    /// Targets (columns) with at least one request.
    pub targets: Vec<String>,
    /// Pearson statistic of homogeneity.
    pub statistic: f64,
    /// `(rows − 1)(targets − 1)`.
    pub df: u64,
    /// Upper-tail p-value: small means the split differs between rows.
    pub p_value: f64,
    /// Lower-tail probability: small means rows are more even than chance.
    pub lower_tail: f64,
    /// `statistic / df`: about 1 when requests are routed independently.
    pub dispersion: f64,
    /// Share of cells with an expected count below 5 (the chi-square
    /// approximation is rough when this is large).
    pub sparse_cells: f64,
}

/// Tests homogeneity of `table` (rows × `labels`). `None` when fewer than
/// two non-empty rows or two non-empty columns remain.
pub fn homogeneity(
    unit: &'static str,
    labels: &[String],
    table: &[Vec<u64>],
) -> Option<Heterogeneity> {
    let cols = labels.len();
    let mut col_totals = vec![0u64; cols];
    let rows: Vec<&Vec<u64>> = table.iter().filter(|r| r.iter().sum::<u64>() > 0).collect();
    for r in &rows {
        for (c, &v) in r.iter().enumerate().take(cols) {
            col_totals[c] += v;
        }
    }
    let used: Vec<usize> = (0..cols).filter(|&c| col_totals[c] > 0).collect();
    if rows.len() < 2 || used.len() < 2 {
        return None;
    }
    let n: u64 = col_totals.iter().sum();
    let n = n as f64;
    let mut statistic = 0.0;
    let mut sparse = 0usize;
    for r in &rows {
        let row_total: u64 = used.iter().map(|&c| r[c]).sum();
        for &c in &used {
            let e = row_total as f64 * col_totals[c] as f64 / n;
            if e < 5.0 {
                sparse += 1;
            }
            if e > 0.0 {
                let d = r[c] as f64 - e;
                statistic += d * d / e;
            }
        }
    }
    let df = (rows.len() as u64 - 1) * (used.len() as u64 - 1);
    let df_u32 = u32::try_from(df).unwrap_or(u32::MAX);
    Some(Heterogeneity {
        unit,
        rows: rows.len(),
        targets: used.iter().map(|&c| labels[c].clone()).collect(),
        statistic,
        df,
        p_value: chi2_sf(statistic, df_u32),
        lower_tail: chi2_cdf(statistic, df_u32),
        dispersion: statistic / df as f64,
        sparse_cells: sparse as f64 / (rows.len() * used.len()) as f64,
    })
}

impl Heterogeneity {
    /// A sentence for the notes, or `None` when nothing stands out at `alpha`.
    pub fn note(&self, alpha: f64) -> Option<String> {
        let what = match self.unit {
            "window" => "time windows",
            _ => "clients",
        };
        let rough = if self.sparse_cells > 0.2 {
            format!(
                " ({:.0} % of cells expect fewer than 5 requests: the test is rough)",
                100.0 * self.sparse_cells
            )
        } else {
            String::new()
        };
        if self.p_value < alpha {
            Some(format!(
                "the split differs between {what} (heterogeneity X² = {:.1}, df = {}, p = {:.2e}, \
                 dispersion {:.2}){rough}: it moved over time or requests are not independent, \
                 so the overall p-value is too optimistic",
                self.statistic, self.df, self.p_value, self.dispersion
            ))
        } else if self.lower_tail < EVEN_LOWER_TAIL {
            Some(format!(
                "{what} are more even than independent routing makes likely (dispersion {:.3}, \
                 P = {:.2e}): a deterministic router (round-robin); not a failure{rough}",
                self.dispersion, self.lower_tail
            ))
        } else {
            None
        }
    }
}
