//! The control port end to end: a booted runtime (real models, the shipped scripts, SQLite or
//! a real Postgres) driven over HTTP. Security (keys, tenants, bad bodies), a dispatched call
//! followed live over SSE and read back with its answers, the compliance gate, dial failures,
//! and signed webhooks delivered to a receiver.

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use chrono::NaiveTime;
use futures::StreamExt;
use serde_json::{json, Value};
use support::fake_openai::{ChatScript, FakeOpenAi, Reply};
use support::tmp::{tmp, ScratchDir};
use switchboard::llm::openai::OpenAiLlmConfig;
use switchboard::llm::LlmProvider;
use switchboard::local_models::LocalModels;
use switchboard::runtime::boot::{boot, BootOptions, Running};
use switchboard::runtime::compliance::Policy;
use switchboard::runtime::webhooks::signature;
use switchboard::runtime::RuntimeConfig;

fn models() -> LocalModels {
    support::models::local().clone()
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Harness {
    running: Running,
    base: String,
    http: reqwest::Client,
    acme: String,
    globex: String,
    /// The runtime's SQLite file, spool and recordings; the last field, so it is removed
    /// after the runtime is dropped.
    _data: ScratchDir,
}

async fn harness(database_url: Option<String>) -> Harness {
    harness_with(database_url, workspace().join("scripts"), None).await
}

async fn harness_with(
    database_url: Option<String>,
    scripts_dir: PathBuf,
    llm: Option<Arc<dyn LlmProvider>>,
) -> Harness {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let data = tmp("switchboard-api");
    let url = database_url.unwrap_or_else(|| format!("sqlite://{}", data.join("s.db").display()));
    let running = boot(
        tokio::task::spawn_blocking(models).await.unwrap(),
        BootOptions {
            database_url: url,
            data_dir: data.path().to_owned(),
            scripts_dir,
            listen: "127.0.0.1:0".parse().unwrap(),
            config: RuntimeConfig {
                poll_ms: 100,
                recordings_dir: Some(data.join("recordings")),
                policy: Policy {
                    window: (NaiveTime::MIN, NaiveTime::MIN),
                    ..Policy::default()
                },
                ..RuntimeConfig::default()
            },
            llm,
            livekit: Some(("APIkey".into(), "lk-secret".into())),
            dialers: HashMap::new(),
            sip: None,
        },
    )
    .await
    .expect("boot");
    let store = &running.rt.store;
    let (_, acme) = store.create_api_key("acme", "test", 6000).await.unwrap();
    let (_, globex) = store.create_api_key("globex", "test", 6000).await.unwrap();
    Harness {
        base: format!("http://{}", running.addr),
        running,
        http: reqwest::Client::new(),
        acme,
        globex,
        _data: data,
    }
}

impl Harness {
    async fn send(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Dispatches the survey to `to` with a caller who answers all four questions; its id.
    async fn dispatch_survey(&self, to: &str) -> String {
        let lines = json!({ "caller_lines": [
            "Yes, it was, thanks.", "I'd give it a four.", "The wait was long.", "Absolutely."
        ], "hang_up_after_ms": 90000 });
        let (status, body) = self
            .send(
                "POST",
                "/v1/calls",
                Some(&self.acme),
                Some(dispatch_body(to, lines)),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    async fn wait_ended(&self, id: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..1500 {
            let (_, body) = self
                .send("GET", &format!("/v1/calls/{id}"), Some(&self.acme), None)
                .await;
            if body["call"]["ended_at"].is_i64() && !body["live"].as_bool().unwrap_or(true) {
                return body;
            }
            last = body;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        panic!("call {id} did not end: {last:#}");
    }
}

fn dispatch_body(to: &str, options: Value) -> Value {
    json!({
        "to": to, "transport": "local", "script_id": "survey.post_conversation",
        "variables": { "first_name": "Dana" }, "transport_options": options,
        "consent": { "granted": true, "source": "test" }, "max_attempts": 1,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_needs_a_key_and_tenants_are_isolated() {
    let h = harness(None).await;
    let routes = [
        ("POST", "/v1/calls"),
        ("GET", "/v1/calls"),
        ("GET", "/v1/calls/x"),
        ("POST", "/v1/calls/x/hangup"),
        ("POST", "/v1/calls/x/transfer"),
        ("GET", "/v1/calls/x/events"),
        ("GET", "/v1/scripts"),
        ("POST", "/v1/scripts/validate"),
        ("POST", "/v1/scripts/reload"),
    ];
    let doc = h.send("GET", "/v1/openapi.json", None, None).await.1;
    for (method, path) in routes {
        let (status, body) = h.send(method, path, None, None).await;
        assert_eq!(status, 401, "{method} {path} without a key");
        assert_eq!(body["error"]["code"], "unauthorized");
        let (status, _) = h
            .send(
                method,
                path,
                Some("sb_0123456789ab_0123456789abcdef0123456789abcdef"),
                None,
            )
            .await;
        assert_eq!(status, 401, "{method} {path} with a forged key");
        let documented = path.replace("/x", "/{id}");
        assert!(
            doc["paths"][&documented][method.to_lowercase()].is_object(),
            "{method} {documented} missing from OpenAPI"
        );
    }
    // Bad bodies say what was wrong.
    let (status, body) = h
        .send(
            "POST",
            "/v1/calls",
            Some(&h.acme),
            Some(json!({ "to": "+14155550123" })),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("transport"),
        "{body}"
    );
    let (status, body) = h
        .send(
            "POST",
            "/v1/calls",
            Some(&h.acme),
            Some(dispatch_body("555-0123", json!({}))),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("to")),
        "{body}"
    );
    let mut bad = dispatch_body("+14155550123", json!({}));
    bad["variables"] = json!(["not", "an", "object"]);
    let (status, body) = h.send("POST", "/v1/calls", Some(&h.acme), Some(bad)).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("variables")),
        "{body}"
    );
    let res = h
        .http
        .post(format!("{}/v1/calls", h.base))
        .bearer_auth(&h.acme)
        .header("content-type", "application/json")
        .body("{\"to\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let huge = "x".repeat(512 * 1024);
    let res = h
        .http
        .post(format!("{}/v1/scripts/validate", h.base))
        .bearer_auth(&h.acme)
        .json(&json!({ "yaml": huge }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    // A call of acme's is a 404 for globex.
    let (status, body) = h
        .send(
            "POST",
            "/v1/calls",
            Some(&h.acme),
            Some(dispatch_body("+14155550123", json!({ "result": "busy" }))),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let (status, _) = h
        .send("GET", &format!("/v1/calls/{id}"), Some(&h.globex), None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = h
        .send(
            "POST",
            &format!("/v1/calls/{id}/hangup"),
            Some(&h.globex),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (_, list) = h.send("GET", "/v1/calls", Some(&h.globex), None).await;
    assert_eq!(list["calls"].as_array().unwrap().len(), 0);
    // The busy dial ends the call with that disposition (max_attempts 1: no retry).
    let ended = h.wait_ended(&id).await;
    assert_eq!(ended["call"]["disposition"], "busy", "{ended}");
    // Health, readiness, metrics and script validation.
    assert_eq!(h.send("GET", "/healthz", None, None).await.0, 200);
    let (status, ready) = h.send("GET", "/readyz", None, None).await;
    assert_eq!((status, ready["database"].as_bool()), (200, Some(true)));
    let (_, v) = h
        .send(
            "POST",
            "/v1/scripts/validate",
            Some(&h.acme),
            Some(json!({ "yaml": "version: 1\nid: x\nnodes: [" })),
        )
        .await;
    assert_eq!(v["valid"], false);
    assert!(v["errors"][0]["line"].as_u64().is_some(), "{v}");
    // LiveKit webhooks: good, forged, replayed.
    let body = br#"{"id":"EV_9","event":"room_started"}"#;
    let exp = chrono::Utc::now().timestamp() + 300;
    let good = switchboard::api::livekit::sign("APIkey", "lk-secret", body, exp);
    let post = |token: String| {
        h.http
            .post(format!("{}/v1/webhooks/livekit", h.base))
            .header("authorization", token)
            .body(body.to_vec())
            .send()
    };
    assert_eq!(post(good.clone()).await.unwrap().status().as_u16(), 200);
    assert_eq!(post(good).await.unwrap().status().as_u16(), 401, "replay");
    let forged = switchboard::api::livekit::sign("APIkey", "guess", body, exp);
    assert_eq!(post(forged).await.unwrap().status().as_u16(), 401);
    h.running.shutdown().await;
}

fn read_wav(path: &str) -> (Vec<i16>, u16, u32) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    let samples = reader.samples::<i16>().map(Result::unwrap).collect();
    (samples, spec.channels, spec.sample_rate)
}

/// Scripts edited on disk go live in the running process; a broken edit keeps the old version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_reloads_edited_scripts() {
    let dir = tmp("switchboard-scripts");
    let survey = std::fs::read_to_string(workspace().join("scripts/survey.yaml")).unwrap();
    std::fs::write(dir.join("survey.yaml"), &survey).unwrap();
    let h = harness_with(None, dir.path().to_owned(), None).await;
    let version = |body: &Value| body["scripts"][0]["version"].as_str().unwrap().to_owned();
    let (_, before) = h.send("GET", "/v1/scripts", Some(&h.acme), None).await;
    let first = version(&before);
    std::fs::write(
        dir.join("survey.yaml"),
        survey.replace("quick follow-up", "short follow-up"),
    )
    .unwrap();
    let mut second = first.clone();
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        second = version(&h.send("GET", "/v1/scripts", Some(&h.acme), None).await.1);
        if second != first {
            break;
        }
    }
    assert_ne!(first, second, "the edit went live");
    std::fs::write(
        dir.join("survey.yaml"),
        "version: 1\nid: survey.post_conversation\nnodes: [",
    )
    .unwrap();
    let (status, report) = h
        .send("POST", "/v1/scripts/reload", Some(&h.acme), None)
        .await;
    assert_eq!(status, 200, "{report}");
    let (_, after) = h.send("GET", "/v1/scripts", Some(&h.acme), None).await;
    assert_eq!(
        version(&after),
        second,
        "a broken edit keeps the live version"
    );
    h.running.shutdown().await;
}

/// A webhook receiver that checks signatures.
async fn receiver(secret: &'static str) -> (SocketAddr, Arc<Mutex<Vec<Value>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let sink = sink.clone();
            async move {
                let sig = headers["switchboard-signature"]
                    .to_str()
                    .unwrap()
                    .to_owned();
                let ts: i64 = sig
                    .trim_start_matches("t=")
                    .split(',')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert_eq!(sig, signature(secret, ts, &body), "webhook signature");
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_slice::<Value>(&body).unwrap());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatched_call_runs_is_followed_live_and_persisted_in_postgres() {
    let url = tokio::task::spawn_blocking(|| support::postgres::shared().database())
        .await
        .unwrap();
    let h = harness(Some(url)).await;
    let (hook, received) = receiver("hook-secret").await;
    h.running
        .rt
        .store
        .add_webhook("acme", &format!("http://{hook}/hook"), "hook-secret")
        .await
        .unwrap();
    // DNC numbers are refused by the gate, with the reason recorded.
    h.running
        .rt
        .store
        .add_dnc("acme", "+14155550199", None)
        .await
        .unwrap();
    let (_, refused) = h
        .send(
            "POST",
            "/v1/calls",
            Some(&h.acme),
            Some(dispatch_body(
                "+14155550199",
                json!({ "caller_lines": ["yes"] }),
            )),
        )
        .await;
    let refused_id = refused["id"].as_str().unwrap().to_owned();

    let id = h.dispatch_survey("+14155550123").await;
    // Follow it live.
    let res = h
        .http
        .get(format!("{}/v1/calls/{id}/events", h.base))
        .bearer_auth(&h.acme)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let mut stream = res.bytes_stream();
    let mut sse = String::new();
    while let Some(chunk) = stream.next().await {
        sse.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        if sse.contains("event: ended") && sse.ends_with("\n\n") {
            break;
        }
    }
    assert!(
        sse.contains("event: line"),
        "no transcript lines streamed:\n{sse}"
    );
    assert!(sse.contains("event: answer"), "no answers streamed:\n{sse}");
    let call = h.wait_ended(&id).await;
    assert_eq!(call["call"]["status"], "completed", "{call}");
    assert_eq!(call["answers"]["experience_rating"], json!(4), "{call}");
    assert_eq!(call["answers"]["problem_solved"], json!(true), "{call}");
    assert!(call["transcript"].as_array().unwrap().len() >= 6, "{call}");
    assert!(!call["metrics"].as_array().unwrap().is_empty(), "{call}");
    // The stereo recording: the caller on the left, the agent on the right.
    let path = call["call"]["recording_path"]
        .as_str()
        .expect("a recording")
        .to_owned();
    let (samples, channels, _) = read_wav(&path);
    assert_eq!(channels, 2);
    let energy = |ch: usize| {
        samples
            .iter()
            .skip(ch)
            .step_by(2)
            .filter(|s| s.unsigned_abs() > 1000)
            .count()
    };
    assert!(
        energy(0) > 8000 && energy(1) > 8000,
        "both voices recorded: {} / {}",
        energy(0),
        energy(1)
    );
    let refused = h.wait_ended(&refused_id).await;
    assert_eq!(refused["call"]["status"], "refused");
    assert_eq!(refused["call"]["refusal_reason"], "dnc");
    // Webhooks arrive signed: started, answered, ended, survey completed.
    for _ in 0..50 {
        if received
            .lock()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "survey.completed")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let kinds: Vec<String> = received
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e["data"]["call_id"] == id.as_str())
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    for kind in ["call.started", "call.answered", "call.ended"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} not delivered: {kinds:?}"
        );
    }
    // survey.completed exactly when the survey ran to its end.
    let complete = call["call"]["outcome"] == "completed";
    assert_eq!(
        kinds.iter().any(|k| k == "survey.completed"),
        complete,
        "survey.completed vs outcome {}: {kinds:?}",
        call["call"]["outcome"]
    );
    h.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_llm_the_call_is_reviewed_summary_and_sentiment_stored() {
    let fake = FakeOpenAi::start().await;
    let review = r#"{"summary": "Dana rated the service 4 and wants shorter waits.", "sentiment": 0.4, "confidence": 0.8}"#;
    fake.push_chat(Reply::Chat(ChatScript::tokens(&[review])));
    let llm: Arc<dyn LlmProvider> = Arc::new(
        OpenAiLlmConfig::new("openai", fake.base_url(), "gpt-test")
            .build()
            .unwrap(),
    );
    let h = harness_with(None, workspace().join("scripts"), Some(llm)).await;
    let id = h.dispatch_survey("+14155550124").await;
    let call = h.wait_ended(&id).await;
    let row = &call["call"];
    assert_eq!(
        row["summary"], "Dana rated the service 4 and wants shorter waits.",
        "{call:#}"
    );
    assert_eq!(row["sentiment_score"], json!(0.4f32 as f64), "{call:#}");
    assert_eq!(
        row["sentiment_confidence"],
        json!(0.8f32 as f64),
        "{call:#}"
    );
    // One request: the review, with the call's transcript in it.
    let asked: Vec<Value> = fake.requests().into_iter().filter_map(|r| r.json).collect();
    assert_eq!(asked.len(), 1, "{asked:#?}");
    let instruction = asked[0]["messages"][0]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(instruction.contains("sentiment"), "{instruction}");
    let transcript = asked[0]["messages"][1]["content"]
        .as_str()
        .unwrap_or_default();
    let lines = call["transcript"]
        .as_array()
        .expect("the call's transcript");
    assert!(lines.len() >= 8, "{call:#}");
    for line in lines {
        let text = line["text"].as_str().unwrap();
        assert!(transcript.contains(text), "{text:?} not in {transcript}");
    }
}
