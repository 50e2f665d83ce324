//! The call supervisor: builds one call's stages and bounded edges, runs them under a child
//! of the process token, and tears them down: cancel, then wait for every task under a
//! deadline, then report what is still running.
//!
//! ```text
//! transport in ─ring→ ingest ─events→ controller ─speak→ synth ─items→ playout ─→ transport out
//!                       ↑ control ─────┘   ↑ └─control──────────────────↑   │
//!                                          └────────── speaker events ──────┘
//! ```

use std::sync::Arc;

use audio::vad::{StreamingVad, VadConfig, VoiceDetector};
use audio::AudioFrame;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::live::CallEvent;
use super::report::CallReport;
use crate::conversation::Conversation;
use crate::llm::LlmProvider;
use crate::media::{CallClock, RingReceiver};
use crate::speaker::playout::PlayoutStage;
use crate::speaker::synth::SynthStage;
use crate::speaker::AudioOut;
use crate::stt::SttProvider;
use crate::telemetry::Metrics;
use crate::tools::ToolRunner;
use crate::tts::TtsProvider;
use crate::turn::controller::{Controller, TransferRequest};
use crate::turn::endpoint::{EndpointConfig, Endpointer};
use crate::turn::ingest::{DynDetector, IngestStage};
use crate::turn::TurnConfig;

/// How long teardown waits for a call's tasks after cancelling them.
const TEARDOWN_DEADLINE: Duration = Duration::from_secs(5);

/// The providers a call uses; shared by all calls of a process.
#[derive(Clone)]
pub struct Providers {
    pub stt: Arc<dyn SttProvider>,
    pub llm: Option<Arc<dyn LlmProvider>>,
    pub tts: Arc<dyn TtsProvider>,
}

/// The transport side of a call.
pub struct CallMedia {
    /// Caller audio; the transport closes it when the caller hangs up.
    pub input: RingReceiver<AudioFrame>,
    pub output: Box<dyn AudioOut>,
    /// The transport's call clock: time 0 is when the call was answered.
    pub clock: CallClock,
}

/// Everything one call needs besides its media.
pub struct CallSpec {
    pub call_id: String,
    pub providers: Providers,
    /// A fresh detector for this call's stream (shared model, per-call state).
    pub detector: Box<dyn VoiceDetector>,
    pub vad: VadConfig,
    pub turn: TurnConfig,
    pub conversation: Box<dyn Conversation>,
    /// Receives the call's events as they happen, if set.
    pub live: Option<broadcast::Sender<CallEvent>>,
    /// The process's metrics registry.
    pub metrics: Arc<Metrics>,
}

/// What a transport tells the call besides audio, and the key presses it can send: key
/// presses out of band (SIP RFC 4733 / INFO, LiveKit `sip_dtmf`) and human agents joining
/// (LiveKit rooms).
#[derive(Debug, Default)]
pub struct CallSignals {
    /// Digits the caller pressed: each reaches the conversation as `DtmfReceived`.
    pub dtmf_in: Option<mpsc::Receiver<char>>,
    /// Digits the agent sends (to get through a phone menu).
    pub dtmf_out: Option<mpsc::Sender<String>>,
    /// Human agents joining (each reaches the conversation as `HumanJoined`) and leaving.
    pub humans: Option<mpsc::Receiver<HumanSignal>>,
    /// Transfers the conversation asks for (SIP REFER, LiveKit SIP transfer).
    pub transfers: Option<mpsc::Sender<TransferRequest>>,
    /// Transfers the control API asks of the call.
    pub transfer_requests: Option<mpsc::Receiver<TransferRequest>>,
}

/// A human agent (by identity) coming into or leaving the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HumanSignal {
    Joined(String),
    Left(String),
}

/// Runs one call to its end and returns its report. Cancelling `parent` ends the call.
pub async fn run_call(spec: CallSpec, media: CallMedia, parent: &CancellationToken) -> CallReport {
    run_call_with_signals(spec, media, CallSignals::default(), parent).await
}

/// [`run_call`] for transports that receive key presses out of band.
pub async fn run_call_with_dtmf(
    spec: CallSpec,
    media: CallMedia,
    dtmf: Option<mpsc::Receiver<char>>,
    parent: &CancellationToken,
) -> CallReport {
    let signals = CallSignals {
        dtmf_in: dtmf,
        ..CallSignals::default()
    };
    run_call_with_signals(spec, media, signals, parent).await
}

/// [`run_call`] for transports that signal more than audio.
pub async fn run_call_with_signals(
    spec: CallSpec,
    media: CallMedia,
    signals: CallSignals,
    parent: &CancellationToken,
) -> CallReport {
    let cancel = parent.child_token();
    let tasks = TaskTracker::new();
    let clock = media.clock;
    let dropped = media.input.drop_counter();

    let (ingest_tx, ingest_rx) = mpsc::channel(32);
    let (ingest_ctl_tx, ingest_ctl_rx) = mpsc::channel(4);
    let (speak_tx, speak_rx) = mpsc::channel(8);
    let (items_tx, items_rx) = mpsc::channel(8);
    let (playout_ctl_tx, playout_ctl_rx) = mpsc::channel(8);
    let (speaker_tx, speaker_rx) = mpsc::channel(64);
    let (min_turn_tx, min_turn_rx) = watch::channel(0);

    let vad_threshold = spec.vad.activation_threshold;
    let vad = match StreamingVad::new(DynDetector(spec.detector), spec.vad) {
        Ok(vad) => vad,
        Err(e) => {
            tracing::error!(error = %e, "Call not started: VAD configuration refused");
            return CallReport {
                call_id: spec.call_id,
                outcome: Some(crate::conversation::Outcome::new(
                    "failed",
                    format!("vad_config: {e}"),
                )),
                ..CallReport::default()
            };
        }
    };
    let out_rate = media.output.rate();
    let script = spec.conversation.script();
    tasks.spawn(
        IngestStage {
            input: media.input,
            control: ingest_ctl_rx,
            events: ingest_tx,
            vad,
            vad_threshold,
            endpointer: Endpointer::new(EndpointConfig {
                barge_in_ms: spec.turn.barge_in_ms,
                ..EndpointConfig::default()
            }),
            tones: spec.turn.answer_gate.as_ref().map(|_| {
                audio::BeepDetector::new(audio::SampleRate::HZ_16K, audio::BeepConfig::default())
            }),
            clock,
            cancel: cancel.child_token(),
        }
        .run(),
    );
    tasks.spawn(
        SynthStage {
            requests: speak_rx,
            min_turn: min_turn_rx,
            tts: spec.providers.tts.clone(),
            out_rate,
            playout: items_tx,
            events: speaker_tx.clone(),
            clock,
            cancel: cancel.child_token(),
        }
        .run(),
    );
    tasks.spawn(
        PlayoutStage {
            items: items_rx,
            control: playout_ctl_rx,
            out: media.output,
            events: speaker_tx,
            clock,
            cancel: cancel.child_token(),
        }
        .run(),
    );
    let controller = Controller {
        conversation: spec.conversation,
        config: spec.turn,
        stt: spec.providers.stt.clone(),
        llm: spec.providers.llm.clone(),
        ingest: ingest_rx,
        ingest_control: ingest_ctl_tx,
        speak: speak_tx,
        min_turn: min_turn_tx,
        playout_control: playout_ctl_tx,
        speaker_events: speaker_rx,
        clock,
        cancel: cancel.clone(),
        tasks: tasks.clone(),
        live: spec.live,
        metrics: spec.metrics.clone(),
        tools: ToolRunner::default(),
        dtmf: signals.dtmf_in,
        keys_out: signals.dtmf_out,
        humans: signals.humans,
        transfers: signals.transfers,
        transfer_requests: signals.transfer_requests,
    };
    let mut report = controller.run().await;
    report.call_id = spec.call_id;
    report.script = script;
    report.dropped_frames = dropped.load(std::sync::atomic::Ordering::Relaxed);
    spec.metrics.call_ended(&report);

    cancel.cancel();
    tasks.close();
    if tokio::time::timeout(TEARDOWN_DEADLINE, tasks.wait())
        .await
        .is_err()
    {
        tracing::error!(
            still_running = tasks.len(),
            "Call tasks did not stop before the teardown deadline"
        );
    }
    report
}
