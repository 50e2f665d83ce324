//! Shared HTTP plumbing for the OpenAI-compatible providers (LLM chat completions, STT
//! transcriptions, TTS speech): API-key secrets, client and URL building, deadlines, and the
//! mapping from HTTP statuses, transport failures and error bodies to an [`ErrorClass`].
//!
//! Nothing here ever formats the API key: [`Secret`] has no `Display`, its `Debug` is masked,
//! the `Authorization` header is marked sensitive, and every message that came from the wire
//! goes through [`Endpoint::redact`] before it becomes a [`ProviderError`].

use std::{fmt, sync::Arc, time::Duration};

use reqwest::{header::HeaderValue, Client, RequestBuilder, Response, StatusCode, Url};
use tokio::time::Instant;

use crate::provider::{ErrorClass, ProviderError};

/// How much of an error body we read to find the provider's message.
const MAX_ERROR_BODY: usize = 16 * 1024;
/// How much of a non-JSON error body ends up in an error message.
const MAX_ERROR_SNIPPET: usize = 200;

/// An API key or other credential. `Debug` prints `Secret(***)` and there is no `Display`, so
/// it cannot reach a log line or an error message by accident.
#[derive(Clone)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Arc::from(value.into()))
    }

    /// The credential itself; only for building the request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

/// Why an OpenAI-compatible provider could not be built from its config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("base URL {url:?} is not a usable http(s) URL: {reason}")]
    InvalidBaseUrl { url: String, reason: String },
    #[error("the model name is empty")]
    EmptyModel,
    #[error("the voice name is empty")]
    EmptyVoice,
    #[error("the API key contains characters that cannot be sent in an HTTP header")]
    InvalidApiKey,
    #[error("timeout `{0}` must be greater than zero")]
    ZeroTimeout(&'static str),
    #[error("could not build the HTTP client: {0}")]
    Client(String),
}

/// Deadlines for one streaming request (chat completion or speech).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamTimeouts {
    /// TCP (and TLS) connection establishment.
    pub connect: Duration,
    /// From sending the request to the first token (LLM) or first audio bytes (TTS).
    pub first_chunk: Duration,
    /// Longest silence between two chunks of the response body.
    pub idle: Duration,
    /// The whole request, from sending it to the end of the stream.
    pub total: Duration,
}

impl StreamTimeouts {
    pub(crate) fn validate(&self) -> Result<(), BuildError> {
        for (name, value) in [
            ("connect", self.connect),
            ("first_chunk", self.first_chunk),
            ("idle", self.idle),
            ("total", self.total),
        ] {
            if value.is_zero() {
                return Err(BuildError::ZeroTimeout(name));
            }
        }
        Ok(())
    }
}

/// One OpenAI-compatible endpoint: a pooled client, the full URL and the credentials.
#[derive(Clone)]
pub(crate) struct Endpoint {
    provider: &'static str,
    client: Client,
    url: Url,
    auth: Option<HeaderValue>,
    key: Option<Secret>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("provider", &self.provider)
            .field("url", &self.url.as_str())
            .field("api_key", &self.key)
            .finish()
    }
}

impl Endpoint {
    /// Validates `base_url` (e.g. `https://api.openai.com/v1`) and joins `path` to it.
    ///
    /// # Errors
    /// [`BuildError`] for a bad URL, an API key that is not a valid header value, a zero
    /// connect timeout or a client that cannot be built.
    pub(crate) fn new(
        provider: &'static str,
        base_url: &str,
        path: &str,
        api_key: Option<&Secret>,
        connect_timeout: Duration,
    ) -> Result<Self, BuildError> {
        let bad = |reason: &str| BuildError::InvalidBaseUrl {
            url: base_url.to_owned(),
            reason: reason.to_owned(),
        };
        let mut base = Url::parse(base_url).map_err(|e| bad(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(bad("the scheme must be http or https"));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(bad("credentials belong in api_key, not in the URL"));
        }
        if !base.path().ends_with('/') {
            let with_slash = format!("{}/", base.path());
            base.set_path(&with_slash);
        }
        let url = base.join(path).map_err(|e| bad(&e.to_string()))?;
        if connect_timeout.is_zero() {
            return Err(BuildError::ZeroTimeout("connect"));
        }
        let auth = match api_key {
            Some(key) if !key.expose().is_empty() => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                    .map_err(|_| BuildError::InvalidApiKey)?;
                value.set_sensitive(true);
                Some(value)
            }
            _ => None,
        };
        let client = Client::builder()
            .connect_timeout(connect_timeout)
            .tcp_nodelay(true)
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BuildError::Client(describe_transport(&e)))?;
        Ok(Self {
            provider,
            client,
            url,
            auth,
            key: api_key.cloned(),
        })
    }

    pub(crate) fn provider(&self) -> &'static str {
        self.provider
    }

    /// A POST to this endpoint with the credentials attached.
    pub(crate) fn post(&self) -> RequestBuilder {
        let request = self.client.post(self.url.clone());
        match &self.auth {
            Some(auth) => request.header(reqwest::header::AUTHORIZATION, auth.clone()),
            None => request,
        }
    }

    /// Removes the API key from a message that came from the wire (some servers echo it).
    pub(crate) fn redact(&self, message: String) -> String {
        match &self.key {
            Some(key) if key.expose().len() >= 4 && message.contains(key.expose()) => {
                message.replace(key.expose(), "[redacted]")
            }
            _ => message,
        }
    }

    pub(crate) fn error(&self, class: ErrorClass, message: impl Into<String>) -> ProviderError {
        ProviderError::new(self.provider, class, self.redact(message.into()))
    }

    /// A transport failure (connect, reset, body read) as a `Connectivity` error.
    pub(crate) fn transport_error(&self, what: &str, error: &reqwest::Error) -> ProviderError {
        self.error(
            ErrorClass::Connectivity,
            format!("{what}: {}", describe_transport(error)),
        )
    }

    /// A deadline that passed, as a `Connectivity` error.
    pub(crate) fn timeout_error(&self, what: &str, limit: Duration) -> ProviderError {
        self.error(
            ErrorClass::Connectivity,
            format!("{what} within {}ms", limit.as_millis()),
        )
    }

    /// Turns a non-2xx response into a classified error carrying the provider's own message.
    /// Reading the body is bounded by `deadline`.
    pub(crate) async fn status_error(
        &self,
        response: Response,
        deadline: Instant,
    ) -> ProviderError {
        let status = response.status();
        let body = tokio::time::timeout_at(deadline, read_capped(response, MAX_ERROR_BODY))
            .await
            .unwrap_or_default();
        let detail = extract_error_message(&body)
            .unwrap_or_else(|| snippet(&body).unwrap_or_else(|| "no error body".to_owned()));
        self.error(
            class_for_status(status),
            format!("HTTP {}: {detail}", status.as_u16()),
        )
    }
}

/// What an HTTP status means for retrying and falling back.
pub(crate) fn class_for_status(status: StatusCode) -> ErrorClass {
    match status.as_u16() {
        401 | 403 => ErrorClass::Auth,
        429 => ErrorClass::RateLimit,
        408 => ErrorClass::Connectivity,
        400..=499 => ErrorClass::InvalidRequest,
        _ => ErrorClass::Server,
    }
}

/// The provider's message from an error body: OpenAI's `{"error": {"message": ..}}`, Ollama's
/// `{"error": ".."}`, FastAPI/vLLM's `{"detail": ..}` or a bare `{"message": ..}`.
pub(crate) fn extract_error_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let candidates = [
        value.pointer("/error/message"),
        value.get("error"),
        value.get("detail"),
        value.pointer("/detail/0/msg"),
        value.get("message"),
    ];
    for candidate in candidates.into_iter().flatten() {
        match candidate {
            serde_json::Value::String(s) if !s.is_empty() => return Some(s.clone()),
            _ => {}
        }
    }
    None
}

fn snippet(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let cut: String = text.chars().take(MAX_ERROR_SNIPPET).collect();
    Some(cut.split_whitespace().collect::<Vec<_>>().join(" "))
}

async fn read_capped(mut response: Response, cap: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= cap {
            body.truncate(cap);
            break;
        }
    }
    body
}

/// Describes a transport error by its kind and innermost cause, without the URL.
pub(crate) fn describe_transport(error: &reqwest::Error) -> String {
    let kind = if error.is_connect() {
        "connection failed"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_body() || error.is_decode() {
        "response body broken off"
    } else if error.is_request() {
        "request failed"
    } else {
        "transport error"
    };
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let cause = cause.to_string();
    if cause == error.to_string() {
        kind.to_owned()
    } else {
        format!("{kind} ({cause})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_masked() {
        let s = Secret::new("sk-very-secret");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "sk-very-secret");
    }

    #[test]
    fn statuses_map_to_classes() {
        let class = |c: u16| class_for_status(StatusCode::from_u16(c).unwrap());
        assert_eq!(class(401), ErrorClass::Auth);
        assert_eq!(class(403), ErrorClass::Auth);
        assert_eq!(class(429), ErrorClass::RateLimit);
        assert_eq!(class(400), ErrorClass::InvalidRequest);
        assert_eq!(class(404), ErrorClass::InvalidRequest);
        assert_eq!(class(422), ErrorClass::InvalidRequest);
        assert_eq!(class(500), ErrorClass::Server);
        assert_eq!(class(503), ErrorClass::Server);
        assert_eq!(class(408), ErrorClass::Connectivity);
    }

    #[test]
    fn error_messages_are_found_in_the_common_shapes() {
        let msg = |b: &str| extract_error_message(b.as_bytes());
        assert_eq!(
            msg(r#"{"error":{"message":"bad key","type":"x"}}"#).unwrap(),
            "bad key"
        );
        assert_eq!(
            msg(r#"{"error":"model not found"}"#).unwrap(),
            "model not found"
        );
        assert_eq!(msg(r#"{"detail":"nope"}"#).unwrap(), "nope");
        assert_eq!(
            msg(r#"{"detail":[{"msg":"field required"}]}"#).unwrap(),
            "field required"
        );
        assert_eq!(msg("<html>502</html>"), None);
    }

    #[test]
    fn base_urls_are_joined_with_or_without_a_trailing_slash() {
        for base in ["http://localhost:11434/v1", "http://localhost:11434/v1/"] {
            let e = Endpoint::new("t", base, "chat/completions", None, Duration::from_secs(1));
            assert_eq!(
                e.unwrap().url.as_str(),
                "http://localhost:11434/v1/chat/completions"
            );
        }
        let err = Endpoint::new("t", "ftp://x/v1", "a", None, Duration::from_secs(1));
        assert!(matches!(err, Err(BuildError::InvalidBaseUrl { .. })));
        let err = Endpoint::new("t", "https://u:p@x/v1", "a", None, Duration::from_secs(1));
        assert!(matches!(err, Err(BuildError::InvalidBaseUrl { .. })));
    }

    #[test]
    fn redaction_removes_an_echoed_key() {
        let key = Secret::new("sk-abcdef123");
        let e = Endpoint::new("t", "http://x/v1", "a", Some(&key), Duration::from_secs(1));
        let out = e
            .unwrap()
            .redact("Incorrect API key provided: sk-abcdef123.".into());
        assert_eq!(out, "Incorrect API key provided: [redacted].");
    }
}
