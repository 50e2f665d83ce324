//! The simulator checked by an independent client: the official LiveKit Python SDK (real
//! libwebrtc) joins it twice. Alice publishes a 440 Hz tone, sends a data packet and a DTMF
//! digit; Bob records. An in-process participant (Carol) publishes 660 Hz and records too.
//! Bob must hear both tones and get the data and the DTMF; Carol must hear Alice.

mod common;

use std::time::Duration;

use livekit_protocol as proto;
use livekit_sim::{ParticipantSpec, SimConfig, Simulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn python_clients_hear_each_other_and_the_simulated_participant() {
    let python = common::python(); // fail early, with install instructions
    drop(python);
    let dir = common::scratch("py2");
    let tone_wav = dir.join("alice-440.wav");
    common::write_wav(&tone_wav, &common::tone(440.0, 5.0, 8_000.0));
    let bob_wav = dir.join("bob.wav");

    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let room = "py-room";
    let carol = sim
        .add_participant(
            room,
            ParticipantSpec {
                identity: "carol".to_owned(),
                kind: proto::participant_info::Kind::Standard,
                // Long enough to outlast a slow client start on a loaded machine.
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
        bob_wav.display().to_string(),
        "--duration".into(),
        "13".into(),
    ]));
    // Alice comes once Bob is in, so Bob's subscriber PC renegotiates for her track.
    while !sim
        .participants(room)
        .await
        .iter()
        .any(|p| p.identity == "bob")
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let alice = common::run_client(vec![
        "--url".into(),
        sim.ws_url(),
        "--token".into(),
        sim.token(room, "alice"),
        "--publish".into(),
        tone_wav.display().to_string(),
        "--data".into(),
        "hello from alice".into(),
        "--dtmf".into(),
        "5".into(),
        "--send-after".into(),
        "2".into(),
        "--duration".into(),
        "8".into(),
    ])
    .await;
    // Carol (in-process) presses '#' as a phone caller would.
    carol
        .send_data(proto::DataPacket {
            value: Some(proto::data_packet::Value::SipDtmf(proto::SipDtmf {
                code: 11,
                digit: "#".to_owned(),
            })),
            ..Default::default()
        })
        .await;
    let bob = bob.await.expect("bob task");

    // Who saw whom.
    let seen = |summary: &serde_json::Value, who: &str| {
        summary["participants"]
            .as_array()
            .is_some_and(|a| a.iter().any(|p| p == who))
    };
    assert!(
        seen(&alice, "bob") && seen(&alice, "carol"),
        "alice: {alice}"
    );
    assert!(seen(&bob, "alice") && seen(&bob, "carol"), "bob: {bob}");

    // Data and DTMF from Alice reached Bob, stamped with her identity.
    let data = bob["data"].as_array().cloned().unwrap_or_default();
    assert!(
        data.iter()
            .any(|d| d["from"] == "alice" && d["data"] == "hello from alice"),
        "bob's data: {bob}"
    );
    let dtmf = bob["dtmf"].as_array().cloned().unwrap_or_default();
    assert!(
        dtmf.iter().any(|d| d["digit"] == "5" && d["code"] == 5),
        "bob's dtmf: {bob}"
    );
    assert!(
        dtmf.iter()
            .any(|d| d["digit"] == "#" && d["code"] == 11 && d["from"] == "carol"),
        "bob's dtmf from carol: {bob}"
    );

    // Bob heard Alice's 440 Hz (through two libwebrtc stacks and our forwarding) and Carol's
    // 660 Hz (encoded in the simulator). Alice published 5 s; allow for the subscription setup.
    let recorded = common::read_wav(&bob_wav);
    let alice_windows = common::windows_with_tone(&recorded, 440.0, 2_000.0);
    let carol_windows = common::windows_with_tone(&recorded, 660.0, 2_000.0);
    assert!(
        alice_windows >= 15,
        "bob heard 440 Hz in only {alice_windows} windows of 100 ms ({} samples)",
        recorded.len()
    );
    assert!(
        carol_windows >= 15,
        "bob heard 660 Hz in only {carol_windows} windows of 100 ms"
    );

    // Carol (in-process) heard Alice and received her data and DTMF.
    let heard = carol.received_audio();
    let carol_heard_alice = common::windows_with_tone(&heard, 440.0, 2_000.0);
    assert!(
        carol_heard_alice >= 15,
        "carol heard 440 Hz in only {carol_heard_alice} windows ({} samples)",
        heard.len()
    );
    let carol_data = carol.received_data();
    assert!(
        carol_data.iter().any(|p| p.participant_identity == "alice"
            && matches!(&p.value, Some(proto::data_packet::Value::User(u)) if u.payload == b"hello from alice")),
        "carol's data: {carol_data:?}"
    );
    assert!(
        carol_data.iter().any(|p| matches!(&p.value,
            Some(proto::data_packet::Value::SipDtmf(d)) if d.digit == "5")),
        "carol's data: {carol_data:?}"
    );

    // Both clients left: only Carol remains.
    let left: Vec<String> = sim
        .participants(room)
        .await
        .into_iter()
        .map(|p| p.identity)
        .collect();
    assert_eq!(left, vec!["carol".to_owned()]);
    carol.leave().await;
    assert!(sim.participants(room).await.is_empty());
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
