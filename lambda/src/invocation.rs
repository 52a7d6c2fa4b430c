//! Telemetry for one invocation. Lambda freezes the execution environment
//! as soon as the runtime asks for the next event, so spans still buffered
//! then are sent late (at the next thaw) or never (the environment is
//! reclaimed). Each invocation therefore:
//! 1. runs inside an `invocation` span whose parent is the invocation's X-Ray
//!    trace id (`Lambda-Runtime-Trace-Id`, the trace Lambda itself records),
//!    so the function's spans join the trace X-Ray shows for the call;
//! 2. flushes every finished span once the response has been posted to the
//!    Runtime API, before the runtime polls for the next event.
//!
//! This is a layer on the runtime (a `Service<LambdaInvocation>`), not on the
//! router: at the router the flush would run before `lambda_http` has even
//! serialised the response, adding the export round trip to every caller's
//! latency; here it runs after the caller has its answer, on time that is
//! billed but that nobody waits for.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use backend::telemetry::Telemetry;
use lambda_http::lambda_runtime::LambdaInvocation;
use tower::{Layer, Service};
use tracing::Span;

/// Wraps the runtime's service with [`InvocationService`].
#[derive(Debug, Clone)]
pub struct InvocationLayer {
    telemetry: Arc<Telemetry>,
}

impl InvocationLayer {
    pub fn new(telemetry: Arc<Telemetry>) -> Self {
        Self { telemetry }
    }
}

impl<S> Layer<S> for InvocationLayer {
    type Service = InvocationService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        InvocationService {
            inner,
            telemetry: Arc::clone(&self.telemetry),
            cold: true,
        }
    }
}

/// One span per invocation, parented to its X-Ray trace; a flush at its end.
#[derive(Debug)]
pub struct InvocationService<S> {
    inner: S,
    telemetry: Arc<Telemetry>,
    /// True until the first invocation of this execution environment.
    cold: bool,
}

impl<S> Service<LambdaInvocation> for InvocationService<S>
where
    S: Service<LambdaInvocation, Response = ()>,
{
    type Response = ();
    type Error = S::Error;
    type Future = Flushed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        let span = invocation_span(&invocation, self.cold);
        self.cold = false;
        // Entered while the inner service builds its future, so everything
        // created synchronously (the request the router gets, with the
        // span's trace headers) already sees the invocation span as current.
        let inner = span.in_scope(|| self.inner.call(invocation));
        Flushed {
            inner: Some(Box::pin(inner)),
            span,
            telemetry: Arc::clone(&self.telemetry),
        }
    }
}

fn invocation_span(invocation: &LambdaInvocation, cold: bool) -> Span {
    let ctx = &invocation.context;
    let span = tracing::info_span!(
        "invocation",
        otel.name = %ctx.env_config.function_name,
        faas.trigger = "http",
        faas.invocation_id = %ctx.request_id,
        faas.coldstart = cold,
        cloud.resource_id = %ctx.invoked_function_arn,
    );
    if let Some(trace_id) = ctx.xray_trace_id.as_deref() {
        backend::telemetry::set_xray_parent(&span, trace_id);
    }
    span
}

/// The inner future, polled inside the invocation span; when it completes,
/// the span is closed and the exporter flushed before the output is returned.
///
/// The inner future is boxed (so this type is `Unpin` with no pin projection)
/// and carries no `Send` or `Sync` bound: the runtime drives invocations one
/// at a time on its own task, and the opaque service `lambda_http::runtime`
/// returns promises neither.
#[derive(Debug)]
pub struct Flushed<F> {
    inner: Option<Pin<Box<F>>>,
    span: Span,
    telemetry: Arc<Telemetry>,
}

impl<F: Future> Future for Flushed<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            panic!("`Flushed` polled after it completed");
        };
        let output = ready!(this.span.in_scope(|| inner.as_mut().poll(cx)));
        // Drop the inner future and the span first: a span is exported when
        // it closes, and it closes when its last handle goes.
        this.inner = None;
        this.span = Span::none();
        // A blocking call: it waits for the batch exporter (on its own
        // thread) to send what it holds. Nothing else runs meanwhile, and
        // nothing should: the next event is not fetched until it returns.
        this.telemetry.flush();
        Poll::Ready(output)
    }
}
