//! Blind transfer to a human (RFC 3515 REFER, RFC 5589 call-transfer flow): we send REFER
//! with the target, the far end accepts (202) and reports progress with NOTIFYs carrying a
//! `message/sipfrag` status line. A final 2xx means the transfer worked and we hang up; a
//! refused REFER or a failing NOTIFY leaves the call up so the conversation can fall back.
//! Runs inside the endpoint actor; [`super::CallControl::transfer`] is the entry point.

use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::time::{Duration, Instant};

use super::dialog::{response, Retransmit};
use super::endpoint::{Actor, CallState};
use super::message::SipMessage;
use super::HangupCause;

/// How long to wait for the transfer's outcome after sending REFER.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a transfer did not happen. The call is still up in every case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    #[error("the far end refused the transfer ({0})")]
    Refused(u16),
    #[error("the transfer target did not answer ({0})")]
    TargetFailed(u16),
    #[error("no transfer outcome within {}s", TRANSFER_TIMEOUT.as_secs())]
    Timeout,
    #[error("the call is not established")]
    NotEstablished,
    #[error("the SIP endpoint has stopped")]
    Stopped,
}

pub(super) type TransferReply = oneshot::Sender<Result<(), TransferError>>;

/// A transfer in progress on one call.
pub(super) struct PendingTransfer {
    reply: TransferReply,
    cseq: u32,
    deadline: Instant,
}

impl Actor {
    pub(super) fn on_transfer(&mut self, call_id: &str, target: &str, reply: TransferReply) {
        let peer_host = self.calls.get(call_id).map(|c| c.dialog.peer);
        let Some(peer) = peer_host else {
            return drop(reply.send(Err(TransferError::NotEstablished)));
        };
        let refer_to = self.refer_target(target, peer);
        let sent_by = self.sent_by(peer);
        let contact = self.contact(peer);
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        if call.state != CallState::Confirmed || call.transfer.is_some() {
            return drop(reply.send(Err(TransferError::NotEstablished)));
        }
        let mut refer = call.dialog.request("REFER", &sent_by, &contact);
        refer
            .headers
            .push(("Refer-To".into(), format!("<{refer_to}>")));
        refer
            .headers
            .push(("Referred-By".into(), format!("<{contact}>")));
        let bytes = refer.to_bytes();
        let now = Instant::now();
        call.retransmit = Some(Retransmit::new(bytes.clone(), peer, now));
        call.transfer = Some(PendingTransfer {
            reply,
            cseq: call.dialog.local_cseq,
            deadline: now + TRANSFER_TIMEOUT,
        });
        tracing::info!(%call_id, "Transferring the call");
        self.send(&bytes, peer);
    }

    /// A number goes through the trunk (or back to the peer); a SIP URI is used as is.
    fn refer_target(&self, target: &str, peer: SocketAddr) -> String {
        if target.starts_with("sip:") || target.starts_with("sips:") || target.starts_with("tel:") {
            return target.to_string();
        }
        match &self.config.trunk {
            Some(t) => format!("sip:{target}@{}", t.host),
            None => format!("sip:{target}@{peer}"),
        }
    }

    /// The far end's answer to our REFER.
    pub(super) fn on_refer_response(&mut self, msg: &SipMessage) {
        let (Some(code), Ok((cseq, _))) = (msg.status(), msg.cseq()) else {
            return;
        };
        let Some(call) = self.calls.get_mut(msg.call_id()) else {
            return;
        };
        if code < 200 || call.transfer.as_ref().is_none_or(|t| t.cseq != cseq) {
            return;
        }
        call.retransmit = None;
        if code >= 300 {
            tracing::warn!(call_id = %msg.call_id(), code, "Transfer refused");
            if let Some(t) = call.transfer.take() {
                let _ = t.reply.send(Err(TransferError::Refused(code)));
            }
        }
    }

    /// A NOTIFY in the dialog: transfer progress.
    pub(super) fn on_notify(&mut self, req: &SipMessage, from: SocketAddr) {
        let call_id = req.call_id().to_string();
        let Some(call) = self.calls.get_mut(&call_id) else {
            let r = response(req, 481, "Call/Transaction Does Not Exist", None, from);
            return self.send(&r.to_bytes(), from);
        };
        let status = sipfrag_status(&req.body);
        let outcome = match (status, call.transfer.is_some()) {
            (Some(code), true) if code >= 200 => call.transfer.take().map(|t| (t, code)),
            _ => None,
        };
        self.send(&response(req, 200, "OK", None, from).to_bytes(), from);
        let Some((transfer, code)) = outcome else {
            return;
        };
        if code < 300 {
            tracing::info!(%call_id, "Transfer completed: hanging up");
            let _ = transfer.reply.send(Ok(()));
            self.hang_up(&call_id, HangupCause::Transferred);
        } else {
            tracing::warn!(%call_id, code, "Transfer target failed");
            let _ = transfer.reply.send(Err(TransferError::TargetFailed(code)));
        }
    }

    /// Transfers with no outcome in time.
    pub(super) fn transfer_tick(&mut self, now: Instant) {
        for call in self.calls.values_mut() {
            if call.transfer.as_ref().is_some_and(|t| now >= t.deadline) {
                if let Some(t) = call.transfer.take() {
                    let _ = t.reply.send(Err(TransferError::Timeout));
                }
            }
        }
    }
}

/// The status code of a `message/sipfrag` body (`SIP/2.0 200 OK`).
fn sipfrag_status(body: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(body).ok()?;
    let line = text.lines().next()?.trim();
    let rest = line.strip_prefix("SIP/2.0 ")?;
    rest.get(..3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::sipfrag_status;

    #[test]
    fn reads_sipfrag_status_lines() {
        assert_eq!(sipfrag_status(b"SIP/2.0 200 OK\r\n"), Some(200));
        assert_eq!(sipfrag_status(b"SIP/2.0 100 Trying"), Some(100));
        assert_eq!(sipfrag_status(b"SIP/2.0 486 Busy Here\r\nX: y"), Some(486));
        assert_eq!(sipfrag_status(b"HTTP/1.1 200 OK"), None);
        assert_eq!(sipfrag_status(b"SIP/2.0 2"), None);
        assert_eq!(sipfrag_status(&[0xff]), None);
    }
}
