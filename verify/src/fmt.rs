//! Numbers as every output writes them: shares as percentages, p-values,
//! durations. One place, so text, markdown and the HTML page agree.

/// A share (0.1234) as a percentage with two decimals (`12.34 %`).
pub(crate) fn pct(x: f64) -> String {
    format!("{:.2} %", 100.0 * x)
}

/// A p-value for text and markdown: four decimals, scientific below 1e-4,
/// and `< 1e-300` for an underflow to zero.
pub(crate) fn p_text(p: f64) -> String {
    if p == 0.0 {
        "< 1e-300".to_owned()
    } else if p < 1e-4 {
        format!("{p:.3e}")
    } else {
        format!("{p:.4}")
    }
}

/// A p-value for the HTML page (two significant digits when small).
pub(crate) fn p_short(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

/// Seconds as a human duration, rounded to the second (`1m 30s`).
pub(crate) fn secs(s: f64) -> String {
    humantime::format_duration(std::time::Duration::from_secs_f64(s.max(0.0).round())).to_string()
}
