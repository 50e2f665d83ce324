//! Transfers the conversation asks for (a script's `transfer` node). The lines before it
//! play out first; then the transport moves the caller (SIP REFER, LiveKit
//! `TransferSIPParticipant`). Success ends our part with the conversation's outcome and a
//! `transfer` record; a refusal, an error or a transport that cannot transfer is never a
//! silent drop: the caller hears that they could not be put through, and the call ends as
//! `transfer_failed` with a record saying why.

use serde_json::json;
use tokio::sync::oneshot;
use tokio::time::{timeout, Duration, Instant};

use super::{outcome, Controller, Jobs, State};
use crate::call::live::CallEvent;
use crate::conversation::CallRecord;

/// How long the transport may take to confirm a transfer.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(30);

/// A transfer for the transport to carry out; `done` gets its result.
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
    /// With whether the caller's leg has already gone (a transfer that succeeded ends it).
    InFlight(String, bool),
}

impl Controller {
    /// Starts a pending transfer once the agent is idle. Returns whether the call must wait
    /// for a transfer (pending or in flight) before it may end.
    pub(super) fn transfer_holds_end(&self, st: &mut State, jobs: &Jobs) -> bool {
        let target = match st.transfer.take() {
            None => return false,
            Some(in_flight @ Transfer::InFlight(..)) => {
                st.transfer = Some(in_flight);
                return true;
            }
            Some(Transfer::Pending(target)) => target,
        };
        tracing::info!("Transferring the call");
        st.transfer = Some(Transfer::InFlight(target.clone(), false));
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
        true
    }

    /// The caller's audio ended: during a transfer that is how a successful one looks, so
    /// the call waits for the transport's answer. Returns whether it does.
    pub(super) fn caller_left_during_transfer(st: &mut State) -> bool {
        match st.transfer.as_mut() {
            Some(Transfer::InFlight(_, gone)) => {
                *gone = true;
                true
            }
            _ => false,
        }
    }

    /// The transport's answer to the transfer.
    pub(super) async fn on_transfer_done(&mut self, st: &mut State, result: Result<(), String>) {
        let Some(Transfer::InFlight(target, caller_gone)) = st.transfer.take() else {
            return;
        };
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
                st.ended = st.hangup.take().map(|h| h.0);
            }
            Err(error) if caller_gone => {
                tracing::warn!(%error, "Transfer failed; the caller had hung up");
                st.ended = Some(outcome("reached", "caller_hung_up"));
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
