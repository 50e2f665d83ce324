//! `/agent`: the agent-worker protocol and job dispatch.
//!
//! A worker registers (`RegisterWorkerRequest` → `RegisterWorkerResponse`). Jobs come from a
//! room's first non-agent participant (for workers with an empty `agent_name`) or from an
//! explicit dispatch (`Simulator::dispatch`, twirp `CreateDispatch`) naming an agent. A job is
//! offered to one matching, available worker at a time (`AvailabilityRequest`); a worker that
//! accepts gets `JobAssignment{job, token, url}` (the token is for the identity it chose), one
//! that declines is skipped and the next is asked; when nobody accepts the job fails. Job and
//! worker status updates are recorded for tests ([`crate::Simulator::jobs`],
//! [`crate::Simulator::workers`]). Jobs pending for want of a worker are offered when one
//! registers.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::{SinkExt, StreamExt};
use livekit_protocol as proto;
use prost::Message as _;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::simulator::Shared;

/// A job as the simulator tracks it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInfo {
    /// Job id (`AJ_...`).
    pub id: String,
    /// Room name.
    pub room: String,
    /// Agent name the job is for (empty: any worker without a name).
    pub agent_name: String,
    /// Metadata given at dispatch.
    pub metadata: String,
    /// The worker that accepted it, if any.
    pub worker_id: Option<String>,
    /// Workers that declined it.
    pub declined_by: Vec<String>,
    /// The identity the worker joins as (from its `AvailabilityResponse`).
    pub participant_identity: String,
    /// Last status (pending until assigned and reported).
    pub status: proto::JobStatus,
    /// Last error reported.
    pub error: String,
}

/// A registered worker as the simulator tracks it.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerInfo {
    /// Worker id (`AW_...`).
    pub id: String,
    /// Agent name it registered with.
    pub agent_name: String,
    /// Last reported status.
    pub status: proto::WorkerStatus,
    /// Last reported load (0..1).
    pub load: f32,
    /// Last reported job count.
    pub job_count: u32,
}

struct Worker {
    info: WorkerInfo,
    tx: tokio::sync::mpsc::Sender<proto::ServerMessage>,
}

struct JobRecord {
    info: JobInfo,
    job: proto::Job,
    offered_to: Option<String>,
}

/// Workers and jobs.
#[derive(Default)]
pub(crate) struct Agents {
    state: Mutex<AgentState>,
}

#[derive(Default)]
struct AgentState {
    workers: HashMap<String, Worker>,
    jobs: Vec<JobRecord>,
    auto_dispatched: HashSet<String>,
}

impl Agents {
    fn lock(&self) -> std::sync::MutexGuard<'_, AgentState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn jobs(&self) -> Vec<JobInfo> {
        self.lock().jobs.iter().map(|j| j.info.clone()).collect()
    }

    pub fn workers(&self) -> Vec<WorkerInfo> {
        self.lock()
            .workers
            .values()
            .map(|w| w.info.clone())
            .collect()
    }
}

/// A room got a participant: the first non-agent one triggers the automatic dispatch.
pub(crate) fn room_joined(shared: &Shared, room: &str, kind: proto::participant_info::Kind) {
    if kind == proto::participant_info::Kind::Agent {
        return;
    }
    if !shared.agents.lock().auto_dispatched.insert(room.to_owned()) {
        return;
    }
    let any_unnamed = shared
        .agents
        .lock()
        .workers
        .values()
        .any(|w| w.info.agent_name.is_empty());
    if any_unnamed {
        dispatch(shared, room, "", "");
    }
}

/// Creates a job for `agent_name` in `room` and offers it; returns the job id.
pub(crate) fn dispatch(shared: &Shared, room: &str, agent_name: &str, metadata: &str) -> String {
    let (room_info, _) = shared.rooms.ensure_room(room);
    let id = shared.rooms.new_id("AJ_");
    let job = proto::Job {
        id: id.clone(),
        dispatch_id: shared.rooms.new_id("AD_"),
        r#type: proto::JobType::JtRoom as i32,
        room: Some(room_info),
        agent_name: agent_name.to_owned(),
        metadata: metadata.to_owned(),
        state: Some(proto::JobState::default()),
        ..Default::default()
    };
    shared.agents.lock().jobs.push(JobRecord {
        info: JobInfo {
            id: id.clone(),
            room: room.to_owned(),
            agent_name: agent_name.to_owned(),
            metadata: metadata.to_owned(),
            worker_id: None,
            declined_by: Vec::new(),
            participant_identity: String::new(),
            status: proto::JobStatus::JsPending,
            error: String::new(),
        },
        job,
        offered_to: None,
    });
    offer(shared, &id);
    id
}

/// Offers a pending job to the next matching worker (or fails it when all declined).
fn offer(shared: &Shared, job_id: &str) {
    let mut state = shared.agents.lock();
    let AgentState { workers, jobs, .. } = &mut *state;
    let Some(record) = jobs.iter_mut().find(|j| j.info.id == job_id) else {
        return;
    };
    let mut candidates: Vec<&Worker> = workers
        .values()
        .filter(|w| w.info.agent_name == record.info.agent_name)
        .filter(|w| w.info.status == proto::WorkerStatus::WsAvailable)
        .filter(|w| !record.info.declined_by.contains(&w.info.id))
        .collect();
    candidates.sort_by(|a, b| a.info.load.total_cmp(&b.info.load));
    let Some(worker) = candidates.first() else {
        if !record.info.declined_by.is_empty() {
            record.info.status = proto::JobStatus::JsFailed;
            record.info.error = "no worker accepted the job".to_owned();
        }
        return;
    };
    record.offered_to = Some(worker.info.id.clone());
    let message = proto::server_message::Message::Availability(proto::AvailabilityRequest {
        job: Some(record.job.clone()),
        resuming: false,
    });
    let _ = worker.tx.try_send(proto::ServerMessage {
        message: Some(message),
    });
}

/// Serves one worker's socket.
pub(crate) async fn serve(shared: Arc<Shared>, mut ws: WebSocketStream<TcpStream>) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<proto::ServerMessage>(64);
    let mut worker_id: Option<String> = None;
    loop {
        tokio::select! {
            Some(message) = rx.recv() => {
                if ws.send(Message::Binary(message.encode_to_vec().into())).await.is_err() {
                    break;
                }
            }
            frame = ws.next() => match frame {
                Some(Ok(Message::Binary(bytes))) => {
                    match proto::WorkerMessage::decode(bytes.as_ref()) {
                        Ok(proto::WorkerMessage { message: Some(message) }) => {
                            handle(&shared, &tx, &mut worker_id, message);
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(%e, "undecodable worker message"),
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    }
    if let Some(id) = worker_id {
        shared.agents.lock().workers.remove(&id);
    }
}

fn handle(
    shared: &Shared,
    tx: &tokio::sync::mpsc::Sender<proto::ServerMessage>,
    worker_id: &mut Option<String>,
    message: proto::worker_message::Message,
) {
    use proto::server_message::Message as Out;
    use proto::worker_message::Message as In;
    let send = |m: Out| {
        let _ = tx.try_send(proto::ServerMessage { message: Some(m) });
    };
    match message {
        In::Register(register) => {
            let id = shared.rooms.new_id("AW_");
            shared.agents.lock().workers.insert(
                id.clone(),
                Worker {
                    info: WorkerInfo {
                        id: id.clone(),
                        agent_name: register.agent_name.clone(),
                        status: proto::WorkerStatus::WsAvailable,
                        load: 0.0,
                        job_count: 0,
                    },
                    tx: tx.clone(),
                },
            );
            *worker_id = Some(id.clone());
            send(Out::Register(proto::RegisterWorkerResponse {
                worker_id: id,
                server_info: Some(crate::join::server_info()),
                ..Default::default()
            }));
            offer_waiting(shared, &register.agent_name);
        }
        In::Availability(answer) => accept_or_decline(shared, worker_id.as_deref(), answer),
        In::UpdateJob(update) => {
            let mut state = shared.agents.lock();
            if let Some(job) = state.jobs.iter_mut().find(|j| j.info.id == update.job_id) {
                job.info.status = proto::JobStatus::try_from(update.status)
                    .unwrap_or(proto::JobStatus::JsPending);
                job.info.error = update.error;
            }
        }
        In::UpdateWorker(update) => {
            let mut state = shared.agents.lock();
            if let Some(w) = worker_id.as_ref().and_then(|id| state.workers.get_mut(id)) {
                if let Some(status) = update.status {
                    w.info.status = proto::WorkerStatus::try_from(status)
                        .unwrap_or(proto::WorkerStatus::WsAvailable);
                }
                w.info.load = update.load;
                w.info.job_count = update.job_count;
            }
        }
        In::Ping(ping) => send(Out::Pong(proto::WorkerPong {
            last_timestamp: ping.timestamp,
            timestamp: crate::state::now_ms(),
        })),
        _ => {}
    }
}

/// Jobs still waiting for a worker of `agent_name`.
fn offer_waiting(shared: &Shared, agent_name: &str) {
    let waiting: Vec<String> = shared
        .agents
        .lock()
        .jobs
        .iter()
        .filter(|j| j.info.agent_name == agent_name && j.offered_to.is_none())
        .filter(|j| j.info.status == proto::JobStatus::JsPending)
        .map(|j| j.info.id.clone())
        .collect();
    for id in waiting {
        offer(shared, &id);
    }
}

fn accept_or_decline(shared: &Shared, worker: Option<&str>, answer: proto::AvailabilityResponse) {
    let Some(worker) = worker else {
        return;
    };
    let mut state = shared.agents.lock();
    let AgentState { workers, jobs, .. } = &mut *state;
    let Some(record) = jobs.iter_mut().find(|j| j.info.id == answer.job_id) else {
        return;
    };
    if record.offered_to.as_deref() != Some(worker) {
        return;
    }
    if !answer.available {
        record.info.declined_by.push(worker.to_owned());
        record.offered_to = None;
        let id = record.info.id.clone();
        drop(state);
        offer(shared, &id);
        return;
    }
    let identity = if answer.participant_identity.is_empty() {
        format!("agent-{}", record.info.id)
    } else {
        answer.participant_identity.clone()
    };
    record.info.worker_id = Some(worker.to_owned());
    record.info.participant_identity = identity.clone();
    let name = if answer.participant_name.is_empty() {
        identity.clone()
    } else {
        answer.participant_name.clone()
    };
    let token = shared.agent_token(&record.info.room, &identity, &name, &answer);
    let mut job = record.job.clone();
    if let Some(state) = job.state.as_mut() {
        state.participant_identity = identity;
        state.worker_id = worker.to_owned();
    }
    let assignment = proto::server_message::Message::Assignment(proto::JobAssignment {
        job: Some(job),
        url: Some(shared.ws_url.clone()),
        token,
    });
    if let Some(w) = workers.get(worker) {
        let _ = w.tx.try_send(proto::ServerMessage {
            message: Some(assignment),
        });
    }
}
