//! A call's life in the endpoint actor: commands from running calls (hang up, transfer,
//! dial, DTMF INFO, media ended, TCP streams), hanging up from our side (BYE, CANCEL or 480
//! by state), and the 20 ms tick that answers ringing calls and drives retransmissions and
//! timeouts.

use tokio::time::Instant;

use super::dialog::Retransmit;
use super::endpoint::{Actor, Call, CallState, Command, LINGER};
use super::media::MediaEnd;
use super::HangupCause;

impl Actor {
    pub(super) fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Hangup { call_id } | Command::Finished { call_id } => {
                self.hang_up(&call_id, HangupCause::LocalHangup);
            }
            Command::Dial { request, reply } => self.on_dial(*request, reply),
            Command::Transfer {
                call_id,
                target,
                reply,
            } => self.on_transfer(&call_id, &target, reply),
            Command::SendInfo {
                call_id,
                digit,
                reply,
            } => self.send_info(&call_id, digit, reply),
            Command::Stream { peer, message } => self.on_datagram(&message, peer),
            Command::StreamClosed { peer } => {
                self.streams.remove(&peer);
            }
            Command::HasStream { peer, reply } => {
                let _ = reply.send(self.is_stream(peer));
            }
            Command::Connected { peer, stream } => {
                if !self.is_stream(peer) {
                    self.add_stream(stream, peer);
                }
            }
            Command::MediaEnded { call_id, end } => {
                if end == MediaEnd::NoRtp {
                    tracing::warn!(%call_id, "No RTP received: ending the call");
                    self.hang_up(&call_id, HangupCause::NoRtp);
                } else if end == MediaEnd::SocketFailed {
                    self.hang_up(&call_id, HangupCause::LocalHangup);
                }
            }
        }
    }

    /// Ends a call from our side: BYE when answered, 480 when still ringing.
    pub(super) fn hang_up(&mut self, call_id: &str, cause: HangupCause) {
        let sent_by = self.calls.get(call_id).map(|c| self.sent_by(c.dialog.peer));
        let contact = self.calls.get(call_id).map(|c| self.contact(c.dialog.peer));
        let (Some(call), Some(sent_by), Some(contact)) =
            (self.calls.get_mut(call_id), sent_by, contact)
        else {
            return;
        };
        let now = Instant::now();
        let out = match call.state {
            CallState::Answered | CallState::Confirmed => {
                let mut bye = call.dialog.request("BYE", &sent_by, &contact);
                if cause == HangupCause::NoRtp {
                    bye.set_header("Reason", "SIP;cause=408;text=\"no RTP\"");
                }
                let bytes = bye.to_bytes();
                call.retransmit = Some(Retransmit::new(bytes.clone(), call.dialog.peer, now));
                call.state = CallState::Terminating;
                Some((bytes, call.dialog.peer))
            }
            CallState::Ringing if call.outbound.is_some() => {
                self.send_cancel(call_id, now);
                return;
            }
            CallState::Ringing => {
                let r = super::dialog::response(
                    &call.invite,
                    480,
                    "Temporarily Unavailable",
                    None,
                    call.dialog.peer,
                );
                call.state = CallState::Ended;
                call.expires = Some(now + LINGER);
                Some((r.to_bytes(), call.dialog.peer))
            }
            CallState::Terminating | CallState::Ended => None,
        };
        finish(call, cause);
        if let Some((bytes, to)) = out {
            self.send(&bytes, to);
        }
    }

    pub(super) fn on_tick(&mut self, now: Instant) {
        let due: Vec<String> = self
            .calls
            .iter()
            .filter(|(_, c)| c.state == CallState::Ringing && c.answer_at.is_some_and(|t| t <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            self.answer(&id, now);
        }
        self.outbound_tick(now);
        self.transfer_tick(now);
        self.info_tick(now);
        self.presence_tick(now);
        let mut resend = Vec::new();
        let mut timed_out = Vec::new();
        for (id, call) in &mut self.calls {
            if let Some(r) = call.retransmit.as_mut() {
                match r.poll(now) {
                    Some(true) => resend.push((r.bytes.clone(), r.to)),
                    Some(false) => {}
                    None => timed_out.push(id.clone()),
                }
            }
        }
        for (bytes, to) in resend {
            self.resend(&bytes, to);
        }
        for id in timed_out {
            let Some(call) = self.calls.get_mut(&id) else {
                continue;
            };
            call.retransmit = None;
            if call.state == CallState::Ringing && call.outbound.is_some() {
                let cancelled = call.outbound.as_ref().is_some_and(|o| o.cancelled());
                if !cancelled {
                    self.fail_dial(&id, super::DialError::Unreachable);
                }
            } else if call.state == CallState::Answered {
                tracing::warn!(call_id = %id, "No ACK for our 200 OK: hanging up");
                call.state = CallState::Confirmed;
                self.hang_up(&id, HangupCause::AckTimeout);
            } else {
                call.state = CallState::Ended;
                call.expires = Some(now + LINGER);
            }
        }
        self.calls
            .retain(|_, c| !(c.state == CallState::Ended && c.expires.is_some_and(|t| t <= now)));
    }
}

/// Records the cause (first one wins) and stops the call's media and handler.
pub(super) fn finish(call: &mut Call, cause: HangupCause) {
    call.cause.send_if_modified(|c| {
        if c.is_none() {
            *c = Some(cause);
            true
        } else {
            false
        }
    });
    call.pending = None;
    super::info::call_ended(call);
    call.token.cancel();
    if call.state == CallState::Ended && call.expires.is_none() {
        call.expires = Some(Instant::now() + LINGER);
    }
}
