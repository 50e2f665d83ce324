//! Traces leave over OTLP/HTTP: a `call` span with a `turn` child reaches a collector (a local
//! HTTP server standing in for one) as a protobuf export request carrying the call id.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use switchboard::otlp::Otlp;
use tracing_subscriber::layer::SubscriberExt;

/// (content type, body) of each export request.
type Exports = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_and_turn_spans_are_exported() {
    let got: Exports = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let sink = sink.clone();
            async move {
                let kind = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                sink.lock().unwrap().push((kind, body.to_vec()));
                ""
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let otlp = Otlp::new(&format!("http://{addr}")).unwrap();
    let subscriber = tracing_subscriber::registry().with(otlp.layer());
    tracing::subscriber::with_default(subscriber, || {
        let call = tracing::info_span!("call", call_id = "call-7f3a", tenant = "acme");
        let _in_call = call.enter();
        let turn = tracing::info_span!("turn", turn = 2u64, voice_to_voice_ms = 480u64);
        drop(turn.enter());
    });
    tokio::task::spawn_blocking(move || otlp.shutdown())
        .await
        .unwrap();

    let got = got.lock().unwrap();
    assert!(!got.is_empty(), "nothing exported");
    let (kind, body) = &got[0];
    assert_eq!(kind, "application/x-protobuf");
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"call-7f3a"), "the call id travels with the call span");
    assert!(
        has(b"turn") && has(b"voice_to_voice_ms"),
        "the turn span is exported"
    );
    assert!(has(b"switchboard"), "the service name is set");
}
