//! `--target-json-field` keeps at most 64 KiB of a body: a small JSON body
//! names its target, a larger one is read to its end (the request is ok and
//! counted) but names none (`unknown`), instead of being held whole in
//! memory. Against an axum server on 127.0.0.1 the test starts.

mod support;

async fn server() -> std::net::SocketAddr {
    let small = r#"{"backend":"ecs"}"#.to_owned();
    // Valid JSON naming a target, but 1 MiB long.
    let big = format!(r#"{{"backend":"lambda","pad":"{}"}}"#, "x".repeat(1 << 20));
    let app = axum::Router::new()
        .route("/small", axum::routing::get(move || async move { small }))
        .route("/big", axum::routing::get(move || async move { big }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn label_is_read_from_at_most_64_kib_of_body() {
    let addr = server().await;
    let (output, r, _dir) = support::run(&[
        "--url",
        &format!("http://{addr}"),
        "--path",
        "/small,/big",
        "--target-json-field",
        "/backend",
        "--rps",
        "20",
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
    assert_eq!(t.scheduled, 20);
    assert_eq!(t.scheduled, t.ok + t.failed + t.dropped, "{t:?}");
    assert_eq!(t.ok, 20, "{t:?}");
    let small = &r.paths["/small"];
    let big = &r.paths["/big"];
    assert!(small.keys().all(|k| k == "ecs"), "{small:?}");
    assert!(big.keys().all(|k| k == "unknown"), "{big:?}");
    assert!(!small.is_empty() && !big.is_empty());
}
