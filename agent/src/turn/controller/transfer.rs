//! Transfers: the conversation's (a script's `transfer` node) and the control API's. The
//! transport moves the caller (SIP REFER, LiveKit `TransferSIPParticipant`); success ends our
//! part as transferred with a `transfer` record, a failure leaves a `transfer_failed` record
//! saying why. A conversation's transfer waits for the lines before it to play, and its
//! failure is never a silent drop: the caller hears that they could not be put through and
//! the call ends as `transfer_failed`. An API transfer happens at once, its caller gets the
//! result, and when it fails the conversation simply goes on.

use serde_json::json;
use tokio::sync::oneshot;
use tokio::time::{timeout, Duration, Instant};

use super::{outcome, Controller, Jobs, State};
use crate::call::live::CallEvent;
use crate::conversation::{CallRecord, Outcome};

/// How long the transport may take to confirm a transfer.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(30);

/// A transfer to carry out (by the transport, or by a call at the API's request); `done`
/// gets its result.
#[derive(Debug)]
pub struct TransferRequest {
    pub target: String,
    pub done: oneshot::Sender<Result<(), String>>,
}

/// A call's transfer, from the conversation's request to the transport's answer.
#[derive(Debug)]
pub(super) enum Transfer {
    /// Asked for; starts once the lines queued before it have played.
    Pending(String),
    InFlight {
        target: String,
        /// Whether the caller's leg has already gone (a transfer that succeeded ends it).
        caller_gone: bool,
        /// The API request's answer, for a transfer the API asked for.
        reply: Option<oneshot::Sender<Result<(), String>>>,
    },
}

impl Controller {
    /// Starts a pending transfer once the agent is idle. Returns whether the call must wait
    /// for a transfer (pending or in flight) before it may end.
    pub(super) fn transfer_holds_end(&self, st: &mut State, jobs: &Jobs) -> bool {
        match st.transfer.take() {
            None => false,
            Some(Transfer::Pending(target)) => {
                self.start_transfer(st, target, None, jobs);
                true
            }
            in_flight => {
                st.transfer = in_flight;
                true
            }
        }
    }

    /// The control API asks for a transfer now.
    pub(super) fn on_transfer_request(
        &self,
        st: &mut State,
        request: TransferRequest,
        jobs: &Jobs,
    ) {
        if st.transfer.is_some() || st.listening.is_some() {
            let _ = request
                .done
                .send(Err("a transfer or hand-over is already under way".into()));
            return;
        }
        self.start_transfer(st, request.target, Some(request.done), jobs);
    }

    fn start_transfer(
        &self,
        st: &mut State,
        target: String,
        reply: Option<oneshot::Sender<Result<(), String>>>,
        jobs: &Jobs,
    ) {
        tracing::info!("Transferring the call");
        st.transfer = Some(Transfer::InFlight {
            target: target.clone(),
            caller_gone: false,
            reply,
        });
        let (out, results) = (self.transfers.clone(), jobs.transfer.clone());
        self.tasks.spawn(async move {
            let result = match out {
                None => Err("this call's transport cannot transfer".to_string()),
                Some(out) => {
                    let (done, answer) = oneshot::channel();
                    let request = TransferRequest { target, done };
                    match out.send(request).await {
                        Err(_) => Err("the transport has stopped".to_string()),
                        Ok(()) => match timeout(TRANSFER_TIMEOUT, answer).await {
                            Ok(Ok(result)) => result,
                            Ok(Err(_)) => Err("the transport dropped it".to_string()),
                            Err(_) => Err(format!("no answer within {TRANSFER_TIMEOUT:?}")),
                        },
                    }
                }
            };
            let _ = results.send(result).await;
        });
    }

    /// The caller's audio ended: during a transfer that is how a successful one looks, so
    /// the call waits for the transport's answer. Returns whether it does.
    pub(super) fn caller_left_during_transfer(st: &mut State) -> bool {
        match st.transfer.as_mut() {
            Some(Transfer::InFlight { caller_gone, .. }) => {
                *caller_gone = true;
                true
            }
            _ => false,
        }
    }

    /// The transport's answer to the transfer.
    pub(super) async fn on_transfer_done(&mut self, st: &mut State, result: Result<(), String>) {
        let Some(Transfer::InFlight {
            target,
            caller_gone,
            reply,
        }) = st.transfer.take()
        else {
            return;
        };
        let by_api = reply.is_some();
        if let Some(reply) = reply {
            let _ = reply.send(result.clone());
        }
        let record = match &result {
            Ok(()) => CallRecord {
                kind: "transfer".into(),
                detail: json!({ "target": target }),
            },
            Err(error) => CallRecord {
                kind: "transfer_failed".into(),
                detail: json!({ "target": target, "error": error }),
            },
        };
        self.publish(CallEvent::Record {
            record: record.clone(),
        });
        st.report.records.push(record);
        match result {
            Ok(()) => {
                tracing::info!("Call transferred");
                let transferred = Outcome {
                    outcome: Some("transferred".into()),
                    ..outcome("reached", "transferred")
                };
                st.ended = Some(st.hangup.take().map_or(transferred, |h| h.0));
            }
            Err(error) if caller_gone => {
                tracing::warn!(%error, "Transfer failed; the caller had hung up");
                st.ended = Some(outcome("reached", "caller_hung_up"));
            }
            Err(error) if by_api => {
                tracing::warn!(%error, "Transfer asked by the API failed; the call goes on");
            }
            Err(error) => {
                tracing::warn!(%error, "Transfer failed; the caller is told");
                let line = self.config.transfer_failed_line.clone();
                self.say(st, 0, line, false).await;
                st.hangup = Some((
                    outcome("reached", "transfer_failed"),
                    Instant::now() + self.config.hangup_drain,
                ));
            }
        }
    }
}
