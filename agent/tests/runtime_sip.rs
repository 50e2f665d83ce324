//! The runtime's SIP transport end to end: jobs dispatched over the control API with
//! transport `sip` dial through a trunk played by SIPp; a busy callee ends the call as
//! `busy`, an answered call runs until it is hung up over the API (our BYE, which SIPp
//! checks), and both are persisted. Needs `apt-get install sip-tester` and the models.

mod support;

use std::collections::HashMap;

use chrono::NaiveTime;
use serde_json::{json, Value};
use support::sipp::{sipp, sipp_succeeded};
use support::tmp::{tmp, ScratchDir};
use switchboard::local_models::LocalModels;
use switchboard::runtime::boot::{boot, BootOptions, Running};
use switchboard::runtime::compliance::Policy;
use switchboard::runtime::RuntimeConfig;
use tokio::time::Duration;

fn models() -> LocalModels {
    support::models::local().clone()
}

/// A booted runtime dialling through the trunk on `trunk_port`, an API key, and its data
/// directory first (`let (_data, running, key) = …`: bindings drop in reverse order, so the
/// directory goes after the runtime).
async fn runtime(trunk_port: u16) -> (ScratchDir, Running, String) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let data = tmp("switchboard-rtsip");
    let sip = serde_json::from_value(json!({
        "bind": "127.0.0.1:0",
        "trunk": { "host": format!("127.0.0.1:{trunk_port}"), "caller_id": "+15550199" },
    }))
    .unwrap();
    let running = boot(
        tokio::task::spawn_blocking(models).await.unwrap(),
        BootOptions {
            database_url: format!("sqlite://{}", data.join("s.db").display()),
            data_dir: data.path().to_owned(),
            scripts_dir: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts"),
            listen: "127.0.0.1:0".parse().unwrap(),
            config: RuntimeConfig {
                poll_ms: 100,
                policy: Policy {
                    require_consent: false,
                    window: (NaiveTime::MIN, NaiveTime::MIN),
                    ..Policy::default()
                },
                ..RuntimeConfig::default()
            },
            llm: None,
            livekit: None,
            dialers: HashMap::new(),
            sip: Some(sip),
        },
    )
    .await
    .expect("boot");
    let (_, key) = running
        .rt
        .store
        .create_api_key("acme", "t", 6000)
        .await
        .unwrap();
    (data, running, key)
}

async fn send(
    running: &Running,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(
            method.parse().unwrap(),
            format!("http://{}{path}", running.addr),
        )
        .bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn dispatch(running: &Running, key: &str) -> String {
    let body = json!({ "to": "+14155550123", "transport": "sip", "max_attempts": 1,
                       "script_id": "survey.post_conversation", "variables": { "first_name": "Dana" } });
    let (status, body) = send(running, key, "POST", "/v1/calls", Some(body)).await;
    assert_eq!(status, 202, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn wait_for(running: &Running, key: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..300 {
        let (_, body) = send(running, key, "GET", &format!("/v1/calls/{id}"), None).await;
        if done(&body) {
            return body;
        }
        last = body;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("call {id} never reached the expected state: {last:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_callee_ends_the_job_as_busy() {
    let (sipp_child, port) = sipp("uas_busy.xml");
    let (_data, running, key) = runtime(port).await;
    let id = dispatch(&running, &key).await;
    let call = wait_for(&running, &key, &id, |b| b["call"]["ended_at"].is_i64()).await;
    assert_eq!(call["call"]["disposition"], "busy", "{call}");
    assert_eq!(call["call"]["answered"], false);
    sipp_succeeded(sipp_child, Duration::from_secs(60)).await;
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answered_call_is_hung_up_over_the_api_with_our_bye() {
    let (sipp_child, port) = sipp("uas_answer_wait_bye.xml");
    let (_data, running, key) = runtime(port).await;
    let id = dispatch(&running, &key).await;
    wait_for(&running, &key, &id, |b| b["live"] == true).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (status, body) = send(
        &running,
        &key,
        "POST",
        &format!("/v1/calls/{id}/hangup"),
        None,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let call = wait_for(&running, &key, &id, |b| {
        b["call"]["ended_at"].is_i64() && b["live"] == false
    })
    .await;
    assert_eq!(call["call"]["answered"], true, "{call}");
    assert_eq!(call["call"]["status"], "completed", "{call}");
    assert_eq!(call["call"]["end_reason"], "api_hangup", "{call}");
    sipp_succeeded(sipp_child, Duration::from_secs(60)).await;
    running.shutdown().await;
}
