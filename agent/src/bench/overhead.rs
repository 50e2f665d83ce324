//! Pipeline overhead without model compute: calls with an instant STT, an instant tone voice
//! and the energy VAD, on the real clock. Per caller turn it times the engine's own work
//! from the caller frame that completed the end-of-turn silence to the agent's first frame
//! out (ingest, endpointing, controller, conversation, TTS stage with resampling, playout),
//! using timestamps taken at the push, at the conversation and at the output. It also gives
//! the call report's view (voice-to-voice minus the configured silence), which adds the
//! 20 ms framing of the line.

use std::sync::Arc;

use audio::vad::{EnergyVad, EnergyVadConfig};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::fakes::{InstantStt, ReplyConversation, ToneVoice};
use super::harness::{caller_turns, spec, BenchCall, FeedStart, Feeder, Sent, RATE};
use super::stats::{Section, Summary, Table};
use crate::call::session::Providers;

#[derive(Debug, Clone)]
pub struct OverheadConfig {
    /// Caller turns in all (spread over `calls`).
    pub turns: usize,
    /// Calls running at once.
    pub calls: usize,
    pub end_of_turn_ms: u32,
}

impl Default for OverheadConfig {
    fn default() -> Self {
        Self {
            turns: 200,
            calls: 4,
            end_of_turn_ms: 300,
        }
    }
}

/// Engine-side timings of one caller turn, in µs.
#[derive(Debug, Clone, Copy)]
struct TurnTiming {
    /// Triggering caller frame pushed → conversation handed the transcript.
    to_conversation_us: f64,
    /// Conversation → agent's first frame out.
    to_output_us: f64,
}

pub async fn run(cfg: &OverheadConfig) -> anyhow::Result<Section> {
    let per_call = cfg.turns.div_ceil(cfg.calls.max(1));
    let utterance = audio::synth::speech_like(140.0, 0.3, 500, RATE, 7);
    let audio = caller_turns(&utterance, 300, 1_000, per_call);
    let providers = Providers {
        stt: Arc::new(InstantStt { text: "yes".into() }),
        llm: None,
        tts: Arc::new(ToneVoice::new(20)),
    };
    let token = CancellationToken::new();
    let start: FeedStart = Arc::default();
    let mut lines = Vec::new();
    let mut calls = Vec::new();
    for i in 0..cfg.calls.max(1) {
        let conversation = ReplyConversation::new(None, "Okay.", cfg.end_of_turn_ms);
        let heard = conversation.heard.clone();
        let detector = Box::new(EnergyVad::new(RATE, EnergyVadConfig::default())?);
        let spec = spec(
            format!("overhead-{i}"),
            providers.clone(),
            detector,
            Box::new(conversation),
        );
        let (tx, out, call) = BenchCall::new(50).start(spec, token.clone());
        lines.push((tx, audio.clone()));
        calls.push((tokio::spawn(call), out, heard));
    }
    let feeder = Feeder {
        lines,
        start,
        phases: 1,
        keep_pushes: true,
        cancel: token.clone(),
    };
    let pushes = feeder.run().await;

    let mut timings = Vec::new();
    let (mut v2v_minus_eot, mut v2v_minus_eou, mut v2v) = (Vec::new(), Vec::new(), Vec::new());
    let mut dropped = 0;
    for ((call, out, heard), pushes) in calls.into_iter().zip(pushes) {
        let report = call.await?;
        dropped += report.dropped_frames;
        for t in &report.turns {
            if let Some(v) = t.voice_to_voice_ms {
                v2v.push(v as f64);
                v2v_minus_eot.push(v as f64 - f64::from(cfg.end_of_turn_ms));
                v2v_minus_eou.push(v.saturating_sub(t.end_of_utterance_delay_ms) as f64);
            }
        }
        let heard = heard.lock().unwrap_or_else(|e| e.into_inner()).clone();
        timings.extend(attribute(&heard, &pushes, &out.snapshot()));
    }
    let total: Vec<f64> = timings
        .iter()
        .map(|t| (t.to_conversation_us + t.to_output_us) / 1e3)
        .collect();
    let to_conv: Vec<f64> = timings.iter().map(|t| t.to_conversation_us / 1e3).collect();
    let to_out: Vec<f64> = timings.iter().map(|t| t.to_output_us / 1e3).collect();

    let mut section = Section::new("Pipeline overhead without model compute");
    section.para(format!(
        "{} calls at once, {} caller turns each (500 ms of speech-like audio, energy VAD), \
         instant STT and tone voice, end-of-turn silence {} ms, real clock. Engine time is \
         measured from the push of the caller frame that completed the end-of-turn silence \
         to the agent's first frame out. Caller frames dropped: {dropped}.",
        cfg.calls, per_call, cfg.end_of_turn_ms
    ));
    let mut table = Table::for_summaries("per turn (ms)");
    table.summary_row("engine: frame in → first frame out", Summary::of(&total), 3);
    table.summary_row("  frame in → conversation", Summary::of(&to_conv), 3);
    table.summary_row("  conversation → first frame out", Summary::of(&to_out), 3);
    table.summary_row("report: voice-to-voice", Summary::of(&v2v), 0);
    table.summary_row(
        "report: voice-to-voice − measured end-of-utterance delay",
        Summary::of(&v2v_minus_eou),
        0,
    );
    table.summary_row(
        "report: voice-to-voice − configured silence",
        Summary::of(&v2v_minus_eot),
        0,
    );
    section.table(&table);
    if let Some(s) = Summary::of(&total) {
        section.target("engine overhead p99", s.p99, 2.0, "ms");
    }
    section.para(
        "The report rows have 1 ms resolution; \"− configured silence\" also holds the wait \
         for the frame that completes the silence (the line is framed in 20 ms), which is \
         framing, not processing.",
    );
    Ok(section)
}

/// Pairs each conversation instant with the caller push before it and the agent's first
/// loud frame after it.
fn attribute(heard: &[Instant], pushes: &[Instant], sent: &[Sent]) -> Vec<TurnTiming> {
    heard
        .iter()
        .filter_map(|c| {
            let p = pushes.iter().rev().find(|p| *p <= c)?;
            let s = sent.iter().find(|s| s.loud && s.at >= *c)?;
            Some(TurnTiming {
                to_conversation_us: c.duration_since(*p).as_secs_f64() * 1e6,
                to_output_us: s.at.duration_since(*c).as_secs_f64() * 1e6,
            })
        })
        .collect()
}
