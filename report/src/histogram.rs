//! Latency histograms: recording, summarising and the base64 wire form.
//!
//! All histograms in a report count **microseconds** with 3 significant
//! digits and auto-resize, so any two of them merge exactly: adding the
//! histograms of two workers gives the same counts (and therefore the same
//! percentiles) as one histogram fed with every value.
//!
//! The wire form is HdrHistogram's V2 compressed encoding in base64. Decoding
//! guards the sizes it allocates, because a report is untrusted input: a
//! corrupted length field must give an error, not a multi-gigabyte allocation.

use std::io::Read;
use std::time::Duration;

use base64::prelude::{BASE64_STANDARD, Engine as _};
use flate2::read::ZlibDecoder;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use thiserror::Error;

use crate::schema::{Histograms, Latency, SecondLatency, Target};

/// Significant decimal digits of every report histogram (0.1 % resolution).
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// HdrHistogram V2 cookies (uncompressed and compressed), as every
/// implementation writes them.
const V2_COOKIE: u32 = 0x1c84_9303 | 0x10;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9304 | 0x10;
/// Bytes of a V2 header: cookie, payload length, normalizing offset,
/// significant digits, low, high, integer-to-double ratio.
const V2_HEADER_LEN: usize = 40;
/// Upper bound on an inflated histogram. A microsecond histogram up to one
/// hour at 3 digits is about 45 000 counters, a few hundred KiB at most even
/// with no zero runs to compress; 16 MiB leaves room without trusting the file.
const MAX_INFLATED_LEN: u64 = 16 * 1024 * 1024;

/// A histogram could not be encoded, decoded or merged.
#[derive(Debug, Error)]
pub enum HistogramError {
    /// The string is not standard padded base64.
    #[error("histogram is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The bytes are not a well-formed HdrHistogram V2 encoding.
    #[error("histogram is not an HdrHistogram V2 encoding: {0}")]
    Format(String),
    /// Encoding failed (only on internal errors; kept for completeness).
    #[error("histogram could not be encoded: {0}")]
    Encode(String),
    /// Two histograms could not be added.
    #[error("histograms could not be added: {0}")]
    Add(#[from] hdrhistogram::AdditionError),
}

/// An empty histogram configured like every report histogram:
/// microseconds, [`SIGNIFICANT_DIGITS`], auto-resizing (so recording never
/// fails and no maximum has to be guessed up front).
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new(SIGNIFICANT_DIGITS).expect("3 significant digits is a valid configuration")
}

/// Encodes a histogram as base64 of its V2 compressed serialization.
pub fn encode_histogram(histogram: &Histogram<u64>) -> Result<String, HistogramError> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(histogram, &mut bytes)
        .map_err(|e| HistogramError::Encode(e.to_string()))?;
    Ok(BASE64_STANDARD.encode(bytes))
}

/// Decodes a histogram written by [`encode_histogram`] (or by any
/// HdrHistogram implementation's V2 encoder, compressed or not). The result
/// auto-resizes, so it can absorb values or histograms of any range.
pub fn decode_histogram(encoded: &str) -> Result<Histogram<u64>, HistogramError> {
    let bytes = BASE64_STANDARD.decode(encoded)?;
    let v2 = match read_u32(&bytes, 0)? {
        V2_COOKIE => bytes,
        V2_COMPRESSED_COOKIE => {
            let len = read_u32(&bytes, 4)? as usize;
            let compressed = bytes
                .get(8..8 + len)
                .ok_or_else(|| format_error("compressed length exceeds the data"))?;
            let mut inflated = Vec::new();
            ZlibDecoder::new(compressed)
                .take(MAX_INFLATED_LEN + 1)
                .read_to_end(&mut inflated)
                .map_err(|e| HistogramError::Format(format!("deflate stream: {e}")))?;
            if inflated.len() as u64 > MAX_INFLATED_LEN {
                return Err(format_error("inflated histogram larger than 16 MiB"));
            }
            if read_u32(&inflated, 0)? != V2_COOKIE {
                return Err(format_error("compressed payload is not V2"));
            }
            inflated
        }
        other => {
            return Err(HistogramError::Format(format!(
                "unknown cookie {other:#010x}"
            )));
        }
    };
    // The deserializer allocates the declared payload length before reading
    // it; check the declaration against what is really there first.
    let payload_len = read_u32(&v2, 4)? as usize;
    if v2.len() < V2_HEADER_LEN || v2.len() - V2_HEADER_LEN < payload_len {
        return Err(format_error("declared payload longer than the data"));
    }
    let mut histogram: Histogram<u64> = Deserializer::new()
        .deserialize(&mut v2.as_slice())
        .map_err(|e| HistogramError::Format(e.to_string()))?;
    histogram.auto(true);
    Ok(histogram)
}

fn read_u32(bytes: &[u8], at: usize) -> Result<u32, HistogramError> {
    bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| format_error("truncated header"))
}

fn format_error(what: &str) -> HistogramError {
    HistogramError::Format(what.to_owned())
}

/// Microseconds (the histogram unit) to milliseconds (the summary unit).
fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Latency {
    /// The summary of a microsecond histogram, in milliseconds; all zero
    /// when it is empty. This is the one definition of the summary numbers:
    /// [`Report::validate`](crate::Report::validate) checks `latency_ms`
    /// against it.
    pub fn from_histogram(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        Self {
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            max: ms(histogram.max()),
        }
    }
}

/// A second's percentiles as a [`Latency`] whose `max` is its p99 (a
/// second keeps no maximum), so the same checks apply to both.
impl From<SecondLatency> for Latency {
    fn from(l: SecondLatency) -> Self {
        Latency {
            p50: l.p50,
            p90: l.p90,
            p99: l.p99,
            max: l.p99,
        }
    }
}

impl SecondLatency {
    /// The percentiles of one second's microsecond histogram, in
    /// milliseconds; `None` when it is empty (no ok response that second).
    pub fn from_histogram(histogram: &Histogram<u64>) -> Option<Self> {
        if histogram.is_empty() {
            return None;
        }
        Some(Self {
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
        })
    }
}

impl Target {
    /// Builds a target entry from its two histograms and its failure count:
    /// `ok` is the histograms' count, the summaries are recomputed and the
    /// histograms encoded. Used by [`TargetRecorder::to_target`] and by merge.
    pub(crate) fn from_histograms(
        corrected: &Histogram<u64>,
        raw: &Histogram<u64>,
        failed: u64,
    ) -> Result<Self, HistogramError> {
        let ok = corrected.len();
        Ok(Self {
            requests: ok.saturating_add(failed),
            ok,
            failed,
            latency_ms: Latency::from_histogram(corrected),
            raw_latency_ms: Latency::from_histogram(raw),
            histograms: Histograms {
                corrected: encode_histogram(corrected)?,
                raw: encode_histogram(raw)?,
            },
        })
    }
}

/// What loadgen keeps per target label while it runs: two histograms and a
/// failure count, constant memory whatever the duration.
///
/// Loadgen records every ok response with both latencies (from the intended
/// send time and from the actual send time), every failed response with
/// [`record_failed`](Self::record_failed), and turns the recorder into the
/// report's [`Target`] at the end. Recorders of several tasks or threads
/// combine with [`add`](Self::add).
#[derive(Debug, Clone)]
pub struct TargetRecorder {
    corrected: Histogram<u64>,
    raw: Histogram<u64>,
    failed: u64,
}

impl Default for TargetRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl TargetRecorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self {
            corrected: new_histogram(),
            raw: new_histogram(),
            failed: 0,
        }
    }

    /// Records one ok response. `corrected` is measured from the intended
    /// send time, `raw` from the actual send time. Never fails: the
    /// histograms grow to fit (durations beyond `u64` microseconds saturate).
    pub fn record_ok(&mut self, corrected: Duration, raw: Duration) {
        record(&mut self.corrected, corrected);
        record(&mut self.raw, raw);
    }

    /// Records one failed response from this target.
    pub fn record_failed(&mut self) {
        self.failed = self.failed.saturating_add(1);
    }

    /// Adds everything `other` recorded.
    pub fn add(&mut self, other: &Self) -> Result<(), HistogramError> {
        self.corrected.add(&other.corrected)?;
        self.raw.add(&other.raw)?;
        self.failed = self.failed.saturating_add(other.failed);
        Ok(())
    }

    /// Ok responses recorded so far.
    pub fn ok(&self) -> u64 {
        self.corrected.len()
    }

    /// Failed responses recorded so far.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// The corrected-latency histogram (microseconds).
    pub fn corrected(&self) -> &Histogram<u64> {
        &self.corrected
    }

    /// The raw-latency histogram (microseconds).
    pub fn raw(&self) -> &Histogram<u64> {
        &self.raw
    }

    /// The report entry: counts, summaries and encoded histograms.
    pub fn to_target(&self) -> Result<Target, HistogramError> {
        Target::from_histograms(&self.corrected, &self.raw, self.failed)
    }
}

/// Records `d` in microseconds, growing the histogram as needed. Note that
/// `saturating_record` would *clamp* instead of growing; it is only the
/// fallback for values too large to grow to (centuries of latency).
fn record(histogram: &mut Histogram<u64>, d: Duration) {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    if histogram.record(us).is_err() {
        histogram.saturating_record(us);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip_keeps_every_count() {
        let mut h = new_histogram();
        for v in [1u64, 10, 100, 1_000, 10_000, 1_000_000, 60_000_000] {
            h.record_n(v, v % 7 + 1)
                .expect("auto-resizing histogram records");
        }
        let back = decode_histogram(&encode_histogram(&h).expect("encodes")).expect("decodes");
        assert_eq!(back.len(), h.len());
        assert_eq!(back.max(), h.max());
        assert!(back.is_auto_resize());
        for v in [1u64, 10, 100, 1_000, 10_000, 1_000_000, 60_000_000] {
            assert_eq!(back.count_at(v), h.count_at(v));
        }
    }

    #[test]
    fn decode_rejects_garbage() {
        assert!(matches!(
            decode_histogram("not base64!"),
            Err(HistogramError::Base64(_))
        ));
        let junk = BASE64_STANDARD.encode([0u8; 64]);
        assert!(matches!(
            decode_histogram(&junk),
            Err(HistogramError::Format(_))
        ));
        assert!(matches!(
            decode_histogram(""),
            Err(HistogramError::Format(_))
        ));
    }

    #[test]
    fn decode_rejects_truncated_encoding() {
        let mut h = new_histogram();
        h.saturating_record(1234);
        let bytes = BASE64_STANDARD
            .decode(encode_histogram(&h).expect("encodes"))
            .expect("own output is base64");
        let cut = BASE64_STANDARD.encode(&bytes[..bytes.len() - 3]);
        assert!(decode_histogram(&cut).is_err());
    }

    #[test]
    fn decode_refuses_a_lying_payload_length() {
        // An uncompressed V2 header that declares a 4 GiB payload.
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&V2_COOKIE.to_be_bytes());
        bytes.extend_from_slice(&u32::MAX.to_be_bytes());
        bytes.extend_from_slice(&[0u8; V2_HEADER_LEN - 8]);
        let err = decode_histogram(&BASE64_STANDARD.encode(bytes)).expect_err("must refuse");
        assert!(err.to_string().contains("payload"), "{err}");
    }

    #[test]
    fn recorder_counts_and_summarises_in_milliseconds() {
        let mut r = TargetRecorder::new();
        for i in 1..=100u64 {
            r.record_ok(Duration::from_millis(i), Duration::from_millis(i / 2));
        }
        r.record_failed();
        let t = r.to_target().expect("encodes");
        assert_eq!((t.requests, t.ok, t.failed), (101, 100, 1));
        // 3 significant digits: within 0.1 % of the exact value.
        assert!(
            (t.latency_ms.p50 - 50.0).abs() <= 0.05,
            "{:?}",
            t.latency_ms
        );
        assert!((t.latency_ms.p99 - 99.0).abs() <= 0.1, "{:?}", t.latency_ms);
        assert!(
            (t.latency_ms.max - 100.0).abs() <= 0.1,
            "{:?}",
            t.latency_ms
        );
        assert!(t.raw_latency_ms.max < t.latency_ms.max);
        let back = decode_histogram(&t.histograms.corrected).expect("decodes");
        assert_eq!(back.len(), 100);
    }

    #[test]
    fn recorders_add() {
        let mut a = TargetRecorder::new();
        let mut b = TargetRecorder::new();
        a.record_ok(Duration::from_millis(1), Duration::from_millis(1));
        b.record_ok(Duration::from_secs(30), Duration::from_secs(29));
        b.record_failed();
        a.add(&b).expect("adds");
        assert_eq!((a.ok(), a.failed()), (2, 1));
        assert_eq!(
            a.corrected().max(),
            a.corrected().highest_equivalent(30_000_000)
        );
    }

    #[test]
    fn empty_histograms_summarise_to_zero_and_none() {
        let h = new_histogram();
        assert_eq!(Latency::from_histogram(&h), Latency::default());
        assert_eq!(SecondLatency::from_histogram(&h), None);
    }
}
