//! An INVITE without SDP (RFC 3261 §13.2.1, "late offer"): SIPp (Debian `sip-tester`) calls
//! in with an empty INVITE; our 200 OK must carry the offer, SIPp's ACK carries the answer,
//! and only then does the call start: audio flows to the address in the ACK (SIPp echoes it
//! back) and our BYE ends the call. SIPp's exit status checks the offer and the BYE.

mod support;

use std::sync::Arc;

use futures::future::BoxFuture;
use switchboard::transport::sip::{SipCall, SipCallHandler, SipConfig, SipEndpoint};
use tokio::sync::mpsc;
use tokio::time::{timeout, Duration};
use tokio_util::sync::CancellationToken;

/// Guard against a hung test only.
const GUARD: Duration = Duration::from_secs(60);

/// Speaks a tone for a second, counts what comes back, then hangs up (returns).
struct Echo {
    echoed: mpsc::Sender<usize>,
}

impl SipCallHandler for Echo {
    fn handle(&self, mut call: SipCall) -> BoxFuture<'static, ()> {
        let echoed = self.echoed.clone();
        Box::pin(async move {
            let tone = audio::synth::sine(500.0, 0.5, 20, audio::SampleRate::HZ_8K);
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let mut heard = 0;
            for _ in 0..60 {
                tick.tick().await;
                let at = call.media.clock.now_ms();
                call.media.output.send(&tone, at);
                while let Ok(Some(f)) = timeout(Duration::ZERO, call.media.input.recv()).await {
                    heard += usize::from(audio::level::dbfs(&f.samples) > -30.0);
                }
            }
            let _ = echoed.send(heard).await;
        })
    }
}

#[tokio::test]
async fn an_invite_without_sdp_is_offered_in_the_200_and_answered_in_the_ack() {
    let config: SipConfig = serde_json::from_value(serde_json::json!({
        "bind": "127.0.0.1:0",
        "routes": {"*": {"tenant": "acme", "script": "survey"}},
    }))
    .unwrap();
    let (tx, mut echoed) = mpsc::channel(1);
    let cancel = CancellationToken::new();
    let ep = SipEndpoint::start(config, Arc::new(Echo { echoed: tx }), cancel.clone())
        .await
        .expect("endpoint starts");
    let target = ep.local_addr().to_string();
    let scenario = support::sipp::scenario("uac_late_offer.xml");
    let sipp = support::sipp::spawn(&[
        "-sf",
        scenario.to_str().unwrap(),
        "-s",
        "+15550100",
        &target,
    ]);
    let heard = timeout(GUARD, echoed.recv())
        .await
        .expect("the call ran")
        .expect("a call was answered");
    support::sipp::sipp_succeeded(sipp, GUARD).await;
    cancel.cancel();
    assert!(heard > 10, "only {heard} frames echoed back");
}
