//! A fake OpenAI-compatible server for tests: an axum server on `127.0.0.1:0` that speaks the
//! real wire formats (chat-completion SSE chunks with tool-call deltas and a usage chunk,
//! transcription JSON, raw PCM speech) and misbehaves on request: errors with OpenAI-style
//! bodies, slow chunks, hangs, connections cut mid-stream, malformed chunks.
//!
//! Each endpoint has a queue of scripted [`Reply`]s, used one per request in order; an empty
//! queue answers 500 "no scripted reply". Every request is recorded, so tests assert on what
//! was sent. The server task is aborted when the [`FakeOpenAi`] is dropped.
//!
//! ```ignore
//! let fake = FakeOpenAi::start().await;
//! fake.push_chat(Reply::Chat(ChatScript::tokens(&["Hel", "lo"]).with_usage(12, 2)));
//! let llm = OpenAiLlmConfig::new("openai", fake.base_url(), "gpt-test").build()?;
//! ```

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use futures::stream::{self, BoxStream, StreamExt};
use serde_json::{json, Value};

/// One scripted answer to one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with an SSE chat-completion stream (chat endpoint only).
    Chat(ChatScript),
    /// 200 with `{"text": ..}` (transcription endpoint only).
    Transcript(String),
    /// 200 with raw s16le PCM (speech endpoint only).
    Speech(SpeechScript),
    /// `status` with an OpenAI-style `{"error": {"message", "type", "code"}}` body.
    Error { status: u16, message: String },
    /// `status` with this body verbatim (e.g. an HTML page from a proxy).
    RawError { status: u16, body: String },
    /// Accepts the request and never answers, not even headers.
    Hang,
    /// Waits, then gives the inner reply.
    Delayed(Duration, Box<Reply>),
}

impl Reply {
    pub fn error(status: u16, message: &str) -> Self {
        Self::Error {
            status,
            message: message.to_owned(),
        }
    }
}

/// One SSE event of a chat stream.
#[derive(Debug, Clone)]
pub enum SseEvent {
    /// `delta: {"role": "assistant", "content": ""}`, as the first chunk of every answer.
    Role,
    Token(String),
    /// A tool-call delta; `id` and `name` usually come only in the first delta of a call.
    ToolCall {
        index: usize,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
    Finish(String),
    /// An SSE comment line (keep-alive).
    Comment,
    /// This `data:` payload verbatim (malformed chunks, mid-stream error objects).
    Raw(String),
}

/// How a stream ends after its scripted events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The usage chunk (if the request asked for it) and `data: [DONE]`.
    Done,
    /// The body ends cleanly, without `[DONE]`.
    Eof,
    /// The connection is cut mid-body (the client sees a broken chunked body).
    Abort,
    /// Nothing more is sent and the connection stays open.
    Hang,
}

#[derive(Debug, Clone)]
pub struct ChatScript {
    pub events: Vec<SseEvent>,
    pub usage: (u32, u32),
    /// Pause before each event.
    pub delay: Duration,
    pub ending: Ending,
}

impl ChatScript {
    /// A complete answer: role, the tokens, `finish_reason: "stop"`, usage, `[DONE]`.
    pub fn tokens(tokens: &[&str]) -> Self {
        let mut events = vec![SseEvent::Role];
        events.extend(tokens.iter().map(|t| SseEvent::Token((*t).to_owned())));
        events.push(SseEvent::Finish("stop".into()));
        Self::from_events(events)
    }

    /// An answer cut off after the tokens: role and tokens, no finish, then `ending`.
    pub fn partial(tokens: &[&str], ending: Ending) -> Self {
        let mut events = vec![SseEvent::Role];
        events.extend(tokens.iter().map(|t| SseEvent::Token((*t).to_owned())));
        Self::from_events(events).ending(ending)
    }

    pub fn from_events(events: Vec<SseEvent>) -> Self {
        Self {
            events,
            usage: (0, 0),
            delay: Duration::ZERO,
            ending: Ending::Done,
        }
    }

    pub fn with_usage(mut self, prompt_tokens: u32, completion_tokens: u32) -> Self {
        self.usage = (prompt_tokens, completion_tokens);
        self
    }

    pub fn delay(mut self, per_event: Duration) -> Self {
        self.delay = per_event;
        self
    }

    pub fn ending(mut self, ending: Ending) -> Self {
        self.ending = ending;
        self
    }
}

#[derive(Debug, Clone)]
pub struct SpeechScript {
    pub pcm: Vec<i16>,
    /// Body bytes per network chunk (odd sizes split samples).
    pub chunk_bytes: usize,
    pub delay: Duration,
    pub ending: Ending,
}

impl SpeechScript {
    pub fn new(pcm: Vec<i16>, chunk_bytes: usize) -> Self {
        Self {
            pcm,
            chunk_bytes,
            delay: Duration::ZERO,
            ending: Ending::Eof,
        }
    }
}

/// A multipart field as received.
#[derive(Debug, Clone)]
pub struct FormPart {
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// A request as received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub path: String,
    pub headers: HeaderMap,
    /// The body, for JSON requests.
    pub json: Option<Value>,
    /// The fields, for multipart requests.
    pub parts: Vec<FormPart>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn part(&self, name: &str) -> Option<&FormPart> {
        self.parts.iter().find(|p| p.name == name)
    }

    pub fn text_part(&self, name: &str) -> Option<String> {
        self.part(name)
            .map(|p| String::from_utf8_lossy(&p.bytes).into_owned())
    }
}

#[derive(Default)]
struct Shared {
    chat: Mutex<VecDeque<Reply>>,
    transcription: Mutex<VecDeque<Reply>>,
    speech: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<RecordedRequest>>,
}

/// The running fake; dropping it stops accepting connections.
pub struct FakeOpenAi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// The accept loop; aborted on drop.
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeOpenAi {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/audio/transcriptions", post(transcription))
            .route("/v1/audio/speech", post(speech))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake server");
        let addr = listener.local_addr().expect("fake server address");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake server");
        });
        Self {
            addr,
            shared,
            server,
        }
    }

    /// The API root to configure providers with: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn push_chat(&self, reply: Reply) {
        self.shared.chat.lock().unwrap().push_back(reply);
    }

    pub fn push_transcription(&self, reply: Reply) {
        self.shared.transcription.lock().unwrap().push_back(reply);
    }

    pub fn push_speech(&self, reply: Reply) {
        self.shared.speech.lock().unwrap().push_back(reply);
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Scripted chat replies not used yet.
    pub fn unused_chat_replies(&self) -> usize {
        self.shared.chat.lock().unwrap().len()
    }
}

type AppState = State<Arc<Shared>>;

async fn chat(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    let reply = next_reply(&shared.chat, "chat/completions");
    let model = json
        .as_ref()
        .and_then(|j| j["model"].as_str())
        .unwrap_or("")
        .to_owned();
    let include_usage = json
        .as_ref()
        .and_then(|j| j.pointer("/stream_options/include_usage"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    record(&shared, "/v1/chat/completions", headers, json, vec![]);
    respond(reply, move |reply| match reply {
        Reply::Chat(script) => Some(sse_response(script, model, include_usage)),
        _ => None,
    })
    .await
}

async fn speech(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    let json = serde_json::from_slice(&body).ok();
    let reply = next_reply(&shared.speech, "audio/speech");
    record(&shared, "/v1/audio/speech", headers, json, vec![]);
    respond(reply, |reply| match reply {
        Reply::Speech(script) => Some(pcm_response(script)),
        _ => None,
    })
    .await
}

async fn transcription(
    State(shared): AppState,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let mut parts = Vec::new();
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let bytes = field.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        parts.push(FormPart {
            name,
            file_name,
            content_type,
            bytes,
        });
    }
    let reply = next_reply(&shared.transcription, "audio/transcriptions");
    record(&shared, "/v1/audio/transcriptions", headers, None, parts);
    respond(reply, |reply| match reply {
        Reply::Transcript(text) => Some(json_response(200, json!({ "text": text }))),
        _ => None,
    })
    .await
}

fn next_reply(queue: &Mutex<VecDeque<Reply>>, endpoint: &str) -> Reply {
    queue
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| Reply::Error {
            status: 500,
            message: format!("fake server: no scripted reply for {endpoint}"),
        })
}

fn record(
    shared: &Shared,
    path: &str,
    headers: HeaderMap,
    json: Option<Value>,
    parts: Vec<FormPart>,
) {
    shared.requests.lock().unwrap().push(RecordedRequest {
        path: path.to_owned(),
        headers,
        json,
        parts,
    });
}

/// The generic replies (errors, hangs, delays); `success` renders the endpoint's own kind.
async fn respond(mut reply: Reply, success: impl FnOnce(Reply) -> Option<Response>) -> Response {
    while let Reply::Delayed(wait, inner) = reply {
        tokio::time::sleep(wait).await;
        reply = *inner;
    }
    match reply {
        Reply::Error { status, message } => json_response(status, error_body(status, &message)),
        Reply::RawError { status, body } => Response::builder()
            .status(status)
            .header("content-type", "text/html")
            .body(Body::from(body))
            .unwrap(),
        Reply::Hang => std::future::pending().await,
        other => {
            let kind = format!("{other:?}");
            success(other).unwrap_or_else(|| {
                let message = format!("fake server: reply {kind} does not fit this endpoint");
                json_response(500, error_body(500, &message))
            })
        }
    }
}

fn error_body(status: u16, message: &str) -> Value {
    let (kind, code) = match status {
        401 => ("invalid_request_error", json!("invalid_api_key")),
        403 => (
            "invalid_request_error",
            json!("unsupported_country_region_territory"),
        ),
        404 => ("invalid_request_error", json!("model_not_found")),
        429 => ("requests", json!("rate_limit_exceeded")),
        400..=499 => ("invalid_request_error", Value::Null),
        _ => ("server_error", Value::Null),
    };
    json!({ "error": { "message": message, "type": kind, "param": null, "code": code } })
}

fn json_response(status: u16, body: Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn chunk(model: &str, include_usage: bool, delta: Value, finish: Option<&str>) -> String {
    let mut chunk = json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }],
    });
    if include_usage {
        chunk["usage"] = Value::Null;
    }
    format!("data: {chunk}\n\n")
}

fn render(event: &SseEvent, model: &str, usage: bool) -> String {
    match event {
        SseEvent::Role => chunk(
            model,
            usage,
            json!({"role": "assistant", "content": ""}),
            None,
        ),
        SseEvent::Token(text) => chunk(model, usage, json!({ "content": text }), None),
        SseEvent::ToolCall {
            index,
            id,
            name,
            arguments,
        } => {
            let mut call = json!({ "index": index, "function": { "arguments": arguments } });
            if let Some(id) = id {
                call["id"] = json!(id);
                call["type"] = json!("function");
            }
            if let Some(name) = name {
                call["function"]["name"] = json!(name);
            }
            chunk(model, usage, json!({ "tool_calls": [call] }), None)
        }
        SseEvent::Finish(reason) => chunk(model, usage, json!({}), Some(reason)),
        SseEvent::Comment => ": keep-alive\n\n".to_owned(),
        SseEvent::Raw(payload) => format!("data: {payload}\n\n"),
    }
}

fn sse_response(script: ChatScript, model: String, include_usage: bool) -> Response {
    let mut pieces: Vec<String> = script
        .events
        .iter()
        .map(|e| render(e, &model, include_usage))
        .collect();
    if script.ending == Ending::Done {
        if include_usage {
            let (prompt, completion) = script.usage;
            let usage = json!({
                "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_700_000_000,
                "model": model, "choices": [],
                "usage": { "prompt_tokens": prompt, "completion_tokens": completion,
                           "total_tokens": prompt + completion },
            });
            pieces.push(format!("data: {usage}\n\n"));
        }
        pieces.push("data: [DONE]\n\n".to_owned());
    }
    let chunks = pieces.into_iter().map(Bytes::from).collect();
    streamed(chunks, script.delay, script.ending, "text/event-stream")
}

fn pcm_response(script: SpeechScript) -> Response {
    let bytes: Vec<u8> = script.pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
    let chunks = bytes
        .chunks(script.chunk_bytes.max(1))
        .map(Bytes::copy_from_slice)
        .collect();
    streamed(
        chunks,
        script.delay,
        script.ending,
        "application/octet-stream",
    )
}

/// A 200 whose body is `chunks`, each after `delay`, then `ending`.
fn streamed(chunks: Vec<Bytes>, delay: Duration, ending: Ending, content_type: &str) -> Response {
    let body = stream::iter(chunks).then(move |bytes| async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok::<_, std::io::Error>(bytes)
    });
    let tail: BoxStream<'static, Result<Bytes, std::io::Error>> = match ending {
        Ending::Done | Ending::Eof => stream::empty().boxed(),
        Ending::Abort => stream::once(async {
            // Let the last chunk reach the client before the connection is cut.
            tokio::time::sleep(Duration::from_millis(20)).await;
            Err(std::io::Error::other("fake server: connection cut"))
        })
        .boxed(),
        Ending::Hang => stream::pending().boxed(),
    };
    Response::builder()
        .status(200)
        .header("content-type", content_type)
        .header("cache-control", "no-cache")
        .body(Body::from_stream(body.chain(tail)))
        .unwrap()
}
