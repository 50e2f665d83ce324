//! The OpenAI-compatible speech provider against the fake server: PCM streamed in order across
//! odd network chunk boundaries, the request we send, and failures.

mod support;

use std::time::Duration;

use futures::StreamExt;
use support::fake_openai::{Ending, FakeOpenAi, Reply, SpeechScript};
use switchboard::llm::openai::StreamTimeouts;
use switchboard::provider::{ErrorClass, ProviderError};
use switchboard::tts::openai::{OpenAiTts, OpenAiTtsConfig};
use switchboard::tts::{TtsProvider, TtsRequest};

fn tts(fake: &FakeOpenAi) -> OpenAiTts {
    OpenAiTtsConfig::new("openai-tts", fake.base_url(), "gpt-4o-mini-tts", "alloy")
        .build()
        .unwrap()
}

fn sentence(voice: Option<&str>) -> TtsRequest {
    TtsRequest {
        text: "Your order ships tomorrow.".into(),
        voice: voice.map(Into::into),
    }
}

/// A recognisable ramp, so order and byte alignment errors show.
fn pcm(samples: usize) -> Vec<i16> {
    (0..samples)
        .map(|i| (i as i32 * 263 % 65_536 - 32_768) as i16)
        .collect()
}

async fn collect(tts: &OpenAiTts, request: TtsRequest) -> Vec<Result<Vec<i16>, ProviderError>> {
    tts.synthesize(request).collect().await
}

#[tokio::test]
async fn pcm_is_streamed_in_order_across_odd_chunk_boundaries() {
    for chunk_bytes in [1, 3, 7, 101] {
        let fake = FakeOpenAi::start().await;
        let audio = pcm(240);
        let mut script = SpeechScript::new(audio.clone(), chunk_bytes);
        script.delay = Duration::from_millis(1);
        fake.push_speech(Reply::Speech(script));
        let provider = tts(&fake);
        assert_eq!(provider.sample_rate(), 24_000);
        let chunks: Vec<Vec<i16>> = collect(&provider, sentence(None))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert!(
            chunks.len() > 1,
            "chunk size {chunk_bytes}: audio should arrive in pieces"
        );
        assert!(chunks.iter().all(|c| !c.is_empty()));
        assert_eq!(chunks.concat(), audio, "chunk size {chunk_bytes}");
    }
}

#[tokio::test]
async fn the_request_names_model_voice_text_and_pcm() {
    let fake = FakeOpenAi::start().await;
    fake.push_speech(Reply::Speech(SpeechScript::new(pcm(10), 20)));
    fake.push_speech(Reply::Speech(SpeechScript::new(pcm(10), 20)));
    let provider = tts(&fake);
    collect(&provider, sentence(None)).await;
    collect(&provider, sentence(Some("onyx"))).await;
    let sent: Vec<_> = fake
        .requests()
        .into_iter()
        .map(|r| r.json.unwrap())
        .collect();
    assert_eq!(sent[0]["model"], "gpt-4o-mini-tts");
    assert_eq!(sent[0]["input"], "Your order ships tomorrow.");
    assert_eq!(sent[0]["response_format"], "pcm");
    assert_eq!(sent[0]["voice"], "alloy");
    assert_eq!(sent[1]["voice"], "onyx");
}

#[tokio::test]
async fn errors_are_classified_with_the_providers_message() {
    let fake = FakeOpenAi::start().await;
    fake.push_speech(Reply::error(400, "Unsupported voice: xyz"));
    fake.push_speech(Reply::error(429, "Rate limit reached for tts-1"));
    let provider = tts(&fake);
    for (class, text) in [
        (ErrorClass::InvalidRequest, "Unsupported voice"),
        (ErrorClass::RateLimit, "tts-1"),
    ] {
        let events = collect(&provider, sentence(None)).await;
        assert_eq!(events.len(), 1);
        let error = events[0].clone().unwrap_err();
        assert_eq!(error.class, class);
        assert!(error.message.contains(text), "{}", error.message);
    }
}

#[tokio::test]
async fn a_cut_connection_errors_after_the_audio_already_yielded() {
    let fake = FakeOpenAi::start().await;
    let audio = pcm(1_000);
    let mut script = SpeechScript::new(audio.clone(), 500);
    script.ending = Ending::Abort;
    fake.push_speech(Reply::Speech(script));
    let events = collect(&tts(&fake), sentence(None)).await;
    let (last, chunks) = events.split_last().unwrap();
    let received: Vec<i16> = chunks.iter().cloned().flat_map(Result::unwrap).collect();
    assert_eq!(received, audio);
    assert_eq!(last.clone().unwrap_err().class, ErrorClass::Connectivity);
}

#[tokio::test]
async fn a_hanging_server_is_cut_off_at_the_first_audio_deadline() {
    let fake = FakeOpenAi::start().await;
    fake.push_speech(Reply::Hang);
    let mut config = OpenAiTtsConfig::new("openai-tts", fake.base_url(), "tts-1", "alloy");
    config.timeouts = StreamTimeouts {
        first_chunk: Duration::from_millis(300),
        ..OpenAiTtsConfig::DEFAULT_TIMEOUTS
    };
    let events = collect(&config.build().unwrap(), sentence(None)).await;
    assert_eq!(events.len(), 1);
    let error = events[0].clone().unwrap_err();
    assert_eq!(error.class, ErrorClass::Connectivity);
    assert!(
        error.message.contains("no audio within 300ms"),
        "{}",
        error.message
    );
}
