//! SIP dialogs and the message builders they need: responses copied from a request
//! (RFC 3261 §8.2.6), in-dialog requests (BYE, re-INVITE answers), and the retransmission
//! schedule of unreliable transports (§17: T1 doubling up to T2, give up after 64·T1).
//! Pure: times are passed in; the endpoint's actor loop owns every dialog.

use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::time::{Duration, Instant};

use super::message::{SipMessage, StartLine};
use super::uri::NameAddr;

/// RFC 3261 timer T1 (round-trip estimate).
pub const T1: Duration = Duration::from_millis(500);
/// RFC 3261 timer T2 (longest retransmit interval for non-INVITE requests and 2xx).
pub const T2: Duration = Duration::from_secs(4);

/// What the methods we allow are, for `Allow` headers.
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY";

/// A random token for tags, branches and Call-IDs (not cryptographic).
pub fn random_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", h.finish())
}

/// A random 64-bit number (SSRCs, sequence starts, SDP session ids).
pub fn random_u64() -> u64 {
    u64::from_str_radix(&random_token(), 16).unwrap_or(0x5eed)
}

/// A message to send again until acknowledged, on the RFC 3261 schedule.
#[derive(Debug, Clone)]
pub struct Retransmit {
    pub bytes: Vec<u8>,
    pub to: SocketAddr,
    next: Instant,
    interval: Duration,
    give_up: Instant,
}

impl Retransmit {
    pub fn new(bytes: Vec<u8>, to: SocketAddr, now: Instant) -> Self {
        Self {
            bytes,
            to,
            next: now + T1,
            interval: T1,
            give_up: now + 64 * T1,
        }
    }

    /// `Some(true)` when it is time to send again, `Some(false)` when not yet, `None` when
    /// the transaction timed out (timer B/F/H).
    pub fn poll(&mut self, now: Instant) -> Option<bool> {
        if now >= self.give_up {
            return None;
        }
        if now < self.next {
            return Some(false);
        }
        self.interval = (self.interval * 2).min(T2);
        self.next = now + self.interval;
        Some(true)
    }
}

/// Builds a response to `req`: Via, From, To (with `to_tag` added when it has none), Call-ID
/// and CSeq copied; `rport`/`received` filled in for the top Via when the peer asked.
pub fn response(
    req: &SipMessage,
    code: u16,
    reason: &str,
    to_tag: Option<&str>,
    source: SocketAddr,
) -> SipMessage {
    let mut headers = Vec::new();
    for (i, via) in req.headers_named("Via").enumerate() {
        let mut via = via.to_string();
        if i == 0 {
            via = fill_rport(&via, source);
        }
        headers.push(("Via".to_string(), via));
    }
    for name in ["From", "To", "Call-ID", "CSeq"] {
        let Some(v) = req.header(name) else { continue };
        let mut v = v.to_string();
        if name == "To" {
            if let Some(tag) = to_tag {
                if NameAddr::parse(&v)
                    .and_then(|n| n.tag().map(str::to_owned))
                    .is_none()
                {
                    v.push_str(";tag=");
                    v.push_str(tag);
                }
            }
        }
        headers.push((name.to_string(), v));
    }
    if (200..300).contains(&code) || code == 405 {
        headers.push(("Allow".to_string(), ALLOW.to_string()));
    }
    headers.push(("Server".to_string(), "switchboard".to_string()));
    SipMessage {
        start: StartLine::Response {
            code,
            reason: reason.to_string(),
        },
        headers,
        body: Vec::new(),
    }
}

fn fill_rport(via: &str, source: SocketAddr) -> String {
    let mut out = String::with_capacity(via.len() + 32);
    let mut parts = via.split(';');
    out.push_str(parts.next().unwrap_or_default());
    let mut received = false;
    for p in parts {
        out.push(';');
        if p.trim().eq_ignore_ascii_case("rport") {
            out.push_str(&format!("rport={}", source.port()));
        } else {
            if p.trim().to_ascii_lowercase().starts_with("received=") {
                received = true;
            }
            out.push_str(p);
        }
    }
    if !received {
        out.push_str(&format!(";received={}", source.ip()));
    }
    out
}

/// Which side of the dialog we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// We answered the INVITE.
    Uas,
    /// We sent the INVITE.
    Uac,
}

/// The identifiers and routing state of one dialog.
#[derive(Debug, Clone)]
pub struct DialogId {
    pub call_id: String,
    /// Our From (UAC) or To (UAS) header value, including our tag.
    pub local: String,
    /// The peer's header value, including its tag.
    pub remote: String,
    /// The peer's Contact URI (where in-dialog requests go).
    pub remote_target: String,
    /// Route set from Record-Route (reversed for a UAC).
    pub route: Vec<String>,
    /// Where the peer's signalling comes from; in-dialog requests are sent there.
    pub peer: SocketAddr,
    pub local_cseq: u32,
    /// Requests go over TCP (`SIP/2.0/TCP` in Via), not UDP.
    pub tcp: bool,
}

impl DialogId {
    /// The dialog a UAS forms by answering `invite` with `local_tag`.
    pub fn for_uas(invite: &SipMessage, local_tag: &str, peer: SocketAddr) -> Self {
        let to = invite.header("To").unwrap_or_default();
        let remote_target = invite
            .header("Contact")
            .and_then(NameAddr::parse)
            .map(|n| n.uri)
            .unwrap_or_default();
        Self {
            call_id: invite.call_id().to_string(),
            local: format!("{to};tag={local_tag}"),
            remote: invite.header("From").unwrap_or_default().to_string(),
            remote_target,
            route: invite
                .headers_named("Record-Route")
                .map(str::to_string)
                .collect(),
            peer,
            local_cseq: 1,
            tcp: false,
        }
    }

    /// A new in-dialog request (BYE, INFO...) from us; `via_host` is our sent-by.
    pub fn request(&mut self, method: &str, via_host: &str, contact: &str) -> SipMessage {
        self.local_cseq += 1;
        let uri = if self.remote_target.is_empty() {
            NameAddr::parse(&self.remote).map_or_else(String::new, |n| n.uri)
        } else {
            self.remote_target.clone()
        };
        let mut headers = vec![
            (
                "Via".to_string(),
                format!(
                    "SIP/2.0/{} {via_host};branch=z9hG4bK{};rport",
                    if self.tcp { "TCP" } else { "UDP" },
                    random_token()
                ),
            ),
            ("Max-Forwards".to_string(), "70".to_string()),
            ("From".to_string(), self.local.clone()),
            ("To".to_string(), self.remote.clone()),
            ("Call-ID".to_string(), self.call_id.clone()),
            ("CSeq".to_string(), format!("{} {method}", self.local_cseq)),
            ("Contact".to_string(), format!("<{contact}>")),
        ];
        for r in &self.route {
            headers.push(("Route".to_string(), r.clone()));
        }
        SipMessage {
            start: StartLine::Request {
                method: method.to_string(),
                uri,
            },
            headers,
            body: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite() -> SipMessage {
        SipMessage::parse(
            b"INVITE sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.1.1:5070;branch=z9hG4bKa;rport\r\n\
              From: <sip:caller@10.1.1.1>;tag=ft\r\nTo: <sip:100@127.0.0.1>\r\nCall-ID: c1\r\n\
              CSeq: 7 INVITE\r\nContact: <sip:caller@10.1.1.1:5070>\r\n\r\n",
        )
        .unwrap()
    }

    #[test]
    fn responses_copy_the_transaction_headers_and_add_our_tag() {
        let src: SocketAddr = "192.0.2.9:6000".parse().unwrap();
        let r = response(&invite(), 180, "Ringing", Some("tt"), src);
        let bytes = r.to_bytes();
        let back = SipMessage::parse(&bytes).unwrap();
        assert_eq!(back.status(), Some(180));
        assert_eq!(back.header("To"), Some("<sip:100@127.0.0.1>;tag=tt"));
        assert_eq!(
            back.header("Via"),
            Some("SIP/2.0/UDP 10.1.1.1:5070;branch=z9hG4bKa;rport=6000;received=192.0.2.9")
        );
        assert_eq!(back.cseq().unwrap(), (7, "INVITE".to_string()));
    }

    #[test]
    fn in_dialog_requests_target_the_contact_with_swapped_tags() {
        let src: SocketAddr = "192.0.2.9:6000".parse().unwrap();
        let mut d = DialogId::for_uas(&invite(), "tt", src);
        let bye =
            SipMessage::parse(&d.request("BYE", "127.0.0.1:5080", "sip:a@h").to_bytes()).unwrap();
        assert_eq!(bye.method(), Some("BYE"));
        assert!(
            matches!(&bye.start, StartLine::Request { uri, .. } if uri == "sip:caller@10.1.1.1:5070")
        );
        assert_eq!(bye.header("From"), Some("<sip:100@127.0.0.1>;tag=tt"));
        assert_eq!(bye.header("To"), Some("<sip:caller@10.1.1.1>;tag=ft"));
        assert_eq!(bye.cseq().unwrap().0, 2);
    }

    #[test]
    fn retransmits_double_to_t2_then_give_up() {
        let t0 = Instant::now();
        let mut r = Retransmit::new(vec![], "127.0.0.1:1".parse().unwrap(), t0);
        assert_eq!(r.poll(t0), Some(false));
        let mut sends = Vec::new();
        let mut t = t0;
        while let Some(send) = r.poll(t) {
            if send {
                sends.push((t - t0).as_millis());
            }
            t += Duration::from_millis(100);
        }
        assert_eq!(&sends[..5], &[500, 1500, 3500, 7500, 11500]);
        assert_eq!((t - t0).as_millis(), 32_000);
    }
}
