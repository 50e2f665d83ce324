//! A key press over SIP reaches the conversation: a scripted caller answers the survey's
//! yes/no question with RFC 4733 key `1` (yes), and the real turn engine (Silero, whisper,
//! hibari on the survey script) records the answer and moves on. Needs the model store
//! (`cargo run -p switchboard -- models fetch`).

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use futures::future::BoxFuture;
use switchboard::call::report::{CallReport, Speaker};
use switchboard::call::session::{run_call_with_dtmf, CallSpec};
use switchboard::conversation::script::ScriptConversation;
use switchboard::local_models::LocalModels;
use switchboard::transport::sip::rtp::{RtpPacket, TelephoneEvent};
use switchboard::transport::sip::sdp::AudioOffer;
use switchboard::transport::sip::{SipCall, SipCallHandler, SipConfig, SipEndpoint, SipMessage};
use switchboard::turn::TurnConfig;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout, Duration};
use tokio_util::sync::CancellationToken;

/// Guard against a hung test only.
const GUARD: Duration = Duration::from_secs(60);

fn models() -> &'static LocalModels {
    support::models::local()
}

fn survey_spec(call_id: &str) -> CallSpec {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/survey.yaml");
    let script = dialogue::load_file(path.as_ref()).expect("survey script compiles");
    let m = models();
    CallSpec {
        call_id: call_id.into(),
        providers: m.providers(),
        detector: m.detector().expect("VAD"),
        vad: audio::vad::VadConfig::default(),
        turn: TurnConfig::default(),
        conversation: Box::new(ScriptConversation::new(
            Arc::new(script),
            &BTreeMap::new(),
            chrono::Utc::now(),
        )),
        live: None,
        metrics: Default::default(),
    }
}

struct TurnEngine {
    reports: mpsc::Sender<CallReport>,
}

impl SipCallHandler for TurnEngine {
    fn handle(&self, call: SipCall) -> BoxFuture<'static, ()> {
        let reports = self.reports.clone();
        Box::pin(async move {
            let spec = survey_spec(&call.call_id);
            let token = CancellationToken::new();
            let report = run_call_with_dtmf(spec, call.media, Some(call.dtmf), &token).await;
            let _ = reports.send(report).await;
        })
    }
}

async fn recv(sock: &UdpSocket) -> SipMessage {
    let mut buf = vec![0; 65_536];
    let (n, _) = timeout(GUARD, sock.recv_from(&mut buf))
        .await
        .expect("SIP from the endpoint")
        .unwrap();
    SipMessage::parse(&buf[..n]).expect("well-formed SIP")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_press_answers_the_survey_question() {
    models();
    let config: SipConfig = serde_json::from_value(serde_json::json!({
        "bind": "127.0.0.1:0",
        "routes": {"*": {"tenant": "acme", "script": "survey.post_conversation"}},
    }))
    .unwrap();
    let (tx, mut reports) = mpsc::channel(1);
    let cancel = CancellationToken::new();
    let ep = SipEndpoint::start(config, Arc::new(TurnEngine { reports: tx }), cancel.clone())
        .await
        .unwrap();
    let to = ep.local_addr();
    let sip = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (me, rtp_port) = (sip.local_addr().unwrap(), rtp.local_addr().unwrap().port());
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {rtp_port} RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
    );
    let head = |method: &str, cseq: u32, to_hdr: &str| {
        format!(
            "{method} sip:555@{to} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{method}{cseq}\r\n\
             From: <sip:caller@{me}>;tag=k1\r\nTo: {to_hdr}\r\nCall-ID: dtmf-1\r\n\
             CSeq: {cseq} {method}\r\nContact: <sip:caller@{me}>\r\n"
        )
    };
    let invite = head("INVITE", 1, &format!("<sip:555@{to}>"))
        + &format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        );
    sip.send_to(invite.as_bytes(), to).await.unwrap();
    let ok = loop {
        let m = recv(&sip).await;
        if m.status() == Some(200) {
            break m;
        }
    };
    let answer = AudioOffer::parse(&ok.body).unwrap();
    assert_eq!(answer.formats, vec![8, 101], "PCMA and telephone-event");
    let agent_rtp = SocketAddr::new(answer.addr, answer.port);
    let to_hdr = ok.header("To").unwrap().to_string();
    let ack = head("ACK", 1, &to_hdr) + "Content-Length: 0\r\n\r\n";
    sip.send_to(ack.as_bytes(), to).await.unwrap();

    // After the greeting's question (about 7 s), press 1 (yes) as RFC 4733 events.
    sleep(Duration::from_millis(8_500)).await;
    for (i, (end, duration)) in [(false, 400), (false, 800), (true, 1200), (true, 1200)]
        .into_iter()
        .enumerate()
    {
        let p = RtpPacket {
            payload_type: 101,
            marker: i == 0,
            seq: i as u16,
            timestamp: 8000,
            ssrc: 5,
            payload: TelephoneEvent {
                event: 1,
                end,
                volume: 10,
                duration,
            }
            .to_bytes()
            .to_vec(),
        };
        rtp.send_to(&p.to_bytes(), agent_rtp).await.unwrap();
    }
    sleep(Duration::from_millis(6_500)).await;
    let bye = head("BYE", 2, &to_hdr) + "Content-Length: 0\r\n\r\n";
    sip.send_to(bye.as_bytes(), to).await.unwrap();
    let report = timeout(GUARD, reports.recv())
        .await
        .expect("call ended")
        .expect("report");
    cancel.cancel();

    assert_eq!(
        report.answers.get("problem_solved"),
        Some(&serde_json::json!(true)),
        "{report:#?}"
    );
    let next = report
        .transcript
        .iter()
        .filter(|l| l.speaker == Speaker::Agent)
        .nth(1)
        .unwrap_or_else(|| panic!("no second agent line: {:#?}", report.transcript));
    assert!(next.text.contains("scale of 1 to 5"), "{:?}", next.text);
}
