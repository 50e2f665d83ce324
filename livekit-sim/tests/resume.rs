//! A network drop (`Simulator::drop_connection`): the LiveKit Python SDK resumes on a new
//! WebSocket (`reconnect=1&sid=...`), stays in the room and keeps hearing the room's audio.

mod common;

use std::time::Duration;

use livekit_protocol as proto;
use livekit_sim::{ParticipantSpec, SimConfig, Simulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dropped_python_client_resumes_and_keeps_hearing_the_room() {
    drop(common::python()); // fail early, with install instructions
    let dir = common::scratch("resume");
    let wav = dir.join("bob.wav");
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let room = "resume-room";
    let _carol = sim
        .add_participant(
            room,
            ParticipantSpec {
                identity: "carol".to_owned(),
                kind: proto::participant_info::Kind::Standard,
                audio: common::tone(660.0, 60.0, 8_000.0),
                ..Default::default()
            },
        )
        .await
        .expect("carol joins");
    let bob = tokio::spawn(common::run_client(vec![
        "--url".into(),
        sim.ws_url(),
        "--token".into(),
        sim.token(room, "bob"),
        "--record".into(),
        wav.display().to_string(),
        "--duration".into(),
        "9".into(),
    ]));
    while !sim
        .participants(room)
        .await
        .iter()
        .any(|p| p.identity == "bob")
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sid = sim
        .participants(room)
        .await
        .into_iter()
        .find(|p| p.identity == "bob")
        .map(|p| p.sid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    sim.drop_connection(room, "bob");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let still = sim
        .participants(room)
        .await
        .into_iter()
        .find(|p| p.identity == "bob")
        .map(|p| p.sid);
    assert_eq!(
        still, sid,
        "bob is still in the room with the same sid after the drop"
    );
    let summary = bob.await.expect("bob task");
    assert!(
        summary["reconnected"].as_u64().unwrap_or(0) >= 1,
        "bob did not resume: {summary}"
    );
    let heard = common::read_wav(&wav);
    let windows = common::windows_with_tone(&heard, 660.0, 2_000.0);
    // 9 s in the room (less on a loaded machine), dropped 2 s after joining: 4.5 s of tone
    // means the audio went on after the resume.
    assert!(
        windows >= 45,
        "bob heard 660 Hz in only {windows} windows of 100 ms"
    );
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
