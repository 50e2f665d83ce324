//! Command-line settings of the optional cloud LLM (any OpenAI-compatible endpoint).

use std::sync::Arc;

use tokio::time::Duration;

use crate::llm::layers::{FirstTokenDeadline, Retry, RetryPolicy};
use crate::llm::openai::{OpenAiLlmConfig, Secret};
use crate::llm::LlmProvider;

#[derive(Debug, Clone, clap::Args)]
pub struct LlmArgs {
    /// Base URL of an OpenAI-compatible API (OpenAI, Groq, vLLM, Ollama, llama.cpp server),
    /// e.g. http://127.0.0.1:11434/v1. Without it the agent runs offline with no LLM.
    #[arg(long, env = "SWITCHBOARD_LLM_URL")]
    pub llm_url: Option<String>,
    #[arg(long, env = "SWITCHBOARD_LLM_MODEL", default_value = "gpt-4o-mini")]
    pub llm_model: String,
    /// API key (read from the environment only, never from the command line or logs).
    #[arg(skip = std::env::var("SWITCHBOARD_LLM_API_KEY").ok())]
    pub llm_api_key: Option<String>,
}

impl LlmArgs {
    /// The configured LLM with retries before the first token and a first-token deadline.
    ///
    /// # Errors
    /// A malformed URL or key.
    pub fn build(&self) -> anyhow::Result<Option<Arc<dyn LlmProvider>>> {
        let Some(url) = &self.llm_url else {
            return Ok(None);
        };
        let mut config =
            OpenAiLlmConfig::new("openai-compatible", url.clone(), self.llm_model.clone());
        if let Some(key) = &self.llm_api_key {
            config = config.with_api_key(Secret::new(key.clone()));
        }
        let llm: Arc<dyn LlmProvider> = Arc::new(config.build()?);
        let retried = Arc::new(Retry::new(llm, RetryPolicy::default()));
        Ok(Some(Arc::new(FirstTokenDeadline::new(
            retried,
            Duration::from_secs(6),
        ))))
    }
}
