//! The server's `LeaveRequest` (`Simulator::send_leave`) as the official LiveKit Python SDK
//! (real libwebrtc) takes it: RECONNECT makes it rejoin as a new participant and keep
//! hearing the room; DISCONNECT makes it leave for good with the server's reason.

mod common;

use std::time::Duration;

use livekit_protocol as proto;
use livekit_sim::{ParticipantSpec, SimConfig, SimParticipant, Simulator};
use proto::leave_request::Action;
use proto::DisconnectReason;

async fn sid_of(sim: &Simulator, room: &str, identity: &str) -> Option<String> {
    sim.participants(room)
        .await
        .into_iter()
        .find(|p| p.identity == identity)
        .map(|p| p.sid)
}

/// Waits until the client is connected: its `--data` packet (sent once `connect` returned)
/// reached carol. Returns its participant sid.
async fn wait_connected(sim: &Simulator, room: &str, carol: &SimParticipant) -> String {
    while carol.received_data().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sid_of(sim, room, "bob").await.expect("bob is in the room")
}

fn client_args(sim: &Simulator, room: &str, seconds: u32) -> Vec<String> {
    [
        "--url",
        &sim.ws_url(),
        "--token",
        &sim.token(room, "bob"),
        "--data",
        "connected",
        "--send-after",
        "0.2",
        "--duration",
        &seconds.to_string(),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Carol, in the room, saying 660 Hz for a minute.
async fn carol(sim: &Simulator, room: &str) -> SimParticipant {
    sim.add_participant(
        room,
        ParticipantSpec {
            identity: "carol".to_owned(),
            kind: proto::participant_info::Kind::Standard,
            audio: common::tone(660.0, 60.0, 8_000.0),
            ..Default::default()
        },
    )
    .await
    .expect("carol joins")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_python_sdk_rejoins_on_reconnect_and_keeps_hearing_the_room() {
    drop(common::python()); // fail early, with install instructions
    let dir = common::scratch("full-reconnect");
    let wav = dir.join("bob.wav");
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let room = "full-reconnect-room";
    let carol = carol(&sim, room).await;
    let mut args = client_args(&sim, room, 12);
    args.extend(["--record".to_owned(), wav.display().to_string()]);
    let bob = tokio::spawn(common::run_client(args));
    let first = wait_connected(&sim, room, &carol).await;
    assert!(
        sim.send_leave(
            room,
            "bob",
            Action::Reconnect,
            DisconnectReason::StateMismatch
        )
        .await
    );
    let second = loop {
        match sid_of(&sim, room, "bob").await {
            Some(sid) if sid != first => break sid,
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    assert_ne!(first, second);
    let summary = bob.await.expect("bob task");
    assert!(
        summary["reconnected"].as_u64().unwrap_or(0) >= 1,
        "bob did not report a reconnection: {summary}"
    );
    let heard = common::read_wav(&wav);
    let windows = common::windows_with_tone(&heard, 660.0, 2_000.0);
    // 12 s from start, sent away once connected (2-3 s on a loaded machine): 4.5 s of tone
    // means it heard the room after rejoining.
    assert!(
        windows >= 45,
        "bob heard 660 Hz in only {windows} windows of 100 ms"
    );
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_python_sdk_leaves_for_good_on_disconnect() {
    drop(common::python());
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let room = "disconnect-room";
    let carol = carol(&sim, room).await;
    let bob = tokio::spawn(common::run_client(client_args(&sim, room, 5)));
    wait_connected(&sim, room, &carol).await;
    assert!(
        sim.send_leave(
            room,
            "bob",
            Action::Disconnect,
            DisconnectReason::ParticipantRemoved
        )
        .await
    );
    let summary = bob.await.expect("bob task");
    assert_eq!(
        summary["disconnected"].as_str(),
        Some(
            (DisconnectReason::ParticipantRemoved as i32)
                .to_string()
                .as_str()
        ),
        "{summary}"
    );
    assert_eq!(summary["reconnected"].as_u64(), Some(0), "{summary}");
    assert!(sid_of(&sim, room, "bob").await.is_none());
    sim.shutdown().await;
}
