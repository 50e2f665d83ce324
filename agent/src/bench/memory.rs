//! Memory per call, excluding the shared models: N calls run at once with instant fake
//! providers (the agent greets, the caller says one thing, the agent answers, then both
//! idle) and the process's resident set is sampled while they run. The per-call figure is
//! (RSS during the calls − RSS before them) / N, once with the energy VAD and once with a
//! Silero stream per call over the shared, already loaded model, each in a process of its own.

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

/// The VAD each call of a memory run gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VadKind {
    Energy,
    Silero,
}

/// RSS figures of one run, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rss {
    pub before: u64,
    pub median: u64,
    pub peak: u64,
}

impl Rss {
    /// The line a probe process prints.
    pub fn to_line(self) -> String {
        format!("rss-bytes {} {} {}", self.before, self.median, self.peak)
    }

    pub fn from_line(line: &str) -> Option<Self> {
        let mut it = line.strip_prefix("rss-bytes ")?.split_whitespace();
        let mut next = || it.next()?.parse().ok();
        Some(Self {
            before: next()?,
            median: next()?,
            peak: next()?,
        })
    }
}

const MB: f64 = 1_048_576.0;

/// Runs each variant in a fresh process (`switchboard bench memory-probe`), so one variant's
/// freed memory, kept by the allocator, does not hide the next one's.
pub async fn run(cfg: &MemoryConfig) -> anyhow::Result<Section> {
    let n = cfg.calls.max(1);
    let exe = std::env::current_exe()?;
    let mut results = Vec::new();
    for (name, vad) in [("energy", "energy"), ("Silero (per-call state)", "silero")] {
        let out = tokio::process::Command::new(&exe)
            .args([
                "bench",
                "memory-probe",
                "--vad",
                vad,
                "--calls",
                &n.to_string(),
            ])
            .output()
            .await?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let rss = stdout.lines().find_map(Rss::from_line).ok_or_else(|| {
            anyhow::anyhow!(
                "memory probe ({vad}) failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
        results.push((name, rss));
    }

    let mut section = Section::new("Memory per call (shared models excluded)");
    section.para(format!(
        "{n} calls at once: the agent greets (2 s tone voice), the caller says one thing \
         (0.8 s), the agent answers, then both idle; instant fake STT and voice. Each variant \
         runs in a fresh process with the Silero model loaded and 4 warm-up calls done before \
         the baseline; RSS from /proc/self/statm, sampled every 100 ms while the calls run."
    ));
    let mut table = Table::new(&[
        "VAD",
        "RSS before (MB)",
        "median during (MB)",
        "peak (MB)",
        "per call, median (MB)",
        "per call, peak (MB)",
    ]);
    for (name, r) in &results {
        let per = |x: u64| x.saturating_sub(r.before) as f64 / n as f64 / MB;
        table.row(vec![
            name.to_string(),
            format!("{:.1}", r.before as f64 / MB),
            format!("{:.1}", r.median as f64 / MB),
            format!("{:.1}", r.peak as f64 / MB),
            format!("{:.3}", per(r.median)),
            format!("{:.3}", per(r.peak)),
        ]);
    }
    section.table(&table);
    let worst = results
        .iter()
        .map(|(_, r)| r.peak.saturating_sub(r.before) as f64 / n as f64 / MB)
        .fold(0.0, f64::max);
    section.target("peak memory per call (worst variant)", worst, 10.0, "MB");
    Ok(section)
}

/// One variant in this process: warm-up, then `calls` calls at once.
///
/// # Errors
/// A detector that cannot be built.
pub async fn probe(vad: VadKind, calls: usize, silero: Arc<SileroModel>) -> anyhow::Result<Rss> {
    let make = move || -> anyhow::Result<Box<dyn VoiceDetector>> {
        match vad {
            VadKind::Energy => energy(),
            VadKind::Silero => silero_stream(&silero),
        }
    };
    measure(4, &make).await?;
    measure(calls.max(1), &make).await
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
            phases: 1,
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_lines_round_trip() {
        let r = Rss {
            before: 1,
            median: 22,
            peak: 333,
        };
        assert_eq!(Rss::from_line(&r.to_line()), Some(r));
        assert_eq!(Rss::from_line("rss-bytes 1 2"), None);
    }
}
