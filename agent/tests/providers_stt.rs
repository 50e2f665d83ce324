//! The OpenAI-compatible transcription provider against the fake server: the multipart form
//! we send (WAV, model, language, prompt), the transcript we get back, and failures.

mod support;

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use support::fake_openai::{FakeOpenAi, Reply};
use switchboard::llm::openai::Secret;
use switchboard::provider::ErrorClass;
use switchboard::stt::openai::{OpenAiSttConfig, SttTimeouts, UNREPORTED_CONFIDENCE};
use switchboard::stt::{SttProvider, SttRequest};

fn utterance(samples: usize) -> Arc<[i16]> {
    (0..samples)
        .map(|i| ((i as f32 * 0.05).sin() * 8000.0) as i16)
        .collect()
}

fn request(audio: Arc<[i16]>, hints: Option<&str>) -> SttRequest {
    SttRequest {
        quick: false,
        audio_16k: audio,
        hints: hints.map(Into::into),
        language: "en".into(),
    }
}

#[tokio::test]
async fn the_utterance_goes_out_as_a_multipart_wav_and_the_transcript_comes_back() {
    let fake = FakeOpenAi::start().await;
    fake.push_transcription(Reply::Transcript(" Four out of five. ".into()));
    let stt = OpenAiSttConfig {
        api_key: Some(Secret::new("sk-stt-key")),
        ..OpenAiSttConfig::new("openai-stt", fake.base_url(), "whisper-1")
    }
    .build()
    .unwrap();
    let audio = utterance(16_000);
    let result = stt
        .transcribe(request(audio.clone(), Some("one two three four five")))
        .await;
    let result = result.unwrap();
    assert_eq!(result.text, "Four out of five.");
    assert_eq!(result.confidence, UNREPORTED_CONFIDENCE);

    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1/audio/transcriptions");
    assert_eq!(sent.header("authorization"), Some("Bearer sk-stt-key"));
    assert!(sent
        .header("content-type")
        .unwrap()
        .starts_with("multipart/form-data"));
    assert_eq!(sent.text_part("model").as_deref(), Some("whisper-1"));
    assert_eq!(sent.text_part("language").as_deref(), Some("en"));
    assert_eq!(
        sent.text_part("prompt").as_deref(),
        Some("one two three four five")
    );
    assert_eq!(sent.text_part("response_format").as_deref(), Some("json"));
    let file = sent.part("file").expect("a file part");
    assert_eq!(file.file_name.as_deref(), Some("audio.wav"));
    assert_eq!(file.content_type.as_deref(), Some("audio/wav"));
    let mut wav = hound::WavReader::new(Cursor::new(file.bytes.clone())).unwrap();
    let spec = wav.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (16_000, 1, 16)
    );
    let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
    assert_eq!(samples, audio.to_vec());
}

#[tokio::test]
async fn without_hints_no_prompt_is_sent() {
    let fake = FakeOpenAi::start().await;
    fake.push_transcription(Reply::Transcript("yes".into()));
    let stt = OpenAiSttConfig::new("local-whisper", fake.base_url(), "base.en")
        .build()
        .unwrap();
    assert_eq!(
        stt.transcribe(request(utterance(800), None))
            .await
            .unwrap()
            .text,
        "yes"
    );
    let sent = &fake.requests()[0];
    assert!(sent.part("prompt").is_none());
    assert_eq!(sent.header("authorization"), None);
}

#[tokio::test]
async fn failures_are_classified() {
    let fake = FakeOpenAi::start().await;
    let timeouts = SttTimeouts {
        connect: Duration::from_secs(5),
        total: Duration::from_millis(300),
    };
    let stt = OpenAiSttConfig {
        timeouts,
        ..OpenAiSttConfig::new("openai-stt", fake.base_url(), "whisper-1")
    }
    .build()
    .unwrap();
    let cases = [
        (
            Reply::error(401, "Invalid API key"),
            ErrorClass::Auth,
            "Invalid API key",
        ),
        (
            Reply::error(400, "Audio file is too short"),
            ErrorClass::InvalidRequest,
            "too short",
        ),
        (
            Reply::error(500, "The server had an error"),
            ErrorClass::Server,
            "server had",
        ),
        (
            Reply::Hang,
            ErrorClass::Connectivity,
            "no transcript within 300ms",
        ),
    ];
    for (reply, class, text) in cases {
        fake.push_transcription(reply);
        let error = stt
            .transcribe(request(utterance(1600), None))
            .await
            .unwrap_err();
        assert_eq!(error.class, class, "{error}");
        assert!(error.message.contains(text), "{}", error.message);
    }
}

#[tokio::test]
async fn empty_audio_is_refused_without_a_request() {
    let fake = FakeOpenAi::start().await;
    let stt = OpenAiSttConfig::new("openai-stt", fake.base_url(), "whisper-1")
        .build()
        .unwrap();
    let error = stt
        .transcribe(request(Arc::from(Vec::new()), None))
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::InvalidRequest);
    assert!(fake.requests().is_empty());
}
