//! Sending one request and classifying what came back: the outcome class,
//! and which target and instance served it.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use cookie_store::{CookieStore, RawCookie};
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue, Request};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A pooled HTTP/1.1 client (HTTPS with the system's roots, or the bundled
/// Mozilla roots when the system has none).
pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The label given to a response that names no target.
pub const UNKNOWN_TARGET: &str = "unknown";

/// The TLS settings every connection shares: ring as the crypto provider
/// (named explicitly: the workspace also links aws-lc-rs through the AWS
/// SDK, and rustls refuses to guess), the system's roots, or Mozilla's.
pub fn tls_config() -> anyhow::Result<rustls::ClientConfig> {
    use hyper_rustls::ConfigBuilderExt;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?;
    let config = match builder.clone().with_native_roots() {
        Ok(b) => b.with_no_client_auth(),
        Err(_) => builder.with_webpki_roots().with_no_client_auth(),
    };
    Ok(config)
}

pub fn build_client(tls: &rustls::ClientConfig) -> HttpClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls.clone())
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(usize::MAX)
        .build(https)
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A response with a status below 400.
    Ok,
    Http4xx,
    Http5xx,
    /// Refused, reset or closed before a response.
    Connect,
    /// No complete response within the timeout.
    Timeout,
    /// Anything else (a broken body, a protocol error).
    Other,
}

/// What one request produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub class: Class,
    /// The target label, when a response came back (`unknown` if it named none).
    pub target: Option<String>,
    /// The instance id, when the response named one.
    pub instance: Option<String>,
}

impl Outcome {
    fn failed(class: Class) -> Self {
        Self {
            class,
            target: None,
            instance: None,
        }
    }
}

/// Where a response says who served it.
#[derive(Debug, Clone)]
pub struct Identify {
    pub target_header: HeaderName,
    pub instance_header: HeaderName,
    /// JSON pointer into the body, used when the header is absent.
    pub target_json_field: Option<String>,
}

/// A virtual client: its own connection pool and cookie jar.
#[derive(Debug)]
pub struct VirtualClient {
    pub http: HttpClient,
    pub cookies: Option<Mutex<CookieStore>>,
}

impl VirtualClient {
    pub fn new(tls: &rustls::ClientConfig, keep_cookies: bool) -> Self {
        Self {
            http: build_client(tls),
            cookies: keep_cookies.then(|| Mutex::new(CookieStore::default())),
        }
    }

    fn add_cookies(&self, request: &mut Request<Full<Bytes>>, url: &url::Url) {
        let Some(jar) = &self.cookies else { return };
        let Ok(jar) = jar.lock() else { return };
        let value: Vec<String> = jar
            .get_request_values(url)
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        if !value.is_empty()
            && let Ok(v) = HeaderValue::from_str(&value.join("; "))
        {
            request.headers_mut().insert(COOKIE, v);
        }
    }

    fn store_cookies(&self, headers: &HeaderMap, url: &url::Url) {
        let Some(jar) = &self.cookies else { return };
        let cookies: Vec<RawCookie<'static>> = headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|s| RawCookie::parse(s.to_owned()).ok())
            .collect();
        if cookies.is_empty() {
            return;
        }
        if let Ok(mut jar) = jar.lock() {
            jar.store_response_cookies(cookies.into_iter(), url);
        }
    }

    /// Sends `request` and reads the whole response within `timeout`.
    pub async fn execute(
        &self,
        mut request: Request<Full<Bytes>>,
        url: &url::Url,
        timeout: Duration,
        identify: &Identify,
    ) -> Outcome {
        self.add_cookies(&mut request, url);
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| classify_error(&e))?;
            let (parts, mut body) = response.into_parts();
            self.store_cookies(&parts.headers, url);
            let header = |name: &HeaderName| {
                parts
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let mut target = header(&identify.target_header);
            let instance = header(&identify.instance_header);
            match (&target, &identify.target_json_field) {
                (None, Some(pointer)) => {
                    let bytes = body.collect().await.map_err(|_| Class::Other)?.to_bytes();
                    target = serde_json::from_slice::<serde_json::Value>(&bytes)
                        .ok()
                        .and_then(|v| {
                            v.pointer(pointer)
                                .and_then(|t| t.as_str().map(str::to_owned))
                        });
                }
                _ => {
                    // Read and discard: the body is part of the latency.
                    while let Some(frame) = body.frame().await {
                        frame.map_err(|_| Class::Other)?;
                    }
                }
            }
            Ok::<_, Class>((parts.status, target, instance))
        };
        match tokio::time::timeout(timeout, exchange).await {
            Err(_) => Outcome::failed(Class::Timeout),
            Ok(Err(class)) => Outcome::failed(class),
            Ok(Ok((status, target, instance))) => {
                let class = if status.is_server_error() {
                    Class::Http5xx
                } else if status.is_client_error() {
                    Class::Http4xx
                } else {
                    Class::Ok
                };
                let target = Some(
                    target
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| UNKNOWN_TARGET.to_owned()),
                );
                Outcome {
                    class,
                    target,
                    instance,
                }
            }
        }
    }
}

/// A client error before a response: connecting failed, or the connection
/// was reset or closed before the response headers (both `connect`).
fn classify_error(e: &hyper_util::client::legacy::Error) -> Class {
    if e.is_connect() {
        return Class::Connect;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(h) = s.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_canceled() || h.is_closed())
        {
            return Class::Connect;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
            )
        {
            return Class::Connect;
        }
        source = s.source();
    }
    Class::Other
}
