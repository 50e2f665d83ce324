//! The OpenAI-compatible LLM provider against a fake server speaking the real SSE wire format:
//! streaming, tool-call assembly, usage, error classification, deadlines, cut connections.

mod support;

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use support::fake_openai::{ChatScript, Ending, FakeOpenAi, Reply, SseEvent};
use switchboard::llm::openai::{OpenAiLlm, OpenAiLlmConfig, Secret, StreamTimeouts};
use switchboard::llm::{
    ChatMessage, ChatRequest, LlmEvent, LlmProvider, ToolCall, ToolSpec, Usage,
};
use switchboard::provider::{ErrorClass, ProviderError};

const KEY: &str = "sk-test-0123456789abcdef";

fn config(fake: &FakeOpenAi) -> OpenAiLlmConfig {
    OpenAiLlmConfig::new("openai", fake.base_url(), "gpt-test").with_api_key(Secret::new(KEY))
}

fn short_deadlines(first_chunk_ms: u64, idle_ms: u64) -> StreamTimeouts {
    StreamTimeouts {
        connect: Duration::from_secs(5),
        first_chunk: Duration::from_millis(first_chunk_ms),
        idle: Duration::from_millis(idle_ms),
        total: Duration::from_secs(30),
    }
}

fn request() -> ChatRequest {
    ChatRequest {
        messages: vec![
            ChatMessage::System {
                content: "You are a phone agent.".into(),
            },
            ChatMessage::User {
                content: "What time is it?".into(),
            },
        ],
        tools: vec![],
        max_tokens: Some(64),
        temperature: Some(0.5),
    }
}

async fn collect(llm: &OpenAiLlm, request: ChatRequest) -> Vec<Result<LlmEvent, ProviderError>> {
    llm.stream(request).collect().await
}

fn tokens(events: &[Result<LlmEvent, ProviderError>]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(LlmEvent::TokenReceived(t)) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn last_error(events: &[Result<LlmEvent, ProviderError>]) -> ProviderError {
    match events.last() {
        Some(Err(e)) => e.clone(),
        other => panic!("expected the stream to end with an error, got {other:?}"),
    }
}

#[tokio::test]
async fn tokens_stream_in_order_with_usage_and_the_request_has_the_openai_shape() {
    let fake = FakeOpenAi::start().await;
    fake.push_chat(Reply::Chat(
        ChatScript::tokens(&["It", " is", " noon", "."]).with_usage(21, 4),
    ));
    let llm = config(&fake).build().unwrap();
    let events = collect(&llm, request()).await;

    let expected = ["It", " is", " noon", "."].map(|t| Ok(LlmEvent::TokenReceived(t.into())));
    let usage = Usage {
        prompt_tokens: 21,
        completion_tokens: 4,
    };
    let mut expected = expected.to_vec();
    expected.push(Ok(LlmEvent::Finished { usage }));
    let events: Vec<_> = events
        .into_iter()
        .map(|e| e.map_err(|e| e.to_string()))
        .collect();
    assert_eq!(events, expected);

    let sent = &fake.requests()[0];
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let body = sent.json.as_ref().unwrap();
    assert_eq!(body["model"], "gpt-test");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "You are a phone agent."})
    );
    assert_eq!(body["messages"][1]["role"], "user");
    assert_eq!(body["max_tokens"], 64);
    assert_eq!(body["temperature"], 0.5);
    assert!(body.get("tools").is_none(), "no tools were offered");
}

#[tokio::test]
async fn tool_calls_are_assembled_from_deltas_in_index_order() {
    let fake = FakeOpenAi::start().await;
    let call = |index, id: Option<&str>, name: Option<&str>, args: &str| SseEvent::ToolCall {
        index,
        id: id.map(Into::into),
        name: name.map(Into::into),
        arguments: args.into(),
    };
    fake.push_chat(Reply::Chat(
        ChatScript::from_events(vec![
            SseEvent::Role,
            SseEvent::Token("Let me check.".into()),
            call(0, Some("call_a"), Some("lookup_order"), ""),
            call(0, None, None, "{\"order"),
            call(1, Some("call_b"), Some("transfer"), "{}"),
            call(0, None, None, "\":\"A-17\"}"),
            SseEvent::Comment,
            SseEvent::Finish("tool_calls".into()),
        ])
        .with_usage(50, 20),
    ));
    let llm = config(&fake).build().unwrap();
    let mut req = request();
    req.tools = vec![ToolSpec {
        name: "lookup_order".into(),
        description: "Finds an order".into(),
        parameters: json!({"type": "object", "properties": {"order": {"type": "string"}}}),
    }];
    let events: Vec<_> = collect(&llm, req)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();

    assert_eq!(
        events,
        vec![
            LlmEvent::TokenReceived("Let me check.".into()),
            LlmEvent::ToolCallReceived(ToolCall {
                id: "call_a".into(),
                name: "lookup_order".into(),
                arguments: r#"{"order":"A-17"}"#.into(),
            }),
            LlmEvent::ToolCallReceived(ToolCall {
                id: "call_b".into(),
                name: "transfer".into(),
                arguments: "{}".into(),
            }),
            LlmEvent::Finished {
                usage: Usage {
                    prompt_tokens: 50,
                    completion_tokens: 20
                }
            },
        ]
    );
    let body = fake.requests()[0].json.clone().unwrap();
    assert_eq!(body["tools"][0]["type"], "function");
    assert_eq!(body["tools"][0]["function"]["name"], "lookup_order");
    assert_eq!(
        body["tools"][0]["function"]["parameters"]["properties"]["order"]["type"],
        "string"
    );
}

#[tokio::test]
async fn without_an_api_key_no_authorization_header_is_sent() {
    let fake = FakeOpenAi::start().await;
    fake.push_chat(Reply::Chat(ChatScript::tokens(&["ok"])));
    let llm = OpenAiLlmConfig::new("ollama", fake.base_url(), "llama3.2")
        .build()
        .unwrap();
    let events = collect(&llm, request()).await;
    assert_eq!(tokens(&events), vec!["ok"]);
    assert_eq!(fake.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn http_statuses_map_to_error_classes_with_the_providers_message() {
    let cases = [
        (401, ErrorClass::Auth),
        (403, ErrorClass::Auth),
        (429, ErrorClass::RateLimit),
        (500, ErrorClass::Server),
        (503, ErrorClass::Server),
        (400, ErrorClass::InvalidRequest),
        (404, ErrorClass::InvalidRequest),
        (422, ErrorClass::InvalidRequest),
    ];
    let fake = FakeOpenAi::start().await;
    let llm = config(&fake).build().unwrap();
    for (status, class) in cases {
        let message = format!("scripted failure {status}");
        fake.push_chat(Reply::error(status, &message));
        let events = collect(&llm, request()).await;
        assert_eq!(events.len(), 1, "status {status}: only the error");
        let error = last_error(&events);
        assert_eq!(error.class, class, "status {status}");
        assert_eq!(error.provider, "openai");
        assert!(
            error.message.contains(&message),
            "status {status}: {}",
            error.message
        );
        assert!(
            error.message.contains(&status.to_string()),
            "{}",
            error.message
        );
    }
}

#[tokio::test]
async fn a_non_json_error_body_is_quoted_and_classified_by_status() {
    let fake = FakeOpenAi::start().await;
    fake.push_chat(Reply::RawError {
        status: 502,
        body: "<html><body>502 Bad Gateway</body></html>".into(),
    });
    let llm = config(&fake).build().unwrap();
    let error = last_error(&collect(&llm, request()).await);
    assert_eq!(error.class, ErrorClass::Server);
    assert!(
        error.message.contains("502 Bad Gateway"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_connectivity_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let llm = OpenAiLlmConfig::new("openai", format!("http://127.0.0.1:{port}/v1"), "m")
        .build()
        .unwrap();
    let error = last_error(&collect(&llm, request()).await);
    assert_eq!(error.class, ErrorClass::Connectivity);
    assert!(error.class.is_retryable());
}

#[tokio::test]
async fn a_server_that_never_answers_is_cut_off_at_the_first_token_deadline() {
    let fake = FakeOpenAi::start().await;
    fake.push_chat(Reply::Hang);
    let llm = config(&fake)
        .with_timeouts(short_deadlines(300, 10_000))
        .build()
        .unwrap();
    let events = collect(&llm, request()).await;
    assert_eq!(events.len(), 1);
    let error = last_error(&events);
    assert_eq!(error.class, ErrorClass::Connectivity);
    assert!(
        error.message.contains("no first token within 300ms"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn headers_and_a_role_chunk_do_not_count_as_a_first_token() {
    let fake = FakeOpenAi::start().await;
    let script =
        ChatScript::from_events(vec![SseEvent::Role, SseEvent::Comment]).ending(Ending::Hang);
    fake.push_chat(Reply::Chat(script));
    let llm = config(&fake)
        .with_timeouts(short_deadlines(300, 10_000))
        .build()
        .unwrap();
    let error = last_error(&collect(&llm, request()).await);
    assert!(
        error.message.contains("no first token"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn a_stream_that_stalls_after_tokens_hits_the_idle_deadline() {
    let fake = FakeOpenAi::start().await;
    fake.push_chat(Reply::Chat(ChatScript::partial(
        &["Hello", " there"],
        Ending::Hang,
    )));
    let llm = config(&fake)
        .with_timeouts(short_deadlines(10_000, 300))
        .build()
        .unwrap();
    let events = collect(&llm, request()).await;
    assert_eq!(tokens(&events), vec!["Hello", " there"]);
    let error = last_error(&events);
    assert_eq!(error.class, ErrorClass::Connectivity);
    assert!(error.message.contains("stalled"), "{}", error.message);
}

#[tokio::test]
async fn a_connection_cut_mid_stream_errors_after_the_tokens_already_yielded() {
    for ending in [Ending::Abort, Ending::Eof] {
        let fake = FakeOpenAi::start().await;
        fake.push_chat(Reply::Chat(ChatScript::partial(&["One", " two"], ending)));
        let llm = config(&fake).build().unwrap();
        let events = collect(&llm, request()).await;
        assert_eq!(tokens(&events), vec!["One", " two"], "{ending:?}");
        assert_eq!(
            events.len(),
            3,
            "{ending:?}: tokens, then one error, then the end"
        );
        assert_eq!(
            last_error(&events).class,
            ErrorClass::Connectivity,
            "{ending:?}"
        );
    }
}

#[tokio::test]
async fn a_finished_answer_without_done_still_finishes() {
    let fake = FakeOpenAi::start().await;
    fake.push_chat(Reply::Chat(
        ChatScript::tokens(&["Bye."]).ending(Ending::Eof),
    ));
    let llm = config(&fake).build().unwrap();
    let events = collect(&llm, request()).await;
    assert_eq!(tokens(&events), vec!["Bye."]);
    assert!(matches!(events.last(), Some(Ok(LlmEvent::Finished { .. }))));
}

#[tokio::test]
async fn malformed_chunks_and_error_events_end_the_stream_with_a_classified_error() {
    let fake = FakeOpenAi::start().await;
    let llm = config(&fake).build().unwrap();
    let cases = [
        ("{\"choices\": [ {\"delta\": ", ErrorClass::Server),
        (
            r#"{"error":{"message":"Rate limit reached","type":"tokens","code":"rate_limit_exceeded"}}"#,
            ErrorClass::RateLimit,
        ),
        (
            r#"{"error":{"message":"overloaded","type":"server_error"}}"#,
            ErrorClass::Server,
        ),
    ];
    for (payload, class) in cases {
        let events = vec![
            SseEvent::Role,
            SseEvent::Token("Hi".into()),
            SseEvent::Raw(payload.into()),
        ];
        fake.push_chat(Reply::Chat(ChatScript::from_events(events)));
        let events = collect(&llm, request()).await;
        assert_eq!(tokens(&events), vec!["Hi"]);
        assert_eq!(events.len(), 2);
        assert_eq!(last_error(&events).class, class, "{payload}");
    }
}

#[tokio::test]
async fn the_api_key_appears_in_no_debug_output_and_no_error() {
    let fake = FakeOpenAi::start().await;
    fake.push_chat(Reply::error(
        401,
        &format!("Incorrect API key provided: {KEY}."),
    ));
    let cfg = config(&fake);
    let llm = cfg.build().unwrap();
    let error = last_error(&collect(&llm, request()).await);
    assert_eq!(error.class, ErrorClass::Auth);
    assert!(error.message.contains("[redacted]"), "{}", error.message);
    for text in [
        format!("{cfg:?}"),
        format!("{llm:?}"),
        format!("{error}"),
        format!("{error:?}"),
    ] {
        assert!(!text.contains(KEY), "key leaked into: {text}");
        assert!(
            !text.contains("0123456789abcdef"),
            "key leaked into: {text}"
        );
    }
    assert!(format!("{cfg:?}").contains("Secret(***)"));
}

#[tokio::test]
async fn bad_configs_are_refused_at_build_time() {
    use switchboard::llm::openai::BuildError;
    let fake = FakeOpenAi::start().await;
    let mut cfg = config(&fake);
    cfg.model = " ".into();
    assert_eq!(cfg.build().unwrap_err(), BuildError::EmptyModel);
    let cfg = config(&fake).with_timeouts(StreamTimeouts {
        idle: Duration::ZERO,
        ..OpenAiLlmConfig::DEFAULT_TIMEOUTS
    });
    assert_eq!(cfg.build().unwrap_err(), BuildError::ZeroTimeout("idle"));
    let cfg = config(&fake).with_api_key(Secret::new("sk-bad\nkey"));
    assert_eq!(cfg.build().unwrap_err(), BuildError::InvalidApiKey);
    let cfg = OpenAiLlmConfig::new("x", "not a url", "m");
    assert!(matches!(
        cfg.build(),
        Err(BuildError::InvalidBaseUrl { .. })
    ));
}
