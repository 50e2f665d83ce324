//! Getting a LiveKit room back after the server takes it away, against the room simulator:
//! a `LeaveRequest{RECONNECT}` is a full rejoin (a new participant sid, new PeerConnections,
//! the microphone republished) after which audio flows both ways again; a resume of a
//! session the server has forgotten is refused and becomes a rejoin; a
//! `LeaveRequest{DISCONNECT}` ends the room with the server's reason. Audio is asserted with
//! tones that are only played after the rejoin.

mod livekit_common;

use audio::synth::sine;
use audio::SampleRate;
use livekit_common::*;
use livekit_protocol as proto;
use livekit_sim::{SimParticipant, Simulator};
use proto::leave_request::Action;
use proto::DisconnectReason;
use switchboard::transport::livekit::{JoinedRoom, RoomEvent};
use tokio::time::{sleep, timeout, Duration};

/// The agent's participant sid in the room, once it is listed.
async fn agent_sid(sim: &Simulator, room: &str) -> String {
    timeout(PATIENCE, async {
        loop {
            let listed: Vec<_> = sim
                .participants(room)
                .await
                .into_iter()
                .filter(|p| p.identity == "agent")
                .collect();
            assert!(
                listed.len() <= 1,
                "the agent is in the room twice: {listed:?}"
            );
            if let Some(p) = listed.first() {
                return p.sid.clone();
            }
            sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the agent is in the room")
}

/// Waits for `Reconnected`, returning every event seen on the way.
async fn until_reconnected(room: &mut JoinedRoom) -> Vec<RoomEvent> {
    let mut seen = Vec::new();
    timeout(PATIENCE, async {
        loop {
            let ev = room.events.recv().await.expect("room events open");
            let done = matches!(ev, RoomEvent::Reconnected { .. });
            seen.push(ev);
            if done {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("never reconnected; events: {seen:?}"));
    seen
}

/// After a rejoin: the caller switches to a new tone the call's input must hear, and the
/// agent says a tone it never said before, which the caller must hear.
async fn audio_flows_both_ways(room: &mut JoinedRoom, phone: &SimParticipant) {
    phone.stop_audio();
    phone.play(&sine(820.0, 0.3, 20_000, SampleRate::HZ_48K));
    hear_tone(&mut room.media.input, 820.0, 500).await;
    let from = phone.received_audio().len();
    speak(room, 520.0, 1500).await;
    wait_heard(phone, 520.0, from).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_reconnect_rejoins_republishes_and_audio_flows_both_ways_after_it() {
    let sim = sim().await;
    let phone = caller(&sim, "re-1", 600.0, 30_000).await;
    let mut room = join_agent(&sim, "re-1").await;
    hear_tone(&mut room.media.input, 600.0, 200).await;
    let before = agent_sid(&sim, "re-1").await;
    while room.events.try_recv().is_ok() {} // the caller's arrival

    assert!(
        sim.send_leave(
            "re-1",
            "agent",
            Action::Reconnect,
            DisconnectReason::StateMismatch
        )
        .await
    );
    let seen = until_reconnected(&mut room).await;
    assert!(
        seen.contains(&RoomEvent::Reconnecting { resume: false }),
        "{seen:?}"
    );
    assert_eq!(seen.last(), Some(&RoomEvent::Reconnected { resume: false }));
    assert!(
        !seen.iter().any(|e| matches!(
            e,
            RoomEvent::ParticipantJoined(_) | RoomEvent::CallerLeft(_)
        )),
        "the caller stayed: no join or leave is reported for them: {seen:?}"
    );
    let after = agent_sid(&sim, "re-1").await;
    assert_ne!(
        before, after,
        "a full reconnect is a new participant session"
    );

    audio_flows_both_ways(&mut room, &phone).await;
    let agent = sim
        .participants("re-1")
        .await
        .into_iter()
        .find(|p| p.identity == "agent")
        .unwrap();
    assert_eq!(agent.tracks.len(), 1, "the microphone is republished once");
    room.handle.leave().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_of_a_forgotten_session_falls_back_to_a_rejoin() {
    let sim = sim().await;
    let phone = caller(&sim, "re-2", 600.0, 30_000).await;
    let mut room = join_agent(&sim, "re-2").await;
    hear_tone(&mut room.media.input, 600.0, 200).await;
    let before = agent_sid(&sim, "re-2").await;

    assert!(sim.expire_session("re-2", "agent").await);
    let seen = until_reconnected(&mut room).await;
    let tried_resume = seen
        .iter()
        .position(|e| *e == RoomEvent::Reconnecting { resume: true });
    let rejoined = seen
        .iter()
        .position(|e| *e == RoomEvent::Reconnecting { resume: false });
    assert!(
        matches!((tried_resume, rejoined), (Some(a), Some(b)) if a < b),
        "a resume first, then a rejoin: {seen:?}"
    );
    assert_eq!(seen.last(), Some(&RoomEvent::Reconnected { resume: false }));
    assert_ne!(before, agent_sid(&sim, "re-2").await);

    audio_flows_both_ways(&mut room, &phone).await;
    room.handle.leave().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_disconnect_ends_the_room_with_its_reason() {
    let sim = sim().await;
    let _phone = caller(&sim, "re-3", 600.0, 30_000).await;
    let mut room = join_agent(&sim, "re-3").await;
    hear_tone(&mut room.media.input, 600.0, 200).await;

    assert!(
        sim.send_leave(
            "re-3",
            "agent",
            Action::Disconnect,
            DisconnectReason::ParticipantRemoved
        )
        .await
    );
    let ev = wait_event(&mut room, "disconnected", |e| {
        matches!(e, RoomEvent::Disconnected { .. })
    })
    .await;
    let RoomEvent::Disconnected { reason } = ev else {
        unreachable!()
    };
    assert!(reason.contains("PARTICIPANT_REMOVED"), "{reason}");
    timeout(PATIENCE, async {
        while room.media.input.recv().await.is_some() {}
    })
    .await
    .expect("the call's input closes: the call ends");
    timeout(PATIENCE, room.task)
        .await
        .expect("the room actor ends")
        .unwrap();
    assert!(
        !sim.participants("re-3")
            .await
            .iter()
            .any(|p| p.identity == "agent"),
        "no rejoin after a disconnect"
    );
    sim.shutdown().await;
}
