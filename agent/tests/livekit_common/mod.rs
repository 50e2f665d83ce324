//! Helpers of the LiveKit room tests against the simulator: a SIP caller inside the
//! simulator playing a tone, the agent joining with the real transport, and tone detectors
//! on both sides (the call's input; what the simulated caller heard).
#![allow(dead_code)]

use std::collections::HashMap;

use audio::synth::sine;
use audio::tone::goertzel_power;
use audio::{i16_to_f32, level::dbfs, SampleRate};
use livekit_protocol as proto;
use livekit_sim::{ParticipantSpec, SimConfig, SimParticipant, Simulator};
use proto::participant_info::Kind;
use switchboard::media::RingReceiver;
use switchboard::transport::livekit::{join, CallerRule, JoinedRoom, RoomEvent, RoomOptions};
use tokio::time::{sleep, timeout, Duration};
use tokio_util::sync::CancellationToken;

pub const RATE: SampleRate = SampleRate::HZ_16K;
/// Hang guard for waits (not a performance bound).
pub const PATIENCE: Duration = Duration::from_secs(30);

pub async fn sim() -> Simulator {
    Simulator::start(SimConfig::default())
        .await
        .expect("simulator starts")
}

pub async fn caller(sim: &Simulator, room: &str, hz: f64, ms: u32) -> SimParticipant {
    sim.add_participant(
        room,
        ParticipantSpec {
            identity: "sip_+15550100".into(),
            kind: Kind::Sip,
            attributes: HashMap::from([("sip.callStatus".to_string(), "active".to_string())]),
            audio: sine(hz, 0.3, ms, SampleRate::HZ_48K),
        },
    )
    .await
    .expect("caller joins")
}

pub async fn join_agent(sim: &Simulator, room: &str) -> JoinedRoom {
    let mut opts = RoomOptions::new(&sim.ws_url(), &sim.token(room, "agent"));
    opts.caller = CallerRule::Sip;
    opts.call_rate = RATE;
    opts.udp_bind = "127.0.0.1:0".into();
    timeout(PATIENCE, join(opts, CancellationToken::new()))
        .await
        .expect("join does not hang")
        .expect("agent joins")
}

/// Reads the call's input until `ms` of audio with the tone `hz` dominant has arrived.
pub async fn hear_tone(input: &mut RingReceiver<audio::AudioFrame>, hz: f64, ms: usize) {
    let need = RATE.samples_for_ms(ms as u32);
    let mut run = 0;
    timeout(PATIENCE, async {
        while run < need {
            let f = input.recv().await.expect("input open");
            assert_eq!(f.rate, RATE);
            let x = i16_to_f32(&f.samples);
            let tone = goertzel_power(&x, hz, RATE);
            let other = goertzel_power(&x, hz * 1.7, RATE);
            if dbfs(&f.samples) > -30.0 && tone > 10.0 * other {
                run += f.samples.len();
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{ms} ms of {hz} Hz never reached the call input"));
}

/// Plays `ms` of `hz` through the call's output, paced by the call clock.
pub async fn speak(room: &mut JoinedRoom, hz: f64, ms: u32) {
    let samples = sine(hz, 0.3, ms, RATE);
    let start = room.media.clock.now_ms() + 20;
    for (i, chunk) in samples.chunks(RATE.samples_for_ms(20)).enumerate() {
        let at = start + i as u64 * 20;
        tokio::time::sleep_until(room.media.clock.instant_at(at)).await;
        room.media.output.send(chunk, at);
    }
}

/// Whether the last `ms` the participant heard contain the tone `hz`.
pub fn heard_tone(p: &SimParticipant, hz: f64, from: usize) -> bool {
    let audio = p.received_audio();
    if audio.len() <= from + 9600 {
        return false;
    }
    audio[from..].chunks(4800).any(|c| {
        let x = i16_to_f32(c);
        dbfs(c) > -30.0
            && goertzel_power(&x, hz, SampleRate::HZ_48K)
                > 10.0 * goertzel_power(&x, hz * 1.7, SampleRate::HZ_48K)
    })
}

pub async fn wait_heard(p: &SimParticipant, hz: f64, from: usize) {
    timeout(PATIENCE, async {
        while !heard_tone(p, hz, from) {
            sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the caller never heard the agent's {hz} Hz"));
}

pub async fn wait_event(
    room: &mut JoinedRoom,
    what: &str,
    pred: impl Fn(&RoomEvent) -> bool,
) -> RoomEvent {
    timeout(PATIENCE, async {
        loop {
            let ev = room.events.recv().await.expect("room events open");
            if pred(&ev) {
                return ev;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {what} event"))
}
