//! Barge-in reaction with the local models: the agent starts a long greeting (served from a
//! greeting cache, so it starts at once) and the caller talks over it (an espeak-ng line at a
//! varying moment). Per barge-in it reports the raw reaction (the caller's true speech onset
//! in the recording → the agent's last audible frame), the engine's own `BargeIn.reaction_ms`
//! (VAD onset → playout paused) and that reaction minus the barge-in threshold (speech must
//! be sustained that long before it counts), which is the part the engine controls.

use std::sync::Arc;

use tokio::time::Duration;
use tokio_util::sync::CancellationToken;

use super::fakes::ReplyConversation;
use super::harness::{spec, turn_config, RATE};
use super::stats::{Section, Summary, Table};
use super::voice_to_voice::CALLER_VOICE;
use crate::call::session::Providers;
use crate::local_models::{espeak, LocalModels};
use crate::transport::local_call::{run_local_call, synthesise, Caller};
use crate::tts::cache::CachedTts;

const GREETING: &str = "Hello, and thank you for taking this call. I am calling about the \
    appointment you booked last week, and I would like to go through a few details with you \
    before we confirm everything for the coming days.";
const INTERRUPTION: &str = "Sorry, can I ask you something first?";
/// Sample level above which the recordings count as sound.
const LOUD: i16 = 500;

#[derive(Debug, Clone)]
pub struct BargeInConfig {
    pub barge_ins: usize,
}

impl Default for BargeInConfig {
    fn default() -> Self {
        Self { barge_ins: 24 }
    }
}

/// One measured barge-in, in ms.
#[derive(Debug, Clone, Copy)]
struct Reaction {
    raw: f64,
    engine: f64,
    after_threshold: f64,
}

pub async fn run(cfg: &BargeInConfig, models: &LocalModels) -> anyhow::Result<Section> {
    let live = models.providers();
    let providers = Providers {
        tts: Arc::new(CachedTts::prewarm(live.tts.clone(), [GREETING]).await?),
        ..live
    };
    let speech = synthesise(&*espeak(CALLER_VOICE), INTERRUPTION, RATE)
        .await
        .map_err(|e| anyhow::anyhow!("espeak-ng: {e}"))?;
    let speech_onset = speech
        .iter()
        .position(|s| s.unsigned_abs() > LOUD as u16)
        .unwrap_or(0);
    let threshold_ms = turn_config().barge_in_ms as f64;
    let mut reactions = Vec::new();
    let mut missed = 0;
    for i in 0..cfg.barge_ins {
        let at_ms = 1_000 + (i as u32 * 47) % 600;
        let mut caller = audio::synth::silence(at_ms, RATE);
        caller.extend_from_slice(&speech);
        let onset_ms = (RATE.samples_for_ms(at_ms) + speech_onset) as f64 / RATE.hz() as f64 * 1e3;
        let conversation = ReplyConversation::new(Some(GREETING), "Sure, go ahead.", 450);
        let spec = spec(
            format!("barge-in-{i}"),
            providers.clone(),
            models.detector()?,
            Box::new(conversation),
        );
        let token = CancellationToken::new();
        let result = run_local_call(
            spec,
            Caller::Audio(caller),
            RATE,
            Some(Duration::from_millis(800)),
            &token,
        )
        .await;
        let Some(b) = result.report.barge_ins.first() else {
            missed += 1;
            continue;
        };
        let paused_ms = (b.onset_ms + b.reaction_ms) as f64;
        let silent_ms = last_sound_before(&result.agent_audio, onset_ms, paused_ms + 60.0);
        reactions.push(Reaction {
            raw: silent_ms.unwrap_or(paused_ms) - onset_ms,
            engine: b.reaction_ms as f64,
            after_threshold: b.reaction_ms as f64 - threshold_ms,
        });
    }

    let col = |f: fn(&Reaction) -> f64| Summary::of(&reactions.iter().map(f).collect::<Vec<_>>());
    let mut table = Table::for_summaries("per barge-in (ms)");
    table.summary_row(
        "raw: caller speech onset → agent silent (recordings)",
        col(|r| r.raw),
        0,
    );
    table.summary_row(
        "engine: VAD onset → playout paused (`reaction_ms`)",
        col(|r| r.engine),
        0,
    );
    table.summary_row(
        &format!("after the {threshold_ms:.0} ms barge-in threshold"),
        col(|r| r.after_threshold),
        0,
    );
    let mut s = Section::new("Barge-in reaction");
    s.para(format!(
        "{} calls: the agent's long greeting (cached, hibari) is interrupted by {:?} \
         (espeak-ng, 16 kHz) 1.0–1.6 s into the call; Silero VAD, speech must be sustained \
         {threshold_ms:.0} ms to count. {} barge-ins measured{}.",
        cfg.barge_ins,
        INTERRUPTION,
        reactions.len(),
        if missed > 0 {
            format!(", {missed} calls without a barge-in")
        } else {
            String::new()
        }
    ));
    s.table(&table);
    if let Some(v) = col(|r| r.after_threshold) {
        s.target("reaction after the threshold, p95", v.p95, 100.0, "ms");
    }
    Ok(s)
}

/// End (call ms) of the last loud agent millisecond in `from_ms..to_ms`, if any.
fn last_sound_before(agent: &[i16], from_ms: f64, to_ms: f64) -> Option<f64> {
    let per_ms = RATE.samples_per_ms();
    let from = (from_ms as usize) * per_ms;
    let to = ((to_ms as usize) * per_ms).min(agent.len());
    let idx = agent
        .get(from..to)?
        .iter()
        .rposition(|s| s.unsigned_abs() > LOUD as u16)?;
    Some((from + idx + 1) as f64 / per_ms as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_sound_is_found_inside_the_window_only() {
        let per_ms = RATE.samples_per_ms();
        let mut agent = vec![1_000i16; 100 * per_ms];
        agent.extend(vec![0i16; 100 * per_ms]);
        agent.extend(vec![1_000i16; 100 * per_ms]);
        assert_eq!(last_sound_before(&agent, 50.0, 150.0), Some(100.0));
        assert_eq!(last_sound_before(&agent, 120.0, 180.0), None);
    }
}
