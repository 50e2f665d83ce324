//! The live transcript as current LiveKit clients read it, proved with the official LiveKit
//! Python SDK (real libwebrtc, `register_text_stream_handler("lk.transcription", …)`) against
//! the room simulator: the agent (joined as an agent participant) publishes its own line, a
//! caller's interim and final versions of one segment, and a line long enough to need three
//! chunks; the SDK reads each as a whole text stream with LiveKit Agents' attributes, the
//! caller's lines on the caller's behalf. The legacy `Transcription` packets still go out.
//! Needs the SDK's venv (`./setup.sh`, see `livekit-sim/tests/common`).

mod livekit_common;
// The independent LiveKit client's venv.
#[path = "../../livekit-sim/tests/common/mod.rs"]
mod lk;

use std::path::Path;

use livekit_common::*;
use livekit_protocol as proto;
use proto::data_packet::Value;
use serde_json::Value as Json;
use switchboard::transport::livekit::data::{user_packet, TranscriptSegment};
use switchboard::transport::livekit::{join, CallerRule, RoomOptions};
use tokio::time::{sleep, timeout, Duration};
use tokio_util::sync::CancellationToken;

/// Hang guard for the Python client (its start loads libwebrtc), not a performance bound.
const PYTHON_PATIENCE: Duration = Duration::from_secs(180);
const CALLER: &str = "sip_+15550100";

fn segment(speaker: &str, id: &str, text: &str, is_final: bool) -> TranscriptSegment {
    TranscriptSegment {
        speaker_identity: speaker.into(),
        // Filled in by the room with the speaker's audio track.
        track_sid: String::new(),
        id: id.into(),
        text: text.into(),
        is_final,
        start_ms: 0,
        end_ms: 0,
    }
}

/// The stream the listener read whose `lk.segment_id` and `lk.transcription_final` match.
fn stream<'a>(streams: &'a [Json], segment: &str, is_final: bool) -> &'a Json {
    streams
        .iter()
        .find(|s| {
            s["attributes"]["lk.segment_id"] == segment
                && s["attributes"]["lk.transcription_final"].as_str()
                    == Some(if is_final { "true" } else { "false" })
        })
        .unwrap_or_else(|| panic!("no stream for {segment} (final {is_final}): {streams:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_livekit_python_sdk_reads_the_transcript_as_lk_transcription_text_streams() {
    let python = lk::python(); // fails early, with install instructions
    let sim = sim().await;
    let room_name = "transcript-streams";
    let phone = caller(&sim, room_name, 600.0, 120_000).await;
    let mut opts = RoomOptions::new(&sim.ws_url(), &sim.agent_token(room_name, "agent"));
    opts.caller = CallerRule::Sip;
    opts.call_rate = RATE;
    opts.udp_bind = "127.0.0.1:0".into();
    let mut room = timeout(PATIENCE, join(opts, CancellationToken::new()))
        .await
        .expect("join does not hang")
        .expect("agent joins");
    // Media up both ways: the data channels are open and the agent's track is in the room.
    hear_tone(&mut room.media.input, 600.0, 200).await;
    speak(&mut room, 440.0, 300).await;
    let track_of = |identity: &'static str| {
        let sim = &sim;
        async move {
            timeout(PATIENCE, async {
                loop {
                    let listed = sim.participants(room_name).await;
                    let track = listed
                        .iter()
                        .find(|p| p.identity == identity)
                        .and_then(|p| p.tracks.first().map(|t| t.sid.clone()));
                    if let Some(track) = track {
                        return track;
                    }
                    sleep(Duration::from_millis(50)).await;
                }
            })
            .await
            .unwrap_or_else(|_| panic!("{identity}'s audio track is never listed"))
        }
    };
    let (agent_track, caller_track) = (track_of("agent").await, track_of(CALLER).await);

    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../livekit-sim/tests/text_stream_listener.py");
    let listener = tokio::process::Command::new(python)
        .arg(script)
        .args(["--url", &sim.ws_url()])
        .args(["--token", &sim.token(room_name, "browser")])
        .args(["--expect", "4"])
        .kill_on_drop(true)
        .output();
    let listener = tokio::spawn(listener);

    // Until the listener answers a probe, packets might reach it before its handler is set.
    timeout(PYTHON_PATIENCE, async {
        loop {
            let probe = user_packet("agent", "probe", b"?".to_vec());
            room.handle.publish_data(true, probe).await.unwrap();
            sleep(Duration::from_millis(300)).await;
            let ready = phone.received_data().iter().any(
                |p| matches!(&p.value, Some(Value::User(u)) if u.topic.as_deref() == Some("ready")),
            );
            if ready {
                break;
            }
        }
    })
    .await
    .expect("the Python listener joins and hears the agent's data packets");

    let long: String = (0..2_000).map(|i| format!("{i} Grüße, €! ")).collect();
    assert!(long.len() > 30_000, "three chunks of at most 15 000 bytes");
    let lines = [
        segment("agent", "seg-agent", "How can I help you today?", true),
        segment(CALLER, "seg-caller", "I'd like to", false),
        segment(CALLER, "seg-caller", "I'd like to check my order.", true),
        segment("agent", "seg-long", &long, true),
    ];
    for line in lines {
        room.handle.publish_transcript(line).await.unwrap();
    }

    let output = timeout(PYTHON_PATIENCE, listener)
        .await
        .expect("the listener ends")
        .expect("listener task")
        .expect("run the Python listener");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "listener failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Json = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("listener summary {stdout:?}: {e}"));
    let streams = summary["streams"].as_array().expect("streams").clone();
    assert_eq!(streams.len(), 4, "{streams:#?}");

    for s in &streams {
        assert!(s.get("error").is_none(), "stream ended abnormally: {s:#}");
        assert_eq!(s["topic"], "lk.transcription");
        assert_eq!(s["mime_type"], "text/plain");
        assert!(
            s["timestamp"].as_i64().unwrap_or(0) > 1_600_000_000_000,
            "{s:#}"
        );
    }
    let agent = stream(&streams, "seg-agent", true);
    assert_eq!(agent["text"], "How can I help you today?");
    assert_eq!(agent["identity"], "agent");
    assert_eq!(agent["attributes"]["lk.transcribed_track_id"], agent_track);

    let interim = stream(&streams, "seg-caller", false);
    let last = stream(&streams, "seg-caller", true);
    assert_eq!(interim["text"], "I'd like to");
    assert_eq!(last["text"], "I'd like to check my order.");
    for s in [interim, last] {
        assert_eq!(
            s["identity"], CALLER,
            "the caller's lines are on the caller's behalf"
        );
        assert_eq!(s["attributes"]["lk.transcribed_track_id"], caller_track);
    }
    assert_ne!(
        interim["stream_id"], last["stream_id"],
        "an update is a new stream"
    );

    let long_stream = stream(&streams, "seg-long", true);
    assert_eq!(long_stream["text"].as_str(), Some(long.as_str()));
    assert_eq!(long_stream["size"].as_u64(), Some(long.len() as u64));
    assert_eq!(
        long_stream["attributes"]["lk.transcribed_track_id"],
        agent_track
    );

    // Older clients still get the legacy packets; the SFU marked the caller's header generated.
    let data = phone.received_data();
    let legacy = |id: &str| {
        data.iter().any(|p| {
            matches!(&p.value, Some(Value::Transcription(t))
                if t.segments.iter().any(|s| s.id == id && s.r#final))
        })
    };
    assert!(legacy("seg-agent") && legacy("seg-caller") && legacy("seg-long"));
    let generated_for_caller = data.iter().any(|p| {
        p.participant_identity == CALLER
            && matches!(&p.value, Some(Value::StreamHeader(h)) if matches!(
                &h.content_header,
                Some(proto::data_stream::header::ContentHeader::TextHeader(t)) if t.generated
            ))
    });
    assert!(
        generated_for_caller,
        "the caller's stream header is generated"
    );

    room.handle.leave().await;
    sim.shutdown().await;
}
