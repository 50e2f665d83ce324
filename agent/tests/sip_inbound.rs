//! The SIP endpoint against a scripted UAC on loopback: call set-up with SDP answer, RTP both
//! ways, RFC 4733 and INFO DTMF, BYE from either side, the no-RTP timeout, routing refusals,
//! retransmitted INVITEs and malformed datagrams. The handler is a stand-in for the turn
//! engine that reports what it received.

use std::net::SocketAddr;
use std::sync::Arc;

use futures::future::BoxFuture;
use switchboard::transport::sip::digest::Challenge;
use switchboard::transport::sip::rtp::{RtpPacket, TelephoneEvent};
use switchboard::transport::sip::sdp::AudioOffer;
use switchboard::transport::sip::{
    HangupCause, SipCall, SipCallHandler, SipConfig, SipEndpoint, SipMessage,
};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::{timeout, Duration};
use tokio_util::sync::CancellationToken;

/// Guard against a hung test only; no assertion depends on it.
const GUARD: Duration = Duration::from_secs(20);

/// What the stand-in handler saw of one call.
#[derive(Debug)]
struct Seen {
    dialled: String,
    tenant: String,
    loud_frames: usize,
    digits: Vec<char>,
    cause: Option<HangupCause>,
}

/// Plays a 400 Hz tone for `speak_ms`, collects caller audio and digits until the input
/// closes (or, with `hang_up_after`, returns by itself, which makes the endpoint send BYE).
struct Recorder {
    seen: mpsc::Sender<Seen>,
    speak_ms: u64,
    hang_up_after: Option<Duration>,
}

impl SipCallHandler for Recorder {
    fn handle(&self, mut call: SipCall) -> BoxFuture<'static, ()> {
        let seen = self.seen.clone();
        let speak_ms = self.speak_ms;
        let hang_up_after = self.hang_up_after;
        Box::pin(async move {
            let tone = audio::synth::sine(400.0, 0.5, 20, audio::SampleRate::HZ_8K);
            let mut out = call.media.output;
            let mut loud = 0;
            let mut digits = Vec::new();
            let mut at = 0;
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let deadline = hang_up_after.map(|d| tokio::time::Instant::now() + d);
            loop {
                tokio::select! {
                    f = call.media.input.recv() => match f {
                        Some(f) => loud += usize::from(audio::level::dbfs(&f.samples) > -30.0),
                        None => break,
                    },
                    Some(d) = call.dtmf.recv() => digits.push(d),
                    _ = tick.tick() => {
                        if at < speak_ms {
                            out.send(&tone, at);
                            at += 20;
                        }
                        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                            break;
                        }
                    }
                }
            }
            while let Ok(d) = call.dtmf.try_recv() {
                digits.push(d);
            }
            let _ = seen
                .send(Seen {
                    dialled: call.dialled,
                    tenant: call.route.tenant,
                    loud_frames: loud,
                    digits,
                    cause: call.control.cause(),
                })
                .await;
        })
    }
}

struct Harness {
    endpoint: SocketAddr,
    seen: mpsc::Receiver<Seen>,
    cancel: CancellationToken,
}

async fn start(no_rtp_secs: u64, hang_up_after: Option<Duration>) -> Harness {
    start_speaking(no_rtp_secs, hang_up_after, 1_000).await
}

async fn start_speaking(
    no_rtp_secs: u64,
    hang_up_after: Option<Duration>,
    speak_ms: u64,
) -> Harness {
    let config: SipConfig = serde_json::from_value(serde_json::json!({
        "bind": "127.0.0.1:0",
        "routes": {"+15550100": {"tenant": "acme", "script": "survey"}},
        "allow_from": ["127.0.0.0/8"],
        "no_rtp_timeout_secs": no_rtp_secs,
    }))
    .unwrap();
    let (tx, seen) = mpsc::channel(4);
    let handler = Arc::new(Recorder {
        seen: tx,
        speak_ms,
        hang_up_after,
    });
    let cancel = CancellationToken::new();
    let ep = SipEndpoint::start(config, handler, cancel.clone())
        .await
        .expect("endpoint starts");
    Harness {
        endpoint: ep.local_addr(),
        seen,
        cancel,
    }
}

/// A minimal scripted UAC.
struct Uac {
    sip: UdpSocket,
    rtp: UdpSocket,
    to: SocketAddr,
    call_id: String,
}

impl Uac {
    async fn new(to: SocketAddr, call_id: &str) -> Self {
        Self {
            sip: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            rtp: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            to,
            call_id: call_id.into(),
        }
    }

    fn invite(&self, number: &str, branch: &str) -> String {
        let sip = self.sip.local_addr().unwrap();
        let rtp = self.rtp.local_addr().unwrap().port();
        let sdp = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {rtp} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n"
        );
        format!(
            "INVITE sip:{number}@{to} SIP/2.0\r\nVia: SIP/2.0/UDP {sip};branch={branch};rport\r\n\
             Max-Forwards: 70\r\nFrom: \"Caller\" <sip:caller@{sip}>;tag=uac1\r\n\
             To: <sip:{number}@{to}>\r\nCall-ID: {cid}\r\nCSeq: 1 INVITE\r\n\
             Contact: <sip:caller@{sip}>\r\nContent-Type: application/sdp\r\n\
             Content-Length: {len}\r\n\r\n{sdp}",
            to = self.to,
            cid = self.call_id,
            len = sdp.len()
        )
    }

    /// An in-dialog request; `to` is the To header of the 200 OK (with the agent's tag).
    fn in_dialog(&self, method: &str, cseq: u32, to: &str, extra: &str, body: &str) -> String {
        let sip = self.sip.local_addr().unwrap();
        format!(
            "{method} sip:switchboard@{ep} SIP/2.0\r\nVia: SIP/2.0/UDP {sip};branch=z9hG4bK{method}{cseq}\r\n\
             From: <sip:caller@{sip}>;tag=uac1\r\nTo: {to}\r\nCall-ID: {cid}\r\nCSeq: {cseq} {method}\r\n\
             {extra}Content-Length: {len}\r\n\r\n{body}",
            ep = self.to,
            cid = self.call_id,
            len = body.len()
        )
    }

    async fn send(&self, text: &str) {
        self.sip.send_to(text.as_bytes(), self.to).await.unwrap();
    }

    async fn recv(&self) -> SipMessage {
        let mut buf = vec![0; 65_536];
        let (n, _) = timeout(GUARD, self.sip.recv_from(&mut buf))
            .await
            .expect("a SIP message from the endpoint")
            .unwrap();
        SipMessage::parse(&buf[..n]).expect("the endpoint sends well-formed SIP")
    }

    /// Receives until a message matching `want` arrives, answering requests it skips.
    async fn recv_until(&self, want: impl Fn(&SipMessage) -> bool) -> SipMessage {
        loop {
            let m = self.recv().await;
            if want(&m) {
                return m;
            }
        }
    }

    /// INVITE → 100, 180, 200 → ACK. Returns the 200's To header and the agent's RTP address.
    async fn establish(&self, number: &str) -> (String, SocketAddr) {
        self.send(&self.invite(number, "z9hG4bKinv1")).await;
        let trying = self.recv().await;
        assert_eq!(trying.status(), Some(100));
        let ringing = self.recv().await;
        assert_eq!(ringing.status(), Some(180));
        let ok = self.recv().await;
        assert_eq!(ok.status(), Some(200), "{ok:?}");
        let answer = AudioOffer::parse(&ok.body).expect("SDP answer");
        assert_eq!(answer.formats, vec![0, 101]);
        assert_eq!(answer.ptime, Some(20));
        let to = ok.header("To").unwrap().to_string();
        assert!(to.contains(";tag="), "{to}");
        self.send(&self.in_dialog("ACK", 1, &to, "", "")).await;
        (to, std::net::SocketAddr::new(answer.addr, answer.port))
    }

    async fn send_rtp(&self, to: SocketAddr, packet: RtpPacket) {
        self.rtp.send_to(&packet.to_bytes(), to).await.unwrap();
    }
}

fn tone_packet(seq: u16) -> RtpPacket {
    let tone = audio::synth::sine(600.0, 0.5, 20, audio::SampleRate::HZ_8K);
    RtpPacket {
        payload_type: 0,
        marker: seq == 0,
        seq,
        timestamp: u32::from(seq) * 160,
        ssrc: 9,
        payload: audio::G711Law::MuLaw.encode(&tone),
    }
}

#[tokio::test]
async fn an_inbound_call_carries_audio_and_dtmf_both_ways_until_the_caller_hangs_up() {
    let mut h = start(30, None).await;
    let uac = Uac::new(h.endpoint, "call-1").await;
    let (to, agent_rtp) = uac.establish("+15550100").await;

    // One second of tone, paced, with a '5' key press (three packets, one press) in the middle.
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    for seq in 0..50u16 {
        ticker.tick().await;
        uac.send_rtp(agent_rtp, tone_packet(seq)).await;
        if seq == 25 {
            for (end, duration) in [(false, 160), (true, 320), (true, 320)] {
                let ev = TelephoneEvent {
                    event: 5,
                    end,
                    volume: 10,
                    duration,
                };
                let mut p = tone_packet(seq);
                p.payload_type = 101;
                p.payload = ev.to_bytes().to_vec();
                uac.send_rtp(agent_rtp, p).await;
            }
        }
    }
    let info_extra = "Content-Type: application/dtmf-relay\r\n";
    uac.send(&uac.in_dialog("INFO", 2, &to, info_extra, "Signal=#\r\nDuration=160\r\n"))
        .await;
    let info_ok = uac
        .recv_until(|m| m.cseq().is_ok_and(|c| c.1 == "INFO"))
        .await;
    assert_eq!(info_ok.status(), Some(200));

    // The agent's tone came back over RTP, to the address we sent from (symmetric RTP).
    let mut buf = vec![0; 2048];
    let mut agent_packets = 0;
    while let Ok(Ok((n, _))) =
        timeout(Duration::from_millis(500), uac.rtp.recv_from(&mut buf)).await
    {
        let p = RtpPacket::parse(&buf[..n]).expect("agent sends valid RTP");
        assert_eq!((p.payload_type, p.payload.len()), (0, 160));
        agent_packets += 1;
    }
    assert!(agent_packets >= 40, "agent packets {agent_packets}");

    uac.send(&uac.in_dialog("BYE", 3, &to, "", "")).await;
    let bye_ok = uac
        .recv_until(|m| m.cseq().is_ok_and(|c| c.1 == "BYE"))
        .await;
    assert_eq!(bye_ok.status(), Some(200));
    let seen = timeout(GUARD, h.seen.recv()).await.unwrap().unwrap();
    assert_eq!(
        (seen.dialled.as_str(), seen.tenant.as_str()),
        ("+15550100", "acme")
    );
    assert!(seen.loud_frames >= 40, "{seen:?}");
    assert_eq!(seen.digits, vec!['5', '#']);
    assert_eq!(seen.cause, Some(HangupCause::RemoteHangup));
    h.cancel.cancel();
}

#[tokio::test]
async fn the_agent_hanging_up_sends_bye_and_a_silent_line_times_out() {
    // The handler returns after 300 ms: BYE from the agent.
    let mut h = start(30, Some(Duration::from_millis(300))).await;
    let uac = Uac::new(h.endpoint, "call-2").await;
    uac.establish("+15550100").await;
    let bye = uac.recv_until(|m| m.method() == Some("BYE")).await;
    assert_eq!(bye.header("Call-ID"), Some("call-2"));
    assert!(bye.header("From").unwrap().contains(";tag="));
    let seen = timeout(GUARD, h.seen.recv()).await.unwrap().unwrap();
    assert_eq!(seen.cause, None, "still up when the handler returned");
    h.cancel.cancel();

    // No RTP at all for a second: BYE with a reason, and the call's input closes.
    let mut h = start(1, None).await;
    let uac = Uac::new(h.endpoint, "call-3").await;
    uac.establish("+15550100").await;
    let bye = uac.recv_until(|m| m.method() == Some("BYE")).await;
    assert!(bye.header("Reason").unwrap().contains("no RTP"), "{bye:?}");
    let seen = timeout(GUARD, h.seen.recv()).await.unwrap().unwrap();
    assert_eq!(seen.cause, Some(HangupCause::NoRtp));
    h.cancel.cancel();
}

#[tokio::test]
async fn unknown_numbers_garbage_and_retransmissions_are_handled_without_a_new_call() {
    let mut h = start(30, None).await;
    let uac = Uac::new(h.endpoint, "call-4").await;
    for junk in [
        &b"\x00\x01garbage"[..],
        b"INVITE sip:x SIP/2.0\r\n\r\n",
        b"\r\n\r\n",
    ] {
        uac.sip.send_to(junk, h.endpoint).await.unwrap();
    }
    uac.send(&uac.invite("+15550999", "z9hG4bKnope")).await;
    assert_eq!(uac.recv().await.status(), Some(404));

    let uac = Uac::new(h.endpoint, "call-5").await;
    uac.establish("+15550100").await;
    // The same INVITE again (a retransmission) gets the 200 again, and no second call starts.
    uac.send(&uac.invite("+15550100", "z9hG4bKinv1")).await;
    let again = uac.recv().await;
    assert_eq!(again.status(), Some(200));
    h.cancel.cancel();
    let seen = timeout(GUARD, h.seen.recv()).await.unwrap().unwrap();
    assert_eq!(seen.cause, Some(HangupCause::Shutdown));
    assert!(h.seen.try_recv().is_err(), "only one call ran");
}

/// Waits up to `within` for an RTP packet from the agent.
async fn rtp_arrives(uac: &Uac, within: Duration) -> bool {
    let mut buf = vec![0; 2048];
    timeout(within, uac.rtp.recv_from(&mut buf)).await.is_ok()
}

fn reinvite(uac: &Uac, to: &str, cseq: u32, direction: &str) -> String {
    let rtp = uac.rtp.local_addr().unwrap().port();
    let sdp = format!(
        "v=0\r\no=- 1 {cseq} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {rtp} RTP/AVP 0\r\na={direction}\r\n"
    );
    uac.in_dialog(
        "INVITE",
        cseq,
        to,
        "Content-Type: application/sdp\r\n",
        &sdp,
    )
}

#[tokio::test]
async fn hold_stops_our_audio_and_unhold_resumes_it() {
    let h = start_speaking(30, None, 60_000).await;
    let uac = Uac::new(h.endpoint, "call-hold").await;
    let (to, _) = uac.establish("+15550100").await;
    assert!(
        rtp_arrives(&uac, Duration::from_secs(5)).await,
        "agent audio before hold"
    );

    uac.send(&reinvite(&uac, &to, 2, "sendonly")).await;
    let ok = uac.recv_until(|m| m.status() == Some(200)).await;
    assert!(
        String::from_utf8_lossy(&ok.body).contains("a=recvonly"),
        "{ok:?}"
    );
    uac.send(&uac.in_dialog("ACK", 2, &to, "", "")).await;
    // Drain what was in flight, then silence while held.
    while rtp_arrives(&uac, Duration::from_millis(200)).await {}
    assert!(
        !rtp_arrives(&uac, Duration::from_millis(600)).await,
        "audio while on hold"
    );

    uac.send(&reinvite(&uac, &to, 3, "sendrecv")).await;
    let ok = uac.recv_until(|m| m.status() == Some(200)).await;
    assert!(
        String::from_utf8_lossy(&ok.body).contains("a=sendrecv"),
        "{ok:?}"
    );
    uac.send(&uac.in_dialog("ACK", 3, &to, "", "")).await;
    assert!(
        rtp_arrives(&uac, Duration::from_secs(5)).await,
        "audio after unhold"
    );
    h.cancel.cancel();
}

#[tokio::test]
async fn an_unacknowledged_200_is_retransmitted_until_the_ack() {
    let h = start(30, None).await;
    let uac = Uac::new(h.endpoint, "call-lossy").await;
    uac.send(&uac.invite("+15550100", "z9hG4bKlossy")).await;
    let first = uac.recv_until(|m| m.status() == Some(200)).await;
    // Our ACK is "lost": the 200 comes again (timer G), unchanged.
    let again = uac.recv_until(|m| m.status().is_some()).await;
    assert_eq!(again, first);
    let to = first.header("To").unwrap().to_string();
    uac.send(&uac.in_dialog("ACK", 1, &to, "", "")).await;
    // Once acknowledged, no more retransmissions (the next would come 1 s after the last).
    let mut buf = vec![0; 4096];
    let more = timeout(Duration::from_millis(2_500), uac.sip.recv_from(&mut buf)).await;
    assert!(more.is_err(), "retransmitted after the ACK");
    h.cancel.cancel();
}

#[tokio::test]
async fn digest_users_must_authenticate_to_call_in() {
    std::env::set_var("SWITCHBOARD_TEST_INBOUND_PW", "open-sesame");
    let config: SipConfig = serde_json::from_value(serde_json::json!({
        "bind": "127.0.0.1:0",
        "routes": {"+15550100": {"tenant": "acme", "script": "survey"}},
        "inbound_users": [{"user": "pbx", "password_env": "SWITCHBOARD_TEST_INBOUND_PW"}],
    }))
    .unwrap();
    let (tx, mut seen) = mpsc::channel(4);
    let handler = Arc::new(Recorder {
        seen: tx,
        speak_ms: 0,
        hang_up_after: Some(Duration::from_millis(100)),
    });
    let cancel = CancellationToken::new();
    let ep = SipEndpoint::start(config, handler, cancel.clone())
        .await
        .unwrap();
    let uac = Uac::new(ep.local_addr(), "call-auth").await;

    // Without credentials: challenged.
    uac.send(&uac.invite("+15550100", "z9hG4bKa1")).await;
    let challenge = uac
        .recv_until(|m| m.status().is_some_and(|c| c >= 200))
        .await;
    assert_eq!(challenge.status(), Some(401));
    let c = Challenge::parse(challenge.header("WWW-Authenticate").unwrap()).expect("digest");

    // A wrong password is refused.
    let uri = format!("sip:+15550100@{}", ep.local_addr());
    let bad = c.authorize("pbx", "guess", "INVITE", &uri, "c1");
    let invite = uac.invite("+15550100", "z9hG4bKa2");
    let with_auth =
        |auth: &str| invite.replacen("CSeq: 1", &format!("Authorization: {auth}\r\nCSeq: 1"), 1);
    uac.send(&with_auth(&bad)).await;
    let refused = uac
        .recv_until(|m| m.status().is_some_and(|c| c >= 200))
        .await;
    assert_eq!(refused.status(), Some(403));

    // The right password against a fresh challenge is answered.
    uac.send(&uac.invite("+15550100", "z9hG4bKa3")).await;
    let challenge = uac
        .recv_until(|m| m.status().is_some_and(|c| c >= 200))
        .await;
    let c = Challenge::parse(challenge.header("WWW-Authenticate").unwrap()).unwrap();
    let good = c.authorize("pbx", "open-sesame", "INVITE", &uri, "c2");
    let invite = uac.invite("+15550100", "z9hG4bKa4");
    uac.send(&invite.replacen("CSeq: 1", &format!("Authorization: {good}\r\nCSeq: 1"), 1))
        .await;
    let ok = uac
        .recv_until(|m| m.status().is_some_and(|c| c >= 200))
        .await;
    assert_eq!(ok.status(), Some(200), "{ok:?}");
    let seen = timeout(GUARD, seen.recv()).await.unwrap().unwrap();
    assert_eq!(seen.dialled, "+15550100");
    cancel.cancel();
}
