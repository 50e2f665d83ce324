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
//!
//! As on LiveKit: a worker whose socket closes is forgotten (it comes back as a new
//! registration, and the jobs it still runs are no longer its to report on); a job ends when
//! its worker says SUCCESS or FAILED, or when its agent leaves the room first (the worker is
//! sent `JobTermination` and the job is marked failed). `Simulator::drop_workers` cuts every
//! worker's socket.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use livekit_protocol as proto;

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

pub(crate) struct Worker {
    pub info: WorkerInfo,
    pub tx: tokio::sync::mpsc::Sender<proto::ServerMessage>,
    /// Cuts the worker's socket (`Simulator::drop_workers`).
    pub cut: Arc<tokio::sync::Notify>,
}

pub(crate) struct JobRecord {
    pub info: JobInfo,
    pub job: proto::Job,
    pub offered_to: Option<String>,
}

/// Workers and jobs.
#[derive(Default)]
pub(crate) struct Agents {
    state: Mutex<AgentState>,
}

#[derive(Default)]
pub(crate) struct AgentState {
    pub workers: HashMap<String, Worker>,
    pub jobs: Vec<JobRecord>,
    pub auto_dispatched: HashSet<String>,
}

impl Agents {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, AgentState> {
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

    /// Cuts every worker's socket; returns how many there were.
    pub fn drop_all(&self) -> usize {
        let state = self.lock();
        for worker in state.workers.values() {
            worker.cut.notify_one();
        }
        state.workers.len()
    }
}

/// Whether a job has ended (its worker's last word, or the server's).
pub(crate) fn ended(status: proto::JobStatus) -> bool {
    matches!(
        status,
        proto::JobStatus::JsSuccess | proto::JobStatus::JsFailed
    )
}

/// A participant left `room`: if it was the agent of a job still running, the job is
/// terminated (`JobTermination` to its worker) and marked failed, as LiveKit does when an
/// agent leaves the room before its job ended, whatever the reason (a clean leave before the
/// job's final status, a full reconnect, a departure timeout).
pub(crate) fn participant_left(shared: &Shared, room: &str, identity: &str) {
    let mut state = shared.agents.lock();
    let AgentState { workers, jobs, .. } = &mut *state;
    for record in jobs.iter_mut() {
        let info = &mut record.info;
        if info.room != room || info.participant_identity != identity || ended(info.status) {
            continue;
        }
        let Some(worker) = info.worker_id.as_ref().and_then(|id| workers.get(id)) else {
            continue;
        };
        let termination = proto::server_message::Message::Termination(proto::JobTermination {
            job_id: info.id.clone(),
        });
        let _ = worker.tx.try_send(proto::ServerMessage {
            message: Some(termination),
        });
        info.status = proto::JobStatus::JsFailed;
        info.error = "agent worker left the room".to_owned();
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
pub(crate) fn offer(shared: &Shared, job_id: &str) {
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

/// Jobs still waiting for a worker of `agent_name`.
pub(crate) fn offer_waiting(shared: &Shared, agent_name: &str) {
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

pub(crate) fn accept_or_decline(
    shared: &Shared,
    worker: Option<&str>,
    answer: proto::AvailabilityResponse,
) {
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
