//! Switchboard as a participant of a LiveKit room, against the room simulator (`livekit-sim`)
//! on loopback: the caller's Opus audio reaches the call's input, the agent's output reaches
//! the caller, `sip_dtmf` becomes key presses, a human agent joining is an event, a network
//! drop is resumed with audio flowing again, and leaving removes the agent from the room.

mod livekit_common;

use audio::synth::sine;
use audio::SampleRate;
use livekit_common::*;
use livekit_protocol as proto;
use livekit_sim::ParticipantSpec;
use proto::participant_info::Kind;
use switchboard::transport::livekit::data::{AgentState, TranscriptSegment};
use switchboard::transport::livekit::{ParticipantRole, RoomEvent};
use tokio::time::{sleep, timeout, Duration};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_audio_reaches_the_call_and_agent_audio_reaches_the_caller() {
    let sim = sim().await;
    let phone = caller(&sim, "call-1", 600.0, 20_000).await;
    let mut room = join_agent(&sim, "call-1").await;
    hear_tone(&mut room.media.input, 600.0, 500).await;
    let from = phone.received_audio().len();
    speak(&mut room, 440.0, 1500).await;
    wait_heard(&phone, 440.0, from).await;
    room.handle.leave().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sip_dtmf_transcript_and_agent_state() {
    let sim = sim().await;
    let phone = caller(&sim, "call-2", 600.0, 20_000).await;
    let mut room = join_agent(&sim, "call-2").await;
    wait_event(
        &mut room,
        "caller joined",
        |e| matches!(e, RoomEvent::ParticipantJoined(p) if p.role == ParticipantRole::Caller),
    )
    .await;
    // Wait until media is up so the data channels are open on both sides.
    hear_tone(&mut room.media.input, 600.0, 200).await;
    for digit in ["4", "#"] {
        phone
            .send_data(proto::DataPacket {
                value: Some(proto::data_packet::Value::SipDtmf(proto::SipDtmf {
                    code: 0,
                    digit: digit.into(),
                })),
                ..Default::default()
            })
            .await;
    }
    let mut keys = String::new();
    while keys.len() < 2 {
        let k = timeout(PATIENCE, room.dtmf.recv())
            .await
            .expect("digits arrive")
            .expect("open");
        keys.push(k);
    }
    assert_eq!(keys, "4#");

    room.handle
        .send_dtmf("9")
        .await
        .expect("DTMF to the SIP caller");
    room.handle
        .publish_transcript(TranscriptSegment {
            speaker_identity: "agent".into(),
            track_sid: String::new(),
            id: "u1".into(),
            text: "How can I help?".into(),
            is_final: true,
            start_ms: 0,
            end_ms: 800,
        })
        .await
        .unwrap();
    room.handle
        .set_agent_state(AgentState::Thinking)
        .await
        .unwrap();
    timeout(PATIENCE, async {
        loop {
            let data = phone.received_data();
            let dtmf = data.iter().any(|p| {
                matches!(&p.value, Some(proto::data_packet::Value::SipDtmf(d)) if d.digit == "9")
            });
            let transcript = data.iter().any(|p| {
                matches!(&p.value, Some(proto::data_packet::Value::Transcription(t))
                    if t.segments.iter().any(|s| s.text == "How can I help?" && s.r#final))
            });
            let state = sim.participants("call-2").await.iter().any(|p| {
                p.identity == "agent"
                    && p.attributes.get("lk.agent.state").map(String::as_str) == Some("thinking")
            });
            if dtmf && transcript && state {
                break;
            }
            sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the caller got the DTMF and the transcript, and the room shows the agent's state");
    room.handle.leave().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_agent_joining_is_an_event_and_the_caller_leaving_ends_the_input() {
    let sim = sim().await;
    let phone = caller(&sim, "call-3", 600.0, 20_000).await;
    let mut room = join_agent(&sim, "call-3").await;
    hear_tone(&mut room.media.input, 600.0, 200).await;
    let _human = sim
        .add_participant(
            "call-3",
            ParticipantSpec {
                identity: "human-agent-7".into(),
                kind: Kind::Standard,
                audio: sine(900.0, 0.3, 2000, SampleRate::HZ_48K),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ev = wait_event(
        &mut room,
        "human joined",
        |e| matches!(e, RoomEvent::ParticipantJoined(p) if p.role != ParticipantRole::Caller),
    )
    .await;
    let RoomEvent::ParticipantJoined(p) = ev else {
        unreachable!()
    };
    assert_eq!(
        (p.identity.as_str(), p.role),
        ("human-agent-7", ParticipantRole::Human)
    );

    phone.leave().await;
    wait_event(&mut room, "caller left", |e| {
        matches!(e, RoomEvent::CallerLeft(_))
    })
    .await;
    timeout(PATIENCE, async {
        while room.media.input.recv().await.is_some() {}
    })
    .await
    .expect("the call's input closes when the caller leaves");
    room.handle.leave().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_drop_is_resumed_with_audio_flowing_again() {
    let sim = sim().await;
    let phone = caller(&sim, "call-4", 600.0, 30_000).await;
    let mut room = join_agent(&sim, "call-4").await;
    hear_tone(&mut room.media.input, 600.0, 200).await;

    sim.drop_connection("call-4", "agent");
    wait_event(&mut room, "reconnecting", |e| {
        matches!(e, RoomEvent::Reconnecting { .. })
    })
    .await;
    let ev = wait_event(&mut room, "reconnected", |e| {
        matches!(e, RoomEvent::Reconnected { .. })
    })
    .await;
    assert_eq!(
        ev,
        RoomEvent::Reconnected { resume: true },
        "a drop is resumed, not rejoined"
    );

    while !room.media.input.is_empty() {
        room.media.input.recv().await;
    }
    hear_tone(&mut room.media.input, 600.0, 500).await;
    let from = phone.received_audio().len();
    speak(&mut room, 440.0, 1500).await;
    wait_heard(&phone, 440.0, from).await;
    let agents = sim.participants("call-4").await;
    assert_eq!(agents.iter().filter(|p| p.identity == "agent").count(), 1);
    room.handle.leave().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_leave_removes_the_agent_from_the_room() {
    let sim = sim().await;
    let _phone = caller(&sim, "call-5", 600.0, 1000).await;
    let room = join_agent(&sim, "call-5").await;
    let listed = |ps: &[proto::ParticipantInfo]| ps.iter().any(|p| p.identity == "agent");
    assert!(listed(&sim.participants("call-5").await));
    room.handle.leave().await;
    timeout(PATIENCE, room.task)
        .await
        .expect("the room actor ends")
        .unwrap();
    timeout(PATIENCE, async {
        while listed(&sim.participants("call-5").await) {
            sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the agent is gone from the room (a LeaveRequest, not a drop)");
    sim.shutdown().await;
}
