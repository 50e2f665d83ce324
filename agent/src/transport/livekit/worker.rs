//! The agent worker: LiveKit's own dispatch spreads rooms over Switchboard processes.
//! [`start`] connects to the server's `/agent` endpoint with an agent-grant token,
//! registers (`JT_ROOM`, agent name), answers each `AvailabilityRequest` by the host's load
//! (admission control: declined when full), joins the room of each `JobAssignment` with the
//! job's token and hands the joined room to the host as [`WorkerEvent::JobStarted`]; it
//! reports job status (RUNNING, then SUCCESS/FAILED from [`WorkerHandle::job_finished`])
//! and its load every few seconds, pings, and reconnects and re-registers after a drop.
//!
//! Across a drop of the `/agent` link the joined rooms go on (they have their own
//! connections); the new registration reports the load and job count at once, job
//! results that came in meanwhile are sent on the new link (LiveKit ignores reports on jobs
//! a registration was not assigned, so a job's final status may be lost with a drop), and
//! new jobs are taken as before.

use std::collections::HashSet;
use std::sync::Arc;

use livekit_api::access_token::{AccessToken, VideoGrants};
use livekit_protocol as proto;
use proto::server_message::Message as Server;
use proto::worker_message::Message as Worker;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{interval, timeout, Duration, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::room::{join, JoinedRoom, RoomOptions};
use super::signal::{unix_ms, ws_base, SignalLink, FIRST_RESPONSE_TIMEOUT};
use super::{CallerRule, LiveKitError};

/// The host's current load, 0.0 (idle) to 1.0 (full). Called on every availability request
/// and status report; must be cheap.
pub type LoadFn = Arc<dyn Fn() -> f32 + Send + Sync>;

/// How the worker registers and joins.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub url: String,
    pub api_key: String,
    pub api_secret: String,
    /// Empty: every new room is offered to us; else only explicit dispatches of this name.
    pub agent_name: String,
    /// Jobs this process takes at most (0: no limit besides load).
    pub max_jobs: u32,
    /// Every how often the worker reports its load.
    pub status_interval: Duration,
    /// Options for joining assigned rooms (url and token are taken from the assignment).
    pub room: RoomOptions,
}

impl WorkerConfig {
    pub fn new(url: &str, api_key: &str, api_secret: &str, agent_name: &str) -> Self {
        let mut room = RoomOptions::new(url, "");
        room.caller = CallerRule::FirstPerson;
        Self {
            url: url.to_string(),
            api_key: api_key.to_string(),
            api_secret: api_secret.to_string(),
            agent_name: agent_name.to_string(),
            max_jobs: 0,
            status_interval: Duration::from_secs(5),
            room,
        }
    }

    fn token(&self) -> Result<String, LiveKitError> {
        AccessToken::with_api_key(&self.api_key, &self.api_secret)
            .with_identity(&format!("switchboard-worker-{}", std::process::id()))
            .with_grants(VideoGrants {
                agent: true,
                ..Default::default()
            })
            .to_jwt()
            .map_err(|e| LiveKitError::Token(e.to_string()))
    }
}

/// A job the worker accepted.
#[derive(Debug, Clone)]
pub struct JobRequest {
    pub job: proto::Job,
    pub url: String,
}

/// What the worker tells its host.
pub enum WorkerEvent {
    Registered {
        worker_id: String,
    },
    /// A job's room is joined: run the call, then call [`WorkerHandle::job_finished`].
    JobStarted {
        request: Box<JobRequest>,
        room: Box<JoinedRoom>,
    },
    /// Joining an assigned room failed (already reported FAILED).
    JobFailed {
        job_id: String,
        error: String,
    },
    /// The server ended a job: leave its room.
    JobTerminated {
        job_id: String,
    },
    /// The `/agent` link dropped; the worker reconnects.
    Disconnected {
        reason: String,
    },
}

enum WorkerCommand {
    Finished {
        job_id: String,
        error: Option<String>,
        /// Told once the status is on the wire.
        sent: oneshot::Sender<()>,
    },
}

/// How long [`WorkerHandle::job_finished`] waits for its report to be sent (the link may be
/// down, reconnecting).
const REPORT_WAIT: Duration = Duration::from_secs(2);

/// Reports to a running worker.
#[derive(Clone)]
pub struct WorkerHandle {
    commands: mpsc::Sender<WorkerCommand>,
}

impl WorkerHandle {
    /// The job's call ended: reported SUCCESS (or FAILED with `error`). Returns once the
    /// report is sent (or after a short wait when the link is down), so that the room is
    /// left after it: LiveKit fails a job whose agent leaves the room while it still runs.
    pub async fn job_finished(&self, job_id: &str, error: Option<String>) {
        let (sent, on_wire) = oneshot::channel();
        let command = WorkerCommand::Finished {
            job_id: job_id.to_string(),
            error,
            sent,
        };
        if self.commands.send(command).await.is_ok() {
            let _ = timeout(REPORT_WAIT, on_wire).await;
        }
    }
}

/// Starts the worker. It runs until `cancel` fires; the returned task ends after that.
///
/// # Errors
/// [`LiveKitError::Token`] when the API key or secret is empty.
pub fn start(
    config: WorkerConfig,
    load: LoadFn,
    cancel: CancellationToken,
) -> Result<(WorkerHandle, mpsc::Receiver<WorkerEvent>, JoinHandle<()>), LiveKitError> {
    config.token()?;
    let (cmd_tx, commands) = mpsc::channel(32);
    let (events_tx, events) = mpsc::channel(16);
    let (joined_tx, joined_rx) = mpsc::channel(16);
    let actor = WorkerActor {
        config,
        load,
        cancel,
        commands,
        events: events_tx,
        joined_tx,
        joined_rx,
        jobs: HashSet::new(),
        tasks: TaskTracker::new(),
        instance_id: short_id(),
    };
    Ok((
        WorkerHandle { commands: cmd_tx },
        events,
        tokio::spawn(actor.run()),
    ))
}

struct WorkerActor {
    config: WorkerConfig,
    load: LoadFn,
    cancel: CancellationToken,
    /// From the host's handles; the worker keeps running when they are all dropped.
    commands: mpsc::Receiver<WorkerCommand>,
    /// To the host; `JobStarted` waits for room in it (backpressure on joins).
    events: mpsc::Sender<WorkerEvent>,
    joined_tx: mpsc::Sender<(String, Result<(), String>)>,
    /// Results of the join tasks: (job id, joined or why not).
    joined_rx: mpsc::Receiver<(String, Result<(), String>)>,
    /// Jobs accepted and not finished.
    jobs: HashSet<String>,
    /// Join tasks.
    tasks: TaskTracker,
    /// Random per worker, the same across re-registrations (the server may tell a
    /// re-registration of this worker from another process).
    instance_id: String,
}

impl WorkerActor {
    async fn run(mut self) {
        let mut attempt = 0u32;
        while !self.cancel.is_cancelled() {
            match self.connect().await {
                Ok(link) => {
                    attempt = 0;
                    let reason = self.serve(link).await;
                    if self.cancel.is_cancelled() {
                        break;
                    }
                    tracing::warn!(%reason, "LiveKit agent link lost; reconnecting.");
                    let _ = self.events.try_send(WorkerEvent::Disconnected { reason });
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "LiveKit worker registration failed.")
                }
            }
            attempt = (attempt + 1).min(6);
            let backoff = Duration::from_millis(250 << attempt);
            tokio::select! {
                _ = self.cancel.cancelled() => break,
                _ = tokio::time::sleep(backoff) => {}
            }
        }
        self.tasks.close();
        self.tasks.wait().await;
    }

    async fn connect(&mut self) -> Result<SignalLink, LiveKitError> {
        let url = format!("{}/agent", ws_base(&self.config.url)?);
        let mut link = SignalLink::open(&url, &self.config.token()?).await?;
        link.send(&msg(Worker::Register(proto::RegisterWorkerRequest {
            r#type: proto::JobType::JtRoom as i32,
            agent_name: self.config.agent_name.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            instance_id: self.instance_id.clone(),
            ..Default::default()
        })))
        .await?;
        let resp = timeout(FIRST_RESPONSE_TIMEOUT, link.recv::<proto::ServerMessage>())
            .await
            .map_err(|_| LiveKitError::NoResponse("RegisterWorkerResponse"))??;
        match resp.message {
            Some(Server::Register(r)) => {
                tracing::info!(worker_id = %r.worker_id, agent = %self.config.agent_name, "LiveKit worker registered.");
                let _ = self.events.try_send(WorkerEvent::Registered {
                    worker_id: r.worker_id,
                });
                Ok(link)
            }
            other => Err(LiveKitError::Unexpected(format!("{other:?}"))),
        }
    }

    fn status(&self) -> proto::UpdateWorkerStatus {
        let load = (self.load)().clamp(0.0, 1.0);
        proto::UpdateWorkerStatus {
            status: Some(if self.available(load) {
                proto::WorkerStatus::WsAvailable
            } else {
                proto::WorkerStatus::WsFull
            } as i32),
            load,
            job_count: self.jobs.len() as u32,
            ..Default::default()
        }
    }

    fn available(&self, load: f32) -> bool {
        load < 1.0 && (self.config.max_jobs == 0 || (self.jobs.len() as u32) < self.config.max_jobs)
    }

    /// Serves one connection until it drops (returns why) or the worker is cancelled.
    async fn serve(&mut self, mut link: SignalLink) -> String {
        let mut status = interval(self.config.status_interval);
        status.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let out: Option<Worker> = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => {
                    link.close().await;
                    return "cancelled".into();
                }
                Some(cmd) = self.commands.recv() => match cmd {
                    WorkerCommand::Finished { job_id, error, sent } => {
                        self.jobs.remove(&job_id);
                        if let Err(e) = link.send(&msg(job_status(&job_id, error.as_deref()))).await {
                            return e.to_string();
                        }
                        let _ = sent.send(());
                        None
                    }
                },
                Some((job_id, result)) = self.joined_rx.recv() => match result {
                    Ok(()) => Some(Worker::UpdateJob(proto::UpdateJobStatus {
                        job_id,
                        status: proto::JobStatus::JsRunning as i32,
                        error: String::new(),
                    })),
                    Err(e) => {
                        self.jobs.remove(&job_id);
                        Some(job_status(&job_id, Some(&e)))
                    }
                },
                m = link.recv::<proto::ServerMessage>() => match m {
                    Ok(m) => self.on_server(m.message),
                    Err(e) => return e.to_string(),
                },
                _ = status.tick() => {
                    if link.send(&msg(Worker::Ping(proto::WorkerPing { timestamp: unix_ms() }))).await.is_err() {
                        return "ping failed".into();
                    }
                    Some(Worker::UpdateWorker(self.status()))
                }
            };
            if let Some(m) = out {
                if let Err(e) = link.send(&msg(m)).await {
                    return e.to_string();
                }
            }
        }
    }

    fn on_server(&mut self, m: Option<Server>) -> Option<Worker> {
        match m? {
            Server::Availability(req) => {
                let job = req.job.unwrap_or_default();
                let load = (self.load)();
                let available = self.available(load);
                tracing::info!(job_id = %job.id, available, load, "LiveKit job offered.");
                if available {
                    // Counted from now, so a burst of offers cannot overfill us.
                    self.jobs.insert(job.id.clone());
                }
                Some(Worker::Availability(proto::AvailabilityResponse {
                    job_id: job.id,
                    available,
                    participant_identity: format!("switchboard-{}", short_id()),
                    participant_name: "Switchboard".into(),
                    ..Default::default()
                }))
            }
            Server::Assignment(a) => {
                let job = a.job.unwrap_or_default();
                self.jobs.insert(job.id.clone());
                let url = a
                    .url
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(|| self.config.url.clone());
                let mut opts = self.config.room.clone();
                opts.url = url.clone();
                opts.token = a.token;
                let request = JobRequest { job, url };
                let events = self.events.clone();
                let done = self.joined_tx.clone();
                let cancel = self.cancel.child_token();
                self.tasks.spawn(async move {
                    let id = request.job.id.clone();
                    match join(opts, cancel).await {
                        Ok(room) => {
                            let _ = done.send((id, Ok(()))).await;
                            let _ = events
                                .send(WorkerEvent::JobStarted { request: Box::new(request), room: Box::new(room) })
                                .await;
                        }
                        Err(e) => {
                            tracing::warn!(job_id = %id, error = %e, "Joining the job's room failed.");
                            let _ = done.send((id.clone(), Err(e.to_string()))).await;
                            let _ = events
                                .send(WorkerEvent::JobFailed { job_id: id, error: e.to_string() })
                                .await;
                        }
                    }
                });
                None
            }
            Server::Termination(t) => {
                let _ = self
                    .events
                    .try_send(WorkerEvent::JobTerminated { job_id: t.job_id });
                None
            }
            Server::Register(_) | Server::Pong(_) => None,
            other => {
                tracing::trace!(?other, "Agent server message not used.");
                None
            }
        }
    }
}

fn job_status(job_id: &str, error: Option<&str>) -> Worker {
    Worker::UpdateJob(proto::UpdateJobStatus {
        job_id: job_id.to_string(),
        status: match error {
            None => proto::JobStatus::JsSuccess,
            Some(_) => proto::JobStatus::JsFailed,
        } as i32,
        error: error.unwrap_or_default().to_string(),
    })
}

fn msg(m: Worker) -> proto::WorkerMessage {
    proto::WorkerMessage { message: Some(m) }
}

fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}
