//! Voice-to-voice latency with the local models: whole calls on a local line run the bench
//! script (ten quick questions, `bench_script.yaml`); a simulated caller answers each one
//! with a short line synthesised by espeak-ng (a different voice from the agent's), said
//! when the agent has been quiet for a moment. Every answered turn gives the call report's
//! voice-to-voice time (caller's last voiced frame → agent's first audio frame) and its
//! parts: the end-of-turn silence waited, whisper decode time, the wait for whisper after
//! the turn ended, and hibari's time to first audio; and, from the agent's recording, when
//! the caller first heard it (its first audio may be silence: a voice's lead-in).

use std::collections::BTreeMap;
use std::sync::Arc;

use dialogue::Script;
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;

use super::fakes::EndOfTurnOverride;
use super::harness::{first_sound_ms, spec, RATE};
use super::stats::{Section, Summary, Table};
use crate::call::report::{Speaker, TurnMetrics};
use crate::conversation::script::ScriptConversation;
use crate::conversation::Conversation;
use crate::local_models::{espeak, LocalModels};
use crate::transport::local_call::{run_local_call, Caller};
use crate::tts::cache::CachedTts;

/// The bench dialogue: ten questions that each take a short answer.
pub const BENCH_SCRIPT: &str = include_str!("bench_script.yaml");

/// What the simulated caller answers, one line per question of the bench script.
pub const ANSWERS: &[&str] = &[
    "Yes.",
    "No.",
    "Four.",
    "Tuesday.",
    "Yes, please.",
    "Not really.",
    "Blue.",
    "Maybe.",
    "Twice a week.",
    "No, thanks.",
];

/// The espeak-ng voice of the simulated caller.
pub const CALLER_VOICE: &str = "en-us+m3";

#[derive(Debug, Clone)]
pub struct VoiceToVoiceConfig {
    /// Caller answers to measure (ten per call).
    pub answers: usize,
    /// Listen with this end-of-turn silence instead of the script's (`short` = 450 ms).
    pub end_of_turn_ms: Option<u32>,
    /// The caller answers after the agent has been quiet this long.
    pub turn_gap_ms: u64,
    /// Also list every turn with what whisper heard.
    pub details: bool,
}

impl Default for VoiceToVoiceConfig {
    fn default() -> Self {
        Self {
            answers: 50,
            end_of_turn_ms: None,
            turn_gap_ms: 400,
            details: false,
        }
    }
}

/// Compiles the bench script.
///
/// # Errors
/// Its diagnostics, if it does not compile (a bug in this crate).
pub fn bench_script() -> anyhow::Result<Arc<Script>> {
    dialogue::compile("bench_script.yaml", BENCH_SCRIPT)
        .map(Arc::new)
        .map_err(|d| anyhow::anyhow!("bench script: {d:?}"))
}

/// A fresh conversation running the bench script.
pub fn bench_conversation(script: &Arc<Script>) -> Box<dyn Conversation> {
    Box::new(ScriptConversation::new(
        script.clone(),
        &BTreeMap::new(),
        chrono::Utc::now(),
    ))
}

pub async fn run(cfg: &VoiceToVoiceConfig, models: &LocalModels) -> anyhow::Result<Section> {
    let script = bench_script()?;
    // The caller's lines are made once; espeak-ng's start-up is not what is measured.
    let caller_voice = Arc::new(CachedTts::prewarm(espeak(CALLER_VOICE), ANSWERS.to_vec()).await?);
    // A call answers up to ten turns; a line whisper drops costs one, so run calls until
    // enough turns were answered (with a bound, in case nothing is understood).
    let max_calls = cfg.answers.div_ceil(ANSWERS.len()).max(1) * 2;
    let mut calls = 0;
    let mut turns: Vec<TurnMetrics> = Vec::new();
    // Per answered turn: caller's last voice → the agent's first sound in its recording.
    let mut to_sound: Vec<u64> = Vec::new();
    let mut detail = Table::new(&[
        "heard",
        "voice-to-voice",
        "end of utterance",
        "STT",
        "STT wait",
        "TTS first audio",
    ]);
    let (mut heard, mut understood) = (0usize, 0usize);
    while turns
        .iter()
        .filter(|t| t.voice_to_voice_ms.is_some())
        .count()
        < cfg.answers
        && calls < max_calls
    {
        let i = calls;
        calls += 1;
        let mut conversation = bench_conversation(&script);
        if let Some(ms) = cfg.end_of_turn_ms {
            conversation = Box::new(EndOfTurnOverride {
                inner: conversation,
                end_of_turn_ms: ms,
            });
        }
        let spec = spec(
            format!("v2v-{i}"),
            models.providers(),
            models.detector()?,
            conversation,
        );
        let caller = Caller::Simulated {
            lines: ANSWERS.iter().map(|s| s.to_string()).collect(),
            voice: caller_voice.clone(),
            turn_gap: Duration::from_millis(cfg.turn_gap_ms),
        };
        let token = CancellationToken::new();
        let result = run_local_call(spec, caller, RATE, Some(Duration::from_secs(3)), &token).await;
        let caller_lines: Vec<&str> = result
            .report
            .transcript
            .iter()
            .filter(|l| l.speaker == Speaker::Caller)
            .map(|l| l.text.as_str())
            .collect();
        heard += caller_lines.len();
        understood += caller_lines
            .iter()
            .filter(|t| ANSWERS.iter().any(|a| same_words(a, t)))
            .count();
        // Each caller line the conversation got opened one turn, in order.
        for (line, t) in caller_lines.iter().zip(&result.report.turns) {
            let ms = |v: Option<u64>| v.map_or("–".into(), |v| v.to_string());
            detail.row(vec![
                format!("{line:?}"),
                ms(t.voice_to_voice_ms),
                t.end_of_utterance_delay_ms.to_string(),
                t.stt_ms.to_string(),
                t.stt_wait_ms.to_string(),
                ms(t.tts_first_audio_ms),
            ]);
        }
        to_sound.extend(result.report.turns.iter().filter_map(|t| {
            let first_audio = t.last_voice_ms + t.voice_to_voice_ms?;
            let sound = first_sound_ms(&result.agent_audio, first_audio)?;
            Some(sound - t.last_voice_ms)
        }));
        turns.extend(result.report.turns);
    }
    let mut s = section(cfg, &turns, &to_sound, heard, understood, calls);
    if cfg.details {
        s.para("Every turn (ms):");
        s.table(&detail);
    }
    Ok(s)
}

fn section(
    cfg: &VoiceToVoiceConfig,
    turns: &[TurnMetrics],
    to_sound: &[u64],
    heard: usize,
    understood: usize,
    calls: usize,
) -> Section {
    let answered: Vec<&TurnMetrics> = turns
        .iter()
        .filter(|t| t.voice_to_voice_ms.is_some())
        .collect();
    let col = |f: &dyn Fn(&TurnMetrics) -> Option<u64>| {
        Summary::of_ms(answered.iter().filter_map(|t| f(t)))
    };
    let v2v = col(&|t| t.voice_to_voice_ms);
    let mut table = Table::for_summaries("per answered turn (ms)");
    table.summary_row("voice-to-voice", v2v, 0);
    table.summary_row(
        "end-of-utterance delay (silence waited)",
        col(&|t| Some(t.end_of_utterance_delay_ms)),
        0,
    );
    table.summary_row("STT decode (whisper tiny.en)", col(&|t| Some(t.stt_ms)), 0);
    table.summary_row(
        "STT wait after the turn ended",
        col(&|t| Some(t.stt_wait_ms)),
        0,
    );
    table.summary_row(
        "TTS first audio after the turn ended",
        col(&|t| t.tts_first_audio_ms),
        0,
    );
    table.summary_row(
        "  of which synthesis (TTS first audio − STT wait)",
        col(&|t| {
            t.tts_first_audio_ms
                .map(|a| a.saturating_sub(t.stt_wait_ms))
        }),
        0,
    );
    table.summary_row(
        "voice-to-voice as heard (to the agent's first sound)",
        Summary::of_ms(to_sound.iter().copied()),
        0,
    );
    table.summary_row(
        "voice-to-voice − end-of-utterance delay",
        col(&|t| {
            t.voice_to_voice_ms
                .map(|v| v.saturating_sub(t.end_of_utterance_delay_ms))
        }),
        0,
    );
    let endpointing = match cfg.end_of_turn_ms {
        Some(ms) => format!("end-of-turn silence {ms} ms (overridden)"),
        None => "the script's `short` endpointing (450 ms of silence)".into(),
    };
    let mut s = Section::new(format!("Voice-to-voice latency, {endpointing}"));
    s.para(format!(
        "{calls} calls of the bench script (ten quick questions) with Silero VAD (hangover \
         200 ms), whisper tiny.en (speculative decode from the first pause) and hibari, \
         all local; the caller's short answers are espeak-ng `{CALLER_VOICE}` at 16 kHz. \
         {} answered turns; whisper returned {heard} caller lines, {understood} with exactly \
         the words spoken.",
        answered.len()
    ));
    s.table(&table);
    if let Some(v) = v2v {
        s.target("voice-to-voice p50", v.p50, 400.0, "ms");
        s.target("voice-to-voice p95", v.p95, 650.0, "ms");
    }
    s
}

/// Whether `heard` has the same words as `said` (case and punctuation ignored).
fn same_words(said: &str, heard: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect()
    };
    words(said) == words(heard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_script_compiles_and_has_a_question_per_answer() {
        let script = bench_script().expect("bench script compiles");
        let mut conversation = bench_conversation(&script);
        let first = super::super::fakes::first_lines(&mut *conversation);
        assert_eq!(
            first,
            vec!["Hello, this is a short benchmark call. Do you have a pet?".to_string()]
        );
        let questions = BENCH_SCRIPT.matches("type: ask").count();
        assert_eq!(questions, ANSWERS.len());
        let listens: Vec<u32> = bench_conversation(&script)
            .handle(crate::conversation::ConversationEvent::CallAnswered, 0)
            .into_iter()
            .filter_map(|e| match e {
                crate::conversation::ConversationEffect::Listen(l) => {
                    Some(l.end_of_turn_silence_ms)
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            listens,
            vec![450],
            "quick questions listen with `short` endpointing"
        );
    }

    #[test]
    fn words_are_compared_without_case_or_punctuation() {
        assert!(same_words("Yes, please.", "yes please"));
        assert!(!same_words("Yes.", "Yes, please."));
    }
}
