//! A script's HTTP tool node run by the turn engine against a real local HTTP server: the
//! secret header is resolved from the environment, the JSON answer lands in a variable and is
//! spoken; a failing endpoint takes the script's error edge.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use common::*;
use switchboard::call::report::Speaker;
use switchboard::conversation::script::ScriptConversation;
use switchboard::turn::TurnConfig;
use tokio::time::Duration;

fn script_call(base_url: &str) -> switchboard::call::session::CallSpec {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tool_lookup.yaml"
    );
    let script = Arc::new(dialogue::load_file(path.as_ref()).expect("fixture compiles"));
    let vars = BTreeMap::from([("base_url".to_string(), serde_json::json!(base_url))]);
    let conversation = Box::new(ScriptConversation::new(script, &vars, chrono::Utc::now()));
    let fakes = Fakes {
        stt: ScriptedStt::new(&[]),
        llm: FakeLlm::new(LlmMode::Fails),
        tts: Arc::new(ToneTts {
            mode: VoiceMode::Good,
            chunk_delay: Duration::ZERO,
        }),
    };
    spec(fakes, conversation, TurnConfig::default())
}

fn agent_said(result: &switchboard::transport::local_call::LocalCallResult) -> Vec<String> {
    result
        .report
        .transcript
        .iter()
        .filter(|l| l.speaker == Speaker::Agent)
        .map(|l| l.text.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_answer_is_spoken_and_its_secret_header_sent() {
    std::env::set_var("SWITCHBOARD_SECRET_TOOL_TEST_TOKEN", "Bearer s3cret");
    let seen = Arc::new(Mutex::new(None::<String>));
    let seen_in = seen.clone();
    let app = Router::new().route(
        "/orders/42",
        get(move |headers: HeaderMap| async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            *seen_in.lock().unwrap() = auth;
            Json(serde_json::json!({ "status": "shipped" }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let result = run(script_call(&format!("http://{addr}")), Vec::new(), 3_000).await;
    assert!(
        agent_said(&result).contains(&"Your order is shipped.".to_string()),
        "{:?}",
        agent_said(&result)
    );
    assert_eq!(seen.lock().unwrap().as_deref(), Some("Bearer s3cret"));
    assert_eq!(
        result.report.outcome.expect("outcome").disposition,
        "reached"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_tool_takes_the_error_edge() {
    // Port 9 (discard) on loopback: nothing listens there.
    let result = run(script_call("http://127.0.0.1:9"), Vec::new(), 3_000).await;
    assert!(
        agent_said(&result).contains(&"Sorry, the lookup failed.".to_string()),
        "{:?}",
        agent_said(&result)
    );
}

#[tokio::test(start_paused = true)]
async fn a_closed_answer_ends_the_turn_at_its_first_pause() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/yes_no_long.yaml"
    );
    let script = Arc::new(dialogue::load_file(path.as_ref()).expect("fixture compiles"));
    let conversation = Box::new(ScriptConversation::new(
        script,
        &BTreeMap::new(),
        chrono::Utc::now(),
    ));
    let fakes = Fakes {
        stt: ScriptedStt::new(&["yes it did"]),
        llm: FakeLlm::new(LlmMode::Fails),
        tts: Arc::new(ToneTts {
            mode: VoiceMode::Good,
            chunk_delay: Duration::ZERO,
        }),
    };
    let caller = caller_audio(&[(2_000, 800)], 4_000);
    let result = run(
        spec(fakes, conversation, TurnConfig::default()),
        caller,
        3_000,
    )
    .await;

    assert_eq!(
        result.report.answers.get("ok"),
        Some(&serde_json::json!(true))
    );
    let turn = result.report.turns.first().expect("turn metrics");
    // `long` endpointing waits 1.2 s of silence; the answer was complete at the pause.
    assert!(turn.end_of_utterance_delay_ms < 1_200, "{turn:?}");
    let callers = result
        .report
        .transcript
        .iter()
        .filter(|l| l.speaker == Speaker::Caller)
        .count();
    assert_eq!(
        callers, 1,
        "the turn is not ended a second time: {:?}",
        result.report.transcript
    );
}
