//! The per-instance table is bounded: a server that names a new instance in
//! every response (and a few 60 KB ids) gets at most 1000 instances plus an
//! `overflow:<target>` bucket, every id at most 256 bytes with distinct long
//! ids still distinct, and a report that validates with every request
//! accounted for. Against an axum server on 127.0.0.1 the test starts.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

async fn server() -> std::net::SocketAddr {
    let next = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let n = next.fetch_add(1, Ordering::Relaxed);
            async move {
                let instance = if n < 4 {
                    format!("long-{n}-{}", "x".repeat(60_000))
                } else {
                    format!("i-{n}")
                };
                (
                    [
                        ("x-served-by", "ecs".to_owned()),
                        ("x-backend-host", instance),
                    ],
                    "ok",
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn instances_and_long_ids_are_capped() {
    let addr = server().await;
    let (output, r, _dir) = support::run(&[
        "--url",
        &format!("http://{addr}/"),
        "--rps",
        "1500",
        "--duration",
        "1s",
    ])
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let t = &r.totals;
    assert_eq!(t.scheduled, 1500);
    assert_eq!(t.scheduled, t.ok + t.failed + t.dropped, "{t:?}");
    assert!(t.ok > 1010, "{t:?}");
    assert!(r.hosts.len() <= 1001, "{} instances", r.hosts.len());
    assert!(r.hosts.contains_key("overflow:ecs"), "no overflow bucket");
    assert!(r.hosts.keys().all(|k| k.len() <= 256));
    let long = r.hosts.keys().filter(|k| k.starts_with("long-")).count();
    assert_eq!(long, 4, "long ids shortened but still distinct");
    let served: u64 = r.hosts.values().map(|h| h.requests).sum();
    assert_eq!(served, r.targets["ecs"].requests);
}
