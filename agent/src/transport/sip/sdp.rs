//! SDP offer/answer (RFC 4566, RFC 3264) for one audio stream: reads the caller's offer
//! (where to send RTP, which codecs), picks G.711 (PCMU or PCMA) plus RFC 4733
//! telephone-event, and writes the answer or an offer of our own. Pure.

use std::fmt::Write as _;
use std::net::IpAddr;

use audio::G711Law;

/// Why an SDP body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    #[error("SDP is not UTF-8")]
    NotUtf8,
    #[error("SDP has no audio stream")]
    NoAudio,
    #[error("SDP line {0:?} is malformed")]
    Line(String),
    #[error("SDP gives no connection address for audio")]
    NoConnection,
    #[error("no common codec: offered payload types {0:?}, we take PCMU/PCMA")]
    NoCommonCodec(Vec<u8>),
}

/// Media direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    fn attr(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
}

/// The audio stream of a session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioOffer {
    pub addr: IpAddr,
    pub port: u16,
    /// Payload types in preference order.
    pub formats: Vec<u8>,
    /// `(payload type, encoding name lower-case, clock rate)` from `a=rtpmap`.
    pub rtpmap: Vec<(u8, String, u32)>,
    pub ptime: Option<u32>,
    pub direction: Direction,
    /// `a=rtcp-mux`: RTCP may share the RTP port (RFC 5761).
    pub rtcp_mux: bool,
    /// `a=rtcp:PORT` (RFC 3605), when the peer's RTCP is not on RTP port + 1.
    pub rtcp_port: Option<u16>,
}

/// What both sides agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    pub law: G711Law,
    pub payload_type: u8,
    /// The peer's telephone-event payload type, when it offered one.
    pub dtmf_pt: Option<u8>,
}

impl AudioOffer {
    /// Parses the first `m=audio` stream of `body`.
    ///
    /// # Errors
    /// [`SdpError`] when the body is not SDP with a usable audio stream.
    pub fn parse(body: &[u8]) -> Result<Self, SdpError> {
        let text = std::str::from_utf8(body).map_err(|_| SdpError::NotUtf8)?;
        let mut session_addr = None;
        let mut audio: Option<AudioOffer> = None;
        let mut in_audio = false;
        for line in text.lines().map(str::trim_end) {
            let Some((kind, value)) = line.split_once('=') else {
                if line.is_empty() {
                    continue;
                }
                return Err(SdpError::Line(line.to_string()));
            };
            match kind {
                "m" => {
                    if audio.is_some() {
                        in_audio = false;
                        continue;
                    }
                    let parts: Vec<&str> = value.split_whitespace().collect();
                    in_audio = parts.first() == Some(&"audio");
                    if !in_audio {
                        continue;
                    }
                    let (Some(port), Some(_proto)) = (parts.get(1), parts.get(2)) else {
                        return Err(SdpError::Line(line.to_string()));
                    };
                    let port = port
                        .split('/')
                        .next()
                        .and_then(|p| p.parse().ok())
                        .ok_or_else(|| SdpError::Line(line.to_string()))?;
                    let formats = parts[3..].iter().filter_map(|f| f.parse().ok()).collect();
                    audio = Some(AudioOffer {
                        addr: session_addr.unwrap_or(IpAddr::from([0, 0, 0, 0])),
                        port,
                        formats,
                        rtpmap: Vec::new(),
                        ptime: None,
                        direction: Direction::SendRecv,
                        rtcp_mux: false,
                        rtcp_port: None,
                    });
                }
                "c" => {
                    let addr = parse_connection(value).ok_or(SdpError::Line(line.to_string()))?;
                    match audio.as_mut() {
                        Some(a) if in_audio => a.addr = addr,
                        None => session_addr = Some(addr),
                        _ => {}
                    }
                }
                "a" => {
                    if let Some(a) = audio.as_mut().filter(|_| in_audio) {
                        a.apply_attribute(value);
                    }
                }
                _ => {}
            }
        }
        let audio = audio.ok_or(SdpError::NoAudio)?;
        if audio.addr.is_unspecified() && audio.port != 0 && session_addr.is_none() {
            return Err(SdpError::NoConnection);
        }
        Ok(audio)
    }

    fn apply_attribute(&mut self, value: &str) {
        let (name, arg) = value.split_once(':').unwrap_or((value, ""));
        match name {
            "rtpmap" => {
                let mut it = arg.split_whitespace();
                let pt = it.next().and_then(|p| p.parse().ok());
                let enc = it.next().map(|e| e.split('/').collect::<Vec<_>>());
                if let (Some(pt), Some(enc)) = (pt, enc) {
                    let rate = enc.get(1).and_then(|r| r.parse().ok()).unwrap_or(8000);
                    self.rtpmap.push((pt, enc[0].to_ascii_lowercase(), rate));
                }
            }
            "ptime" => self.ptime = arg.trim().parse().ok(),
            "rtcp-mux" => self.rtcp_mux = true,
            "rtcp" => self.rtcp_port = arg.split_whitespace().next().and_then(|p| p.parse().ok()),
            "sendrecv" => self.direction = Direction::SendRecv,
            "sendonly" => self.direction = Direction::SendOnly,
            "recvonly" => self.direction = Direction::RecvOnly,
            "inactive" => self.direction = Direction::Inactive,
            _ => {}
        }
    }

    fn encoding(&self, pt: u8) -> Option<(&str, u32)> {
        if let Some((_, name, rate)) = self.rtpmap.iter().find(|(p, _, _)| *p == pt) {
            return Some((name.as_str(), *rate));
        }
        match pt {
            0 => Some(("pcmu", 8000)),
            8 => Some(("pcma", 8000)),
            _ => None,
        }
    }

    /// Picks the first offered G.711 law and the offered telephone-event type.
    ///
    /// # Errors
    /// [`SdpError::NoCommonCodec`] when neither PCMU nor PCMA is offered.
    pub fn negotiate(&self) -> Result<Negotiated, SdpError> {
        let mut chosen = None;
        let mut dtmf_pt = None;
        for &pt in &self.formats {
            match self.encoding(pt) {
                Some(("pcmu", 8000)) if chosen.is_none() => chosen = Some((G711Law::MuLaw, pt)),
                Some(("pcma", 8000)) if chosen.is_none() => chosen = Some((G711Law::ALaw, pt)),
                Some(("telephone-event", 8000)) if dtmf_pt.is_none() => dtmf_pt = Some(pt),
                _ => {}
            }
        }
        let (law, payload_type) =
            chosen.ok_or_else(|| SdpError::NoCommonCodec(self.formats.clone()))?;
        Ok(Negotiated {
            law,
            payload_type,
            dtmf_pt,
        })
    }
}

fn parse_connection(value: &str) -> Option<IpAddr> {
    let mut it = value.split_whitespace();
    let (Some("IN"), Some(_), Some(addr)) = (it.next(), it.next(), it.next()) else {
        return None;
    };
    addr.split('/').next()?.parse().ok()
}

/// What we offer: G.711 both laws and RFC 4733 events.
pub const OUR_FORMATS: &[(u8, &str)] = &[(0, "PCMU"), (8, "PCMA"), (101, "telephone-event")];

/// Writes a session description with one audio stream. `formats` is `(pt, name)`; a
/// telephone-event type gets its `fmtp` 0-16.
pub fn write_sdp(
    session_id: u64,
    version: u64,
    addr: IpAddr,
    port: u16,
    formats: &[(u8, &str)],
    direction: Direction,
    rtcp_mux: bool,
) -> Vec<u8> {
    let family = if addr.is_ipv6() { "IP6" } else { "IP4" };
    let mut s = String::new();
    let _ = write!(
        s,
        "v=0\r\no=switchboard {session_id} {version} IN {family} {addr}\r\ns=switchboard\r\n\
         c=IN {family} {addr}\r\nt=0 0\r\nm=audio {port} RTP/AVP"
    );
    for (pt, _) in formats {
        let _ = write!(s, " {pt}");
    }
    s.push_str("\r\n");
    for (pt, name) in formats {
        let _ = write!(s, "a=rtpmap:{pt} {name}/8000\r\n");
        if name.eq_ignore_ascii_case("telephone-event") {
            let _ = write!(s, "a=fmtp:{pt} 0-16\r\n");
        }
    }
    let _ = write!(s, "a=ptime:20\r\na={}\r\n", direction.attr());
    if rtcp_mux {
        s.push_str("a=rtcp-mux\r\n");
    }
    s.into_bytes()
}

/// The answer to `offer` after [`AudioOffer::negotiate`] gave `n`.
pub fn answer(n: &Negotiated, offer: &AudioOffer, addr: IpAddr, port: u16, sid: u64) -> Vec<u8> {
    let name = match n.law {
        G711Law::MuLaw => "PCMU",
        G711Law::ALaw => "PCMA",
    };
    let mut formats = vec![(n.payload_type, name)];
    if let Some(pt) = n.dtmf_pt {
        formats.push((pt, "telephone-event"));
    }
    let direction = match offer.direction {
        Direction::SendOnly => Direction::RecvOnly,
        Direction::RecvOnly => Direction::SendOnly,
        d => d,
    };
    write_sdp(sid, sid, addr, port, &formats, direction, offer.rtcp_mux)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n\
        m=video 4000 RTP/AVP 96\r\nm=audio 40000 RTP/AVP 9 8 0 101\r\na=rtpmap:101 \
        telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n";

    #[test]
    fn picks_the_first_g711_law_and_telephone_event() {
        let offer = AudioOffer::parse(OFFER.as_bytes()).unwrap();
        assert_eq!(offer.addr, IpAddr::from([10, 0, 0, 9]));
        assert_eq!(offer.port, 40000);
        let n = offer.negotiate().unwrap();
        assert_eq!(
            (n.law, n.payload_type, n.dtmf_pt),
            (G711Law::ALaw, 8, Some(101))
        );
        let ans = String::from_utf8(answer(&n, &offer, [127, 0, 0, 1].into(), 7000, 5)).unwrap();
        assert!(ans.contains("m=audio 7000 RTP/AVP 8 101\r\n"), "{ans}");
        assert!(ans.contains("a=rtpmap:101 telephone-event/8000"), "{ans}");
        assert!(AudioOffer::parse(ans.as_bytes()).is_ok());
    }

    #[test]
    fn refuses_offers_without_g711_or_audio() {
        let opus = OFFER.replace("9 8 0 101", "111");
        let offer = AudioOffer::parse(opus.as_bytes()).unwrap();
        assert_eq!(offer.negotiate(), Err(SdpError::NoCommonCodec(vec![111])));
        let video = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 1 RTP/AVP 96\r\n";
        assert_eq!(AudioOffer::parse(video.as_bytes()), Err(SdpError::NoAudio));
        assert!(AudioOffer::parse(b"v=0\r\nm=audio 1 RTP/AVP 0\r\n").is_err());
        assert!(AudioOffer::parse(b"v=0\r\nc=IN IP4 nope\r\n").is_err());
        assert!(AudioOffer::parse(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn hold_offer_is_answered_recvonly() {
        let hold = OFFER.replace("a=sendrecv", "a=sendonly");
        let offer = AudioOffer::parse(hold.as_bytes()).unwrap();
        let n = offer.negotiate().unwrap();
        let ans = String::from_utf8(answer(&n, &offer, [127, 0, 0, 1].into(), 1, 1)).unwrap();
        assert!(ans.contains("a=recvonly"), "{ans}");
        assert!(!ans.contains("rtcp-mux"), "{ans}");
    }

    #[test]
    fn rtcp_mux_and_port_are_read_and_mux_is_accepted() {
        let muxed = OFFER.replace(
            "a=sendrecv",
            "a=sendrecv\r\na=rtcp-mux\r\na=rtcp:40005 IN IP4 10.0.0.9",
        );
        let offer = AudioOffer::parse(muxed.as_bytes()).unwrap();
        assert!(offer.rtcp_mux);
        assert_eq!(offer.rtcp_port, Some(40005));
        let n = offer.negotiate().unwrap();
        let ans = String::from_utf8(answer(&n, &offer, [127, 0, 0, 1].into(), 1, 1)).unwrap();
        assert!(ans.contains("a=rtcp-mux\r\n"), "{ans}");
    }
}
