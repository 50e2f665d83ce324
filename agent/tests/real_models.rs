//! Whole calls with the real local models on real (synthesised) speech: Silero VAD, whisper
//! tiny.en and the hibari voice, with callers spoken by espeak-ng — a different voice from
//! the agent's. Needs the model store (`switchboard models fetch`) and espeak-ng.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use audio::SampleRate;
use speech::models::ModelStore;
use speech::stt::DecodeRequest;
use switchboard::call::report::Speaker;
use switchboard::call::session::CallSpec;
use switchboard::conversation::script::ScriptConversation;
use switchboard::local_models::{espeak, LocalModels};
use switchboard::transport::local_call::{run_local_call, synthesise, Caller, LocalCallResult};
use switchboard::turn::TurnConfig;
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;

fn models() -> &'static LocalModels {
    static MODELS: OnceLock<LocalModels> = OnceLock::new();
    MODELS.get_or_init(|| {
        assert!(
            speech::tts::EspeakVoice::is_installed(),
            "espeak-ng is needed to speak the test callers: apt-get install espeak-ng"
        );
        LocalModels::load(&ModelStore::from_env()).unwrap_or_else(|e| panic!("{e:#}"))
    })
}

fn survey_spec() -> CallSpec {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/survey.yaml");
    let script = dialogue::load_file(path.as_ref()).expect("survey script compiles");
    let m = models();
    CallSpec {
        call_id: "real-models".into(),
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
        live: None,
        metrics: Default::default(),
    }
}

async fn call(caller: Caller, rate: SampleRate, hang_up_after_ms: u64) -> LocalCallResult {
    let token = CancellationToken::new();
    run_local_call(
        survey_spec(),
        caller,
        rate,
        Some(Duration::from_millis(hang_up_after_ms)),
        &token,
    )
    .await
}

/// Transcribes a stretch of a recording with the shared whisper pool.
fn transcribe(samples: &[i16], rate: SampleRate) -> String {
    let at_16k = audio::resample_all(samples, rate, SampleRate::HZ_16K).expect("resample");
    let pcm = audio::i16_to_f32(&at_16k);
    let t = models()
        .whisper
        .transcribe(&DecodeRequest::new(&pcm))
        .expect("decode");
    t.text.to_lowercase()
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoken_answer_over_the_phone_band_is_understood_and_answered() {
    let caller = Caller::Simulated {
        lines: vec!["Yes, it was resolved.".into()],
        voice: espeak("en-gb+f2"),
        turn_gap: Duration::from_millis(700),
    };
    let rate = SampleRate::HZ_8K;
    let result = call(caller, rate, 6_000).await;
    let report = &result.report;

    let said = report
        .transcript
        .iter()
        .find(|l| l.speaker == Speaker::Caller)
        .unwrap_or_else(|| panic!("caller heard: {:?}", report.transcript));
    assert!(
        words(&said.text).contains(&"yes".to_string()),
        "transcribed {:?}",
        said.text
    );
    assert_eq!(
        report.answers.get("problem_solved"),
        Some(&serde_json::json!(true)),
        "{report:#?}"
    );

    // The agent moved on to the rating question, and it was real speech on the line.
    let next = report
        .transcript
        .iter()
        .find(|l| l.speaker == Speaker::Agent && l.start_ms > said.end_ms)
        .unwrap_or_else(|| panic!("no agent reply: {:?}", report.transcript));
    assert!(next.text.contains("scale of 1 to 5"), "{:?}", next.text);
    let from = rate.samples_for_ms(next.start_ms as u32);
    let to = rate
        .samples_for_ms(next.end_ms as u32)
        .min(result.agent_audio.len());
    let heard = transcribe(&result.agent_audio[from..to], rate);
    assert!(
        heard.contains("scale") || heard.contains("rate"),
        "agent audio transcribed as {heard:?}"
    );
    let metrics = report.turns.first().expect("turn metrics");
    assert!(metrics.voice_to_voice_ms.is_some(), "{metrics:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_talking_over_the_greeting_stops_the_agent() {
    let rate = SampleRate::HZ_16K;
    let voice = espeak("en-us+m3");
    let speech = synthesise(
        &*voice,
        "Stop, stop. I want to talk to a real person please.",
        rate,
    )
    .await
    .expect("espeak");
    let mut audio = audio::synth::silence(2_500, rate);
    audio.extend(&speech);
    let caller_end_ms = 2_500 + (speech.len() / rate.samples_per_ms()) as u64;
    let result = call(Caller::Audio(audio), rate, 4_000).await;
    let report = &result.report;

    let barge = report
        .barge_ins
        .first()
        .unwrap_or_else(|| panic!("no barge-in: {report:#?}"));
    assert!(!barge.resumed, "{barge:?}");
    let greeting = report
        .transcript
        .iter()
        .find(|l| l.speaker == Speaker::Agent)
        .expect("greeting");
    assert!(greeting.interrupted, "{greeting:?}");

    // Silent from the pause (plus one frame in flight) until the caller finished.
    let paused_at = barge.onset_ms + barge.reaction_ms + 20;
    let from = rate.samples_for_ms(paused_at as u32);
    let to = rate
        .samples_for_ms(caller_end_ms as u32)
        .min(result.agent_audio.len());
    let loud = result.agent_audio[from.min(to)..to]
        .iter()
        .filter(|s| s.unsigned_abs() > 300)
        .count();
    assert_eq!(
        loud, 0,
        "agent audible between {paused_at} and {caller_end_ms} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_caller_audio_ends_the_call_cleanly() {
    let rate = SampleRate::HZ_16K;
    // Full-scale square wave, then full-scale noise, then digital silence.
    let mut audio: Vec<i16> = (0..rate.samples_for_ms(1_500))
        .map(|i| {
            if (i / 20) % 2 == 0 {
                i16::MAX
            } else {
                i16::MIN
            }
        })
        .collect();
    audio.extend(audio::synth::white_noise(1.0, 1_500, rate, 7));
    let result = call(Caller::Audio(audio), rate, 3_000).await;
    let outcome = result
        .report
        .outcome
        .expect("an outcome is always recorded");
    assert!(!outcome.reason.is_empty());
    assert!(
        !result.report.answers.contains_key("problem_solved"),
        "noise is no answer: {:?}",
        result.report.answers
    );
}

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_llm_only_agent_streams_a_cloud_reply_to_a_spoken_question() {
    use support::fake_openai::{ChatScript, FakeOpenAi, Reply};
    use switchboard::conversation::llm_chat::{LlmChat, LlmChatConfig};
    use switchboard::llm::openai::OpenAiLlmConfig;

    let server = FakeOpenAi::start().await;
    server.push_chat(Reply::Chat(ChatScript::tokens(&[
        "We are open ",
        "from nine ",
        "to five. ",
        "Anything else?",
    ])));
    let llm = OpenAiLlmConfig::new("fake-openai", server.base_url(), "test-model")
        .build()
        .expect("config");
    let mut spec = survey_spec();
    spec.providers.llm = Some(Arc::new(llm));
    spec.conversation = Box::new(LlmChat::new(LlmChatConfig::default()));
    let caller = Caller::Simulated {
        lines: vec!["What are your opening hours?".into()],
        voice: espeak("en-us+m3"),
        turn_gap: Duration::from_millis(700),
    };
    let token = CancellationToken::new();
    let result = run_local_call(
        spec,
        caller,
        SampleRate::HZ_16K,
        Some(Duration::from_secs(12)),
        &token,
    )
    .await;

    let sent = server.requests();
    let body = sent
        .first()
        .and_then(|r| r.json.as_ref())
        .map(|j| j.to_string().to_lowercase())
        .unwrap_or_default();
    assert!(
        body.contains("opening hours") || body.contains("hours"),
        "the caller's words reached the LLM: {body}"
    );
    let agent: Vec<&str> = result
        .report
        .transcript
        .iter()
        .filter(|l| l.speaker == Speaker::Agent)
        .map(|l| l.text.as_str())
        .collect();
    assert!(
        agent.contains(&"We are open from nine to five."),
        "{agent:?}"
    );
    assert!(
        agent.contains(&"Anything else?"),
        "sentences are spoken separately: {agent:?}"
    );
}

#[test]
fn the_agents_own_voice_heard_back_on_a_phone_line_is_no_beep() {
    // After a person verdict the beep detector keeps listening while the agent speaks its
    // opening (a short voicemail taken for a person beeps then): the agent's voice echoed back
    // on an 8 kHz µ-law line must not pass for a beep. Held vowels are the most tone-like.
    let hibari = &models().hibari;
    let rate = SampleRate::new(hibari.sample_rate()).expect("hibari's rate");
    let line = SampleRate::HZ_8K;
    let lines = [
        "Hello, is this Sam? This is Alex calling from Daily Event Insurance.",
        "Hi Sam, this is Alex from Daily Event Insurance. I'll send you a short text with the \
         details. Thanks!",
        "Oh, wonderful! Sooo, how are you doing today? Hmm, okay.",
        "Would you rate us one, two, three, four or five? Noooo problem at all.",
    ];
    for (i, text) in lines.into_iter().enumerate() {
        let options = speech::tts::SynthOptions {
            speed: 1.0,
            seed: Some(i as u64),
        };
        let voice = hibari.synthesize(text, &options).expect("synthesis");
        let voice = audio::resample_all(&audio::f32_to_i16(&voice), rate, line).expect("resample");
        let heard = audio::G711Law::MuLaw.decode(&audio::G711Law::MuLaw.encode(&voice));
        let mut beeps = audio::BeepDetector::new(line, audio::BeepConfig::default());
        let events = beeps.push(&heard);
        assert!(
            events.is_empty(),
            "\"{text}\" set off the beep detector: {events:?}"
        );
        // The same detector still hears a beep right after the voice.
        let beep = audio::synth::sine(1_000.0, 0.3, 400, line);
        let started = beeps
            .push(&beep)
            .into_iter()
            .chain(beeps.push(&audio::synth::silence(200, line)))
            .filter(|e| matches!(e, audio::BeepEvent::Started { .. }))
            .count();
        assert_eq!(started, 1, "\"{text}\": the beep after it");
    }
}
