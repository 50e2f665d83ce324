//! Two of our own PeerConnections on loopback: the microphone track as the session builds
//! it, written by the Opus sender, read by the track reader on the other side. Proves the
//! webrtc-rs plumbing (track, payload type, RTP writes, remote track events) without a
//! LiveKit server.

use std::sync::Arc;

use audio::level::dbfs;
use audio::{i16_to_f32, tone::goertzel_power, SampleRate};
use tokio::sync::{mpsc, watch};
use tokio::time::{timeout, Duration};
use tokio_util::sync::CancellationToken;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::peer_connection::RTCPeerConnectionState;

use super::bridge::{self, InboundDecoder, LiveKitOut, OutboundEncoder, Publication};
use super::peer::{self, PcEvent, Target};
use super::session::mic_track;
use crate::media::{media_ring, CallClock};
use crate::speaker::AudioOut;

fn tone(rate: SampleRate, ms: u32, hz: f32) -> Vec<i16> {
    (0..rate.samples_for_ms(ms))
        .map(|i| {
            (9000.0 * (2.0 * std::f32::consts::PI * hz * i as f32 / rate.hz() as f32).sin()) as i16
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opus_track_flows_between_two_peer_connections() {
    let rate = SampleRate::HZ_16K;
    let (a_tx, mut a_rx) = mpsc::channel(256);
    let (b_tx, mut b_rx) = mpsc::channel(256);
    let a = peer::build(1, Target::Publisher, &[], "127.0.0.1:0", a_tx)
        .await
        .unwrap();
    let b = peer::build(1, Target::Subscriber, &[], "127.0.0.1:0", b_tx)
        .await
        .unwrap();
    let mic = Arc::new(TrackLocalStaticRTP::new(mic_track(4242)));
    let sender = a
        .add_track(mic.clone() as Arc<dyn TrackLocal>)
        .await
        .unwrap();

    let offer = a.create_offer(None).await.unwrap();
    a.set_local_description(offer.clone()).await.unwrap();
    b.set_remote_description(offer).await.unwrap();
    let answer = b.create_answer(None).await.unwrap();
    b.set_local_description(answer.clone()).await.unwrap();
    a.set_remote_description(answer).await.unwrap();

    let payload_type = sender.get_parameters().await.unwrap().rtp_parameters.codecs[0].payload_type;
    let (_pub_tx, pub_rx) = watch::channel(Some(Publication {
        track: mic.clone(),
        ssrc: 4242,
        payload_type,
    }));
    let (out_tx, out_rx) = media_ring(10);
    let (in_tx, mut in_rx) = media_ring(100);
    let cancel = CancellationToken::new();
    let clock = CallClock::start_now();
    let sender_task = tokio::spawn(bridge::run_sender(
        out_rx,
        OutboundEncoder::new(rate).unwrap(),
        pub_rx,
        clock,
        cancel.clone(),
    ));

    // Three seconds of a 440 Hz tone, paced as playout would (webrtc-rs reports a remote
    // track when its first packet arrives).
    let mut out = LiveKitOut::new(rate, out_tx);
    let feeder = tokio::spawn(async move {
        for (i, chunk) in tone(rate, 3000, 440.0).chunks(320).enumerate() {
            let at = 20 + i as u64 * 20;
            tokio::time::sleep_until(clock.instant_at(at)).await;
            out.send(chunk, at);
        }
    });

    // Trickle both ways until B sees the track and A is connected.
    let mut reader = None;
    let mut connected = false;
    timeout(Duration::from_secs(20), async {
        while reader.is_none() || !connected {
            tokio::select! {
                Some(ev) = a_rx.recv() => match ev {
                    PcEvent::Candidate { init, .. } => { let _ = b.add_ice_candidate(init).await; }
                    PcEvent::State { state, .. } => connected |= state == RTCPeerConnectionState::Connected,
                    _ => {}
                },
                Some(ev) = b_rx.recv() => match ev {
                    PcEvent::Candidate { init, .. } => { let _ = a.add_ice_candidate(init).await; }
                    PcEvent::Track { track, .. } => reader = Some(track),
                    _ => {}
                },
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("connected: {connected}, track: {}", reader.is_some()));
    let track = reader.unwrap();
    let read = tokio::spawn(bridge::read_track(
        track,
        InboundDecoder::new(rate).unwrap(),
        in_tx,
        cancel.clone(),
    ));

    let mut got = Vec::new();
    while got.len() < 16_000 {
        let f = timeout(Duration::from_secs(10), in_rx.recv())
            .await
            .expect("audio keeps arriving")
            .expect("ring open");
        assert_eq!(f.rate, rate);
        got.extend_from_slice(&f.samples);
    }
    let mid: Vec<f32> = i16_to_f32(&got[4000..12000]);
    assert!(
        dbfs(&got[4000..12000]) > -20.0,
        "level {}",
        dbfs(&got[4000..12000])
    );
    let at_440 = goertzel_power(&mid, 440.0, rate);
    let at_1k = goertzel_power(&mid, 1000.0, rate);
    assert!(
        at_440 > 20.0 * at_1k,
        "440 Hz power {at_440} vs 1 kHz {at_1k}"
    );

    cancel.cancel();
    feeder.abort();
    let _ = sender_task.await;
    let _ = read.await;
    let _ = a.close().await;
    let _ = b.close().await;
}
