//! Process-wide metrics: per-stage latency histograms of every turn (end of utterance → STT
//! → first LLM token → first TTS audio → first audio played), barge-in reaction, calls and
//! dropped media frames. One registry per process, shared by all calls; the control API
//! exposes it as Prometheus text.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::call::report::{BargeIn, CallReport, TurnMetrics};

/// Metric names, in one place (without the registry prefix and unit suffix).
pub mod names {
    pub const PREFIX: &str = "switchboard";
    pub const END_OF_UTTERANCE: &str = "turn_end_of_utterance_delay";
    pub const STT: &str = "turn_stt";
    pub const STT_WAIT: &str = "turn_stt_wait";
    pub const LLM_FIRST_TOKEN: &str = "turn_llm_first_token";
    pub const TTS_FIRST_AUDIO: &str = "turn_tts_first_audio";
    pub const VOICE_TO_VOICE: &str = "turn_voice_to_voice";
    pub const BARGE_IN_REACTION: &str = "barge_in_reaction";
    pub const CALLS_ENDED: &str = "calls_ended";
    pub const DROPPED_FRAMES: &str = "media_dropped_frames";
}

pub struct Metrics {
    registry: Registry,
    end_of_utterance: Histogram,
    stt: Histogram,
    stt_wait: Histogram,
    llm_first_token: Histogram,
    tts_first_audio: Histogram,
    voice_to_voice: Histogram,
    barge_in_reaction: Histogram,
    calls_ended: Counter,
    dropped_frames: Counter,
}

fn latency() -> Histogram {
    // 5 ms … ~10 s.
    Histogram::new(exponential_buckets(0.005, 1.6, 17))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix(names::PREFIX);
        let mut m = Self {
            registry: Registry::default(),
            end_of_utterance: latency(),
            stt: latency(),
            stt_wait: latency(),
            llm_first_token: latency(),
            tts_first_audio: latency(),
            voice_to_voice: latency(),
            barge_in_reaction: latency(),
            calls_ended: Counter::default(),
            dropped_frames: Counter::default(),
        };
        let seconds = prometheus_client::registry::Unit::Seconds;
        for (name, help, h) in [
            (
                names::END_OF_UTTERANCE,
                "Silence waited before a caller turn was declared over",
                &m.end_of_utterance,
            ),
            (
                names::STT,
                "Decode time of the transcript a turn used",
                &m.stt,
            ),
            (
                names::STT_WAIT,
                "Time a turn waited for STT after it ended",
                &m.stt_wait,
            ),
            (
                names::LLM_FIRST_TOKEN,
                "Turn end to the first LLM token",
                &m.llm_first_token,
            ),
            (
                names::TTS_FIRST_AUDIO,
                "Turn end to the first synthesised audio of the reply",
                &m.tts_first_audio,
            ),
            (
                names::VOICE_TO_VOICE,
                "Caller's last voiced frame to the agent's first audio frame",
                &m.voice_to_voice,
            ),
            (
                names::BARGE_IN_REACTION,
                "Caller speech onset to agent audio stopped",
                &m.barge_in_reaction,
            ),
        ] {
            registry.register_with_unit(name, help, seconds.clone(), h.clone());
        }
        registry.register(names::CALLS_ENDED, "Calls ended", m.calls_ended.clone());
        registry.register(
            names::DROPPED_FRAMES,
            "Caller audio frames dropped because ingest fell behind",
            m.dropped_frames.clone(),
        );
        m.registry = registry;
        m
    }

    /// Records one agent turn once its reply started playing.
    pub fn observe_turn(&self, t: &TurnMetrics) {
        let s = |ms: u64| ms as f64 / 1000.0;
        self.end_of_utterance
            .observe(s(t.end_of_utterance_delay_ms));
        self.stt.observe(s(t.stt_ms));
        self.stt_wait.observe(s(t.stt_wait_ms));
        if let Some(v) = t.llm_first_token_ms {
            self.llm_first_token.observe(s(v));
        }
        if let Some(v) = t.tts_first_audio_ms {
            self.tts_first_audio.observe(s(v));
        }
        if let Some(v) = t.voice_to_voice_ms {
            self.voice_to_voice.observe(s(v));
        }
    }

    pub fn observe_barge_in(&self, b: &BargeIn) {
        self.barge_in_reaction
            .observe(b.reaction_ms as f64 / 1000.0);
    }

    pub fn call_ended(&self, report: &CallReport) {
        self.calls_ended.inc();
        self.dropped_frames.inc_by(report.dropped_frames);
    }

    /// The registry in Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "Metrics could not be encoded");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_land_in_the_histograms() {
        let m = Metrics::new();
        m.observe_turn(&TurnMetrics {
            voice_to_voice_ms: Some(420),
            ..TurnMetrics::default()
        });
        let text = m.encode();
        assert!(
            text.contains("switchboard_turn_voice_to_voice_seconds_count 1"),
            "{text}"
        );
        assert!(
            text.contains("switchboard_turn_voice_to_voice_seconds_sum 0.42"),
            "{text}"
        );
        assert!(
            text.contains("switchboard_turn_llm_first_token_seconds_count 0"),
            "{text}"
        );
    }
}
