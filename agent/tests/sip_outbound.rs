//! Outbound calls through a trunk played by SIPp (a real SIP implementation from Debian):
//! busy, no answer (our CANCEL after the ringing timeout), a 401 digest challenge then an
//! answer and a BYE from the far end, and our own BYE. SIPp's exit status says whether it
//! saw the messages its scenario expects (ACKs, CANCEL, BYE, a valid digest). Needs
//! `apt-get install sip-tester`.

mod support;

use std::sync::Arc;

use support::sipp::sipp;
use switchboard::transport::sip::{
    DialError, HangupCause, SipCall, SipConfig, SipEndpoint, TransferError,
};
use tokio::process::Child;
use tokio::time::{timeout, Duration};
use tokio_util::sync::CancellationToken;

/// Guard against a hung test only.
const GUARD: Duration = Duration::from_secs(60);
const PASSWORD_ENV: &str = "SWITCHBOARD_TEST_TRUNK_PASSWORD";

async fn endpoint(trunk_port: u16) -> (SipEndpoint, CancellationToken) {
    std::env::set_var(PASSWORD_ENV, "s3cret");
    support::sip::endpoint_with_trunk(serde_json::json!({
        "host": format!("127.0.0.1:{trunk_port}"),
        "user": "trunkuser",
        "password_env": PASSWORD_ENV,
        "caller_id": "+15550199",
    }))
    .await
}

/// Dials `to` through the trunk, letting it ring at most `ring_secs`.
async fn dial(ep: &SipEndpoint, to: &str, ring_secs: u64) -> Result<SipCall, DialError> {
    let call = support::sip::call_to(to, Duration::from_secs(ring_secs));
    timeout(GUARD, ep.dial(call)).await.expect("dial finishes")
}

async fn sipp_succeeded(child: Child) {
    support::sipp::sipp_succeeded(child, GUARD).await;
}

#[tokio::test]
async fn busy_maps_to_the_busy_disposition() {
    let (sipp, port) = sipp("uas_busy.xml");
    let (ep, cancel) = endpoint(port).await;
    let result = dial(&ep, "+15550123", 10).await;
    let err = result.err().expect("a busy callee does not answer");
    assert_eq!(err, DialError::Busy(486));
    assert_eq!(err.disposition(), "busy");
    sipp_succeeded(sipp).await;
    cancel.cancel();
}

#[tokio::test]
async fn ringing_past_the_timeout_is_cancelled_as_no_answer() {
    let (sipp, port) = sipp("uas_no_answer.xml");
    let (ep, cancel) = endpoint(port).await;
    let result = dial(&ep, "+15550123", 1).await;
    let err = result.err().expect("nobody answered");
    assert_eq!(err, DialError::NoAnswer(487));
    assert_eq!(err.disposition(), "no_answer");
    sipp_succeeded(sipp).await;
    cancel.cancel();
}

#[tokio::test]
async fn a_digest_challenge_is_answered_and_the_far_end_hangs_up() {
    let (sipp, port) = sipp("uas_auth_answer_bye.xml");
    let (ep, cancel) = endpoint(port).await;
    let result = dial(&ep, "+15550123", 10).await;
    let mut call = result.unwrap_or_else(|e| panic!("call not answered: {e}"));
    assert_eq!(call.dialled, "+15550123");
    // Audio flows (SIPp echoes what we send) until the trunk's BYE closes the input.
    let tone = audio::synth::sine(500.0, 0.5, 20, audio::SampleRate::HZ_8K);
    let mut echoed = 0;
    let mut at = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    loop {
        tokio::select! {
            f = call.media.input.recv() => match f {
                Some(f) => echoed += usize::from(audio::level::dbfs(&f.samples) > -30.0),
                None => break,
            },
            _ = tick.tick() => {
                call.media.output.send(&tone, at);
                at += 20;
                assert!(at < 30_000, "the trunk never hung up");
            }
        }
    }
    assert_eq!(call.control.cause(), Some(HangupCause::RemoteHangup));
    assert!(echoed >= 25, "echoed frames: {echoed}");
    sipp_succeeded(sipp).await;
    cancel.cancel();
}

#[tokio::test]
async fn our_hangup_sends_bye_to_the_callee() {
    let (sipp, port) = sipp("uas_answer_wait_bye.xml");
    let (ep, cancel) = endpoint(port).await;
    let call = dial(&ep, "sip:callee@127.0.0.1", 10)
        .await
        .unwrap_or_else(|e| panic!("call not answered: {e}"));
    call.control.hangup().await;
    sipp_succeeded(sipp).await;
    assert_eq!(call.control.cause(), Some(HangupCause::LocalHangup));
    cancel.cancel();

    // Without a trunk there is nothing to dial through.
    let config: SipConfig =
        serde_json::from_value(serde_json::json!({"bind": "127.0.0.1:0"})).unwrap();
    let ep = SipEndpoint::start(
        config,
        Arc::new(support::sip::NoInbound),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    let err = dial(&ep, "1", 1).await.err();
    assert_eq!(err, Some(DialError::NoTrunk));
}

#[tokio::test]
async fn a_blind_transfer_that_succeeds_hangs_up_our_leg() {
    let (sipp, port) = sipp("uas_refer_accept.xml");
    let (ep, cancel) = endpoint(port).await;
    let call = dial(&ep, "+15550123", 10)
        .await
        .unwrap_or_else(|e| panic!("call not answered: {e}"));
    let outcome = timeout(GUARD, call.control.transfer("+15550777"))
        .await
        .expect("transfer finishes");
    assert_eq!(outcome, Ok(()));
    sipp_succeeded(sipp).await;
    assert_eq!(call.control.cause(), Some(HangupCause::Transferred));
    cancel.cancel();
}

#[tokio::test]
async fn a_refused_transfer_leaves_the_call_up_for_a_fallback() {
    let (sipp, port) = sipp("uas_refer_decline.xml");
    let (ep, cancel) = endpoint(port).await;
    let call = dial(&ep, "+15550123", 10)
        .await
        .unwrap_or_else(|e| panic!("call not answered: {e}"));
    let outcome = timeout(GUARD, call.control.transfer("+15550777"))
        .await
        .expect("transfer finishes");
    assert_eq!(outcome, Err(TransferError::Refused(603)));
    assert_eq!(call.control.cause(), None, "the call is still up");
    call.control.hangup().await;
    sipp_succeeded(sipp).await;
    cancel.cancel();
}

#[tokio::test]
async fn a_lossy_path_is_overcome_by_retransmissions() {
    // `-nr`: see the scenario.
    let (sipp, port) = support::sipp::sipp_with("uas_lossy.xml", &["-nr"]);
    let (ep, cancel) = endpoint(port).await;
    let call = dial(&ep, "+15550123", 30)
        .await
        .unwrap_or_else(|e| panic!("call not answered over the lossy path: {e}"));
    // SIPp refuses a BYE while it still waits for the ACK of its 200 sent again: give that
    // 200 (sent as soon as our first ACK arrives) time to draw our second ACK.
    tokio::time::sleep(Duration::from_secs(1)).await;
    call.control.hangup().await;
    sipp_succeeded(sipp).await;
    cancel.cancel();
}

#[tokio::test]
async fn early_media_then_answer_connects_and_our_bye_ends_it() {
    let (sipp, port) = sipp("uas_early_media.xml");
    let (ep, cancel) = endpoint(port).await;
    let call = dial(&ep, "+15550123", 10)
        .await
        .unwrap_or_else(|e| panic!("not answered after 183: {e}"));
    call.control.hangup().await;
    sipp_succeeded(sipp).await;
    cancel.cancel();
}
