//! Configuration of an OpenAI-compatible chat-completions provider, and its build step.

use std::{sync::Arc, time::Duration};

use super::http::{BuildError, Endpoint, Secret, StreamTimeouts};
use super::OpenAiLlm;

/// Where and how to reach an OpenAI-compatible chat-completions API.
#[derive(Debug, Clone)]
pub struct OpenAiLlmConfig {
    /// Short label for logs, metrics and errors: "openai", "groq", "ollama", ...
    pub name: &'static str,
    /// API root, e.g. `https://api.openai.com/v1`, `https://api.groq.com/openai/v1`,
    /// `http://localhost:11434/v1`; `chat/completions` is appended.
    pub base_url: String,
    /// `None` for local servers that take no key: no `Authorization` header is sent.
    pub api_key: Option<Secret>,
    pub model: String,
    pub timeouts: StreamTimeouts,
    /// Ask for the final usage chunk (`stream_options.include_usage`). Turn off only for a
    /// server that rejects the field; usage is then reported as zero.
    pub include_usage: bool,
}

impl OpenAiLlmConfig {
    /// A config with the default timeouts and usage reporting on.
    pub fn new(name: &'static str, base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            name,
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            timeouts: Self::DEFAULT_TIMEOUTS,
            include_usage: true,
        }
    }

    /// Conversational defaults: a first token later than a few seconds is dead air anyway.
    pub const DEFAULT_TIMEOUTS: StreamTimeouts = StreamTimeouts {
        connect: Duration::from_secs(3),
        first_chunk: Duration::from_secs(8),
        idle: Duration::from_secs(10),
        total: Duration::from_secs(60),
    };

    pub fn with_api_key(mut self, key: Secret) -> Self {
        self.api_key = Some(key);
        self
    }

    pub fn with_timeouts(mut self, timeouts: StreamTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Validates the config and builds the provider (one pooled HTTP client per provider).
    ///
    /// # Errors
    /// An unusable base URL or API key, an empty model name or a zero timeout.
    pub fn build(&self) -> Result<OpenAiLlm, BuildError> {
        if self.model.trim().is_empty() {
            return Err(BuildError::EmptyModel);
        }
        self.timeouts.validate()?;
        let endpoint = Endpoint::new(
            self.name,
            &self.base_url,
            "chat/completions",
            self.api_key.as_ref(),
            self.timeouts.connect,
        )?;
        Ok(OpenAiLlm {
            endpoint: Arc::new(endpoint),
            model: Arc::from(self.model.as_str()),
            timeouts: self.timeouts,
            include_usage: self.include_usage,
        })
    }
}
