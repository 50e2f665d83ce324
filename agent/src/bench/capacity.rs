//! Concurrent calls per core with Silero VAD: K calls run on a tokio runtime with one worker
//! thread (so every call's ingest, Silero inference, controller, TTS stage and playout share
//! one core), fed real speech (espeak-ng lines at 16 kHz) by a feeder on another thread like
//! a transport's receive loop, with instant fake STT and voice. K grows until a trial fails,
//! then is bisected. A trial passes when ingest dropped no caller frame, 99 % of VAD chunks
//! were processed within one frame (20 ms) of their last frame's arrival, and 99 % of agent
//! frames went out within 20 ms of their schedule.

use std::sync::{Arc, Mutex};

use audio::vad::{SileroModel, SileroVad, VoiceDetector};
use tokio::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

use super::fakes::{InstantStt, ReplyConversation, ToneVoice};
use super::harness::{phase_offset_ms, spec, BenchCall, FeedStart, Feeder, LagProbe, RATE};
use super::stats::{fmt, Section, Summary, Table};
use crate::call::session::Providers;

/// Caller frames of different calls arrive at this many evenly spaced moments per 20 ms, as
/// independent streams do (not all at the same instant).
const PHASES: usize = 4;

#[derive(Debug, Clone)]
pub struct CapacityConfig {
    /// First K tried; doubled until a trial fails.
    pub start_calls: usize,
    pub max_calls: usize,
    /// Length of each trial's caller audio.
    pub seconds: u32,
    /// Bisection steps after the first failure.
    pub bisect_steps: u32,
}

impl Default for CapacityConfig {
    fn default() -> Self {
        Self {
            start_calls: 8,
            max_calls: 512,
            seconds: 8,
            bisect_steps: 3,
        }
    }
}

/// What one trial with K calls showed.
#[derive(Debug, Clone)]
struct Trial {
    calls: usize,
    dropped: u64,
    /// Calls still running 30 s after their caller hung up.
    stuck: usize,
    lag: Option<Summary>,
    late: Option<Summary>,
    turns: usize,
    /// CPU the calls' worker thread used, as a share of one core over the trial.
    core_share: f64,
}

impl Trial {
    fn passed(&self) -> bool {
        self.dropped == 0
            && self.stuck == 0
            && self.lag.is_some_and(|l| l.p99 <= 20.0)
            && self.late.is_none_or(|l| l.p99 <= 20.0)
    }
}

/// Runs the search. `speech` holds caller utterances at 16 kHz.
pub async fn run(
    cfg: &CapacityConfig,
    silero: Arc<SileroModel>,
    speech: &[Vec<i16>],
) -> anyhow::Result<Section> {
    let chunk_us = silero_chunk_cost(&silero, speech).await?;
    let mut trials: Vec<Trial> = Vec::new();
    let mut k = cfg.start_calls.max(1);
    let (mut best, mut worst) = (0usize, None::<usize>);
    while k <= cfg.max_calls {
        let t = trial(k, cfg.seconds, &silero, speech).await?;
        let ok = t.passed();
        trials.push(t);
        if ok {
            best = k;
            k *= 2;
        } else {
            worst = Some(k);
            break;
        }
    }
    if let Some(mut hi) = worst {
        let mut lo = best;
        for _ in 0..cfg.bisect_steps {
            let mid = (lo + hi) / 2;
            if mid <= lo {
                break;
            }
            let t = trial(mid, cfg.seconds, &silero, speech).await?;
            if t.passed() {
                lo = mid;
                best = best.max(mid);
            } else {
                hi = mid;
            }
            trials.push(t);
        }
    }

    let mut section = Section::new("Concurrent calls per core (Silero VAD, no late frames)");
    section.para(format!(
        "K calls on a tokio runtime with 1 worker thread; each caller speaks espeak-ng lines \
         at 16 kHz for {} s (staggered starts; frames of different calls arrive at {PHASES} \
         evenly spaced moments of each 20 ms), the agent answers each turn through instant \
         fake STT and a tone voice. Pass: 0 dropped caller frames (1 s input ring), ingest \
         lag p99 ≤ 20 ms (VAD chunk processed after its last frame was due) and playout \
         lateness p99 ≤ 20 ms. Silero costs {:.0} µs per 32 ms chunk on one thread here, a \
         ceiling of ~{:.0} streams per core for the VAD alone.",
        cfg.seconds,
        chunk_us,
        32_000.0 / chunk_us.max(1.0)
    ));
    let mut table = Table::new(&[
        "K calls",
        "dropped frames",
        "ingest lag p50 / p99 / max (ms)",
        "playout lateness p99 / max (ms)",
        "agent turns",
        "worker CPU (% of a core)",
        "pass",
    ]);
    trials.sort_by_key(|t| t.calls);
    for t in &trials {
        let three = |s: Option<Summary>| {
            s.map_or("–".into(), |s| {
                format!("{} / {} / {}", fmt(s.p50, 1), fmt(s.p99, 1), fmt(s.max, 1))
            })
        };
        let two = |s: Option<Summary>| {
            s.map_or("–".into(), |s| {
                format!("{} / {}", fmt(s.p99, 1), fmt(s.max, 1))
            })
        };
        table.row(vec![
            t.calls.to_string(),
            if t.stuck > 0 {
                format!("{} ({} calls stuck)", t.dropped, t.stuck)
            } else {
                t.dropped.to_string()
            },
            three(t.lag),
            two(t.late),
            t.turns.to_string(),
            format!("{:.0}", t.core_share * 100.0),
            if t.passed() {
                "yes".into()
            } else {
                "no".into()
            },
        ]);
    }
    section.table(&table);
    section.para(format!(
        "**Largest K that passed: {best}** calls on one core{}.",
        if worst.is_none() {
            " (the search stopped at its upper bound)"
        } else {
            ""
        }
    ));
    let per_call: Vec<f64> = trials
        .iter()
        .filter(|t| t.passed() && t.core_share > 0.0)
        .map(|t| t.core_share / t.calls as f64)
        .collect();
    if let Some(s) = Summary::of(&per_call) {
        section.para(format!(
            "CPU per call on the worker: {:.2} % of a core (median over the passing trials), \
             of which Silero takes {:.2} % ({:.0} µs × 31.25 chunks/s): at full use one \
             core would carry ~{:.0} calls. The pass limit is reached before the worker is \
             busy: frames arriving together queue behind each other on the one worker, and \
             the machine is shared (load average {}), so the worker also waits for a core.",
            s.p50 * 100.0,
            chunk_us * 31.25 / 1e4,
            chunk_us,
            1.0 / s.p50,
            super::load_average()
        ));
    }
    Ok(section)
}

/// Mean Silero inference time per 512-sample chunk on one thread, µs.
async fn silero_chunk_cost(silero: &Arc<SileroModel>, speech: &[Vec<i16>]) -> anyhow::Result<f64> {
    let model = silero.clone();
    let audio: Vec<i16> = speech.concat();
    tokio::task::spawn_blocking(move || -> anyhow::Result<f64> {
        let mut vad = SileroVad::new(model, RATE)?;
        let chunks: Vec<&[i16]> = audio.chunks_exact(512).collect();
        anyhow::ensure!(!chunks.is_empty(), "no speech to time Silero on");
        for c in chunks.iter().take(50) {
            vad.speech_probability(c)?;
        }
        let runs = 2_000;
        let t = Instant::now();
        for i in 0..runs {
            vad.speech_probability(chunks[i % chunks.len()])?;
        }
        Ok(t.elapsed().as_secs_f64() * 1e6 / runs as f64)
    })
    .await?
}

async fn trial(
    k: usize,
    seconds: u32,
    silero: &Arc<SileroModel>,
    speech: &[Vec<i16>],
) -> anyhow::Result<Trial> {
    let thread_name = format!("bench-k{k}");
    let calls_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(thread_name.clone())
        .enable_all()
        .build()?;
    // The worker starts on the first spawn; measure its CPU from then on.
    calls_rt.spawn(async {}).await?;
    let cpu_before = thread_cpu_ms(&thread_name);
    let wall = Instant::now();
    let providers = Providers {
        stt: Arc::new(InstantStt {
            text: "yes that works".into(),
        }),
        llm: None,
        tts: Arc::new(ToneVoice::new(20)),
    };
    let token = CancellationToken::new();
    let start: FeedStart = Arc::default();
    let mut lines = Vec::new();
    let mut calls = Vec::new();
    for i in 0..k {
        let lags = Arc::new(Mutex::new(Vec::new()));
        let detector = LagProbe {
            inner: Box::new(SileroVad::new(silero.clone(), RATE)?),
            start: start.clone(),
            offset_ms: phase_offset_ms(i, PHASES),
            lags: lags.clone(),
            samples_seen: 0,
        };
        let conversation = ReplyConversation::new(None, "Okay.", 400);
        let spec = spec(
            format!("capacity-{i}"),
            providers.clone(),
            Box::new(detector) as Box<dyn VoiceDetector>,
            Box::new(conversation),
        );
        let (tx, out, call) = BenchCall::new(50).start(spec, token.clone());
        lines.push((tx, caller_audio(i, seconds, speech)));
        calls.push((calls_rt.spawn(call), out, lags));
    }
    // The feeder is the transport: it runs on this (other) runtime's threads.
    Feeder {
        lines,
        start,
        phases: PHASES,
        keep_pushes: false,
        cancel: token.clone(),
    }
    .run()
    .await;
    let cpu_ms = thread_cpu_ms(&thread_name) - cpu_before;
    let core_share = cpu_ms / (wall.elapsed().as_secs_f64() * 1e3);
    let (mut dropped, mut turns, mut stuck) = (0, 0, 0);
    let (mut lags, mut late) = (Vec::new(), Vec::new());
    for (call, out, probe) in calls {
        let Ok(report) = tokio::time::timeout(Duration::from_secs(30), call).await else {
            stuck += 1;
            continue;
        };
        let report = report?;
        dropped += report.dropped_frames;
        turns += report.turns.len();
        lags.extend(
            probe
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|x| f64::from(*x)),
        );
        late.extend(out.lateness_ms());
    }
    calls_rt.shutdown_background();
    Ok(Trial {
        calls: k,
        dropped,
        stuck,
        lag: Summary::of(&lags),
        late: Summary::of(&late),
        turns,
        core_share,
    })
}

/// CPU time (user + system, ms) used so far by this process's threads named `name`, from
/// /proc (clock ticks of 10 ms).
fn thread_cpu_ms(name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut ticks = 0u64;
    for task in tasks.flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
        // Fields after the parenthesised command: state is field 3, utime 14, stime 15.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let num = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        ticks += num(11) + num(12);
    }
    ticks as f64 * 10.0
}

/// Call `i`'s caller: a staggered start, then utterances with 1.5 s gaps, for `seconds`.
fn caller_audio(i: usize, seconds: u32, speech: &[Vec<i16>]) -> Arc<[i16]> {
    let total = RATE.samples_for_ms(seconds * 1_000);
    let mut audio = audio::synth::silence(((i * 137) % 1_500) as u32 + 100, RATE);
    let gap = audio::synth::silence(1_500, RATE);
    let mut n = i;
    while audio.len() < total && !speech.is_empty() {
        audio.extend_from_slice(&speech[n % speech.len()]);
        audio.extend_from_slice(&gap);
        n += 1;
    }
    audio.truncate(total);
    audio.into()
}
