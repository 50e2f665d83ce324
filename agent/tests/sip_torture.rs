//! Parser conformance in the spirit of RFC 4475 (SIP torture test messages): messages that
//! are strange but valid must parse to the right values, and invalid ones must be refused
//! with an error, never a panic. The vectors are written for this project, following the
//! categories of RFC 4475 §3.1.1 (valid, stressing the parser) and §3.1.2 (invalid). Property
//! tests then throw random and mutated bytes at the SIP, SDP and RTP parsers.

use proptest::prelude::*;
use switchboard::transport::sip::message::{ParseError, StartLine};
use switchboard::transport::sip::rtp::{RtpPacket, TelephoneEvent};
use switchboard::transport::sip::sdp::AudioOffer;
use switchboard::transport::sip::uri::{NameAddr, SipUri};
use switchboard::transport::sip::SipMessage;

fn msg(lines: &[&str]) -> Vec<u8> {
    let mut s = lines.join("\r\n");
    s.push_str("\r\n");
    s.into_bytes()
}

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.4\r\ns=-\r\nc=IN IP4 192.0.2.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

/// Folded lines, compact forms, odd spacing and case, escaped URI, unknown headers.
#[test]
fn a_tortuous_but_valid_invite_parses_to_the_right_values() {
    let raw = format!(
        "\r\n\r\nINVITE sip:%2B1555%30100@example.net;user=phone SIP/2.0\r\n\
         TO :\r\n sip:+15550100@example.net ;   tag    = 1918181833n\r\n\
         from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8\r\n\
         MaX-fOrWaRdS: 0068\r\n\
         Call-ID: wsinv.ndaksdj@192.0.2.1\r\n\
         cseq: 0009\r\n  INVITE\r\n\
         Via  : SIP  /   2.0\r\n  /UDP\r\n    192.0.2.2;branch=390skdjuw\r\n\
         v:  SIP/2.0/TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239\r\n\
         s :\r\n\
         NewFangledHeader:   newfangled value\r\n continued newfangled value\r\n\
         UnknownHeaderWithUnusualValue: ;;,,;;,;\r\n\
         Content-Type: application/sdp\r\n\
         m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33\r\n\
         l: {}\r\n\r\n{SDP}",
        SDP.len()
    );
    let m = SipMessage::parse(raw.as_bytes()).expect("valid torture INVITE");
    assert_eq!(m.method(), Some("INVITE"));
    let StartLine::Request { uri, .. } = &m.start else {
        panic!("not a request")
    };
    assert_eq!(
        SipUri::parse(uri).unwrap().user.as_deref(),
        Some("+15550100")
    );
    assert_eq!(m.cseq().unwrap(), (9, "INVITE".to_string()));
    assert_eq!(m.call_id(), "wsinv.ndaksdj@192.0.2.1");
    assert_eq!(m.headers_named("Via").count(), 3, "{:?}", m.headers);
    assert_eq!(m.header("Subject"), Some(""));
    let to = NameAddr::parse(m.header("To").unwrap()).unwrap();
    assert_eq!(to.tag(), Some("1918181833n"));
    let from = NameAddr::parse(m.header("From").unwrap()).unwrap();
    assert_eq!(
        (from.uri.as_str(), from.tag()),
        ("sip:jdrosen@example.com", Some("98asjd8"))
    );
    assert_eq!(
        m.header("Contact").map(|c| NameAddr::parse(c).unwrap().uri),
        Some("sip:jdrosen@example.com".into())
    );
    assert_eq!(m.body, SDP.as_bytes());
    assert!(AudioOffer::parse(&m.body).is_ok());
    // What we serialise parses back to the same message.
    assert_eq!(SipMessage::parse(&m.to_bytes()).unwrap(), m);
}

#[test]
fn valid_unusual_messages_parse() {
    let base = [
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa",
        "From: <sip:a@example.com>;tag=1",
        "To: sip:b@example.com",
        "Call-ID: x1",
    ];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        // An unknown method with a matching CSeq.
        (
            vec!["NEWMETHOD sip:b@example.com SIP/2.0", "CSeq: 8 NEWMETHOD"],
            "unknown method",
        ),
        // A response whose reason phrase is not ASCII.
        (
            vec!["SIP/2.0 200 Tudo bem, obrigado", "CSeq: 1 OPTIONS"],
            "utf-8 reason",
        ),
        (vec!["SIP/2.0 180 ", "CSeq: 1 INVITE"], "empty reason"),
        // A tel: Request-URI and a sips: one.
        (
            vec!["OPTIONS tel:+15550100 SIP/2.0", "CSeq: 1 OPTIONS"],
            "tel uri",
        ),
        (
            vec![
                "OPTIONS sips:b@[2001:db8::9]:5061 SIP/2.0",
                "CSeq: 1 OPTIONS",
            ],
            "ipv6 uri",
        ),
        // ACK and CANCEL carry the CSeq method of what they answer.
        (vec!["ACK sip:b@example.com SIP/2.0", "CSeq: 1 ACK"], "ack"),
    ];
    for (mut lines, what) in cases {
        let start = lines.remove(0);
        let mut all = vec![start];
        all.extend(base);
        all.extend(lines);
        all.extend(["Content-Length: 0", ""]);
        let parsed = SipMessage::parse(&msg(&all));
        assert!(parsed.is_ok(), "{what}: {parsed:?}");
    }
    // Bare LF line ends, no Content-Length on a datagram: the rest is the body.
    let lf = "OPTIONS sip:b@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKb\nFrom: <sip:a@h>;tag=2\n\
              To: <sip:b@h>\nCall-ID: lf\nCSeq: 3 OPTIONS\n\nhello";
    assert_eq!(SipMessage::parse(lf.as_bytes()).unwrap().body, b"hello");
}

#[test]
fn invalid_messages_are_refused_with_the_reason() {
    let good = [
        "INVITE sip:b@example.com SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa",
        "From: <sip:a@example.com>;tag=1",
        "To: <sip:b@example.com>",
        "Call-ID: bad1",
        "CSeq: 1 INVITE",
        "Content-Length: 0",
        "",
    ];
    assert!(
        SipMessage::parse(&msg(&good)).is_ok(),
        "the base message is valid"
    );
    let with = |i: usize, line: &str| {
        let mut l = good.to_vec();
        l[i] = line;
        msg(&l)
    };
    let without = |i: usize| {
        let mut l = good.to_vec();
        l.remove(i);
        msg(&l)
    };
    type Check = fn(&ParseError) -> bool;
    let cases: Vec<(Vec<u8>, Check, &str)> = vec![
        (
            with(6, "Content-Length: 9999"),
            |e| matches!(e, ParseError::Truncated { .. }),
            "clen too large",
        ),
        (
            with(6, "Content-Length: -3"),
            |e| matches!(e, ParseError::ContentLength(_)),
            "negative clen",
        ),
        (
            with(6, "Content-Length: 0\r\nl: 4"),
            |e| matches!(e, ParseError::ContentLength(_)),
            "two clens",
        ),
        (
            with(0, "INVITE sip:b@example.com; lr SIP/2.0"),
            |e| matches!(e, ParseError::StartLine(_)),
            "space in uri",
        ),
        (
            with(0, "INVITE <sip:b@example.com> SIP/2.0"),
            |e| matches!(e, ParseError::Uri(_)),
            "bracketed uri",
        ),
        (
            with(0, "INVITE sip:b@example.com SIP/7.0"),
            |e| matches!(e, ParseError::Version(_)),
            "version",
        ),
        (
            with(0, "SIP/2.0 99 Too Low"),
            |e| matches!(e, ParseError::StartLine(_)),
            "status 99",
        ),
        (
            with(0, "SIP/2.0 2000 OK"),
            |e| matches!(e, ParseError::StartLine(_)),
            "status 2000",
        ),
        (
            with(0, "INV ITE sip:b@h SIP/2.0"),
            |e| matches!(e, ParseError::StartLine(_)),
            "method space",
        ),
        (
            with(5, "CSeq: 1 BYE"),
            |e| matches!(e, ParseError::CSeqMethod { .. }),
            "cseq method",
        ),
        (
            with(5, "CSeq: 2147483648 INVITE"),
            |e| matches!(e, ParseError::CSeq(_)),
            "cseq 2^31",
        ),
        (
            with(5, "CSeq: INVITE"),
            |e| matches!(e, ParseError::CSeq(_)),
            "cseq number missing",
        ),
        (
            with(3, "To <sip:b@example.com>"),
            |e| matches!(e, ParseError::Header(_)),
            "no colon",
        ),
        (
            with(3, "T o: <sip:b@example.com>"),
            |e| matches!(e, ParseError::Header(_)),
            "space in name",
        ),
        (
            without(4),
            |e| matches!(e, ParseError::Missing("Call-ID")),
            "no Call-ID",
        ),
        (
            without(1),
            |e| matches!(e, ParseError::Missing("Via")),
            "no Via",
        ),
        (
            b"\r\n\r\n".to_vec(),
            |e| matches!(e, ParseError::Empty),
            "only CRLFs",
        ),
        (
            b"INVITE sip:b@h SIP/2.0\r\nVia: x\r\n".to_vec(),
            |e| matches!(e, ParseError::Unterminated),
            "no blank line",
        ),
        (
            with(3, "To: <sip:b@\u{0}\u{7f}>"),
            |_| true,
            "control bytes",
        ),
    ];
    for (bytes, check, what) in cases {
        match SipMessage::parse(&bytes) {
            Ok(m) if what == "control bytes" => {
                // Accepted as an opaque header value: the URI inside must not parse.
                assert!(NameAddr::parse(m.header("To").unwrap())
                    .and_then(|n| n.sip_uri())
                    .is_none());
            }
            Ok(m) => panic!("{what}: accepted {m:?}"),
            Err(e) => assert!(check(&e), "{what}: wrong error {e:?}"),
        }
    }
    let mut bad_utf8 = msg(&good);
    bad_utf8[40] = 0xff;
    assert_eq!(SipMessage::parse(&bad_utf8), Err(ParseError::NotUtf8));
    assert_eq!(
        SipMessage::parse(&vec![b'a'; 70_000]),
        Err(ParseError::TooLarge)
    );
}

fn valid_invite() -> Vec<u8> {
    let sdp = SDP;
    format!(
        "INVITE sip:+15550100@192.0.2.9 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK77;rport\r\n\
         From: \"Caller\" <sip:c@192.0.2.4>;tag=7\r\nTo: <sip:+15550100@192.0.2.9>\r\nCall-ID: prop\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:c@192.0.2.4>\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
    .into_bytes()
}

/// Parses everything a message offers; any panic fails the property.
fn exercise(data: &[u8]) {
    if let Ok(m) = SipMessage::parse(data) {
        let again = SipMessage::parse(&m.to_bytes()).expect("what we serialise parses");
        assert_eq!(again.start, m.start);
        assert_eq!(again.body, m.body);
        for (_, v) in &m.headers {
            let _ = NameAddr::parse(v).map(|n| (n.tag().map(str::len), n.sip_uri()));
        }
        let _ = m.branch();
        let _ = AudioOffer::parse(&m.body).map(|o| o.negotiate());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn random_bytes_never_panic_the_parsers(data in proptest::collection::vec(any::<u8>(), 0..1500)) {
        exercise(&data);
        let _ = RtpPacket::parse(&data);
        let _ = TelephoneEvent::parse(&data);
        let _ = AudioOffer::parse(&data).map(|o| o.negotiate());
        if let Ok(s) = std::str::from_utf8(&data) {
            let _ = SipUri::parse(s);
            let _ = NameAddr::parse(s);
        }
    }

    #[test]
    fn mutated_invites_never_panic_and_round_trip(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..12)
    ) {
        let mut data = valid_invite();
        for (at, byte, kind) in edits {
            if data.is_empty() { break; }
            let i = at.index(data.len());
            match kind {
                0 => data[i] = byte,
                1 => { data.remove(i); }
                2 => data.insert(i, byte),
                _ => data.truncate(i),
            }
        }
        exercise(&data);
    }

    #[test]
    fn rtp_round_trips(pt in 0u8..128, marker: bool, seq: u16, ts: u32, ssrc: u32,
                       payload in proptest::collection::vec(any::<u8>(), 0..400)) {
        let p = RtpPacket { payload_type: pt, marker, seq, timestamp: ts, ssrc, payload };
        let back = RtpPacket::parse(&p.to_bytes());
        // RTCP-range payload types are refused by design (rtcp-mux).
        if (72..=76).contains(&pt) {
            prop_assert_eq!(back, None);
        } else {
            prop_assert_eq!(back, Some(p));
        }
    }
}
