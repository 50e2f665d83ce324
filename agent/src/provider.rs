//! What every provider (STT, LLM, TTS) shares: a classified error, so the turn engine can
//! decide between retrying, falling back and ending the call.

use std::fmt;

/// Why a provider call failed, in the terms that decide what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Credentials missing or refused. Retrying will not help.
    Auth,
    /// The provider asked us to slow down.
    RateLimit,
    /// Could not connect, connection dropped, or no answer before the deadline.
    Connectivity,
    /// The provider answered with a server-side error.
    Server,
    /// The request itself was refused (bad model name, bad parameters, bad input).
    InvalidRequest,
}

impl ErrorClass {
    /// Whether the same request may succeed if sent again.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::RateLimit | Self::Connectivity | Self::Server)
    }
}

/// A failed provider call: which provider, what class of failure, and what it said.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ProviderError {
    pub provider: &'static str,
    pub class: ErrorClass,
    pub message: String,
}

impl ProviderError {
    pub fn new(provider: &'static str, class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            provider,
            class,
            message: message.into(),
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed ({:?}): {}",
            self.provider, self.class, self.message
        )
    }
}
