//! Outbound calls (the UAC side of RFC 3261) through the configured trunk: INVITE with an
//! SDP offer (PCMU, PCMA, telephone-event), digest authentication on 401/407, CANCEL when
//! the ringing timeout passes, ACK of every final response, and the mapping of final
//! responses to dispositions. Runs inside the endpoint actor; [`super::SipEndpoint::dial`]
//! is the public entry point.

use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::time::{Duration, Instant};

use super::call_media::Pending;
pub use super::dial::{DialError, OutboundCall};
use super::dialog::{random_token, random_u64, DialogId, Retransmit};
use super::digest::Challenge;
use super::endpoint::{Actor, Call, CallState};
use super::media::MediaParams;
use super::message::{SipMessage, StartLine};
use super::ringing::send_reply;
use super::sdp::{write_sdp, AudioOffer, Direction};
use super::uri::{mask_number, NameAddr};
use super::{HangupCause, SipCall};

pub(super) type DialReply = oneshot::Sender<Result<SipCall, DialError>>;

/// A dial request for the actor: the destination is resolved outside it.
#[derive(Debug)]
pub struct DialRequest {
    pub call: OutboundCall,
    pub dest: SocketAddr,
    pub target_uri: String,
    pub from_uri: String,
    pub credentials: Option<(String, String)>,
    /// Dial over TCP: the connection is already registered with the actor.
    pub tcp: bool,
}

/// UAC state of an outbound call until it is answered or fails.
pub(super) struct Outbound {
    pub(super) reply: Option<DialReply>,
    pub(super) ring_deadline: Instant,
    pub(super) give_up: Option<Instant>,
    pub(super) auth_tried: bool,
    pub(super) credentials: Option<(String, String)>,
    pub(super) target_uri: String,
    pub(super) cseq: u32,
    pub(super) cancelled: bool,
    pub(super) ack: Option<Vec<u8>>,
}

impl Outbound {
    pub(super) fn cancelled(&self) -> bool {
        self.cancelled
    }
}

impl Actor {
    pub(super) fn on_dial(&mut self, req: DialRequest, reply: DialReply) {
        let (rtp_socket, rtcp_socket) = match super::call_media::bind_rtp(self.local_addr) {
            Ok((rtp, rtcp)) => (std::sync::Arc::new(rtp), std::sync::Arc::new(rtcp)),
            Err(_) => return drop(reply.send(Err(DialError::Unreachable))),
        };
        let call_id = random_token();
        let tag = random_token();
        let local = format!("<{}>;tag={tag}", req.from_uri);
        let remote = format!("<{}>", req.target_uri);
        let ip = self.advertised_ip(req.dest);
        let sdp_session = random_u64() >> 1;
        let port = rtp_socket.local_addr().map_or(0, |a| a.port());
        let offer = write_sdp(
            sdp_session,
            1,
            ip,
            port,
            super::sdp::OUR_FORMATS,
            Direction::SendRecv,
            false,
        );
        let mut dialog = DialogId {
            call_id: call_id.clone(),
            local,
            remote,
            remote_target: req.target_uri.clone(),
            route: Vec::new(),
            peer: req.dest,
            local_cseq: 0,
            tcp: req.tcp,
        };
        let invite = self.build_invite(&mut dialog, &req.target_uri, offer);
        let bytes = invite.to_bytes();
        let now = Instant::now();
        tracing::info!(%call_id, number = %mask_number(&req.call.to), "Dialling out");
        let (pending, cause, muted, dtmf) = Pending::new(
            req.call.to.clone(),
            req.from_uri.clone(),
            req.call.route.clone(),
            SocketAddr::new(req.dest.ip(), 0),
            false,
        );
        let call = Call {
            state: CallState::Ringing,
            invite_branch: invite.branch().unwrap_or_default().to_string(),
            last_invite_response: Vec::new(),
            retransmit: Some(Retransmit::new(bytes.clone(), req.dest, now)),
            answer_at: None,
            expires: None,
            cause,
            token: self.cancel.child_token(),
            muted,
            dtmf,
            media: MediaParams {
                law: audio::G711Law::MuLaw,
                payload_type: 0,
                dtmf_pt: Some(101),
                no_rtp_timeout: Duration::from_secs(self.config.no_rtp_timeout_secs),
                rtcp_mux: false,
                rtcp_port: None,
            },
            rtp_socket,
            rtcp_socket,
            rtp_remote: SocketAddr::new(req.dest.ip(), 0),
            sdp_session,
            sdp_version: 1,
            pending: Some(pending),
            transfer: None,
            info: None,
            outbound: Some(Outbound {
                reply: Some(reply),
                ring_deadline: now + req.call.ring_timeout,
                give_up: None,
                auth_tried: false,
                credentials: req.credentials,
                target_uri: req.target_uri,
                cseq: dialog.local_cseq,
                cancelled: false,
                ack: None,
            }),
            dialog,
            invite,
        };
        self.calls.insert(call_id, call);
        self.send(&bytes, req.dest);
    }

    fn build_invite(&self, dialog: &mut DialogId, target: &str, sdp: Vec<u8>) -> SipMessage {
        let sent_by = self.sent_by(dialog.peer);
        let contact = self.contact(dialog.peer);
        let mut invite = dialog.request("INVITE", &sent_by, &contact);
        invite.start = StartLine::Request {
            method: "INVITE".into(),
            uri: target.to_string(),
        };
        invite
            .headers
            .push(("Allow".into(), super::dialog::ALLOW.into()));
        invite
            .headers
            .push(("Content-Type".into(), "application/sdp".into()));
        invite.body = sdp;
        invite
    }

    /// A response to one of our INVITEs. Provisional ones (180, 183 with early media) stop
    /// the INVITE's retransmission; early media is not played to the call.
    pub(super) fn on_invite_response(&mut self, msg: &SipMessage) {
        let Some(code) = msg.status() else { return };
        let Ok((cseq, _)) = msg.cseq() else { return };
        let call_id = msg.call_id().to_string();
        let Some(call) = self.calls.get_mut(&call_id) else {
            return;
        };
        let Some(out) = call.outbound.as_mut() else {
            return;
        };
        if cseq != out.cseq {
            return;
        }
        let peer = call.dialog.peer;
        if code < 200 {
            call.retransmit = None;
            return;
        }
        if let Some(ack) = &out.ack {
            // A retransmitted final response: ACK it again.
            let ack = ack.clone();
            return self.send(&ack, peer);
        }
        if (200..300).contains(&code) {
            return self.on_answered(&call_id, msg);
        }
        // Non-2xx final response: ACK within the transaction (same branch).
        let mut ack = call.invite.clone();
        ack.start = StartLine::Request {
            method: "ACK".into(),
            uri: out.target_uri.clone(),
        };
        ack.body.clear();
        ack.headers.retain(|(n, _)| {
            matches!(
                n.as_str(),
                "Via" | "From" | "Call-ID" | "Route" | "Max-Forwards"
            )
        });
        ack.headers
            .push(("To".into(), msg.header("To").unwrap_or_default().into()));
        ack.headers.push(("CSeq".into(), format!("{cseq} ACK")));
        let ack = ack.to_bytes();
        out.ack = Some(ack.clone());
        call.retransmit = None;
        self.send(&ack, peer);

        let challenge = if code == 401 {
            msg.header("WWW-Authenticate").map(|c| ("Authorization", c))
        } else if code == 407 {
            msg.header("Proxy-Authenticate")
                .map(|c| ("Proxy-Authorization", c))
        } else {
            None
        };
        let result = match challenge {
            Some((header, value)) => match self.retry_with_auth(&call_id, header, value) {
                Ok(()) => return,
                Err(e) => e,
            },
            None if code == 401 || code == 407 => DialError::AuthFailed,
            None => DialError::from_status(code, msg.status_reason()),
        };
        self.fail_dial(&call_id, result);
    }

    fn retry_with_auth(
        &mut self,
        call_id: &str,
        header: &str,
        value: &str,
    ) -> Result<(), DialError> {
        let Some(call) = self.calls.get(call_id) else {
            return Err(DialError::Stopped);
        };
        let Some(out) = call.outbound.as_ref() else {
            return Err(DialError::Stopped);
        };
        let (Some((user, password)), false) = (out.credentials.clone(), out.auth_tried) else {
            return Err(DialError::AuthFailed);
        };
        let challenge = Challenge::parse(value).ok_or(DialError::AuthFailed)?;
        let target = out.target_uri.clone();
        let auth = challenge.authorize(&user, &password, "INVITE", &target, &random_token());
        let mut dialog = call.dialog.clone();
        let body = call.invite.body.clone();
        let mut invite = self.build_invite(&mut dialog, &target, body);
        invite.headers.push((header.to_string(), auth));
        let bytes = invite.to_bytes();
        let Some(call) = self.calls.get_mut(call_id) else {
            return Err(DialError::Stopped);
        };
        let peer = dialog.peer;
        call.invite_branch = invite.branch().unwrap_or_default().to_string();
        call.retransmit = Some(Retransmit::new(bytes.clone(), peer, Instant::now()));
        call.invite = invite;
        if let Some(out) = call.outbound.as_mut() {
            out.auth_tried = true;
            out.cseq = dialog.local_cseq;
            out.ack = None;
        }
        call.dialog = dialog;
        self.send(&bytes, peer);
        Ok(())
    }

    fn on_answered(&mut self, call_id: &str, ok: &SipMessage) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        call.retransmit = None;
        call.dialog.remote = ok.header("To").unwrap_or_default().to_string();
        if let Some(c) = ok.header("Contact").and_then(NameAddr::parse) {
            call.dialog.remote_target = c.uri;
        }
        let mut route: Vec<String> = ok
            .headers_named("Record-Route")
            .map(str::to_string)
            .collect();
        route.reverse();
        call.dialog.route = route;
        let cseq = call.outbound.as_ref().map_or(1, |o| o.cseq);
        let peer = call.dialog.peer;
        let sent_by = self.sent_by(peer);
        let contact = self.contact(peer);
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        let mut ack = call.dialog.request("ACK", &sent_by, &contact);
        call.dialog.local_cseq -= 1;
        ack.set_header("CSeq", format!("{cseq} ACK"));
        let ack = ack.to_bytes();
        let peer = call.dialog.peer;
        let answer = AudioOffer::parse(&ok.body).and_then(|a| a.negotiate().map(|n| (a, n)));
        let out = call.outbound.as_mut();
        let (reply, cancelled) = match out {
            Some(o) => {
                o.ack = Some(ack.clone());
                (o.reply.take(), o.cancelled)
            }
            None => (None, false),
        };
        call.state = CallState::Confirmed;
        self.send(&ack, peer);
        let (answer, n) = match answer {
            Ok(v) if !cancelled => v,
            Ok(_) => {
                self.hang_up(call_id, HangupCause::LocalHangup);
                return send_reply(reply, Err(DialError::NoAnswer(0)));
            }
            Err(e) => {
                self.hang_up(call_id, HangupCause::LocalHangup);
                return send_reply(reply, Err(DialError::Sdp(e.to_string())));
            }
        };
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        call.media.law = n.law;
        call.media.payload_type = n.payload_type;
        call.media.dtmf_pt = n.dtmf_pt;
        call.media.rtcp_mux = answer.rtcp_mux;
        call.media.rtcp_port = answer.rtcp_port;
        let ip = if answer.addr.is_unspecified() {
            peer.ip()
        } else {
            answer.addr
        };
        call.rtp_remote = SocketAddr::new(ip, answer.port);
        let Some(mut pending) = call.pending.take() else {
            return;
        };
        pending.set_rtp_remote(call.rtp_remote);
        // Early media (183 ringback, announcements) queued before the answer is stale now.
        let mut scratch = [0u8; 2048];
        let mut early = 0;
        while call.rtp_socket.try_recv_from(&mut scratch).is_ok() {
            early += 1;
        }
        tracing::info!(%call_id, early_media_packets = early, "Outbound call answered");
        let Some(sip_call) = self.launch(call_id, pending) else {
            return;
        };
        let unwanted = match reply {
            Some(r) => r.send(Ok(sip_call)).is_err(),
            None => true,
        };
        if unwanted {
            // Nobody waits for this call any more.
            self.hang_up(call_id, HangupCause::LocalHangup);
        }
    }
}
