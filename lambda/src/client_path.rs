//! Which path the router sees: **the path the client requested, API Gateway
//! stage included.** `BASE_PATH` then means the same on every target: with
//! `BASE_PATH=dev`, ECS behind an ALB rule on `/dev/*`, the Lambda behind the
//! same rule, the Lambda behind API Gateway stage `dev` and a Function URL
//! called at `/dev/host` all serve `GET /dev/host`.
//!
//! | event | what the client called | path the router sees |
//! |---|---|---|
//! | ALB target group | `/dev/host` | `path` as is: `/dev/host` |
//! | Function URL (2.0) | `/dev/host` | `rawPath` as is: `/dev/host` |
//! | HTTP API (2.0), stage `$default` | `/dev/host` | `rawPath` as is: `/dev/host` |
//! | HTTP API (2.0), stage `dev` | `/dev/host` | `rawPath` as is (it holds the stage): `/dev/host` |
//! | REST API (1.0), stage `dev` | `/dev/host` | `/{stage}` + `path`: `/dev/host` |
//!
//! A REST API event carries the resource path *without* the stage
//! (`"path": "/host"`), so the stage is put back in front of it, always.
//! `lambda_http` alone does nearly this but guesses: it skips the stage when
//! the path already starts with `/{stage}/` (so `/dev/dev/host` would be
//! served as `/dev/host`), prefixes a 2.0 `rawPath` of exactly `/dev` into
//! `/dev/dev`, and drops the stage entirely when
//! `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set. Here the rule does not
//! depend on the path's content or on that variable.
//!
//! Consequence for deployments: behind a REST API, `BASE_PATH` is the stage
//! name (`dev`), or `dev/api` for resources under `/api`; behind an ALB it is
//! the listener rule's prefix. Through a REST API custom domain the rule is
//! the same: `/{requestContext.stage}` + the event's `path`.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// Rewrites the request's path to the client's path (see the module docs).
/// The query string, headers and body are left untouched.
pub fn restore(request: &mut Request) {
    let Some(path) = client_path(request) else {
        return;
    };
    let uri = request.uri().clone();
    let encoded = encode_path(&path);
    if encoded == uri.path() {
        return;
    }
    let path_and_query = match uri.query() {
        Some(query) => format!("{encoded}?{query}"),
        None => encoded,
    };
    let mut parts = uri.into_parts();
    let Ok(pq) = path_and_query.parse() else {
        return;
    };
    parts.path_and_query = Some(pq);
    if let Ok(uri) = lambda_http::http::Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
}

/// The unencoded path the client requested, for the events where
/// `lambda_http`'s own choice is not already exactly that.
pub fn client_path(request: &Request) -> Option<String> {
    let raw = request.raw_http_path();
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV1(ctx) => {
            let stage = ctx.stage.as_deref().unwrap_or_default();
            Some(join_stage(stage, raw))
        }
        RequestContext::ApiGatewayV2(_) => Some(raw.to_owned()),
        _ => None,
    }
}

/// `/{stage}{path}`, or `path` alone for no stage or the `$default` stage.
pub fn join_stage(stage: &str, path: &str) -> String {
    let stage = stage.trim_matches('/');
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    if stage.is_empty() || stage == "$default" {
        path
    } else {
        format!("/{stage}{path}")
    }
}

/// Percent-encodes what a URI path cannot hold (a space, say) and leaves
/// existing `%XX` escapes alone, the way `lambda_http` builds its URIs.
fn encode_path(path: &str) -> String {
    let mut url = url::Url::parse("http://localhost/").expect("a constant, valid URL");
    url.set_path(path);
    url.path().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_goes_in_front_exactly_once() {
        assert_eq!(join_stage("dev", "/host"), "/dev/host");
        assert_eq!(join_stage("dev", "/dev/host"), "/dev/dev/host");
        assert_eq!(join_stage("$default", "/host"), "/host");
        assert_eq!(join_stage("", "/host"), "/host");
        assert_eq!(join_stage("dev", ""), "/dev/");
    }

    #[test]
    fn encoding_keeps_escapes() {
        assert_eq!(encode_path("/a b"), "/a%20b");
        assert_eq!(encode_path("/a%20b"), "/a%20b");
    }
}
