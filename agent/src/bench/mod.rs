//! `switchboard bench`: speed and memory of the turn engine on this machine, measured on the
//! real clock (never in tests). Each measurement is a module with a config, an async `run`
//! and a Markdown [`Section`](stats::Section) for BENCHMARKS.md:
//!
//! - [`voice_to_voice`]: caller's last voiced frame → agent's first audio, local models;
//! - [`greeting`]: answer → first agent audio, live and from a greeting cache;
//! - [`barge_in`]: caller speech onset → agent silence;
//! - [`overhead`]: the engine's own time per turn with instant fake providers;
//! - [`memory`]: resident memory per call, shared models excluded;
//! - [`capacity`]: calls one core carries with Silero VAD and no late frames;
//! - [`amd`]: answer classification accuracy and time to verdict on a generated corpus;
//! - [`api`]: control-port requests/s and latency, and job-claim throughput (store + HTTP);
//! - [`sip_capacity`]: simultaneous SIPp calls the SIP/RTP path holds with < 1 % late frames.
//!
//! Calls run through the same [`crate::call::session::run_call`] as production calls; the
//! benches only choose providers, conversations and the line around them.

pub mod amd;
pub mod api;
pub mod barge_in;
pub mod capacity;
pub mod fakes;
pub mod greeting;
pub mod harness;
pub mod memory;
pub mod overhead;
pub mod sip_capacity;
pub mod stats;
pub mod voice_to_voice;

use std::sync::Arc;

use anyhow::Context;
use audio::vad::SileroModel;
use speech::models::ModelStore;

use crate::local_models::{espeak, LocalModels};
use crate::transport::local_call::synthesise;

pub use stats::{Section, Summary, Table};

/// Models, loaded on first use: the model benches need all of them, the engine benches only
/// Silero.
pub struct BenchModels {
    store: ModelStore,
    local: Option<LocalModels>,
    silero: Option<Arc<SileroModel>>,
}

impl BenchModels {
    pub fn new(store: ModelStore) -> Self {
        Self {
            store,
            local: None,
            silero: None,
        }
    }

    /// Silero VAD, whisper and hibari.
    ///
    /// # Errors
    /// A missing model (naming the fetch command) or one that fails to load.
    pub fn local(&mut self) -> anyhow::Result<&LocalModels> {
        if self.local.is_none() {
            let models = LocalModels::load(&self.store)?;
            self.silero = Some(models.silero.clone());
            self.local = Some(models);
        }
        self.local.as_ref().context("models just loaded")
    }

    /// The shared Silero model alone.
    ///
    /// # Errors
    /// A missing model or ONNX Runtime, or a model that fails to load.
    pub fn silero(&mut self) -> anyhow::Result<Arc<SileroModel>> {
        if let Some(s) = &self.silero {
            return Ok(s.clone());
        }
        self.store.check().map_err(|e| anyhow::anyhow!("{e}"))?;
        audio::vad::init_onnx_runtime(self.store.onnxruntime_lib())
            .context("loading ONNX Runtime")?;
        let model = SileroModel::load(self.store.silero_vad()).context("loading Silero VAD")?;
        self.silero = Some(model.clone());
        Ok(model)
    }
}

/// Caller lines for the capacity bench: real speech (espeak-ng) at the bench line rate.
///
/// # Errors
/// espeak-ng missing (`apt-get install espeak-ng`) or failing.
pub async fn capacity_speech() -> anyhow::Result<Vec<Vec<i16>>> {
    let voice = espeak(voice_to_voice::CALLER_VOICE);
    let mut out = Vec::new();
    for line in [
        "Yes, that works for me.",
        "I would like to book it for Tuesday afternoon, if that is possible.",
        "No, thank you.",
        "Could you repeat the time, please?",
    ] {
        let audio = synthesise(&*voice, line, harness::RATE)
            .await
            .map_err(|e| anyhow::anyhow!("espeak-ng (apt-get install espeak-ng): {e}"))?;
        out.push(audio);
    }
    Ok(out)
}

/// The machine the numbers come from, as a Markdown list.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    format!(
        "- Date: {}\n- CPU: {cpu}, {cores} cores available (`nproc`)\n- Load average (1/5/15 min): {}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        load_average()
    )
}

/// `/proc/loadavg`'s three averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}
