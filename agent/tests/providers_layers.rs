//! Resilience layers (retry, fallback, first-token deadline) around real OpenAI-compatible
//! providers talking to fake servers, and around in-process providers under paused time.

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use support::fake_openai::{ChatScript, Ending, FakeOpenAi, Reply, SpeechScript};
use switchboard::llm::layers::{Fallback, FirstTokenDeadline, Retry, RetryPolicy};
use switchboard::llm::openai::{OpenAiLlmConfig, StreamTimeouts};
use switchboard::llm::{ChatMessage, ChatRequest, LlmEvent, LlmProvider};
use switchboard::provider::{ErrorClass, ProviderError};
use switchboard::tts::openai::OpenAiTtsConfig;
use switchboard::tts::resilient::TtsFallback;
use switchboard::tts::{TtsProvider, TtsRequest};

fn llm(fake: &FakeOpenAi, name: &'static str) -> Arc<dyn LlmProvider> {
    Arc::new(
        OpenAiLlmConfig::new(name, fake.base_url(), "m")
            .build()
            .unwrap(),
    )
}

fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
    }
}

fn request() -> ChatRequest {
    ChatRequest {
        messages: vec![ChatMessage::User {
            content: "Hello?".into(),
        }],
        ..ChatRequest::default()
    }
}

async fn run(provider: &dyn LlmProvider) -> (Vec<String>, Option<ProviderError>) {
    let events: Vec<_> = provider.stream(request()).collect().await;
    let mut tokens = Vec::new();
    let mut error = None;
    for event in events {
        match event {
            Ok(LlmEvent::TokenReceived(t)) => tokens.push(t),
            Ok(_) => {}
            Err(e) => error = Some(e),
        }
    }
    (tokens, error)
}

#[tokio::test]
async fn retryable_failures_before_the_first_token_are_retried() {
    let fake = FakeOpenAi::start().await;
    fake.push_chat(Reply::error(503, "overloaded"));
    fake.push_chat(Reply::error(429, "slow down"));
    fake.push_chat(Reply::Chat(ChatScript::tokens(&["Third", " time"])));
    let retry = Retry::new(llm(&fake, "openai"), fast_retries(3));
    let (tokens, error) = run(&retry).await;
    assert_eq!(tokens, vec!["Third", " time"]);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn nothing_is_retried_once_a_token_was_yielded() {
    let fake = FakeOpenAi::start().await;
    fake.push_chat(Reply::Chat(ChatScript::partial(
        &["Half", " an"],
        Ending::Abort,
    )));
    fake.push_chat(Reply::Chat(ChatScript::tokens(&[
        "Should", " not", " be", " sent",
    ])));
    let retry = Retry::new(llm(&fake, "openai"), fast_retries(3));
    let (tokens, error) = run(&retry).await;
    assert_eq!(tokens, vec!["Half", " an"]);
    assert_eq!(error.unwrap().class, ErrorClass::Connectivity);
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(fake.unused_chat_replies(), 1);
}

#[tokio::test]
async fn permanent_failures_are_not_retried_and_retries_give_up() {
    let fake = FakeOpenAi::start().await;
    fake.push_chat(Reply::error(401, "bad key"));
    let retry = Retry::new(llm(&fake, "openai"), fast_retries(3));
    let (_, error) = run(&retry).await;
    assert_eq!(error.unwrap().class, ErrorClass::Auth);
    assert_eq!(fake.requests().len(), 1);

    let fake = FakeOpenAi::start().await;
    for _ in 0..3 {
        fake.push_chat(Reply::error(500, "down"));
    }
    let retry = Retry::new(llm(&fake, "openai"), fast_retries(2));
    let (_, error) = run(&retry).await;
    let error = error.unwrap();
    assert_eq!(
        (error.class, error.message.contains("down")),
        (ErrorClass::Server, true)
    );
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn the_fallback_chain_uses_the_secondary_when_the_primary_fails_or_hangs() {
    let primary = FakeOpenAi::start().await;
    let secondary = FakeOpenAi::start().await;
    primary.push_chat(Reply::error(500, "primary down"));
    primary.push_chat(Reply::Hang);
    secondary.push_chat(Reply::Chat(ChatScript::tokens(&["From", " groq"])));
    secondary.push_chat(Reply::Chat(ChatScript::tokens(&["Again", " groq"])));
    let timeouts = StreamTimeouts {
        first_chunk: Duration::from_millis(300),
        ..OpenAiLlmConfig::DEFAULT_TIMEOUTS
    };
    let hanging_primary = OpenAiLlmConfig::new("openai", primary.base_url(), "m")
        .with_timeouts(timeouts)
        .build()
        .unwrap();
    let chain = Fallback::new(Arc::new(hanging_primary)).then(llm(&secondary, "groq"));
    assert_eq!(chain.name(), "openai");

    for expected in [["From", " groq"], ["Again", " groq"]] {
        let (tokens, error) = run(&chain).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(tokens, expected);
    }
    assert_eq!(primary.requests().len(), 2);
    assert_eq!(secondary.requests().len(), 2);
}

#[tokio::test]
async fn the_fallback_is_not_used_after_the_primary_started_answering() {
    let primary = FakeOpenAi::start().await;
    let secondary = FakeOpenAi::start().await;
    primary.push_chat(Reply::Chat(ChatScript::partial(
        &["Partial"],
        Ending::Abort,
    )));
    secondary.push_chat(Reply::Chat(ChatScript::tokens(&["Spliced"])));
    let chain = Fallback::new(llm(&primary, "openai")).then(llm(&secondary, "groq"));
    let (tokens, error) = run(&chain).await;
    assert_eq!(tokens, vec!["Partial"]);
    assert_eq!(error.unwrap().provider, "openai");
    assert_eq!(secondary.requests().len(), 0);
}

#[tokio::test]
async fn when_every_provider_fails_the_last_error_is_returned() {
    let primary = FakeOpenAi::start().await;
    let secondary = FakeOpenAi::start().await;
    primary.push_chat(Reply::error(500, "primary down"));
    secondary.push_chat(Reply::error(429, "secondary limited"));
    let chain = Fallback::new(llm(&primary, "openai")).then(llm(&secondary, "groq"));
    let error = run(&chain).await.1.unwrap();
    assert_eq!(
        (error.provider, error.class),
        ("groq", ErrorClass::RateLimit)
    );
}

/// An in-process provider: each item after its delay, then it stays silent forever.
struct Timed {
    items: Vec<(Duration, &'static str)>,
}

impl LlmProvider for Timed {
    fn name(&self) -> &'static str {
        "timed"
    }

    fn stream(&self, _: ChatRequest) -> BoxStream<'static, Result<LlmEvent, ProviderError>> {
        let items = self.items.clone();
        stream::iter(items)
            .then(|(wait, token)| async move {
                tokio::time::sleep(wait).await;
                Ok(LlmEvent::TokenReceived(token.into()))
            })
            .chain(stream::pending())
            .boxed()
    }
}

#[tokio::test(start_paused = true)]
async fn the_first_token_deadline_cuts_off_a_silent_provider_and_nothing_later() {
    let silent = FirstTokenDeadline::new(Arc::new(Timed { items: vec![] }), Duration::from_secs(2));
    let events: Vec<_> = silent.stream(request()).collect().await;
    assert_eq!(events.len(), 1);
    let error = events[0].clone().unwrap_err();
    assert_eq!(
        (error.provider, error.class),
        ("timed", ErrorClass::Connectivity)
    );
    assert!(error.message.contains("2000ms"), "{}", error.message);

    let slow_but_started = Timed {
        items: vec![
            (Duration::from_secs(1), "a"),
            (Duration::from_secs(30), "b"),
        ],
    };
    let layered = FirstTokenDeadline::new(Arc::new(slow_but_started), Duration::from_secs(2));
    let first_two: Vec<_> = layered.stream(request()).take(2).collect().await;
    let tokens: Vec<_> = first_two.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        tokens,
        vec![
            LlmEvent::TokenReceived("a".into()),
            LlmEvent::TokenReceived("b".into())
        ]
    );
}

#[tokio::test]
async fn tts_falls_back_to_the_second_voice_before_any_audio() {
    let primary = FakeOpenAi::start().await;
    let secondary = FakeOpenAi::start().await;
    primary.push_speech(Reply::error(503, "tts down"));
    let pcm: Vec<i16> = (0..480).map(|i| (i * 37 % 2000) as i16 - 1000).collect();
    secondary.push_speech(Reply::Speech(SpeechScript::new(pcm.clone(), 101)));
    let tts = |fake: &FakeOpenAi| -> Arc<dyn TtsProvider> {
        Arc::new(
            OpenAiTtsConfig::new("openai-tts", fake.base_url(), "tts-1", "alloy")
                .build()
                .unwrap(),
        )
    };
    let chain = TtsFallback::new(tts(&primary))
        .then(tts(&secondary), Some("nova".into()))
        .unwrap();
    let request = TtsRequest {
        text: "Thank you for calling.".into(),
        voice: Some("shimmer".into()),
    };
    let chunks: Vec<_> = chain.synthesize(request).collect().await;
    let audio: Vec<i16> = chunks.into_iter().flat_map(Result::unwrap).collect();
    assert_eq!(audio, pcm);
    assert_eq!(
        primary.requests()[0].json.as_ref().unwrap()["voice"],
        "shimmer"
    );
    assert_eq!(
        secondary.requests()[0].json.as_ref().unwrap()["voice"],
        "nova"
    );
}

#[tokio::test]
async fn tts_fallback_refuses_a_voice_with_another_sample_rate() {
    let fake = FakeOpenAi::start().await;
    let primary = OpenAiTtsConfig::new("a", fake.base_url(), "tts-1", "alloy")
        .build()
        .unwrap();
    let mut other = OpenAiTtsConfig::new("b", fake.base_url(), "piper", "joe");
    other.sample_rate = 22_050;
    let error = TtsFallback::new(Arc::new(primary))
        .then(Arc::new(other.build().unwrap()), None)
        .err()
        .unwrap();
    assert_eq!((error.primary_rate, error.next_rate), (24_000, 22_050));
}
