//! The `/agent` worker protocol: registration, automatic and explicit dispatch, a declining
//! worker skipped for the next one, assignment tokens, job and worker status, ping.

use std::collections::HashMap;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use livekit_api::access_token::TokenVerifier;
use livekit_protocol as proto;
use livekit_sim::{ParticipantSpec, SimConfig, Simulator};
use prost::Message as _;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Worker {
    ws: Ws,
    id: String,
}

impl Worker {
    async fn register(sim: &Simulator, agent_name: &str) -> Worker {
        let mut request = format!("{}/agent", sim.ws_url())
            .into_client_request()
            .expect("request");
        let bearer = format!("Bearer {}", sim.worker_token());
        request
            .headers_mut()
            .insert("Authorization", bearer.parse().expect("header"));
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("connect /agent");
        let mut worker = Worker {
            ws,
            id: String::new(),
        };
        worker
            .send(proto::worker_message::Message::Register(
                proto::RegisterWorkerRequest {
                    r#type: proto::JobType::JtRoom as i32,
                    agent_name: agent_name.to_owned(),
                    version: "test".to_owned(),
                    ..Default::default()
                },
            ))
            .await;
        match worker.recv().await {
            proto::server_message::Message::Register(r) => worker.id = r.worker_id,
            other => panic!("expected RegisterWorkerResponse, got {other:?}"),
        }
        worker
    }

    async fn send(&mut self, message: proto::worker_message::Message) {
        let bytes = proto::WorkerMessage {
            message: Some(message),
        }
        .encode_to_vec();
        self.ws
            .send(Message::Binary(bytes.into()))
            .await
            .expect("send");
    }

    async fn recv(&mut self) -> proto::server_message::Message {
        loop {
            match self.ws.next().await.expect("socket open").expect("frame") {
                Message::Binary(bytes) => {
                    let message = proto::ServerMessage::decode(bytes.as_ref()).expect("decode");
                    return message.message.expect("message set");
                }
                _ => continue,
            }
        }
    }

    async fn availability(&mut self) -> proto::Job {
        match self.recv().await {
            proto::server_message::Message::Availability(a) => a.job.expect("job"),
            other => panic!("expected AvailabilityRequest, got {other:?}"),
        }
    }

    async fn answer(&mut self, job: &proto::Job, available: bool, identity: &str) {
        self.send(proto::worker_message::Message::Availability(
            proto::AvailabilityResponse {
                job_id: job.id.clone(),
                available,
                participant_identity: identity.to_owned(),
                ..Default::default()
            },
        ))
        .await;
    }

    async fn load(&mut self, load: f32) {
        self.send(proto::worker_message::Message::UpdateWorker(
            proto::UpdateWorkerStatus {
                status: Some(proto::WorkerStatus::WsAvailable as i32),
                load,
                job_count: 0,
                ..Default::default()
            },
        ))
        .await;
    }
}

/// Polls the simulator's view until `check` holds (the worker's messages are asynchronous).
async fn eventually(mut check: impl FnMut() -> bool) {
    while !check() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_declined_job_goes_to_the_next_worker_which_gets_a_token_for_its_identity() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let mut idle = Worker::register(&sim, "").await;
    let mut busy = Worker::register(&sim, "").await;
    idle.load(0.1).await;
    busy.load(0.7).await;
    eventually(|| sim.workers().iter().filter(|w| w.load > 0.0).count() == 2).await;

    // The room's first (non-agent) participant triggers the automatic dispatch.
    let caller = sim
        .add_participant(
            "support-1",
            ParticipantSpec {
                identity: "caller".to_owned(),
                ..Default::default()
            },
        )
        .await
        .expect("caller joins");

    let job = idle.availability().await; // least loaded first
    assert_eq!(
        job.room.as_ref().map(|r| r.name.as_str()),
        Some("support-1")
    );
    idle.answer(&job, false, "").await;
    let offered_again = busy.availability().await;
    assert_eq!(offered_again.id, job.id);
    busy.answer(&job, true, "agent-7").await;
    let assignment = match busy.recv().await {
        proto::server_message::Message::Assignment(a) => a,
        other => panic!("expected JobAssignment, got {other:?}"),
    };
    assert_eq!(assignment.url.as_deref(), Some(sim.ws_url().as_str()));
    let claims = TokenVerifier::with_api_key(&sim.config().api_key, &sim.config().api_secret)
        .verify(&assignment.token)
        .expect("the assignment token verifies");
    assert_eq!(claims.sub, "agent-7");
    assert_eq!(claims.kind, "agent");
    assert!(claims.video.room_join && claims.video.room == "support-1");

    busy.send(proto::worker_message::Message::UpdateJob(
        proto::UpdateJobStatus {
            job_id: job.id.clone(),
            status: proto::JobStatus::JsRunning as i32,
            error: String::new(),
        },
    ))
    .await;
    eventually(|| sim.jobs()[0].status == proto::JobStatus::JsRunning).await;
    let record = &sim.jobs()[0];
    assert_eq!(record.worker_id.as_deref(), Some(busy.id.as_str()));
    assert_eq!(record.declined_by, vec![idle.id.clone()]);
    assert_eq!(record.participant_identity, "agent-7");

    // Ping.
    busy.send(proto::worker_message::Message::Ping(proto::WorkerPing {
        timestamp: 42,
    }))
    .await;
    match busy.recv().await {
        proto::server_message::Message::Pong(p) => assert_eq!(p.last_timestamp, 42),
        other => panic!("expected pong, got {other:?}"),
    }
    caller.leave().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn explicit_dispatch_reaches_only_the_named_agent_and_fails_when_all_decline() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let mut unnamed = Worker::register(&sim, "").await;
    let mut named = Worker::register(&sim, "receptionist").await;

    let id = sim.dispatch("lobby", "receptionist", r#"{"tenant":"acme"}"#);
    let job = named.availability().await;
    assert_eq!(job.id, id);
    assert_eq!(job.agent_name, "receptionist");
    assert_eq!(job.metadata, r#"{"tenant":"acme"}"#);
    named.answer(&job, false, "").await;
    eventually(|| sim.jobs()[0].status == proto::JobStatus::JsFailed).await;

    // The unnamed worker was never asked about the named job: its next message is the
    // automatic dispatch of a new room.
    let _guest = sim
        .add_participant(
            "other-room",
            ParticipantSpec {
                identity: "guest".to_owned(),
                attributes: HashMap::new(),
                ..Default::default()
            },
        )
        .await
        .expect("guest joins");
    let auto = unnamed.availability().await;
    assert_eq!(auto.agent_name, "");
    assert_eq!(auto.room.map(|r| r.name), Some("other-room".to_owned()));
    sim.shutdown().await;
}
