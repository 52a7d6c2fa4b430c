//! Sending one request and classifying what came back: the outcome class,
//! and which target and instance served it.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use cookie_store::{CookieStore, RawCookie};
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A pooled HTTP/1.1 client (HTTPS with the system's roots, or the bundled
/// Mozilla roots when the system has none).
pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

use weighbridge_report::UNKNOWN_TARGET;

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

/// The connector every connection of a virtual client is made with.
pub fn build_connector(tls: &rustls::ClientConfig) -> HttpsConnector<HttpConnector> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls.clone())
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}

pub fn build_client(https: HttpsConnector<HttpConnector>) -> HttpClient {
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
    /// A request that ended without a response.
    pub fn failed(class: Class) -> Self {
        Self {
            class,
            target: None,
            instance: None,
        }
    }
}

/// The most of a response body read into memory for `--target-json-field`:
/// 64 KiB. The rest is still read (it is part of the latency) but not
/// kept; a body whose JSON does not end within the cap names no target
/// (`unknown`).
pub const MAX_LABEL_BODY: usize = 64 * 1024;

/// Where a response says who served it.
#[derive(Debug, Clone)]
pub struct ServedBy {
    pub target_header: HeaderName,
    pub instance_header: HeaderName,
    /// JSON pointer into the body, used when the header is absent.
    pub target_json_field: Option<String>,
}

/// A virtual client: its own connection pool and cookie jar.
#[derive(Debug)]
pub struct VirtualClient {
    pub http: HttpClient,
    connector: HttpsConnector<HttpConnector>,
    pub cookies: Option<Mutex<CookieStore>>,
}

impl VirtualClient {
    pub fn new(tls: &rustls::ClientConfig, keep_cookies: bool) -> Self {
        let connector = build_connector(tls);
        Self {
            http: build_client(connector.clone()),
            connector,
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

    /// Sends `request` through the pool and reads the whole response
    /// within `timeout`.
    pub async fn execute(
        &self,
        mut request: Request<Full<Bytes>>,
        url: &url::Url,
        timeout: Duration,
        served_by: &ServedBy,
    ) -> Outcome {
        self.add_cookies(&mut request, url);
        let response = async {
            self.http
                .request(request)
                .await
                .map_err(|e| classify_error(&e))
        };
        read_response(response, timeout, served_by, |headers| {
            self.store_cookies(headers, url)
        })
        .await
    }

    /// Opens a connection of its own to `uri`'s host (HTTP/1.1, TLS when
    /// https), for a closed-loop worker that sends one request after the
    /// other on it, as wrk and oha do: no pool between worker and socket.
    pub async fn connect(&self, uri: &Uri) -> Result<Connection, Class> {
        let mut connector = self.connector.clone();
        let io = tower_service::Service::call(&mut connector, uri.clone())
            .await
            .map_err(|_| Class::Connect)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|_| Class::Connect)?;
        tokio::spawn(async move {
            // Ends when the worker drops its sender or the peer closes.
            let _ = conn.await;
        });
        Ok(Connection { sender })
    }
}

/// A connection owned by one closed-loop worker.
#[derive(Debug)]
pub struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Connection {
    /// Sends `request`, in origin form with a Host header as a direct
    /// connection needs (`Mix::direct_request`), and reads the response.
    pub async fn execute(
        &mut self,
        request: Request<Full<Bytes>>,
        timeout: Duration,
        served_by: &ServedBy,
    ) -> Outcome {
        let sender = &mut self.sender;
        let response = async {
            sender.ready().await.map_err(|e| classify_hyper(&e))?;
            sender
                .send_request(request)
                .await
                .map_err(|e| classify_hyper(&e))
        };
        read_response(response, timeout, served_by, |_| {}).await
    }

    /// Whether the connection can take another request.
    pub fn is_open(&self) -> bool {
        !self.sender.is_closed()
    }
}

/// Reads a response to the end within `timeout` and says who served it.
async fn read_response(
    response: impl std::future::Future<Output = Result<http::Response<hyper::body::Incoming>, Class>>,
    timeout: Duration,
    served_by: &ServedBy,
    on_headers: impl FnOnce(&HeaderMap),
) -> Outcome {
    let exchange = async {
        let (parts, mut body) = response.await?.into_parts();
        on_headers(&parts.headers);
        let header = |name: &HeaderName| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let mut target = header(&served_by.target_header);
        let instance = header(&served_by.instance_header);
        match (&target, &served_by.target_json_field) {
            (None, Some(pointer)) => {
                let mut bytes = Vec::new();
                let mut whole = true;
                while let Some(frame) = body.frame().await {
                    let frame = frame.map_err(|_| Class::Other)?;
                    if let Ok(data) = frame.into_data() {
                        let room = MAX_LABEL_BODY - bytes.len();
                        if data.len() > room {
                            whole = false;
                        }
                        bytes.extend_from_slice(&data[..data.len().min(room)]);
                    }
                }
                target = whole
                    .then(|| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
                    .flatten()
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

/// A hyper error on a direct connection: before a response, a reset or a
/// closed connection is `connect`.
fn classify_hyper(e: &hyper::Error) -> Class {
    if e.is_incomplete_message() || e.is_canceled() || e.is_closed() {
        Class::Connect
    } else {
        Class::Other
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
            && classify_hyper(h) == Class::Connect
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
