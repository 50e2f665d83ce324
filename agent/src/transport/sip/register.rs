//! Our presence at the trunk: optional REGISTER (RFC 3261 §10) with digest authentication,
//! refreshed at half its granted lifetime and retried 30 s after a failure, and optional
//! OPTIONS keep-alives that tell whether the trunk answers. Both are transactions of their
//! own (retransmitted on the RFC 3261 schedule over UDP) driven by the actor's tick.

use std::net::SocketAddr;

use tokio::time::{Duration, Instant};

use super::dialog::{random_token, Retransmit};
use super::digest::Challenge;
use super::endpoint::Actor;
use super::message::{SipMessage, StartLine};

/// Wait after a failed registration before trying again.
const RETRY: Duration = Duration::from_secs(30);

/// Where we stand with the trunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrunkStatus {
    /// The trunk accepted our REGISTER and it has not expired.
    pub registered: bool,
    /// The last OPTIONS keep-alive got a response.
    pub reachable: Option<bool>,
}

/// The state of our REGISTER and OPTIONS transactions with the trunk.
pub(super) struct TrunkPresence {
    pub trunk: SocketAddr,
    host: String,
    user: String,
    password: Option<String>,
    expires: u32,
    call_id: String,
    tag: String,
    cseq: u32,
    /// When to send the next REGISTER (`None`: registration off).
    register_at: Option<Instant>,
    register_cseq: Option<u32>,
    auth_tried: bool,
    registered_until: Option<Instant>,
    keepalive: Option<Duration>,
    ping_at: Option<Instant>,
    ping_cseq: Option<u32>,
    /// Our REGISTER/OPTIONS awaiting a final response, by CSeq.
    in_flight: Vec<(u32, Retransmit)>,
    pub status: TrunkStatus,
}

impl TrunkPresence {
    /// `None` when the trunk asks for neither REGISTER nor keep-alives.
    pub fn new(config: &super::TrunkConfig, trunk: SocketAddr, now: Instant) -> Option<Self> {
        let keepalive = config.keepalive_secs.map(Duration::from_secs);
        if !config.register && keepalive.is_none() {
            return None;
        }
        let password = config
            .password_env
            .as_ref()
            .and_then(|v| std::env::var(v).ok());
        Some(Self {
            trunk,
            host: config.host.clone(),
            user: config
                .user
                .clone()
                .unwrap_or_else(|| config.caller_id.clone()),
            password,
            expires: config.register_expires_secs,
            call_id: random_token(),
            tag: random_token(),
            cseq: 0,
            register_at: config.register.then_some(now),
            register_cseq: None,
            auth_tried: false,
            registered_until: None,
            keepalive,
            ping_at: keepalive.map(|k| now + k),
            ping_cseq: None,
            in_flight: Vec::new(),
            status: TrunkStatus::default(),
        })
    }

    fn request(&mut self, method: &str, sent_by: &str, contact: &str) -> SipMessage {
        self.cseq += 1;
        let aor = format!("<sip:{}@{}>", self.user, self.host);
        SipMessage {
            start: StartLine::Request {
                method: method.into(),
                uri: format!("sip:{}", self.host),
            },
            headers: vec![
                (
                    "Via".into(),
                    format!(
                        "SIP/2.0/UDP {sent_by};branch=z9hG4bK{};rport",
                        random_token()
                    ),
                ),
                ("Max-Forwards".into(), "70".into()),
                ("From".into(), format!("{aor};tag={}", self.tag)),
                ("To".into(), aor),
                ("Call-ID".into(), self.call_id.clone()),
                ("CSeq".into(), format!("{} {method}", self.cseq)),
                ("Contact".into(), format!("<{contact}>")),
            ],
            body: Vec::new(),
        }
    }
}

impl Actor {
    fn send_register(&mut self, authorization: Option<(&str, String)>) {
        let Some(trunk) = self.presence.as_ref().map(|p| p.trunk) else {
            return;
        };
        let (sent_by, contact) = (self.sent_by(trunk), self.contact(trunk));
        let Some(p) = self.presence.as_mut() else {
            return;
        };
        let mut reg = p.request("REGISTER", &sent_by, &contact);
        reg.headers.push(("Expires".into(), p.expires.to_string()));
        if let Some((name, value)) = authorization {
            reg.headers.push((name.into(), value));
        }
        p.register_cseq = Some(p.cseq);
        p.register_at = None;
        let bytes = reg.to_bytes();
        p.in_flight.push((
            p.cseq,
            Retransmit::new(bytes.clone(), trunk, Instant::now()),
        ));
        self.send(&bytes, trunk);
    }

    fn send_ping(&mut self) {
        let Some(trunk) = self.presence.as_ref().map(|p| p.trunk) else {
            return;
        };
        let (sent_by, contact) = (self.sent_by(trunk), self.contact(trunk));
        let Some(p) = self.presence.as_mut() else {
            return;
        };
        let ping = p.request("OPTIONS", &sent_by, &contact);
        p.ping_cseq = Some(p.cseq);
        p.ping_at = p.keepalive.map(|k| Instant::now() + k);
        let bytes = ping.to_bytes();
        p.in_flight.push((
            p.cseq,
            Retransmit::new(bytes.clone(), trunk, Instant::now()),
        ));
        self.send(&bytes, trunk);
    }

    /// A response to our REGISTER or OPTIONS (matched by Call-ID and CSeq).
    pub(super) fn on_presence_response(&mut self, msg: &SipMessage) -> bool {
        let (Some(code), Ok((cseq, method))) = (msg.status(), msg.cseq()) else {
            return false;
        };
        let Some(p) = self.presence.as_mut() else {
            return false;
        };
        if msg.call_id() != p.call_id || code < 200 {
            return msg.call_id() == p.call_id;
        }
        let now = Instant::now();
        p.in_flight.retain(|(n, _)| *n != cseq);
        if method == "OPTIONS" && p.ping_cseq == Some(cseq) {
            p.ping_cseq = None;
            if p.status.reachable != Some(true) {
                tracing::info!(code, "Trunk answers our OPTIONS keep-alive");
            }
            p.status.reachable = Some(true);
            return true;
        }
        if method != "REGISTER" || p.register_cseq != Some(cseq) {
            return true;
        }
        p.register_cseq = None;
        if (200..300).contains(&code) {
            let granted = msg
                .header("Expires")
                .and_then(|e| e.trim().parse::<u32>().ok())
                .unwrap_or(p.expires)
                .max(2);
            p.auth_tried = false;
            p.status.registered = true;
            p.registered_until = Some(now + Duration::from_secs(u64::from(granted)));
            p.register_at = Some(now + Duration::from_secs(u64::from(granted)) / 2);
            tracing::info!(granted_secs = granted, "Registered with the trunk");
            return true;
        }
        let challenge = match code {
            401 => msg.header("WWW-Authenticate").map(|c| ("Authorization", c)),
            407 => msg
                .header("Proxy-Authenticate")
                .map(|c| ("Proxy-Authorization", c)),
            _ => None,
        };
        let uri = format!("sip:{}", p.host);
        let answer = match (challenge, &p.password, p.auth_tried) {
            (Some((name, value)), Some(pw), false) => Challenge::parse(value).map(|c| {
                (
                    name,
                    c.authorize(&p.user, pw, "REGISTER", &uri, &random_token()),
                )
            }),
            _ => None,
        };
        if let Some(auth) = answer {
            p.auth_tried = true;
            self.send_register(Some(auth));
            return true;
        }
        tracing::warn!(code, "The trunk refused our REGISTER; retrying in 30 s");
        p.auth_tried = false;
        p.status.registered = false;
        p.register_at = Some(now + RETRY);
        true
    }

    /// Sends due REGISTERs and keep-alives, retransmits, and notices timeouts.
    pub(super) fn presence_tick(&mut self, now: Instant) {
        let Some(p) = self.presence.as_mut() else {
            return;
        };
        if p.registered_until.is_some_and(|t| now >= t) {
            p.status.registered = false;
            p.registered_until = None;
        }
        let mut resend = Vec::new();
        let mut timed_out = false;
        p.in_flight.retain_mut(|(_, r)| match r.poll(now) {
            Some(true) => {
                resend.push((r.bytes.clone(), r.to));
                true
            }
            Some(false) => true,
            None => {
                timed_out = true;
                false
            }
        });
        if timed_out {
            if p.ping_cseq.take().is_some() && p.status.reachable != Some(false) {
                tracing::warn!("The trunk does not answer our OPTIONS keep-alive");
                p.status.reachable = Some(false);
            }
            if p.register_cseq.take().is_some() {
                tracing::warn!("The trunk does not answer our REGISTER; retrying in 30 s");
                p.register_at = Some(now + RETRY);
            }
        }
        let register_due = p.register_at.is_some_and(|t| now >= t) && p.register_cseq.is_none();
        let ping_due = p.ping_at.is_some_and(|t| now >= t) && p.ping_cseq.is_none();
        for (bytes, to) in resend {
            self.resend(&bytes, to);
        }
        if register_due {
            self.send_register(None);
        }
        if ping_due {
            self.send_ping();
        }
    }
}
