//! SIP over TCP (RFC 3261 §18) against SIPp (Debian `sip-tester`) in `-t t1` mode (one TCP
//! connection): SIPp calls in over TCP and hangs up; we dial SIPp twice over TCP (one
//! connection, reused), audio flows, and our BYE travels the same connection. SIPp's exit
//! status says whether it saw every message its scenario expects.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use futures::future::BoxFuture;
use switchboard::transport::sip::{
    HangupCause, OutboundCall, Route, SipCall, SipCallHandler, SipConfig, SipEndpoint,
};
use tokio::sync::mpsc;
use tokio::time::{timeout, Duration};
use tokio_util::sync::CancellationToken;

/// Guard against a hung test only.
const GUARD: Duration = Duration::from_secs(60);

/// Listens to each call until it ends and reports frames heard and why it ended.
struct Listener {
    ended: mpsc::Sender<(usize, Option<HangupCause>)>,
}

impl SipCallHandler for Listener {
    fn handle(&self, mut call: SipCall) -> BoxFuture<'static, ()> {
        let ended = self.ended.clone();
        Box::pin(async move {
            let mut frames = 0;
            while call.media.input.recv().await.is_some() {
                frames += 1;
            }
            let _ = ended.send((frames, call.control.cause())).await;
        })
    }
}

async fn endpoint(
    trunk: Option<SocketAddr>,
) -> (
    SipEndpoint,
    CancellationToken,
    mpsc::Receiver<(usize, Option<HangupCause>)>,
) {
    let mut config = serde_json::json!({
        "bind": "127.0.0.1:0",
        "routes": {"*": {"tenant": "acme", "script": "survey"}},
    });
    if let Some(t) = trunk {
        config["trunk"] = serde_json::json!({"host": t.to_string(), "caller_id": "+15550199", "transport": "tcp"});
    }
    let config: SipConfig = serde_json::from_value(config).unwrap();
    let (tx, rx) = mpsc::channel(4);
    let cancel = CancellationToken::new();
    let ep = SipEndpoint::start(config, Arc::new(Listener { ended: tx }), cancel.clone())
        .await
        .expect("endpoint starts");
    (ep, cancel, rx)
}

#[tokio::test]
async fn sipp_calls_in_over_tcp_and_hangs_up() {
    let (ep, cancel, mut ended) = endpoint(None).await;
    let target = ep.local_addr().to_string();
    let sipp = support::sipp::spawn(&[
        "-sn",
        "uac",
        "-t",
        "t1",
        "-s",
        "+15550100",
        "-d",
        "2000",
        &target,
    ]);
    let (frames, cause) = timeout(GUARD, ended.recv())
        .await
        .expect("the call ends")
        .expect("a call was answered");
    support::sipp::sipp_succeeded(sipp, GUARD).await;
    cancel.cancel();
    assert_eq!(cause, Some(HangupCause::RemoteHangup));
    // SIPp's uac plays no audio: the receiver still ran and closed with the call.
    let _ = frames;
}

#[tokio::test]
async fn we_dial_twice_over_one_tcp_connection_and_hang_up() {
    let port = support::sipp::free_udp_port();
    let scenario = support::sipp::scenario("uas_answer_wait_bye.xml");
    let sipp = support::sipp::spawn(&[
        "-sf",
        scenario.to_str().unwrap(),
        "-t",
        "t1",
        "-p",
        &port.to_string(),
        "-m",
        "2",
    ]);
    // SIPp needs a moment to listen: retry the first connection.
    let (ep, cancel, _ended) = endpoint(Some(SocketAddr::from(([127, 0, 0, 1], port)))).await;
    for attempt in 0..2 {
        let request = OutboundCall {
            to: "+15550123".into(),
            caller_id: None,
            ring_timeout: Duration::from_secs(10),
            route: Route {
                tenant: "acme".into(),
                script: "survey".into(),
            },
        };
        let mut result = ep.dial(request.clone()).await;
        for _ in 0..50 {
            if !matches!(
                result,
                Err(switchboard::transport::sip::DialError::Unreachable)
            ) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            result = ep.dial(request.clone()).await;
        }
        let mut call = result.unwrap_or_else(|e| panic!("call {attempt} not answered: {e}"));
        // SIPp echoes our audio back over RTP.
        let tone = audio::synth::sine(500.0, 0.5, 20, audio::SampleRate::HZ_8K);
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let mut echoed = 0;
        for _ in 0..50 {
            tick.tick().await;
            let at = call.media.clock.now_ms();
            call.media.output.send(&tone, at);
            while let Ok(Some(f)) = timeout(Duration::ZERO, call.media.input.recv()).await {
                echoed += usize::from(audio::level::dbfs(&f.samples) > -30.0);
            }
        }
        call.control.hangup().await;
        assert!(echoed > 10, "call {attempt}: {echoed} echoed frames");
    }
    support::sipp::sipp_succeeded(sipp, GUARD).await;
    cancel.cancel();
}
