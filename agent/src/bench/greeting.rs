//! First greeting after answer: time from the call's start (answer) to the agent's first
//! audio frame (`PlaybackStarted` of the first line) and to its first sound in the recording
//! (what the callee hears), with the local models. Measured with
//! the greeting synthesised live by hibari and served by a [`CachedTts`] that pre-synthesised
//! the conversation's first line before any call.

use std::sync::Arc;

use tokio::sync::broadcast;
use tokio::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

use super::fakes::first_lines;
use super::harness::{first_sound_ms, spec, RATE};
use super::stats::{Section, Summary, Table};
use super::voice_to_voice::{bench_conversation, bench_script};
use crate::call::live::CallEvent;
use crate::call::session::Providers;
use crate::local_models::LocalModels;
use crate::transport::local_call::{run_local_call, Caller};
use crate::tts::cache::CachedTts;

#[derive(Debug, Clone)]
pub struct GreetingConfig {
    /// Calls per variant.
    pub calls: usize,
}

impl Default for GreetingConfig {
    fn default() -> Self {
        Self { calls: 10 }
    }
}

pub async fn run(cfg: &GreetingConfig, models: &LocalModels) -> anyhow::Result<Section> {
    let script = bench_script()?;
    let greeting = first_lines(&mut *bench_conversation(&script));
    let live = models.providers();
    let t = Instant::now();
    let cached_tts = CachedTts::prewarm(live.tts.clone(), greeting.clone()).await?;
    let prewarm_ms = t.elapsed().as_secs_f64() * 1e3;
    let cached = Providers {
        tts: Arc::new(cached_tts),
        ..live.clone()
    };

    let mut table = Table::for_summaries("answer → the agent's greeting (ms)");
    let mut results = Vec::new();
    for (name, providers) in [("hibari, live", &live), ("cached first line", &cached)] {
        let (mut frames, mut sounds) = (Vec::new(), Vec::new());
        for i in 0..cfg.calls {
            let (frame, sound) = first_audio_ms(models, providers, &script, i).await?;
            frames.extend(frame);
            sounds.extend(sound);
        }
        table.summary_row(&format!("{name}: first frame"), Summary::of(&frames), 0);
        let heard = Summary::of(&sounds);
        table.summary_row(&format!("{name}: first sound"), heard, 0);
        results.push((name, heard, sounds.len()));
    }

    let mut s = Section::new("First greeting after answer");
    s.para(format!(
        "{} calls per variant of the bench script, whose first line is {:?}; time from the \
         call's start to the first frame of that line sent to the line (`PlaybackStarted`) \
         and to its first sound in the call's recording (above -40 dBFS: the voice's lead-in \
         silence is not heard). The cache is filled once at start-up ({prewarm_ms:.0} ms for \
         this line) by `tts::cache::CachedTts`.",
        cfg.calls,
        greeting.join(" ")
    ));
    s.table(&table);
    for (name, summary, n) in results {
        if n < cfg.calls {
            s.para(format!(
                "{name}: {} calls were not heard within 2 s.",
                cfg.calls - n
            ));
        }
        if let Some(v) = summary {
            s.target(&format!("{name}, first sound p95"), v.p95, 250.0, "ms");
        }
    }
    Ok(s)
}

/// Runs one call in which the caller stays silent and hangs up after 2 s; returns when the
/// first agent line started playing and when it was first heard (call ms), if it did.
async fn first_audio_ms(
    models: &LocalModels,
    providers: &Providers,
    script: &Arc<dialogue::Script>,
    i: usize,
) -> anyhow::Result<(Option<f64>, Option<f64>)> {
    let (tx, mut rx) = broadcast::channel::<CallEvent>(16);
    let mut spec = spec(
        format!("greeting-{i}"),
        providers.clone(),
        models.detector()?,
        bench_conversation(script),
    );
    spec.live = Some(tx);
    let caller = Caller::Audio(audio::synth::silence(100, RATE));
    let token = CancellationToken::new();
    let result = run_local_call(spec, caller, RATE, Some(Duration::from_secs(2)), &token).await;
    let sound = first_sound_ms(&result.agent_audio, 0).map(|ms| ms as f64);
    while let Ok(event) = rx.try_recv() {
        if let CallEvent::Speaking { at_ms, .. } = event {
            return Ok((Some(at_ms as f64), sound));
        }
    }
    Ok((None, sound))
}
