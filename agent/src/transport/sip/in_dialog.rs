//! Requests inside an established (or ringing) inbound dialog that change its state:
//! retransmitted INVITEs, re-INVITEs (hold and unhold: our sending is muted while the peer
//! does not want our audio), CANCEL before the answer, and DTMF carried by SIP INFO. Runs
//! inside the endpoint actor.

use std::net::SocketAddr;

use tokio::time::Instant;

use super::dialog::{response, Retransmit};
use super::endpoint::{Actor, CallState};
use super::lifecycle::finish;
use super::message::SipMessage;
use super::sdp::{self, AudioOffer, Direction};
use super::uri::NameAddr;
use super::HangupCause;

impl Actor {
    /// A retransmitted INVITE gets the last response again; a re-INVITE in the dialog is a
    /// new offer (hold/unhold) answered with our SDP.
    pub(super) fn on_invite_again(&mut self, req: SipMessage, from: SocketAddr) {
        let Some(call) = self.calls.get_mut(req.call_id()) else {
            return;
        };
        if req.branch() == Some(call.invite_branch.as_str()) {
            let again = call.last_invite_response.clone();
            return self.send(&again, from);
        }
        if call.state != CallState::Confirmed {
            return self.reply(&req, 491, "Request Pending", from);
        }
        let offer = match AudioOffer::parse(&req.body) {
            Ok(o) if !req.body.is_empty() => o,
            _ => return self.reply(&req, 488, "Not Acceptable Here", from),
        };
        let on_hold = offer.direction != Direction::SendRecv || offer.addr.is_unspecified();
        call.muted.send_replace(on_hold);
        call.sdp_version += 1;
        tracing::info!(call_id = %req.call_id(), on_hold, "Call re-INVITEd");
        let rtp_ip = self.advertised_ip(from);
        let contact = self.contact(from);
        let Some(call) = self.calls.get_mut(req.call_id()) else {
            return;
        };
        call.invite_branch = req.branch().unwrap_or_default().to_string();
        let mut ok = response(&req, 200, "OK", None, from);
        ok.set_header("To", call.dialog.local.clone());
        ok.headers.push(("Contact".into(), format!("<{contact}>")));
        ok.headers
            .push(("Content-Type".into(), "application/sdp".into()));
        let n = offer.negotiate().ok();
        let port = call.rtp_socket.local_addr().map_or(0, |a| a.port());
        ok.body = match n {
            Some(n) => sdp::answer(&n, &offer, rtp_ip, port, call.sdp_session),
            None => return self.reply(&req, 488, "Not Acceptable Here", from),
        };
        let bytes = ok.to_bytes();
        call.last_invite_response = bytes.clone();
        call.retransmit = Some(Retransmit::new(bytes.clone(), from, Instant::now()));
        call.state = CallState::Answered;
        self.send(&bytes, from);
    }

    pub(super) fn on_cancel(&mut self, req: &SipMessage, from: SocketAddr) {
        let Some(call) = self.calls.get_mut(req.call_id()) else {
            return self.reply(req, 481, "Call/Transaction Does Not Exist", from);
        };
        let ringing = call.state == CallState::Ringing;
        let terminated = ringing.then(|| {
            let tag = NameAddr::parse(&call.dialog.local).and_then(|n| n.tag().map(str::to_owned));
            response(
                &call.invite,
                487,
                "Request Terminated",
                tag.as_deref(),
                from,
            )
            .to_bytes()
        });
        if let Some(bytes) = &terminated {
            tracing::info!(call_id = %req.call_id(), "Caller cancelled before answer");
            call.last_invite_response = bytes.clone();
            call.state = CallState::Ended;
            finish(call, HangupCause::RemoteHangup);
        }
        self.reply(req, 200, "OK", from);
        if let Some(bytes) = terminated {
            self.send(&bytes, from);
        }
    }
}

/// The key in a SIP INFO body: `application/dtmf-relay` (`Signal=5`) or `application/dtmf`.
pub(super) fn info_digit(req: &SipMessage) -> Option<char> {
    let body = std::str::from_utf8(&req.body).ok()?;
    let ctype = req
        .header("Content-Type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let value = if ctype.starts_with("application/dtmf-relay") {
        body.lines()
            .find_map(|l| {
                l.split_once('=')
                    .filter(|(k, _)| k.trim().eq_ignore_ascii_case("signal"))
            })
            .map(|(_, v)| v.trim())?
    } else if ctype.starts_with("application/dtmf") {
        body.trim()
    } else {
        return None;
    };
    let mut chars = value.chars();
    let c = chars.next()?;
    (chars.next().is_none() && super::rtp::event_for_digit(c).is_some())
        .then(|| c.to_ascii_uppercase())
}
