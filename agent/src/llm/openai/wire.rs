//! The chat-completions wire format: the JSON request we send, and a pure assembler that turns
//! the `chat.completion.chunk` payloads of the SSE stream into [`LlmEvent`]s: text deltas as
//! tokens, tool calls put together from index-keyed deltas, usage from the final chunk.
//!
//! Chunks are parsed leniently (every field optional) because "OpenAI-compatible" servers
//! (Groq, vLLM, Ollama, llama.cpp) differ in which fields they fill in.

use std::collections::{BTreeMap, VecDeque};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::llm::{ChatMessage, ChatRequest, LlmEvent, ToolCall, Usage};
use crate::provider::ErrorClass;

/// The request body for a streamed chat completion.
pub(crate) fn request_body(model: &str, request: &ChatRequest, include_usage: bool) -> Value {
    let mut body = json!({
        "model": model,
        "messages": request.messages.iter().map(message).collect::<Vec<_>>(),
        "stream": true,
    });
    if include_usage {
        body["stream_options"] = json!({ "include_usage": true });
    }
    if !request.tools.is_empty() {
        let tools = request.tools.iter().map(|tool| {
            json!({
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                },
            })
        });
        body["tools"] = Value::Array(tools.collect());
    }
    if let Some(max_tokens) = request.max_tokens {
        body["max_tokens"] = json!(max_tokens);
    }
    if let Some(temperature) = request.temperature {
        body["temperature"] = json!(temperature);
    }
    body
}

fn message(message: &ChatMessage) -> Value {
    match message {
        ChatMessage::System { content } => json!({ "role": "system", "content": content }),
        ChatMessage::User { content } => json!({ "role": "user", "content": content }),
        ChatMessage::Assistant {
            content,
            tool_calls,
        } if tool_calls.is_empty() => {
            json!({ "role": "assistant", "content": content })
        }
        ChatMessage::Assistant {
            content,
            tool_calls,
        } => {
            let calls = tool_calls.iter().map(|call| {
                json!({
                    "id": call.id,
                    "type": "function",
                    "function": { "name": call.name, "arguments": call.arguments },
                })
            });
            let content = if content.is_empty() {
                Value::Null
            } else {
                json!(content)
            };
            json!({ "role": "assistant", "content": content, "tool_calls": calls.collect::<Vec<_>>() })
        }
        ChatMessage::Tool {
            tool_call_id,
            content,
        } => json!({ "role": "tool", "tool_call_id": tool_call_id, "content": content }),
    }
}

#[derive(Debug, Deserialize)]
struct Chunk {
    choices: Option<Vec<Choice>>,
    usage: Option<WireUsage>,
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Delta {
    content: Option<String>,
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Debug, Deserialize)]
struct ToolCallDelta {
    index: Option<usize>,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    /// A string fragment (OpenAI); some servers send the whole arguments object at once.
    arguments: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct WireUsage {
    prompt_tokens: Option<u32>,
    completion_tokens: Option<u32>,
}

/// A payload the stream must stop on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WireError {
    pub class: ErrorClass,
    pub message: String,
}

/// What one payload did to the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Nothing the caller waits for (role-only delta, keep-alive, usage).
    Nothing,
    /// Content or a tool-call delta arrived: the first-token deadline is met.
    Content,
    /// `[DONE]`: the completion is over and `Finished` has been queued.
    Done,
}

#[derive(Debug, Default)]
struct PartialCall {
    id: Option<String>,
    name: String,
    arguments: String,
}

/// Folds chunk payloads into events, in order.
#[derive(Debug, Default)]
pub(crate) struct Assembler {
    calls: BTreeMap<usize, PartialCall>,
    usage: Usage,
    finish_seen: bool,
}

impl Assembler {
    /// Interprets one SSE payload, appending the events it completes to `out`.
    ///
    /// # Errors
    /// A payload that is not a chunk (`Server`), or an error object sent mid-stream
    /// (classified by its `type`/`code`).
    pub(crate) fn feed(
        &mut self,
        data: &str,
        out: &mut VecDeque<LlmEvent>,
    ) -> Result<Progress, WireError> {
        if data.trim() == "[DONE]" {
            self.finish(out)?;
            return Ok(Progress::Done);
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| WireError {
            class: ErrorClass::Server,
            message: format!("malformed stream chunk ({e})"),
        })?;
        if let Some(error) = chunk.error {
            return Err(stream_error(&error));
        }
        if let Some(usage) = chunk.usage {
            self.usage = Usage {
                prompt_tokens: usage.prompt_tokens.unwrap_or(0),
                completion_tokens: usage.completion_tokens.unwrap_or(0),
            };
        }
        let mut progress = Progress::Nothing;
        // n = 1: only the first choice is ours.
        let Some(choice) = chunk.choices.and_then(|c| c.into_iter().next()) else {
            return Ok(progress);
        };
        if let Some(delta) = choice.delta {
            if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                out.push_back(LlmEvent::TokenReceived(text));
                progress = Progress::Content;
            }
            for (position, call) in delta.tool_calls.unwrap_or_default().into_iter().enumerate() {
                self.absorb(position, call);
                progress = Progress::Content;
            }
        }
        if choice.finish_reason.is_some() {
            self.finish_seen = true;
            self.flush_calls(out)?;
        }
        Ok(progress)
    }

    /// Whether the model said it was done (a `finish_reason`), even if `[DONE]` never came.
    pub(crate) fn finish_seen(&self) -> bool {
        self.finish_seen
    }

    /// Ends the completion: remaining tool calls, then `Finished` with the usage.
    ///
    /// # Errors
    /// A tool call that never got a function name.
    pub(crate) fn finish(&mut self, out: &mut VecDeque<LlmEvent>) -> Result<(), WireError> {
        self.flush_calls(out)?;
        out.push_back(LlmEvent::Finished { usage: self.usage });
        Ok(())
    }

    fn absorb(&mut self, position: usize, delta: ToolCallDelta) {
        let call = self
            .calls
            .entry(delta.index.unwrap_or(position))
            .or_default();
        if let Some(id) = delta.id.filter(|id| !id.is_empty()) {
            call.id = Some(id);
        }
        if let Some(function) = delta.function {
            if let Some(name) = function.name {
                call.name.push_str(&name);
            }
            match function.arguments {
                Some(Value::String(fragment)) => call.arguments.push_str(&fragment),
                Some(Value::Null) | None => {}
                Some(whole) => call.arguments.push_str(&whole.to_string()),
            }
        }
    }

    fn flush_calls(&mut self, out: &mut VecDeque<LlmEvent>) -> Result<(), WireError> {
        for (index, call) in std::mem::take(&mut self.calls) {
            if call.name.is_empty() {
                return Err(WireError {
                    class: ErrorClass::Server,
                    message: format!("tool call {index} arrived without a function name"),
                });
            }
            out.push_back(LlmEvent::ToolCallReceived(ToolCall {
                id: call.id.unwrap_or_else(|| format!("call_{index}")),
                name: call.name,
                arguments: if call.arguments.is_empty() {
                    "{}".to_owned()
                } else {
                    call.arguments
                },
            }));
        }
        Ok(())
    }
}

fn stream_error(error: &Value) -> WireError {
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| error.as_str())
        .unwrap_or("unspecified error")
        .to_owned();
    let kind = [error.get("type"), error.get("code")]
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    let class = if kind.contains("rate_limit") {
        ErrorClass::RateLimit
    } else if kind.contains("invalid_request") {
        ErrorClass::InvalidRequest
    } else {
        ErrorClass::Server
    };
    WireError {
        class,
        message: format!("error in stream: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ToolSpec;

    fn feed_all(payloads: &[&str]) -> (Vec<LlmEvent>, Result<(), WireError>) {
        let mut assembler = Assembler::default();
        let mut out = VecDeque::new();
        for payload in payloads {
            if let Err(e) = assembler.feed(payload, &mut out) {
                return (out.into(), Err(e));
            }
        }
        (out.into(), Ok(()))
    }

    #[test]
    fn interleaved_tool_call_deltas_are_assembled_by_index() {
        let (events, result) = feed_all(&[
            r#"{"choices":[{"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"lookup","arguments":""}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"book","arguments":"{\"d"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"q\":"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\":1}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"x\"}"}}]}}]}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":9,"total_tokens":16}}"#,
            "[DONE]",
        ]);
        result.unwrap();
        let call = |id: &str, name: &str, args: &str| {
            LlmEvent::ToolCallReceived(ToolCall {
                id: id.into(),
                name: name.into(),
                arguments: args.into(),
            })
        };
        let usage = Usage {
            prompt_tokens: 7,
            completion_tokens: 9,
        };
        assert_eq!(
            events,
            vec![
                call("a", "lookup", r#"{"q":"x"}"#),
                call("b", "book", r#"{"d":1}"#),
                LlmEvent::Finished { usage },
            ]
        );
    }

    #[test]
    fn role_only_deltas_are_not_content_and_garbage_is_a_server_error() {
        let mut assembler = Assembler::default();
        let mut out = VecDeque::new();
        let role = r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#;
        assert_eq!(assembler.feed(role, &mut out), Ok(Progress::Nothing));
        let token = r#"{"choices":[{"delta":{"content":"Hi"}}]}"#;
        assert_eq!(assembler.feed(token, &mut out), Ok(Progress::Content));
        let err = assembler.feed("{not json", &mut out).unwrap_err();
        assert_eq!(err.class, ErrorClass::Server);
        let limited = r#"{"error":{"message":"slow down","type":"rate_limit_exceeded"}}"#;
        assert_eq!(
            assembler.feed(limited, &mut out).unwrap_err().class,
            ErrorClass::RateLimit
        );
    }

    #[test]
    fn request_body_has_the_openai_shape() {
        let request = ChatRequest {
            messages: vec![
                ChatMessage::System {
                    content: "be brief".into(),
                },
                ChatMessage::Assistant {
                    content: String::new(),
                    tool_calls: vec![ToolCall {
                        id: "c1".into(),
                        name: "f".into(),
                        arguments: "{}".into(),
                    }],
                },
                ChatMessage::Tool {
                    tool_call_id: "c1".into(),
                    content: "ok".into(),
                },
            ],
            tools: vec![ToolSpec {
                name: "f".into(),
                description: "does f".into(),
                parameters: json!({"type": "object"}),
            }],
            max_tokens: Some(50),
            temperature: None,
        };
        let body = request_body("m", &request, true);
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["messages"][1]["content"], Value::Null);
        assert_eq!(
            body["messages"][1]["tool_calls"][0]["function"]["name"],
            "f"
        );
        assert_eq!(body["messages"][2]["tool_call_id"], "c1");
        assert_eq!(body["tools"][0]["type"], "function");
        assert_eq!(body["max_tokens"], 50);
        assert!(body.get("temperature").is_none());
    }
}
