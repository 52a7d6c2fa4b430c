//! The SQS client `POST {base}/send-to-sqs` and the worker use, and the
//! X-Ray trace header a message carries. Credentials, region and endpoint
//! come from the standard `aws-config` chain, so `AWS_ENDPOINT_URL` points
//! the client at a local SQS (moto, ElasticMQ).

use std::collections::HashMap;

use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{MessageSystemAttributeNameForSends, MessageSystemAttributeValue};
use axum::http::HeaderMap;
use md5::{Digest, Md5};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_aws::trace::XrayPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::error::ApiError;

/// SQS's largest message: 256 KiB.
pub const SQS_MAX_BYTES: usize = 256 * 1024;
/// The header ALB, API Gateway and the X-Ray SDKs use for trace context.
pub const XRAY_HEADER: &str = "x-amzn-trace-id";

/// An SQS client bound to one queue.
#[derive(Debug, Clone)]
pub struct Queue {
    pub client: aws_sdk_sqs::Client,
    pub url: String,
}

/// What SQS confirmed for one sent message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message_id: String,
    pub md5_of_body: String,
}

impl Queue {
    /// Loads the AWS configuration once (call at start-up, not per request).
    pub async fn connect(url: String) -> Self {
        let config = aws_config::load_from_env().await;
        Self {
            client: aws_sdk_sqs::Client::new(&config),
            url,
        }
    }

    /// Sends `body` with the trace header as the `AWSTraceHeader` system
    /// attribute, and checks that SQS stored exactly what was sent (MD5).
    pub async fn send(&self, body: &str, trace_header: Option<&str>) -> Result<Sent, ApiError> {
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body);
        if let Some(trace) = trace_header {
            let attr = MessageSystemAttributeValue::builder()
                .data_type("String")
                .string_value(trace)
                .build()
                .map_err(|e| ApiError::Internal(format!("building AWSTraceHeader: {e}")))?;
            request = request.message_system_attributes(
                MessageSystemAttributeNameForSends::AwsTraceHeader,
                attr,
            );
        }
        let out = request.send().await.map_err(|e| {
            ApiError::BadGateway(format!("SQS send failed: {}", DisplayErrorContext(&e)))
        })?;
        let ours = md5_hex(body.as_bytes());
        let theirs = out.md5_of_message_body().unwrap_or_default();
        if !theirs.eq_ignore_ascii_case(&ours) {
            return Err(ApiError::BadGateway(format!(
                "SQS stored a body with MD5 {theirs}, we sent {ours}"
            )));
        }
        Ok(Sent {
            message_id: out.message_id().unwrap_or_default().to_owned(),
            md5_of_body: ours,
        })
    }
}

pub fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// Longest `X-Amzn-Trace-Id` passed on (X-Ray allows a few optional fields
/// after `Root`, `Parent` and `Sampled`; 256 bytes is ample).
pub const XRAY_HEADER_MAX: usize = 256;

/// The X-Ray trace header to send along: the current span's context when
/// tracing is on (so the message continues this request's trace), else the
/// caller's `X-Amzn-Trace-Id` when it is a well-formed X-Ray header, else a
/// fresh trace id. Garbage is never copied into `AWSTraceHeader`.
pub fn trace_header(headers: &HeaderMap) -> String {
    let cx = tracing::Span::current().context();
    let mut carrier: HashMap<String, String> = HashMap::new();
    XrayPropagator::default().inject_context(&cx, &mut carrier);
    carrier
        .remove(XRAY_HEADER)
        .filter(|h| is_xray_header(h))
        .or_else(|| {
            headers
                .get(XRAY_HEADER)?
                .to_str()
                .ok()
                .filter(|h| is_xray_header(h))
                .map(str::to_owned)
        })
        .unwrap_or_else(fresh_trace_header)
}

/// Whether `h` is a well-formed X-Ray trace header:
/// `Root=1-<8 hex>-<24 hex>`, then optionally `;Parent=<16 hex>`,
/// `;Sampled=0|1|?|d`, and other `;Key=value` fields (letters, digits and
/// `-_.:=@` only), at most [`XRAY_HEADER_MAX`] bytes in all.
pub fn is_xray_header(h: &str) -> bool {
    fn hex(s: &str, n: usize) -> bool {
        s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit())
    }
    if h.is_empty() || h.len() > XRAY_HEADER_MAX {
        return false;
    }
    let mut fields = h.split(';');
    let root_ok = fields
        .next()
        .and_then(|f| f.strip_prefix("Root=1-"))
        .and_then(|r| r.split_once('-'))
        .is_some_and(|(time, id)| hex(time, 8) && hex(id, 24));
    root_ok
        && fields.all(|f| match f.split_once('=') {
            Some(("Parent", v)) => hex(v, 16),
            Some(("Sampled", v)) => matches!(v, "0" | "1" | "?" | "d"),
            Some(("Root", _)) => false,
            Some((k, v)) => {
                !k.is_empty()
                    && k.bytes().all(|b| b.is_ascii_alphanumeric())
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.:=@".contains(&b))
            }
            None => false,
        })
}

/// A new X-Ray root: `Root=1-<unix seconds, 8 hex>-<96 random bits>`.
pub fn fresh_trace_header() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let random: [u8; 12] = rand::random();
    format!("Root=1-{:08x}-{}", secs & 0xffff_ffff, hex::encode(random))
}

#[cfg(test)]
mod tests {
    #[test]
    fn md5_matches_known_digest() {
        assert_eq!(super::md5_hex(b"{}"), "99914b932bd37a50b983c5e7c90ae93b");
    }
}
