//! LLM providers: the conversation stage sends a chat request and consumes a stream of
//! tokens and tool calls, which it forwards sentence by sentence to TTS.

use std::time::Duration;

use futures::stream::BoxStream;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::provider::{ErrorClass, ProviderError};

pub mod layers;
pub mod openai;

/// One message of the chat history sent to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum ChatMessage {
    System {
        content: String,
    },
    User {
        content: String,
    },
    Assistant {
        content: String,
        tool_calls: Vec<ToolCall>,
    },
    Tool {
        tool_call_id: String,
        content: String,
    },
}

/// A tool the model may call, described by a JSON Schema of its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

/// A complete tool call emitted by the model (arguments are a JSON string).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    pub tools: Vec<ToolSpec>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
}

/// Token counts reported by the provider for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

/// What a streaming chat completion yields, in order: tokens and tool calls, then `Finished`.
#[derive(Debug, Clone, PartialEq)]
pub enum LlmEvent {
    TokenReceived(String),
    ToolCallReceived(ToolCall),
    Finished { usage: Usage },
}

/// A streaming chat-completion provider.
pub trait LlmProvider: Send + Sync {
    /// Short name used in logs, metrics and errors.
    fn name(&self) -> &'static str;
    /// Starts one completion. The stream ends after `Finished` or the first error.
    fn stream(&self, request: ChatRequest) -> BoxStream<'static, Result<LlmEvent, ProviderError>>;
}

/// Runs one request to the end and returns its text (tool calls ignored): for short answers
/// the call needs whole, such as a summary or a one-word classification.
///
/// # Errors
/// The provider's error, or no complete reply within `deadline` (classed as connectivity).
pub async fn complete(
    llm: &dyn LlmProvider,
    request: ChatRequest,
    deadline: Duration,
) -> Result<String, ProviderError> {
    let collect = async {
        let mut text = String::new();
        let mut stream = llm.stream(request);
        while let Some(event) = stream.next().await {
            match event? {
                LlmEvent::TokenReceived(t) => text.push_str(&t),
                LlmEvent::ToolCallReceived(_) => {}
                LlmEvent::Finished { .. } => break,
            }
        }
        Ok(text.trim().to_string())
    };
    tokio::time::timeout(deadline, collect)
        .await
        .unwrap_or_else(|_| {
            Err(ProviderError::new(
                llm.name(),
                ErrorClass::Connectivity,
                format!("no complete reply within {deadline:?}"),
            ))
        })
}
