//! One agent worker's `/agent` WebSocket: registration, availability answers, job and
//! worker status, pings. The jobs and dispatch live in [`crate::agent`].
//!
//! Lifecycle: [`serve`] runs until the socket closes or `Simulator::drop_workers` cuts it;
//! the worker is then forgotten ([`worker_gone`]).

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use livekit_protocol as proto;
use prost::Message as _;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::agent::{accept_or_decline, ended, offer, offer_waiting, Worker, WorkerInfo};
use crate::simulator::Shared;

/// Serves one worker's socket.
pub(crate) async fn serve(shared: Arc<Shared>, mut ws: WebSocketStream<TcpStream>) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<proto::ServerMessage>(64);
    let cut = Arc::new(tokio::sync::Notify::new());
    let mut worker_id: Option<String> = None;
    loop {
        tokio::select! {
            () = cut.notified() => {
                let _ = ws.close(None).await;
                break;
            }
            Some(message) = rx.recv() => {
                if ws.send(Message::Binary(message.encode_to_vec().into())).await.is_err() {
                    break;
                }
            }
            frame = ws.next() => match frame {
                Some(Ok(Message::Binary(bytes))) => {
                    match proto::WorkerMessage::decode(bytes.as_ref()) {
                        Ok(proto::WorkerMessage { message: Some(message) }) => {
                            handle(&shared, (&tx, &cut), &mut worker_id, message);
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
        worker_gone(&shared, &id);
    }
}

/// A worker's socket closed: it is forgotten (a worker that comes back registers anew, with
/// a new id, and the jobs it still runs are no longer its own to report on, as on LiveKit);
/// a job it was offered and had not answered goes to the next worker.
fn worker_gone(shared: &Shared, id: &str) {
    let unanswered: Vec<String> = {
        let mut state = shared.agents.lock();
        state.workers.remove(id);
        state
            .jobs
            .iter_mut()
            .filter(|j| j.offered_to.as_deref() == Some(id) && j.info.worker_id.is_none())
            .map(|j| {
                j.offered_to = None;
                j.info.id.clone()
            })
            .collect()
    };
    for job in unanswered {
        offer(shared, &job);
    }
}

fn handle(
    shared: &Shared,
    (tx, cut): (
        &tokio::sync::mpsc::Sender<proto::ServerMessage>,
        &Arc<tokio::sync::Notify>,
    ),
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
                    cut: cut.clone(),
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
            // Only the worker the job was assigned to reports on it (LiveKit ignores an
            // update for a job the sending registration does not run).
            if let Some(job) = state.jobs.iter_mut().find(|j| {
                j.info.id == update.job_id
                    && j.info.worker_id.is_some()
                    && j.info.worker_id == *worker_id
                    && !ended(j.info.status)
            }) {
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
