//! LiveKit hosted by the runtime, against the room simulator: a LiveKit SIP caller's room is
//! dispatched to Switchboard's worker, routed by the dialled number to a tenant and script,
//! answered and recorded; jobs with transport `livekit` dial through LiveKit SIP
//! (`CreateSIPParticipant`), and a busy callee becomes the disposition; a script's transfer
//! moves the SIP caller (`TransferSIPParticipant`). Real local models;
//! needs `cargo run -p switchboard -- models fetch` and espeak-ng (`apt-get install espeak-ng`).

mod support;
// The independent LiveKit client (official Python SDK, real libwebrtc) and its WAV helpers.
#[path = "../../livekit-sim/tests/common/mod.rs"]
mod lk;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use audio::synth::silence;
use audio::SampleRate;
use chrono::NaiveTime;
use livekit_api::access_token::{AccessToken, VideoGrants};
use livekit_api::services::agent_dispatch::AgentDispatchClient;
use livekit_protocol::participant_info::Kind;
use livekit_sim::{ParticipantSpec, SimConfig, SimParticipant, Simulator, SipBehaviour};
use serde_json::{json, Value};
use support::tmp::{tmp, ScratchDir};
use switchboard::local_models::espeak;
use switchboard::runtime::boot::{boot, BootOptions, Running};
use switchboard::runtime::compliance::Policy;
use switchboard::runtime::livekit::{spawn_worker, LiveKitConfig, LiveKitDialer, LiveKitSetup};
use switchboard::runtime::RuntimeConfig;
use switchboard::transport::local_call::synthesise;
use switchboard::transport::sip::Route;

const HZ48: SampleRate = SampleRate::HZ_48K;

/// The LiveKit server a test runs against.
enum Server {
    Sim(Simulator),
    /// A real server, from `LIVEKIT_URL`, `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET`.
    Real {
        url: String,
        key: String,
        secret: String,
    },
}

impl Server {
    async fn sim() -> Self {
        Server::Sim(
            Simulator::start(SimConfig::default())
                .await
                .expect("simulator"),
        )
    }

    /// A real server when the environment names one, else the simulator.
    async fn from_env() -> Self {
        match (
            std::env::var("LIVEKIT_URL"),
            std::env::var("LIVEKIT_API_KEY"),
            std::env::var("LIVEKIT_API_SECRET"),
        ) {
            (Ok(url), Ok(key), Ok(secret)) => Server::Real { url, key, secret },
            _ => Server::sim().await,
        }
    }

    fn credentials(&self) -> (String, String, String) {
        match self {
            Server::Sim(sim) => (
                sim.ws_url(),
                sim.config().api_key.clone(),
                sim.config().api_secret.clone(),
            ),
            Server::Real { url, key, secret } => (url.clone(), key.clone(), secret.clone()),
        }
    }
}

struct Harness {
    server: Server,
    running: Running,
    base: String,
    key: String,
    http: reqwest::Client,
    /// The runtime's SQLite file, spool and scripts; the last field, so it is removed after
    /// the runtime is dropped.
    _data: ScratchDir,
}

async fn harness() -> Harness {
    harness_on(Server::sim().await).await
}

impl Harness {
    /// The simulator (tests of simulated phone numbers and in-process participants).
    fn sim(&self) -> &Simulator {
        match &self.server {
            Server::Sim(sim) => sim,
            Server::Real { .. } => panic!("this test needs the room simulator"),
        }
    }
}

async fn harness_on(server: Server) -> Harness {
    // Warnings are shown with a failing test's output; RUST_LOG=switchboard=info shows the
    // worker, the rooms and the calls.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("switchboard=warn,livekit_sim=warn")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
    assert!(
        speech::tts::EspeakVoice::is_installed(),
        "espeak-ng is needed to speak the test callers: apt-get install espeak-ng"
    );
    let (url, api_key, api_secret) = server.credentials();
    let setup = LiveKitSetup {
        config: LiveKitConfig {
            url,
            // Explicit dispatch only (as in production): the outbound rooms this process
            // creates itself are not offered back to it.
            agent_name: "switchboard".into(),
            routes: BTreeMap::from([
                (
                    "+15550100".to_string(),
                    Route {
                        tenant: "acme".into(),
                        script: "survey.post_conversation".into(),
                    },
                ),
                (
                    "+15550102".to_string(),
                    Route {
                        tenant: "acme".into(),
                        script: "test.escalate_always".into(),
                    },
                ),
                (
                    "+15550104".to_string(),
                    Route {
                        tenant: "acme".into(),
                        script: "test.transfer".into(),
                    },
                ),
            ]),
            default_route: None,
            outbound_trunk: Some("ST_test".into()),
            ring_timeout_secs: 5,
            join_url_template: Some("https://meet.example/?url={url}&token={token}".into()),
        },
        api_key: api_key.clone(),
        api_secret: api_secret.clone(),
    };
    let data = tmp("switchboard-lk");
    // The shipped survey, a script that escalates at any hour and one that transfers.
    let scripts = data.join("scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    let manifest = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        manifest.join("../scripts/survey.yaml"),
        scripts.join("survey.yaml"),
    )
    .unwrap();
    for fixture in ["escalate_always.yaml", "transfer.yaml"] {
        std::fs::copy(
            manifest.join("tests/fixtures").join(fixture),
            scripts.join(fixture),
        )
        .unwrap();
    }
    let dialer = LiveKitDialer {
        setup: setup.clone(),
    };
    let running = boot(
        tokio::task::spawn_blocking(|| support::models::local().clone())
            .await
            .unwrap(),
        BootOptions {
            database_url: format!("sqlite://{}", data.join("s.db").display()),
            data_dir: data.path().to_owned(),
            scripts_dir: scripts,
            listen: "127.0.0.1:0".parse().unwrap(),
            config: RuntimeConfig {
                poll_ms: 100,
                policy: Policy {
                    window: (NaiveTime::MIN, NaiveTime::MIN),
                    ..Policy::default()
                },
                ..RuntimeConfig::default()
            },
            llm: None,
            livekit: Some((api_key, api_secret)),
            dialers: HashMap::from([(
                "livekit".to_string(),
                std::sync::Arc::new(dialer)
                    as std::sync::Arc<dyn switchboard::runtime::dial::Dialer>,
            )]),
            sip: None,
        },
    )
    .await
    .expect("boot");
    spawn_worker(running.rt.clone(), setup).expect("worker");
    let (_, key) = running
        .rt
        .store
        .create_api_key("acme", "test", 6000)
        .await
        .unwrap();
    match &server {
        Server::Sim(sim) => {
            for _ in 0..100 {
                if !sim.workers().is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(!sim.workers().is_empty(), "the worker never registered");
        }
        // A real server lists no workers: give the registration a moment.
        Server::Real { .. } => tokio::time::sleep(Duration::from_secs(3)).await,
    }
    Harness {
        server,
        base: format!("http://{}", running.addr),
        running,
        key,
        http: reqwest::Client::new(),
        _data: data,
    }
}

impl Harness {
    async fn get(&self, path: &str) -> Value {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        res.json().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        res.json().await.unwrap()
    }

    /// A LiveKit SIP caller from `number` who dialled `dialled`, in `room`.
    async fn sip_caller(&self, room: &str, number: &str, dialled: &str) -> SimParticipant {
        let spec = ParticipantSpec {
            identity: format!("sip_{number}"),
            kind: Kind::Sip,
            attributes: HashMap::from([
                ("sip.trunkPhoneNumber".to_string(), dialled.to_string()),
                ("sip.phoneNumber".to_string(), number.to_string()),
                ("sip.callStatus".to_string(), "active".to_string()),
            ]),
            audio: Vec::new(),
        };
        self.sim()
            .add_participant(room, spec)
            .await
            .expect("caller joins")
    }

    /// The id of the first call, once the agent has asked its first question (the moment a
    /// caller answers; a fixed delay breaks when a loaded machine slows the greeting).
    async fn first_call_after_its_question(&self) -> String {
        let mut id = None;
        // A hang guard like `wait_for`'s (30 s was exceeded once in CI, cause not found:
        // RUST_LOG=switchboard=info,livekit_sim=info shows the job, the join and the caller).
        for _ in 0..1800 {
            let list = self.get("/v1/calls").await;
            if let Some(call) = list["calls"].as_array().and_then(|c| c.first()) {
                id = call["id"].as_str().map(str::to_owned);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let Some(id) = id else {
            // What the server saw, for the flake this guard once caught (no agent logs in CI).
            let participants: Vec<String> = match self.sim().jobs().first() {
                Some(job) => self
                    .sim()
                    .participants(&job.room)
                    .await
                    .into_iter()
                    .map(|p| p.identity)
                    .collect(),
                None => Vec::new(),
            };
            panic!(
                "no call was created for the dispatched room; jobs: {:?}; workers: {:?}; \
                 in the room: {participants:?}",
                self.sim().jobs(),
                self.sim().workers()
            );
        };
        self.wait_for(&id, "the agent's first line", |v| {
            v["transcript"]
                .as_array()
                .is_some_and(|t| t.iter().any(|l| l["speaker"] == "agent"))
        })
        .await;
        id
    }

    /// Polls the call until `done` holds for it (hang guard, not a performance bound).
    async fn wait_for(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        // Three minutes: four calls with local models share two cores in this test binary.
        for _ in 0..1800 {
            last = self.get(&format!("/v1/calls/{id}")).await;
            if done(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("call {id}: {what} never happened: {last:#}");
    }
}

fn ended(v: &Value) -> bool {
    v["call"]["ended_at"].is_i64() && !v["live"].as_bool().unwrap_or(true)
}

/// `text` in the espeak voice at 48 kHz after `lead_ms` of silence, then `tail_ms` more.
async fn spoken(text: &str, lead_ms: u32, tail_ms: u32) -> Vec<i16> {
    let mut clip = silence(lead_ms, HZ48);
    clip.extend(
        synthesise(&*espeak("en-gb+f2"), text, HZ48)
            .await
            .expect("espeak"),
    );
    clip.extend(silence(tail_ms, HZ48));
    clip
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_livekit_sip_caller_is_dispatched_routed_and_answered() {
    let h = harness().await;
    h.sim().dispatch("support-room-1", "switchboard", "");
    let caller = h
        .sip_caller("support-room-1", "+14155550123", "+15550100")
        .await;

    // The dispatched job becomes a call of the routed tenant; the caller answers its question.
    let id = h.first_call_after_its_question().await;
    caller.play(&spoken("Yes, it was resolved.", 300, 20_000).await);
    let live = h
        .wait_for(&id, "the answer", |v| {
            v["answers"]["problem_solved"].is_boolean()
        })
        .await;
    assert_eq!(live["call"]["transport"], "livekit", "{live:#}");
    assert_eq!(live["call"]["direction"], "inbound");
    assert_eq!(live["call"]["script_id"], "survey.post_conversation");
    assert_eq!(live["answers"]["problem_solved"], true, "{live:#}");
    assert_eq!(live["call"]["to"], "+15550100");
    assert!(
        caller
            .received_audio()
            .iter()
            .any(|s| s.unsigned_abs() > 3_000),
        "the caller never heard the agent"
    );

    // The live transcript reaches the room (LiveKit Transcription packets) for UIs.
    let captions: Vec<String> = caller
        .received_data()
        .iter()
        .filter_map(|p| match &p.value {
            Some(livekit_protocol::data_packet::Value::Transcription(t)) => Some(
                t.segments
                    .iter()
                    .map(|s| format!("{}: {}", t.transcribed_participant_identity, s.text))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        })
        .collect();
    assert!(
        captions
            .iter()
            .any(|c| c.starts_with("sip_+14155550123") && c.contains("resolved")),
        "{captions:?}"
    );
    caller.leave().await;
    let done = h.wait_for(&id, "the end", ended).await;
    assert_eq!(done["call"]["status"], "completed", "{done:#}");
    let jobs = h.sim().jobs();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    h.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_dial_out_through_livekit_sip_and_busy_is_a_disposition() {
    let h = harness().await;
    h.sim().set_sip_behaviour(
        "+14155550199",
        SipBehaviour::Answer {
            ring: Duration::from_millis(300),
            // A person says "Hello?", and again when nobody answers at once (a loaded
            // machine may start the call after the first one has gone by).
            audio: [
                spoken("Hello?", 300, 2_500).await,
                spoken("Hello?", 0, 30_000).await,
            ]
            .concat(),
        },
    );
    h.sim().set_sip_behaviour(
        "+14155550186",
        SipBehaviour::Busy {
            ring: Duration::from_millis(300),
        },
    );
    let dispatch = |to: &str| {
        json!({
            "to": to, "transport": "livekit", "script_id": "survey.post_conversation",
            "variables": { "first_name": "Dana" }, "consent": { "granted": true, "source": "test" },
            "max_attempts": 1,
        })
    };
    let busy = h.post("/v1/calls", dispatch("+14155550186")).await;
    let answered = h.post("/v1/calls", dispatch("+14155550199")).await;
    let busy_id = busy["id"].as_str().expect("dispatched").to_owned();
    let id = answered["id"].as_str().expect("dispatched").to_owned();

    let done = h.wait_for(&busy_id, "the busy end", ended).await;
    assert_eq!(done["call"]["disposition"], "busy", "{done:#}");

    // The person's "Hello?" is answer detection's human; the agent's greeting reaches them.
    let live = h
        .wait_for(&id, "the agent's first line", |v| {
            v["transcript"]
                .as_array()
                .is_some_and(|t| t.iter().any(|l| l["speaker"] == "agent"))
        })
        .await;
    assert_eq!(live["call"]["transport"], "livekit");
    let room = format!("call-{id}");
    let callee = h
        .sim()
        .sip_participant(&room, &format!("phone-{id}"))
        .expect("the SIP participant is in the call's room");
    for _ in 0..100 {
        if callee
            .received_audio()
            .iter()
            .any(|s| s.unsigned_abs() > 3_000)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        callee
            .received_audio()
            .iter()
            .any(|s| s.unsigned_abs() > 3_000),
        "the callee never heard the agent"
    );
    h.post(&format!("/v1/calls/{id}/hangup"), json!({})).await;
    let done = h.wait_for(&id, "the end", ended).await;
    assert_eq!(done["call"]["answered"], true, "{done:#}");
    h.running.shutdown().await;
}

/// Collects the webhook bodies POSTed to it.
async fn webhook_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                    sink.lock().unwrap().push(v);
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalated_caller_is_handed_to_a_human_agent_who_joins_the_room() {
    let h = harness().await;
    let (hook, seen) = webhook_receiver().await;
    h.running
        .rt
        .store
        .add_webhook("acme", &hook, "hook-secret")
        .await
        .unwrap();
    let room = "escalation-room";
    h.sim().dispatch(room, "switchboard", "");
    let caller = h.sip_caller(room, "+14155550177", "+15550102").await;
    h.first_call_after_its_question().await;
    caller.play(&spoken("My internet connection is down.", 300, 60_000).await);

    // The escalation reaches the backend while the caller waits, with a way into the room.
    let mut join = Value::Null;
    for _ in 0..600 {
        let found = seen
            .lock()
            .unwrap()
            .iter()
            .find(|b| b["type"] == "escalation.created")
            .cloned();
        if let Some(body) = found {
            join = body["data"]["join"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        join["room"], room,
        "no escalation webhook with a join link: {join}"
    );
    let token = join["token"].as_str().expect("a join token");
    assert!(
        join["url"].as_str().is_some_and(|u| u.contains(token)),
        "{join}"
    );

    // A human agent joins: briefed with the transcript as data, and the agent hands over.
    let human = h
        .sim()
        .add_participant(
            room,
            ParticipantSpec {
                identity: join["identity"].as_str().unwrap().to_owned(),
                kind: Kind::Standard,
                attributes: HashMap::new(),
                audio: Vec::new(),
            },
        )
        .await
        .expect("human joins");
    let list = h.get("/v1/calls").await;
    let id = list["calls"][0]["id"]
        .as_str()
        .expect("the call")
        .to_owned();
    let done = h.wait_for(&id, "the hand-over", ended).await;
    assert_eq!(done["call"]["outcome"], "escalated", "{done:#}");
    let said: Vec<String> = done["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["speaker"] == "agent")
        .map(|l| l["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        said.iter()
            .any(|l| l.contains("connected you with a specialist")),
        "{said:?}"
    );
    let briefing = human
        .received_data()
        .iter()
        .filter_map(|p| match &p.value {
            Some(livekit_protocol::data_packet::Value::User(u)) => {
                Some(String::from_utf8_lossy(&u.payload).into_owned())
            }
            _ => None,
        })
        .find(|s| s.contains("transcript"))
        .expect("the human agent got no briefing packet");
    assert!(briefing.contains("internet"), "{briefing}");
    // The agent left; the caller and the human stay.
    for _ in 0..100 {
        if h.sim().participants(room).await.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left: Vec<String> = h
        .sim()
        .participants(room)
        .await
        .into_iter()
        .map(|p| p.identity)
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    drop(caller);
    h.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_transfer_moves_the_livekit_sip_caller() {
    let h = harness().await;
    let room = "transfer-room";
    h.sim().dispatch(room, "switchboard", "");
    let caller = h.sip_caller(room, "+14155550166", "+15550104").await;
    let id = h.first_call_after_its_question().await;
    let done = h.wait_for(&id, "the transfer", ended).await;
    assert_eq!(done["call"]["end_reason"], "transferred", "{done:#}");
    let transfers = h.sim().sip_transfers();
    assert_eq!(transfers.len(), 1, "{transfers:?}");
    assert_eq!(transfers[0].room, room);
    assert_eq!(transfers[0].identity, "sip_+14155550166");
    assert_eq!(transfers[0].transfer_to, "tel:+15550777");
    assert!(
        caller
            .received_audio()
            .iter()
            .any(|s| s.unsigned_abs() > 3_000),
        "the caller never heard the line before the transfer"
    );
    h.running.shutdown().await;
}

/// The end-to-end proof with a WebRTC stack we did not write (on the simulator, or a real
/// server from `LIVEKIT_URL`, `LIVEKIT_API_KEY`, `LIVEKIT_API_SECRET`): the official LiveKit Python SDK
/// joins a room as a browser user and speaks; Switchboard's worker is dispatched to the room,
/// transcribes the answer, and the SDK's recording holds the agent's question.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_livekit_python_sdk_talks_to_the_agent() {
    // Against a real server when LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET are set.
    let h = harness_on(Server::from_env().await).await;
    let (url, api_key, api_secret) = h.server.credentials();
    let room = format!(
        "sdk-room-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let dir = tmp("livekit-sim-sdk-caller");
    let (said, heard) = (dir.join("said.wav"), dir.join("heard.wav"));
    lk::write_wav(&said, &spoken("Yes, it was resolved.", 14_000, 500).await);
    // Dispatched through LiveKit's AgentDispatch API, naming tenant and script.
    let metadata = json!({ "tenant": "acme", "script": "survey.post_conversation" });
    let http_url = url.replacen("ws", "http", 1);
    AgentDispatchClient::with_api_key(&http_url, &api_key, &api_secret)
        .create_dispatch(livekit_protocol::CreateAgentDispatchRequest {
            agent_name: "switchboard".into(),
            room: room.clone(),
            metadata: metadata.to_string(),
            ..Default::default()
        })
        .await
        .expect("agent dispatch");
    let token = AccessToken::with_api_key(&api_key, &api_secret)
        .with_identity("browser-user")
        .with_grants(VideoGrants {
            room_join: true,
            room: room.clone(),
            ..Default::default()
        })
        .to_jwt()
        .expect("token");
    let summary = lk::run_client(vec![
        "--url".into(),
        url,
        "--token".into(),
        token,
        "--publish".into(),
        said.display().to_string(),
        "--record".into(),
        heard.display().to_string(),
        "--duration".into(),
        "26".into(),
    ])
    .await;

    let list = h.get("/v1/calls").await;
    let id = list["calls"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no call for the SDK's room: {list:#} {summary}"))
        .to_owned();
    let done = h.wait_for(&id, "the end", ended).await;
    assert_eq!(done["answers"]["problem_solved"], true, "{done:#}");
    let recording = lk::read_wav(&heard);
    let at_16k =
        audio::resample_all(&recording, HZ48, SampleRate::HZ_16K).expect("resample the recording");
    let text = support::models::local()
        .whisper
        .transcribe(&speech::stt::DecodeRequest::new(&audio::i16_to_f32(
            &at_16k,
        )))
        .expect("transcribe the recording")
        .text
        .to_lowercase();
    assert!(
        text.contains("resolved") || text.contains("follow"),
        "the SDK did not hear the agent's question: {text:?}"
    );
    h.running.shutdown().await;
}
