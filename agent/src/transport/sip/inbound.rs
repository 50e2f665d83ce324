//! Inbound requests (the UAS side of RFC 3261): a new INVITE is checked (source allowed,
//! dialled number routed, SDP acceptable), rung and answered, then handed to the
//! [`super::SipCallHandler`] with its media running; in-dialog requests (ACK, BYE, CANCEL,
//! INFO DTMF, re-INVITE hold/unhold) and OPTIONS are answered here. Runs inside the
//! endpoint actor.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::time::{Duration, Instant};

use super::call_media::{bind_rtp, Pending};
use super::dialog::{random_token, random_u64, response, DialogId, Retransmit};
use super::digest::Credentials;
use super::endpoint::{Actor, Call, CallState, Command};
use super::in_dialog::info_digit;
use super::lifecycle::finish;
use super::media::MediaParams;
use super::message::SipMessage;
use super::sdp::{self, AudioOffer, Direction};
use super::uri::{mask_number, NameAddr, SipUri};
use super::HangupCause;

/// Digest realm of inbound authentication.
const REALM: &str = "switchboard";
/// Outstanding nonces kept (oldest forgotten first).
const MAX_NONCES: usize = 256;

impl Actor {
    pub(super) fn on_request(&mut self, req: SipMessage, from: SocketAddr) {
        let method = req.method().unwrap_or_default().to_string();
        let call_id = req.call_id().to_string();
        let known = self.calls.contains_key(&call_id);
        match method.as_str() {
            "INVITE" if !known => self.on_new_invite(req, from),
            "INVITE" => self.on_invite_again(req, from),
            "ACK" => {
                let late_answer = match self.calls.get_mut(&call_id) {
                    Some(call) if call.state == CallState::Answered => {
                        call.state = CallState::Confirmed;
                        call.retransmit = None;
                        call.pending.is_some()
                    }
                    _ => false,
                };
                if late_answer {
                    self.on_late_answer(&call_id, &req);
                }
            }
            "BYE" => {
                let Some(call) = self.calls.get_mut(&call_id) else {
                    return self.reply(&req, 481, "Call/Transaction Does Not Exist", from);
                };
                if call.state != CallState::Ended {
                    tracing::info!(%call_id, "Caller hung up");
                    call.state = CallState::Ended;
                    call.retransmit = None;
                    finish(call, HangupCause::RemoteHangup);
                }
                self.reply(&req, 200, "OK", from);
            }
            "CANCEL" => self.on_cancel(&req, from),
            "NOTIFY" => self.on_notify(&req, from),
            "OPTIONS" => {
                let mut r = response(&req, 200, "OK", None, from);
                r.headers.push(("Accept".into(), "application/sdp".into()));
                self.send(&r.to_bytes(), from);
            }
            "INFO" => {
                let Some(call) = self.calls.get(&call_id) else {
                    return self.reply(&req, 481, "Call/Transaction Does Not Exist", from);
                };
                if let Some(digit) = info_digit(&req) {
                    if call.dtmf.try_send(digit).is_err() {
                        tracing::warn!("DTMF digit dropped: the call is not reading them");
                    }
                }
                self.reply(&req, 200, "OK", from);
            }
            _ => self.reply(&req, 501, "Not Implemented", from),
        }
    }

    pub(super) fn reply(&self, req: &SipMessage, code: u16, reason: &str, to: SocketAddr) {
        self.send(&response(req, code, reason, None, to).to_bytes(), to);
    }

    fn on_new_invite(&mut self, req: SipMessage, from: SocketAddr) {
        let to_tag = req.header("To").and_then(NameAddr::parse);
        if to_tag.as_ref().and_then(NameAddr::tag).is_some() {
            return self.reply(&req, 481, "Call/Transaction Does Not Exist", from);
        }
        if !self.config.allows(from.ip()) {
            tracing::warn!(source = %from.ip(), "Call refused: source address not allowed");
            return self.reply(&req, 403, "Forbidden", from);
        }
        if !self.config.inbound_users.is_empty() && !self.authenticated(&req, from) {
            return;
        }
        let request_uri = match &req.start {
            super::message::StartLine::Request { uri, .. } => SipUri::parse(uri),
            super::message::StartLine::Response { .. } => None,
        };
        let dialled = request_uri
            .and_then(|u| u.user)
            .or_else(|| to_tag.and_then(|n| n.sip_uri()).and_then(|u| u.user))
            .unwrap_or_default();
        let Some(route) = self.config.route_for(&dialled).cloned() else {
            tracing::warn!(number = %mask_number(&dialled), source = %from.ip(),
                "Call refused: no route for the dialled number");
            return self.reply(&req, 404, "Not Found", from);
        };
        // An INVITE without SDP (RFC 3261 §13.2.1): we offer in the 200, the answer comes in
        // the ACK; until then assume our own first choices towards the signalling source.
        let body = if req.body.is_empty() {
            sdp::write_sdp(
                0,
                0,
                from.ip(),
                0,
                sdp::OUR_FORMATS,
                Direction::SendRecv,
                false,
            )
        } else {
            req.body.clone()
        };
        let offer = AudioOffer::parse(&body).and_then(|o| o.negotiate().map(|n| (o, n)));
        let (offer, negotiated) = match offer {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "Call refused: unusable SDP offer");
                return self.reply(&req, 488, "Not Acceptable Here", from);
            }
        };
        self.reply(&req, 100, "Trying", from);
        let (rtp_socket, rtcp_socket) = match bind_rtp(self.local_addr) {
            Ok((rtp, rtcp)) => (Arc::new(rtp), Arc::new(rtcp)),
            Err(e) => {
                tracing::error!(error = %e, "Call refused: no RTP port");
                return self.reply(&req, 503, "Service Unavailable", from);
            }
        };
        let caller = req
            .header("From")
            .and_then(NameAddr::parse)
            .map(|n| n.sip_uri().and_then(|u| u.user).unwrap_or(n.uri))
            .unwrap_or_default();
        let local_tag = random_token();
        let mut dialog = DialogId::for_uas(&req, &local_tag, from);
        dialog.tcp = self.is_stream(from);
        let mut ringing = response(&req, 180, "Ringing", Some(&local_tag), from);
        ringing
            .headers
            .push(("Contact".into(), format!("<{}>", self.contact(from))));
        let ringing = ringing.to_bytes();
        self.send(&ringing, from);

        let rtp_ip = if offer.addr.is_unspecified() {
            from.ip()
        } else {
            offer.addr
        };
        let rtp_remote = SocketAddr::new(rtp_ip, offer.port);
        tracing::info!(call_id = %req.call_id(), number = %mask_number(&dialled),
            tenant = %route.tenant, script = %route.script, "Inbound call ringing");
        let muted = offer.direction != Direction::SendRecv;
        let (pending, cause_tx, muted_tx, dtmf_tx) =
            Pending::new(dialled, caller, route, rtp_remote, muted);
        let call = Call {
            dialog,
            state: CallState::Ringing,
            invite_branch: req.branch().unwrap_or_default().to_string(),
            last_invite_response: ringing,
            retransmit: None,
            answer_at: Some(Instant::now() + Duration::from_millis(self.config.ring_ms)),
            expires: None,
            cause: cause_tx,
            token: self.cancel.child_token(),
            muted: muted_tx,
            dtmf: dtmf_tx,
            media: MediaParams {
                law: negotiated.law,
                payload_type: negotiated.payload_type,
                dtmf_pt: negotiated.dtmf_pt,
                no_rtp_timeout: Duration::from_secs(self.config.no_rtp_timeout_secs),
                rtcp_mux: offer.rtcp_mux,
                rtcp_port: offer.rtcp_port,
            },
            rtp_socket,
            rtcp_socket,
            rtp_remote,
            sdp_session: random_u64() >> 1,
            sdp_version: 1,
            pending: Some(pending),
            outbound: None,
            transfer: None,
            info: None,
            invite: req,
        };
        let id = call.dialog.call_id.clone();
        self.calls.insert(id.clone(), call);
        if self.config.ring_ms == 0 {
            self.answer(&id, Instant::now());
        }
    }

    /// Checks the INVITE's digest credentials; sends 401 (with a fresh nonce) or 403 and
    /// returns false when they are missing or wrong.
    fn authenticated(&mut self, req: &SipMessage, from: SocketAddr) -> bool {
        let creds = req.header("Authorization").and_then(Credentials::parse);
        if let Some(c) = creds {
            let known_nonce = self.nonces.iter().position(|n| *n == c.nonce);
            let password = self
                .config
                .inbound_users
                .iter()
                .find(|u| u.user == c.username)
                .and_then(|u| std::env::var(&u.password_env).ok());
            if let (Some(i), Some(pw)) = (known_nonce, password) {
                self.nonces.remove(i);
                if c.realm == REALM && c.verify(&pw, "INVITE") {
                    return true;
                }
            }
            tracing::warn!(source = %from.ip(), "Call refused: digest authentication failed");
            self.reply(req, 403, "Forbidden", from);
            return false;
        }
        let nonce = random_token();
        if self.nonces.len() >= MAX_NONCES {
            self.nonces.pop_front();
        }
        self.nonces.push_back(nonce.clone());
        let mut r = response(req, 401, "Unauthorized", Some(&random_token()), from);
        r.headers.push((
            "WWW-Authenticate".into(),
            format!("Digest realm=\"{REALM}\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\""),
        ));
        self.send(&r.to_bytes(), from);
        false
    }

    /// Sends 200 OK with our SDP answer and starts the call's media and handler.
    pub(super) fn answer(&mut self, call_id: &str, now: Instant) {
        let Some(call) = self.calls.get(call_id) else {
            return;
        };
        let peer = call.dialog.peer;
        let contact = self.contact(peer);
        let rtp_ip = self.advertised_ip(call.rtp_remote);
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        let ok = answer_response(call, &contact, rtp_ip);
        call.last_invite_response = ok.clone();
        call.retransmit = Some(Retransmit::new(ok.clone(), peer, now));
        call.state = CallState::Answered;
        call.answer_at = None;
        // Offer-less INVITE: the call starts once the ACK brings the answer.
        if !call.invite.body.is_empty() {
            self.start_handler(call_id);
        }
        self.send(&ok, peer);
    }

    /// Starts the call's media and runs its handler.
    fn start_handler(&mut self, call_id: &str) {
        let Some(p) = self.calls.get_mut(call_id).and_then(|c| c.pending.take()) else {
            return;
        };
        let Some(sip_call) = self.launch(call_id, p) else {
            return;
        };
        let commands = self.commands_tx.clone();
        let id = call_id.to_string();
        let run = self.handler.handle(sip_call);
        self.tasks.spawn(async move {
            run.await;
            let _ = commands.send(Command::Finished { call_id: id }).await;
        });
    }

    /// The ACK of an offer-less INVITE carries the SDP answer to the offer in our 200.
    fn on_late_answer(&mut self, call_id: &str, ack: &SipMessage) {
        let from = self.calls.get(call_id).map(|c| c.dialog.peer);
        let answer = AudioOffer::parse(&ack.body).and_then(|a| a.negotiate().map(|n| (a, n)));
        let (Some(call), Some(from)) = (self.calls.get_mut(call_id), from) else {
            return;
        };
        let (answer, n) = match answer {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(%call_id, error = %e, "No usable SDP answer in the ACK: hanging up");
                return self.hang_up(call_id, HangupCause::LocalHangup);
            }
        };
        call.media.law = n.law;
        call.media.payload_type = n.payload_type;
        call.media.dtmf_pt = n.dtmf_pt;
        call.media.rtcp_mux = false;
        call.media.rtcp_port = answer.rtcp_port;
        let ip = if answer.addr.is_unspecified() {
            from.ip()
        } else {
            answer.addr
        };
        call.rtp_remote = SocketAddr::new(ip, answer.port);
        call.muted
            .send_replace(answer.direction != Direction::SendRecv);
        let remote = call.rtp_remote;
        if let Some(p) = call.pending.as_mut() {
            p.set_rtp_remote(remote);
        }
        self.start_handler(call_id);
    }
}

fn answer_response(call: &Call, contact: &str, rtp_ip: std::net::IpAddr) -> Vec<u8> {
    let tag = NameAddr::parse(&call.dialog.local).and_then(|n| n.tag().map(str::to_owned));
    let mut ok = response(&call.invite, 200, "OK", tag.as_deref(), call.dialog.peer);
    ok.headers.push(("Contact".into(), format!("<{contact}>")));
    ok.headers
        .push(("Content-Type".into(), "application/sdp".into()));
    let port = call.rtp_socket.local_addr().map_or(0, |a| a.port());
    let offer = AudioOffer::parse(&call.invite.body);
    let negotiated = offer.as_ref().ok().and_then(|o| o.negotiate().ok());
    if call.invite.body.is_empty() {
        ok.body = sdp::write_sdp(
            call.sdp_session,
            1,
            rtp_ip,
            port,
            sdp::OUR_FORMATS,
            Direction::SendRecv,
            false,
        );
    } else if let (Ok(offer), Some(n)) = (offer.as_ref(), negotiated) {
        ok.body = sdp::answer(&n, offer, rtp_ip, port, call.sdp_session);
    }
    ok.to_bytes()
}
