//! Memory per call, excluding the shared models: N calls run at once with instant fake
//! providers (the agent greets, the caller says one thing, the agent answers, then both
//! idle) and the process's resident set is sampled while they run. The per-call figure is
//! (RSS during the calls − RSS before them) / N, once with the energy VAD and once with a
//! Silero stream per call over the shared, already loaded model.

use std::sync::Arc;

use audio::vad::{EnergyVad, EnergyVadConfig, SileroModel, SileroVad, VoiceDetector};
use tokio::time::{sleep, Duration};
use tokio_util::sync::CancellationToken;

use super::fakes::{InstantStt, ReplyConversation, ToneVoice};
use super::harness::{caller_turns, rss_bytes, spec, BenchCall, Feeder, RATE};
use super::stats::{Section, Table};
use crate::call::session::Providers;

#[derive(Debug, Clone)]
pub struct MemoryConfig {
    pub calls: usize,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self { calls: 100 }
    }
}

/// RSS figures of one run, in bytes.
#[derive(Debug, Clone, Copy)]
struct Rss {
    before: u64,
    median: u64,
    peak: u64,
    after: u64,
}

const MB: f64 = 1_048_576.0;

pub async fn run(cfg: &MemoryConfig, silero: Arc<SileroModel>) -> anyhow::Result<Section> {
    let n = cfg.calls.max(1);
    // One small run first, so allocator pools and lazily built tables exist before "before".
    measure(4, &|| energy()).await?;
    let energy_rss = measure(n, &|| energy()).await?;
    measure(4, &|| silero_stream(&silero)).await?;
    let silero_rss = measure(n, &|| silero_stream(&silero)).await?;

    let mut section = Section::new("Memory per call (shared models excluded)");
    section.para(format!(
        "{n} calls at once: the agent greets (2 s tone voice), the caller says one thing \
         (0.8 s), the agent answers, then both idle; instant fake STT and voice. RSS from \
         /proc/self/statm, sampled every 100 ms; models loaded before the baseline."
    ));
    let mut table = Table::new(&[
        "VAD",
        "RSS before (MB)",
        "median during (MB)",
        "peak (MB)",
        "after (MB)",
        "per call, median (MB)",
        "per call, peak (MB)",
    ]);
    for (name, r) in [
        ("energy", energy_rss),
        ("Silero (per-call state)", silero_rss),
    ] {
        let per = |x: u64| x.saturating_sub(r.before) as f64 / n as f64 / MB;
        table.row(vec![
            name.into(),
            format!("{:.1}", r.before as f64 / MB),
            format!("{:.1}", r.median as f64 / MB),
            format!("{:.1}", r.peak as f64 / MB),
            format!("{:.1}", r.after as f64 / MB),
            format!("{:.3}", per(r.median)),
            format!("{:.3}", per(r.peak)),
        ]);
    }
    section.table(&table);
    let worst = silero_rss.peak.saturating_sub(silero_rss.before) as f64 / n as f64 / MB;
    section.target("peak memory per call (Silero)", worst, 10.0, "MB");
    Ok(section)
}

fn energy() -> anyhow::Result<Box<dyn VoiceDetector>> {
    Ok(Box::new(EnergyVad::new(RATE, EnergyVadConfig::default())?))
}

fn silero_stream(model: &Arc<SileroModel>) -> anyhow::Result<Box<dyn VoiceDetector>> {
    Ok(Box::new(SileroVad::new(model.clone(), RATE)?))
}

async fn measure(
    n: usize,
    detector: &dyn Fn() -> anyhow::Result<Box<dyn VoiceDetector>>,
) -> anyhow::Result<Rss> {
    let providers = Providers {
        stt: Arc::new(InstantStt {
            text: "yes please".into(),
        }),
        llm: None,
        tts: Arc::new(ToneVoice::new(50)),
    };
    let utterance = audio::synth::speech_like(140.0, 0.3, 800, RATE, 3);
    let audio = caller_turns(&utterance, 2_500, 3_000, 1);
    let token = CancellationToken::new();
    let before = rss_bytes().unwrap_or(0);
    let mut lines = Vec::new();
    let mut calls = Vec::new();
    for i in 0..n {
        let conversation = ReplyConversation::new(
            Some("Hello, this is the benchmark agent calling you."),
            "Thank you, noted.",
            400,
        );
        let spec = spec(
            format!("memory-{i}"),
            providers.clone(),
            detector()?,
            Box::new(conversation),
        );
        let (tx, _out, call) = BenchCall::new(50).start(spec, token.clone());
        lines.push((tx, audio.clone()));
        calls.push(tokio::spawn(call));
    }
    let feeder = tokio::spawn(
        Feeder {
            lines,
            start: Arc::default(),
            keep_pushes: false,
            cancel: token.clone(),
        }
        .run(),
    );
    let mut samples = Vec::new();
    while !feeder.is_finished() {
        samples.extend(rss_bytes());
        sleep(Duration::from_millis(100)).await;
    }
    feeder.await?;
    for call in calls {
        call.await?;
    }
    samples.sort_unstable();
    Ok(Rss {
        before,
        median: samples.get(samples.len() / 2).copied().unwrap_or(before),
        peak: samples.last().copied().unwrap_or(before),
        after: rss_bytes().unwrap_or(0),
    })
}
