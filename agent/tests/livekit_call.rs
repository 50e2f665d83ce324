//! A whole call through a LiveKit room: a SIP caller in the room simulator says "Yes, it was
//! resolved." (espeak-ng voice) after the greeting; Switchboard, joined as the agent with
//! the real local models (Silero VAD, whisper tiny.en, hibari), transcribes it, records the
//! answer and asks the next question, which the caller hears in its recording (checked by
//! transcribing what the caller received). Needs the model store
//! (`cargo run -p switchboard -- models fetch`) and espeak-ng (`apt-get install espeak-ng`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use audio::synth::silence;
use audio::SampleRate;
use livekit_sim::{ParticipantSpec, SimConfig, Simulator};
use speech::models::ModelStore;
use speech::stt::DecodeRequest;
use switchboard::call::live::CallEvent;
use switchboard::call::report::Speaker;
use switchboard::call::session::{run_call_with_dtmf, CallSpec};
use switchboard::conversation::script::ScriptConversation;
use switchboard::local_models::{espeak, LocalModels};
use switchboard::transport::livekit::{join, CallerRule, RoomOptions};
use switchboard::transport::local_call::synthesise;
use switchboard::turn::TurnConfig;
use tokio::sync::broadcast;
use tokio::time::{timeout, Duration};
use tokio_util::sync::CancellationToken;

fn models() -> &'static LocalModels {
    static MODELS: OnceLock<LocalModels> = OnceLock::new();
    MODELS.get_or_init(|| {
        assert!(
            speech::tts::EspeakVoice::is_installed(),
            "espeak-ng is needed to speak the test caller: apt-get install espeak-ng"
        );
        LocalModels::load(&ModelStore::from_env()).unwrap_or_else(|e| {
            panic!("{e:#}\nFetch the models with `cargo run -p switchboard -- models fetch`")
        })
    })
}

fn spec(live: broadcast::Sender<CallEvent>) -> CallSpec {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/survey.yaml");
    let script = dialogue::load_file(path.as_ref()).expect("survey script compiles");
    let m = models();
    CallSpec {
        call_id: "livekit-call".into(),
        providers: m.providers(),
        detector: m.detector().expect("VAD"),
        vad: audio::vad::VadConfig {
            min_silence_ms: 200,
            ..Default::default()
        },
        turn: TurnConfig::default(),
        conversation: Box::new(ScriptConversation::new(
            Arc::new(script),
            &BTreeMap::new(),
            chrono::Utc::now(),
        )),
        live: Some(live),
        metrics: Default::default(),
    }
}

fn transcribe(samples: &[i16], rate: SampleRate) -> String {
    let at_16k = audio::resample_all(samples, rate, SampleRate::HZ_16K).expect("resample");
    let pcm = audio::i16_to_f32(&at_16k);
    let t = models()
        .whisper
        .transcribe(&DecodeRequest::new(&pcm))
        .expect("decode");
    t.text.to_lowercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_livekit_sip_caller_is_understood_and_hears_the_agents_answer() {
    let hz48 = SampleRate::HZ_48K;
    let answer = synthesise(&*espeak("en-gb+f2"), "Yes, it was resolved.", hz48)
        .await
        .unwrap_or_else(|e| panic!("espeak-ng: {e}"));
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let mut opts = RoomOptions::new(&sim.ws_url(), &sim.token("survey-1", "agent"));
    opts.caller = CallerRule::Sip;
    opts.udp_bind = "127.0.0.1:0".into();
    let cancel = CancellationToken::new();
    let room = join(opts, cancel.clone()).await.expect("agent joins");
    let (connected, handle, _events) = room.into_connected();

    let (live, mut events) = broadcast::channel(256);
    let call = tokio::spawn({
        let cancel = cancel.clone();
        async move { run_call_with_dtmf(spec(live), connected.media, connected.dtmf, &cancel).await }
    });
    // The phone leg joins once the greeting is over (so the fixed clip answers the
    // question however long synthesis took on this machine): half a second of silence, the
    // answer, then silence.
    timeout(Duration::from_secs(120), async {
        loop {
            match events.recv().await {
                Ok(CallEvent::Line { line, .. }) if line.speaker == Speaker::Agent => return,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("call ended first: {e}"),
            }
        }
    })
    .await
    .expect("the agent says its greeting");
    let mut clip = silence(500, hz48);
    clip.extend_from_slice(&answer);
    clip.extend(silence(40_000, hz48));
    let phone = sim
        .add_participant(
            "survey-1",
            ParticipantSpec {
                identity: "sip_+15550123".into(),
                kind: livekit_protocol::participant_info::Kind::Sip,
                attributes: HashMap::from([("sip.callStatus".into(), "active".into())]),
                audio: clip,
            },
        )
        .await
        .unwrap();
    // The caller hangs up once the agent has asked the next question.
    let asked = timeout(Duration::from_secs(120), async {
        loop {
            match events.recv().await {
                Ok(CallEvent::Line { line, .. })
                    if line.speaker == Speaker::Agent && line.text.contains("scale of 1 to 5") =>
                {
                    return line;
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("call ended first: {e}"),
            }
        }
    })
    .await
    .expect("the agent asks the rating question");
    let heard = phone.received_audio();
    phone.leave().await;
    let report = timeout(Duration::from_secs(60), call)
        .await
        .expect("the call ends when the caller leaves")
        .unwrap();
    handle.leave().await;

    let said = report
        .transcript
        .iter()
        .find(|l| l.speaker == Speaker::Caller)
        .unwrap_or_else(|| panic!("caller heard: {:?}", report.transcript));
    assert!(
        said.text.to_lowercase().contains("yes"),
        "transcribed {:?}",
        said.text
    );
    assert_eq!(
        report.answers.get("problem_solved"),
        Some(&serde_json::json!(true)),
        "{report:#?}"
    );
    // The caller's recording (48 kHz, index 0 = when it joined) holds the question's audio
    // in the last stretch before it hung up.
    let len_ms = (asked.end_ms - asked.start_ms).max(1000) as usize;
    let tail = &heard[heard.len().saturating_sub(48 * (len_ms + 1500))..];
    let text = transcribe(tail, hz48);
    assert!(
        text.contains("scale") || text.contains("rate"),
        "the caller heard {text:?}"
    );
    sim.shutdown().await;
}
