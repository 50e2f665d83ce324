//! The UAC side's timers and endings: the ringing timeout (CANCEL, RFC 3261 §9.1, then give
//! up after 64·T1 if the callee never answers the CANCEL) and failing a dial attempt with
//! its disposition. Runs inside the endpoint actor.

use tokio::time::Instant;

use super::dial::DialError;
use super::dialog::Retransmit;
use super::endpoint::{Actor, CallState};
use super::lifecycle::finish;
use super::message::StartLine;
use super::outbound::DialReply;
use super::{HangupCause, SipCall};

impl Actor {
    /// Ends a dial attempt with `error`.
    pub(super) fn fail_dial(&mut self, call_id: &str, error: DialError) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        tracing::info!(%call_id, %error, "Outbound call not answered");
        let reply = call.outbound.as_mut().and_then(|o| o.reply.take());
        call.state = CallState::Ended;
        call.retransmit = None;
        finish(call, HangupCause::RemoteHangup);
        send_reply(reply, Err(error));
    }

    /// Ringing timeouts (CANCEL) and give-ups for outbound calls.
    pub(super) fn outbound_tick(&mut self, now: Instant) {
        let mut cancel = Vec::new();
        let mut give_up = Vec::new();
        for (id, call) in &mut self.calls {
            let Some(out) = call.outbound.as_mut() else {
                continue;
            };
            if call.state != CallState::Ringing || out.reply.is_none() {
                continue;
            }
            if !out.cancelled && now >= out.ring_deadline {
                out.cancelled = true;
                out.give_up = Some(now + 64 * super::dialog::T1);
                cancel.push(id.clone());
            } else if out.give_up.is_some_and(|t| now >= t) {
                give_up.push(id.clone());
            }
        }
        for id in cancel {
            self.send_cancel(&id, now);
        }
        for id in give_up {
            self.fail_dial(&id, DialError::NoAnswer(0));
        }
    }

    /// CANCELs our pending INVITE (same branch and CSeq number, RFC 3261 §9.1).
    pub(super) fn send_cancel(&mut self, call_id: &str, now: Instant) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        let Some(out) = call.outbound.as_mut() else {
            return;
        };
        out.cancelled = true;
        out.give_up.get_or_insert(now + 64 * super::dialog::T1);
        let mut cancel = call.invite.clone();
        cancel.start = StartLine::Request {
            method: "CANCEL".into(),
            uri: out.target_uri.clone(),
        };
        cancel.body.clear();
        cancel.headers.retain(|(n, _)| {
            matches!(
                n.as_str(),
                "Via" | "From" | "To" | "Call-ID" | "Route" | "Max-Forwards"
            )
        });
        cancel
            .headers
            .push(("CSeq".into(), format!("{} CANCEL", out.cseq)));
        let bytes = cancel.to_bytes();
        tracing::info!(%call_id, "Ringing timeout: cancelling the outbound call");
        call.retransmit = Some(Retransmit::new(bytes.clone(), call.dialog.peer, now));
        let peer = call.dialog.peer;
        self.send(&bytes, peer);
    }
}

pub(super) fn send_reply(reply: Option<DialReply>, result: Result<SipCall, DialError>) {
    if let Some(r) = reply {
        let _ = r.send(result);
    }
}
