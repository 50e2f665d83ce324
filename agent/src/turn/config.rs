//! Turn-taking settings of a call: barge-in threshold, filler and fallback lines, deadlines.

use tokio::time::Duration;

/// Per-call turn-taking settings.
#[derive(Debug, Clone)]
pub struct TurnConfig {
    pub max_duration: Duration,
    /// Speech must last this long to interrupt the agent.
    pub barge_in_ms: u64,
    /// Say `filler_line` when no reply audio has started this long after the turn ended.
    pub filler_after: Duration,
    pub filler_line: String,
    pub llm_fallback_line: String,
    /// Said when a transfer the conversation asked for could not be made.
    pub transfer_failed_line: String,
    /// Consecutive LLM failures after which the call ends politely.
    pub max_llm_failures: u32,
    pub language: String,
    /// How long a hang-up waits for queued lines to finish playing.
    pub hangup_drain: Duration,
    /// An LLM reply not complete after this long is abandoned as failed.
    pub llm_timeout: Duration,
    /// Outbound calls: classify the answer (person, voicemail, screening...) before the
    /// conversation's first line. `None` (inbound calls) starts the conversation at once.
    pub answer_gate: Option<super::answer_gate::GateConfig>,
}

impl Default for TurnConfig {
    fn default() -> Self {
        Self {
            max_duration: Duration::from_secs(300),
            barge_in_ms: 250,
            filler_after: Duration::from_millis(1_500),
            filler_line: "One moment.".into(),
            llm_fallback_line: "I'm sorry, I'm having trouble answering right now.".into(),
            transfer_failed_line: "I'm sorry, I couldn't put you through right now.".into(),
            max_llm_failures: 2,
            language: "en".into(),
            hangup_drain: Duration::from_secs(20),
            llm_timeout: Duration::from_secs(12),
            answer_gate: None,
        }
    }
}
