//! The router's response, made acceptable to `lambda_http::runtime`.
//!
//! `lambda_http::runtime` (the constructor that returns a `Runtime` one can
//! add layers to, unlike `lambda_http::run`) asks the handler's response to
//! be `Send + Sync`. An axum response is `Send` but not `Sync`: its body is an
//! `UnsyncBoxBody`. Nothing ever shares the response between threads (the
//! adapter moves it into one future and reads the body there), so
//! [`SyncResponse`] wraps it in a [`SyncWrapper`], which is `Sync` because it
//! only ever hands out `&mut` or by-value access, and converts it with
//! `lambda_http`'s own conversion. No copy, no buffering beyond what
//! `lambda_http` does anyway, no lock.

use lambda_http::{Body, IntoResponse, Response};
use std::future::Future;
use std::pin::Pin;
use sync_wrapper::SyncWrapper;

/// An axum response that `lambda_http::runtime` accepts.
#[derive(Debug)]
pub struct SyncResponse(SyncWrapper<axum::response::Response>);

impl SyncResponse {
    pub fn new(response: axum::response::Response) -> Self {
        Self(SyncWrapper::new(response))
    }

    pub fn into_inner(self) -> axum::response::Response {
        self.0.into_inner()
    }
}

impl IntoResponse for SyncResponse {
    // The return type is `lambda_http`'s `ResponseFuture`, spelled out: the
    // alias lives in a private module.
    fn into_response(self) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> {
        self.into_inner().into_response()
    }
}
