//! Logs and traces. Logs are JSON lines on stdout (`RUST_LOG` filters them;
//! the AWS SDK's and HTTP clients' chatter is off by default). Traces go over
//! OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, with X-Ray trace ids
//! so the same trace shows in X-Ray behind the ADOT collector, and an
//! `X-Amzn-Trace-Id` header (or W3C `traceparent`) continues the caller's trace.

use axum::http::{HeaderMap, HeaderValue, Request};
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_aws::trace::{XrayIdGenerator, XrayPropagator};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Without `RUST_LOG`: our own info, everyone else's warnings.
const DEFAULT_FILTER: &str = "info,aws_config=warn,aws_smithy_runtime=warn,aws_sdk_sqs=warn,hyper=warn,hyper_util=warn,h2=warn,reqwest=warn,opentelemetry=warn,opentelemetry_sdk=warn";

/// Keeps the tracer provider alive; flush it before exit (or, on Lambda, at
/// the end of every invocation, since the environment freezes in between).
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Installs the global subscriber (JSON logs, optional OTLP traces) and
    /// the X-Ray + W3C propagators. Call once per process.
    pub fn init(service_name: &str) -> anyhow::Result<Self> {
        opentelemetry::global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
            Box::new(XrayPropagator::default()),
            Box::new(TraceContextPropagator::new()),
        ]));
        let filter =
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
        let logs = tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .boxed();
        let provider = match std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT") {
            Ok(endpoint) if !endpoint.is_empty() => Some(tracer_provider(service_name)?),
            _ => None,
        };
        let otel = provider.as_ref().map(|p| {
            tracing_opentelemetry::layer()
                .with_tracer(p.tracer("weighbridge-backend"))
                .boxed()
        });
        tracing_subscriber::registry()
            .with(filter)
            .with(logs)
            .with(otel)
            .try_init()?;
        Ok(Self { provider })
    }

    /// Sends every finished span now.
    pub fn flush(&self) {
        if let Some(p) = &self.provider
            && let Err(error) = p.force_flush()
        {
            tracing::warn!(%error, "trace flush failed");
        }
    }

    /// Flushes and stops the exporter.
    pub fn shutdown(self) {
        if let Some(p) = self.provider
            && let Err(error) = p.shutdown()
        {
            tracing::warn!(%error, "trace exporter shutdown failed");
        }
    }
}

/// A provider exporting over OTLP/HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT`
/// (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), with X-Ray-compatible ids.
pub fn tracer_provider(service_name: &str) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()?;
    let service_name =
        std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| service_name.to_owned());
    Ok(SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name(service_name).build())
        .with_id_generator(XrayIdGenerator::default())
        .with_batch_exporter(exporter)
        .build())
}

/// The span of one HTTP request, parented to the caller's trace context.
pub fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let span = tracing::info_span!(
        "request",
        otel.kind = "server",
        http.request.method = %request.method(),
        url.path = %request.uri().path(),
    );
    let parent = opentelemetry::global::get_text_map_propagator(|p| {
        p.extract(&HeaderExtractor(request.headers()))
    });
    // Fails only when no OpenTelemetry layer is installed: nothing to parent.
    let _ = span.set_parent(parent);
    span
}

/// Parents `span` to the trace an `X-Amzn-Trace-Id` value names
/// (`Root=...;Parent=...;Sampled=...`), as the Lambda runtime hands it to
/// every invocation. A value that is not a valid X-Ray header leaves the span
/// a root, as does a process with no OpenTelemetry layer.
pub fn set_xray_parent(span: &tracing::Span, trace_header: &str) {
    let Ok(value) = HeaderValue::from_str(trace_header) else {
        return;
    };
    let mut carrier = HeaderMap::new();
    carrier.insert("x-amzn-trace-id", value);
    let parent = XrayPropagator::default().extract(&HeaderExtractor(&carrier));
    let _ = span.set_parent(parent);
}

/// Writes the current span's trace context into `headers` (`x-amzn-trace-id`
/// and `traceparent`, through the global propagators), replacing what was
/// there, so that the [`request_span`] of a request handed on in-process is a
/// child of the current span. Does nothing when no span is being traced.
pub fn inject_current_context(headers: &mut HeaderMap) {
    let cx = tracing::Span::current().context();
    if !cx.span().span_context().is_valid() {
        return;
    }
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut HeaderInjector(headers));
    });
}
