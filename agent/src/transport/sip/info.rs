//! Sending a key press as SIP INFO (`application/dtmf-relay`), for peers that did not offer
//! RFC 4733 telephone-event: one INFO per key, retransmitted on the RFC 3261 schedule
//! until its final response. Runs inside the endpoint actor;
//! [`super::CallControl::send_dtmf`] paces the keys.

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::dialog::Retransmit;
use super::dtmf::{DtmfError, TONE_MS};
use super::endpoint::{Actor, CallState};
use super::message::SipMessage;

pub(super) type InfoReply = oneshot::Sender<Result<(), DtmfError>>;

/// An INFO in flight on one call.
pub(super) struct PendingInfo {
    reply: InfoReply,
    cseq: u32,
    retransmit: Retransmit,
}

/// The `application/dtmf-relay` body for one key.
pub fn dtmf_relay_body(digit: char) -> String {
    format!("Signal={digit}\r\nDuration={TONE_MS}\r\n")
}

/// Fails the INFO in flight when its call ends.
pub(super) fn call_ended(call: &mut super::endpoint::Call) {
    if let Some(i) = call.info.take() {
        let _ = i.reply.send(Err(DtmfError::CallEnded));
    }
}

impl Actor {
    pub(super) fn send_info(&mut self, call_id: &str, digit: char, reply: InfoReply) {
        let Some(peer) = self.calls.get(call_id).map(|c| c.dialog.peer) else {
            return drop(reply.send(Err(DtmfError::CallEnded)));
        };
        let sent_by = self.sent_by(peer);
        let contact = self.contact(peer);
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        if call.state != CallState::Confirmed {
            return drop(reply.send(Err(DtmfError::CallEnded)));
        }
        if call.info.is_some() {
            return drop(reply.send(Err(DtmfError::Busy)));
        }
        let mut info = call.dialog.request("INFO", &sent_by, &contact);
        info.headers
            .push(("Content-Type".into(), "application/dtmf-relay".into()));
        info.body = dtmf_relay_body(digit).into_bytes();
        let bytes = info.to_bytes();
        call.info = Some(PendingInfo {
            reply,
            cseq: call.dialog.local_cseq,
            retransmit: Retransmit::new(bytes.clone(), peer, Instant::now()),
        });
        tracing::debug!(%call_id, %digit, "DTMF sent as SIP INFO");
        self.send(&bytes, peer);
    }

    pub(super) fn on_info_response(&mut self, msg: &SipMessage) {
        let (Some(code), Ok((cseq, _))) = (msg.status(), msg.cseq()) else {
            return;
        };
        let Some(call) = self.calls.get_mut(msg.call_id()) else {
            return;
        };
        if code < 200 || call.info.as_ref().is_none_or(|i| i.cseq != cseq) {
            return;
        }
        if let Some(i) = call.info.take() {
            let result = if code < 300 {
                Ok(())
            } else {
                Err(DtmfError::Refused(code))
            };
            let _ = i.reply.send(result);
        }
    }

    /// Retransmits INFOs without a response; gives up after 64·T1.
    pub(super) fn info_tick(&mut self, now: Instant) {
        let mut resend = Vec::new();
        for call in self.calls.values_mut() {
            let Some(info) = call.info.as_mut() else {
                continue;
            };
            match info.retransmit.poll(now) {
                Some(true) => resend.push((info.retransmit.bytes.clone(), info.retransmit.to)),
                Some(false) => {}
                None => {
                    if let Some(i) = call.info.take() {
                        let _ = i.reply.send(Err(DtmfError::NoResponse));
                    }
                }
            }
        }
        for (bytes, to) in resend {
            self.resend(&bytes, to);
        }
    }
}
