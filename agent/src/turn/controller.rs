//! The turn controller: the per-call actor between ingest (what the caller does), the
//! conversation (what to say) and the speaker stages (saying it). It owns turn-taking:
//! endpointing per listen, speculative STT, barge-in (pause, then resume or flush), filler
//! lines when a reply is late, no-input and max-duration timers, and the call report.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::{sleep_until, Duration, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::config::TurnConfig;
use super::endpoint::EndpointConfig;
use super::ingest::{IngestControl, IngestEvent};
use super::llm_task::{LlmReport, LlmTask};
mod effects;
mod gate;
mod hand_over;
mod transfer;

use crate::call::live::CallEvent;
use crate::call::report::{BargeIn, CallReport, Speaker, TranscriptLine, TurnMetrics};
use crate::conversation::{
    Conversation, ConversationEffect, ConversationEvent, ListenSpec, Outcome, UtteranceId,
};
use crate::llm::LlmProvider;
use crate::media::CallClock;
use crate::speaker::{PlayoutControl, SpeakRequest, SpeakerEvent, TurnId};
use crate::stt::{SttProvider, SttRequest, SttResult};
use crate::telemetry::Metrics;
use crate::tools::{ToolRequest, ToolRunner};
pub use transfer::TransferRequest;

/// Where jobs the controller spawns (STT, LLM replies, tool calls) send their results.
struct Jobs {
    stt: mpsc::Sender<SttDone>,
    llm: mpsc::Sender<LlmReport>,
    tool: mpsc::Sender<(u64, Result<serde_json::Value, String>)>,
    transfer: mpsc::Sender<Result<(), String>>,
}

/// Results of STT jobs spawned by the controller.
#[derive(Debug)]
struct SttDone {
    segment: u64,
    started_ms: u64,
    finished_ms: u64,
    result: Result<SttResult, String>,
}

/// A caller turn waiting for its transcript.
#[derive(Debug, Clone)]
struct EndedTurn {
    segment: u64,
    onset_ms: u64,
    last_voice_ms: u64,
    ended_ms: u64,
}

pub struct Controller {
    pub conversation: Box<dyn Conversation>,
    pub config: TurnConfig,
    pub stt: Arc<dyn SttProvider>,
    pub llm: Option<Arc<dyn LlmProvider>>,
    /// From ingest; closed when ingest stops.
    pub ingest: mpsc::Receiver<IngestEvent>,
    pub ingest_control: mpsc::Sender<IngestControl>,
    /// To the TTS stage (cloned into LLM tasks).
    pub speak: mpsc::Sender<SpeakRequest>,
    /// Minimum live turn, read by the TTS stage.
    pub min_turn: watch::Sender<TurnId>,
    pub playout_control: mpsc::Sender<PlayoutControl>,
    pub speaker_events: mpsc::Receiver<SpeakerEvent>,
    pub clock: CallClock,
    /// The call's token; LLM and STT jobs get children of it.
    pub cancel: CancellationToken,
    /// Where this controller spawns its jobs; the supervisor waits on it at teardown.
    pub tasks: TaskTracker,
    /// Live transcript for observers (demo output, event streams); lossy when they lag.
    pub live: Option<broadcast::Sender<CallEvent>>,
    /// The process's metrics registry.
    pub metrics: Arc<Metrics>,
    /// HTTP client for script tool calls (shared by calls).
    pub tools: ToolRunner,
    /// Key presses from the transport (SIP RFC 4733 / INFO), if it has them; the transport
    /// closes it when the call ends.
    pub dtmf: Option<mpsc::Receiver<char>>,
    /// Where key presses the agent sends go (to the transport), if it can send them.
    pub keys_out: Option<mpsc::Sender<String>>,
    /// Identities of human agents joining the call (LiveKit rooms), if the transport has them.
    pub humans: Option<mpsc::Receiver<crate::call::session::HumanSignal>>,
    /// Where transfers go (to the transport), if it can transfer.
    pub transfers: Option<mpsc::Sender<TransferRequest>>,
    /// Transfers the control API asks of this call.
    pub transfer_requests: Option<mpsc::Receiver<TransferRequest>>,
}

struct State {
    report: CallReport,
    turn: TurnId,
    listen: ListenSpec,
    /// Onset of the caller's current turn.
    onset_ms: u64,
    /// The caller's current pause: its segment and last voiced ms (until resumed or ended).
    paused: Option<(u64, u64)>,
    /// Segments up to this one were answered at their pause; their `TurnEnded` is stale.
    taken_up_to: u64,
    /// The agent's last line (usually the question being answered): the recogniser's best
    /// context for what the caller will say.
    last_agent_text: Option<String>,
    /// Lines queued for the live turn and not yet finished, with their text and flags.
    pending: BTreeMap<UtteranceId, PendingLine>,
    /// The LLM reply being streamed: its turn, its token, and when it is given up.
    llm_in_flight: Option<(TurnId, CancellationToken, Instant)>,
    next_llm_utterance: UtteranceId,
    /// Segments whose transcription was started (speculatively at a pause, or at turn end).
    stt_started: HashSet<u64>,
    stt_results: HashMap<u64, SttDone>,
    awaiting: Option<EndedTurn>,
    /// Agent paused by sustained caller speech, waiting for what it was.
    barge_in: Option<(u64, u64)>,
    interruptible_playing: bool,
    no_input_at: Option<Instant>,
    filler_at: Option<Instant>,
    hangup: Option<(Outcome, Instant)>,
    llm_failures: u32,
    node: Option<String>,
    /// Conversation timers by id, with when they fire.
    timers: BTreeMap<u64, Instant>,
    ended: Option<Outcome>,
    gate: Option<super::answer_gate::AnswerGate>, // Outbound answer detection (opt-in).
    /// Running transcripts of the greeting being decoded for the gate.
    greeting_decodes: usize,
    /// The LLM's answer on who answered, when the gate asked for it.
    gate_llm: Option<oneshot::Receiver<Option<crate::outcome::AnswerClass>>>,
    /// After a person verdict: what may still show a machine after all.
    late: Option<gate::LateWatch>,
    /// A machine was found after a person verdict: the conversation has started, and a person
    /// coming on after it is put through to the opening again; no second watch.
    after_all: bool,
    /// When the gate last found a person (call ms): a caller turn whose voice ended before it
    /// is the greeting the verdict was made on, not an answer to the opening.
    person_verdict_ms: Option<u64>,
    /// Set once a human agent took the call over and the agent stays to listen.
    listening: Option<hand_over::Listening>,
    humans: hand_over::Humans,
    /// A transfer the conversation asked for, until the transport answers.
    transfer: Option<transfer::Transfer>,
    /// The caller turn being answered, a child of the call's span (traces).
    turn_span: tracing::Span,
}

#[derive(Debug, Clone)]
struct PendingLine {
    text: String,
    interruptible: bool,
    started_ms: Option<u64>,
}

/// Ids for LLM sentences, far above the conversation's own ids.
const LLM_UTTERANCE_BASE: UtteranceId = 1 << 40;
const BACKCHANNELS: &[&str] = &[
    "mhm", "mm", "mmm", "hmm", "hm", "mm-hmm", "mm-hm", "mmhmm", "uh-huh", "uh", "huh", "um", "ah",
    "oh", "yeah", "yep", "okay", "ok", "right", "sure",
];

impl Controller {
    /// Runs the call until it ends; returns the report.
    pub async fn run(mut self) -> CallReport {
        let (stt_tx, mut stt_rx) = mpsc::channel::<SttDone>(8);
        let (llm_tx, mut llm_rx) = mpsc::channel::<LlmReport>(16);
        let (tool_tx, mut tool_rx) = mpsc::channel::<(u64, Result<serde_json::Value, String>)>(8);
        let (transfer_tx, mut transfer_rx) = mpsc::channel(1);
        let jobs = Jobs {
            stt: stt_tx,
            llm: llm_tx,
            tool: tool_tx,
            transfer: transfer_tx,
        };
        let max_at = Instant::now() + self.config.max_duration;
        let mut st = State {
            report: CallReport::default(),
            turn: 1,
            listen: ListenSpec::default(),
            last_agent_text: None,
            onset_ms: 0,
            paused: None,
            taken_up_to: 0,
            pending: BTreeMap::new(),
            llm_in_flight: None,
            next_llm_utterance: LLM_UTTERANCE_BASE,
            stt_started: HashSet::new(),
            stt_results: HashMap::new(),
            awaiting: None,
            barge_in: None,
            interruptible_playing: true,
            no_input_at: None,
            filler_at: None,
            hangup: None,
            llm_failures: 0,
            node: None,
            timers: BTreeMap::new(),
            ended: None,
            gate: gate::new(&self.config, self.llm.is_some()),
            greeting_decodes: 0,
            gate_llm: None,
            late: None,
            after_all: false,
            person_verdict_ms: None,
            listening: None,
            humans: hand_over::Humans::new(),
            transfer: None,
            turn_span: tracing::Span::none(),
        };
        let mut max_reached = false;
        self.gate_start(&mut st, &jobs).await;
        while st.ended.is_none() {
            let far = Instant::now() + Duration::from_secs(3600);
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => {
                    st.ended = Some(outcome("failed", "cancelled"));
                }
                // LLM reports before speaker events: a line is announced before it can play.
                Some(rep) = llm_rx.recv() => self.on_llm(&mut st, rep, &jobs).await,
                Some(ev) = self.speaker_events.recv() => self.on_speaker(&mut st, ev, &jobs).await,
                Some(ev) = self.ingest.recv() => self.on_ingest(&mut st, ev, &jobs).await,
                Some(done) = stt_rx.recv() => self.on_stt(&mut st, done, &jobs).await,
                Some(digit) = recv_or_wait(&mut self.dtmf) => {
                    self.deliver(&mut st, ConversationEvent::DtmfReceived { digit }, &jobs).await;
                }
                Some(signal) = recv_or_wait(&mut self.humans) => self.on_human(&mut st, signal, &jobs).await,
                Some(result) = transfer_rx.recv() => self.on_transfer_done(&mut st, result).await,
                Some(request) = recv_or_wait(&mut self.transfer_requests) => self.on_transfer_request(&mut st, request, &jobs),
                Some((id, result)) = tool_rx.recv() => {
                    let event = ConversationEvent::ToolFinished { id, result };
                    self.deliver(&mut st, event, &jobs).await;
                }
                _ = sleep_until(st.no_input_at.unwrap_or(far)), if st.no_input_at.is_some() => {
                    st.no_input_at = None;
                    self.deliver(&mut st, ConversationEvent::CallerSilent, &jobs).await;
                }
                _ = sleep_until(st.filler_at.unwrap_or(far)), if st.filler_at.is_some() => {
                    st.filler_at = None;
                    let text = self.config.filler_line.clone();
                    self.say(&mut st, 0, text, true).await;
                }
                _ = sleep_until(next_timer(&st.timers).map(|t| t.1).unwrap_or(far)), if !st.timers.is_empty() => {
                    if let Some((id, _)) = next_timer(&st.timers) {
                        st.timers.remove(&id);
                        self.deliver(&mut st, ConversationEvent::TimerFired { id }, &jobs).await;
                    }
                }
                _ = sleep_until(st.llm_in_flight.as_ref().map(|l| l.2).unwrap_or(far)), if st.llm_in_flight.is_some() => {
                    if let Some((turn, _, _)) = st.llm_in_flight.as_ref() {
                        let error = format!("no complete reply within {:?}", self.config.llm_timeout);
                        let failed = LlmReport::Failed { turn: *turn, error, lines: 0 };
                        self.on_llm(&mut st, failed, &jobs).await;
                    }
                }
                _ = sleep_until(gate::deadline(&st, far)), if st.gate.is_some() => self.gate_tick(&mut st, &jobs).await,
                _ = sleep_until(max_at), if !max_reached => {
                    max_reached = true;
                    Self::stop_listening(&mut st, outcome("reached", "max_duration"));
                    self.deliver(&mut st, ConversationEvent::MaxDurationReached, &jobs).await;
                }
                _ = sleep_until(st.hangup.as_ref().map(|h| h.1).unwrap_or(far)), if st.hangup.is_some() && st.transfer.is_none() => {
                    tracing::warn!("Queued lines did not finish before the hang-up deadline");
                    st.ended = st.hangup.take().map(|h| h.0);
                }
            }
            if st.hangup.is_some()
                && self.agent_idle(&st)
                && !self.transfer_holds_end(&mut st, &jobs)
            {
                st.ended = st.hangup.as_ref().map(|h| h.0.clone());
            }
        }
        if let Some((_, token, _)) = st.llm_in_flight.take() {
            token.cancel();
        }
        st.report.outcome = st.ended.take();
        st.report.duration_ms = self.clock.now_ms();
        st.report
    }

    /// Records a finished line and publishes it.
    fn transcript(&self, st: &mut State, line: TranscriptLine) {
        let seq = st.report.transcript.len();
        self.publish(CallEvent::Line {
            seq,
            line: line.clone(),
        });
        st.report.transcript.push(line);
    }

    /// Records an agent line that was heard (entirely, or until `interrupted`).
    fn agent_line(
        &self,
        st: &mut State,
        text: String,
        start_ms: u64,
        end_ms: u64,
        interrupted: bool,
    ) {
        let node = st.node.clone();
        let line = TranscriptLine {
            speaker: Speaker::Agent,
            text,
            start_ms,
            end_ms,
            interrupted,
            node,
        };
        self.transcript(st, line);
    }

    fn publish(&self, event: CallEvent) {
        if let Some(live) = &self.live {
            let _ = live.send(event);
        }
    }

    fn agent_idle(&self, st: &State) -> bool {
        st.pending.is_empty() && st.llm_in_flight.is_none()
    }

    async fn on_ingest(&mut self, st: &mut State, ev: IngestEvent, jobs: &Jobs) {
        self.gate_observe(st, &ev);
        self.late_beep(st, &ev, jobs).await;
        match ev {
            IngestEvent::SpeechStarted { onset_ms } => {
                st.no_input_at = None;
                st.onset_ms = onset_ms;
            }
            IngestEvent::SpeechSustained { onset_ms } => {
                let playing = st.pending.values().any(|l| l.started_ms.is_some());
                if playing && st.interruptible_playing && st.barge_in.is_none() {
                    st.barge_in = Some((onset_ms, 0));
                    let _ = self.playout_control.send(PlayoutControl::Pause).await;
                }
            }
            IngestEvent::Paused {
                segment,
                last_voice_ms,
                audio,
            } => {
                st.paused = Some((segment, last_voice_ms));
                self.start_stt(segment, audio, st, jobs);
                self.gate_decoding(st);
            }
            IngestEvent::Resumed => st.paused = None,
            IngestEvent::ToneDetected { .. } => {}
            IngestEvent::Greeting { audio } => self.gate_greeting(st, audio, jobs),
            IngestEvent::TurnEnded {
                segment,
                onset_ms,
                last_voice_ms,
                audio,
            } => {
                st.paused = None;
                if segment <= st.taken_up_to {
                    // Already answered at its pause (see `on_stt`).
                    return;
                }
                if !st.stt_started.contains(&segment) {
                    self.start_stt(segment, audio, st, jobs);
                }
                st.awaiting = Some(EndedTurn {
                    segment,
                    onset_ms,
                    last_voice_ms,
                    ended_ms: self.clock.now_ms(),
                });
                if let Some(done) = st.stt_results.remove(&segment) {
                    self.on_transcript(st, done, jobs).await;
                }
            }
            IngestEvent::InputEnded => {
                if Self::caller_left_during_transfer(st) {
                    return;
                }
                Self::stop_listening(st, outcome("reached", "caller_hung_up"));
                self.deliver(st, ConversationEvent::CallerHungUp, jobs)
                    .await;
                if st.ended.is_none() {
                    st.ended = Some(
                        st.hangup
                            .take()
                            .map(|h| h.0)
                            .unwrap_or_else(|| outcome("reached", "caller_hung_up")),
                    );
                }
            }
        }
    }

    fn start_stt(&self, segment: u64, audio: Arc<[i16]>, st: &mut State, jobs: &Jobs) {
        st.stt_started.insert(segment);
        let request = SttRequest {
            audio_16k: audio,
            hints: stt_prompt(st),
            language: self.config.language.clone(),
            quick: false,
        };
        self.spawn_stt(segment, request, jobs);
    }

    /// Transcribes `request` as `segment`; the result comes back as an [`SttDone`].
    fn spawn_stt(&self, segment: u64, request: SttRequest, jobs: &Jobs) {
        let stt = self.stt.clone();
        let tx = jobs.stt.clone();
        let clock = self.clock;
        let cancel = self.cancel.child_token();
        self.tasks.spawn(async move {
            let started_ms = clock.now_ms();
            let result = tokio::select! {
                _ = cancel.cancelled() => return,
                r = stt.transcribe(request) => r.map_err(|e| e.to_string()),
            };
            let finished_ms = clock.now_ms();
            let _ = tx
                .send(SttDone {
                    segment,
                    started_ms,
                    finished_ms,
                    result,
                })
                .await;
        });
    }
}

impl Controller {
    async fn on_stt(&mut self, st: &mut State, done: SttDone, jobs: &Jobs) {
        if done.segment == gate::GREETING_SEGMENT {
            return self.gate_partial(st, &done);
        }
        match st.awaiting.as_ref() {
            Some(turn) if turn.segment == done.segment => self.on_transcript(st, done, jobs).await,
            Some(turn) if done.segment < turn.segment => {}
            _ if self.answers_at_pause(st, &done) => {
                // The caller is still within the end-of-turn silence, but what they said
                // already answers the question: take the turn now.
                let Some((segment, last_voice_ms)) = st.paused.take() else {
                    return;
                };
                st.taken_up_to = segment;
                let taken = IngestControl::TurnTaken { segment };
                let _ = self.ingest_control.send(taken).await;
                st.awaiting = Some(EndedTurn {
                    segment,
                    onset_ms: st.onset_ms,
                    last_voice_ms,
                    ended_ms: self.clock.now_ms(),
                });
                self.on_transcript(st, done, jobs).await;
            }
            _ => {
                self.gate_partial(st, &done);
                st.stt_results.insert(done.segment, done);
            }
        }
    }

    /// Whether a speculative transcript of the current pause completes the caller's answer.
    fn answers_at_pause(&self, st: &State, done: &SttDone) -> bool {
        let paused_here = st
            .paused
            .is_some_and(|(segment, _)| segment == done.segment);
        let text = match &done.result {
            Ok(r) => r.text.trim(),
            Err(_) => return false,
        };
        paused_here && is_meaningful(text) && self.conversation.completes_turn(text)
    }

    /// The transcript of an ended caller turn is in: decide between barge-in resume, noise,
    /// and a real caller turn for the conversation.
    async fn on_transcript(&mut self, st: &mut State, done: SttDone, jobs: &Jobs) {
        let Some(turn) = st.awaiting.take() else {
            return;
        };
        st.stt_results.retain(|seg, _| *seg > turn.segment);
        st.stt_started.retain(|seg| *seg > turn.segment);
        let now = self.clock.now_ms();
        let (text, confidence) = match done.result {
            Ok(r) => (r.text.trim().to_string(), r.confidence),
            Err(error) => {
                tracing::warn!(%error, "Transcription failed; the caller's turn is lost");
                (String::new(), 0.0)
            }
        };
        if st.person_verdict_ms.is_some_and(|v| turn.last_voice_ms < v) {
            // "Hello?" whose turn ended after the pause that made it a person's (the verdict
            // may come before the end of the turn): the opening answers it already.
            return;
        }
        if self.late_words(st, &text, &turn, jobs).await {
            return;
        }
        let meaningful =
            self.gate_passes(st, &text, done.started_ms, jobs).await && is_meaningful(&text);
        if let Some((onset_ms, reaction_ms)) = st.barge_in.take() {
            let barge_in = BargeIn {
                onset_ms,
                reaction_ms,
                resumed: !meaningful,
            };
            self.metrics.observe_barge_in(&barge_in);
            st.report.barge_ins.push(barge_in);
            if !meaningful {
                let _ = self.playout_control.send(PlayoutControl::Resume).await;
                return;
            }
        }
        if !meaningful {
            // Noise or a backchannel while the agent talks: nothing for the conversation.
            if self.agent_idle(st) && st.hangup.is_none() {
                st.no_input_at =
                    Some(Instant::now() + Duration::from_millis(st.listen.no_input_ms.into()));
            }
            return;
        }
        let node = st.node.clone();
        self.transcript(
            st,
            TranscriptLine {
                speaker: Speaker::Caller,
                text: text.clone(),
                start_ms: turn.onset_ms,
                end_ms: turn.last_voice_ms,
                interrupted: false,
                node,
            },
        );
        if st.listening.is_some() {
            // Handed over: the line is for the record; nobody answers it here.
            return;
        }
        // The caller has the floor: whatever the agent still had to say is stale, unless it
        // is an uninterruptible line (a legal notice), which plays on; the reply follows it.
        st.turn += 1;
        st.turn_span = tracing::info_span!(
            "turn",
            turn = st.turn,
            voice_to_voice_ms = tracing::field::Empty
        );
        if !self.agent_idle(st) && st.interruptible_playing {
            self.flush(st).await;
        }
        st.report.turns.push(TurnMetrics {
            turn: st.turn,
            last_voice_ms: turn.last_voice_ms,
            end_of_utterance_delay_ms: turn.ended_ms.saturating_sub(turn.last_voice_ms),
            stt_ms: done.finished_ms.saturating_sub(done.started_ms),
            stt_wait_ms: now.saturating_sub(turn.ended_ms),
            ..TurnMetrics::default()
        });
        self.deliver(st, ConversationEvent::CallerSaid { text, confidence }, jobs)
            .await;
    }

    /// Drops every line of older turns: the barge-in took the floor.
    async fn flush(&mut self, st: &mut State) {
        let _ = self.min_turn.send(st.turn);
        let _ = self
            .playout_control
            .send(PlayoutControl::Flush { min_turn: st.turn })
            .await;
        if let Some((_, token, _)) = st.llm_in_flight.take() {
            token.cancel();
        }
        let now = self.clock.now_ms();
        for (_, line) in std::mem::take(&mut st.pending) {
            if let Some(start_ms) = line.started_ms {
                self.agent_line(st, line.text, start_ms, now, true);
            }
        }
    }

    async fn on_speaker(&mut self, st: &mut State, ev: SpeakerEvent, jobs: &Jobs) {
        match ev {
            SpeakerEvent::SynthesisStarted { turn, at_ms, .. } => {
                if let Some(m) = st.report.turn_mut(turn) {
                    if m.tts_first_audio_ms.is_none() {
                        m.tts_first_audio_ms = Some(
                            at_ms.saturating_sub(m.last_voice_ms + m.end_of_utterance_delay_ms),
                        );
                    }
                }
            }
            SpeakerEvent::SynthesisFailed { utterance, .. } => {
                st.pending.remove(&utterance);
                self.arm_no_input(st);
            }
            SpeakerEvent::PlaybackStarted {
                turn,
                utterance,
                at_ms,
            } => {
                st.filler_at = None;
                if let Some(line) = st.pending.get_mut(&utterance) {
                    line.started_ms = Some(at_ms);
                    st.interruptible_playing = line.interruptible;
                    self.publish(CallEvent::Speaking {
                        text: line.text.clone(),
                        at_ms,
                        node: st.node.clone(),
                    });
                }
                if let Some(m) = st.report.turn_mut(turn) {
                    if m.voice_to_voice_ms.is_none() {
                        m.voice_to_voice_ms = Some(at_ms.saturating_sub(m.last_voice_ms));
                        st.turn_span
                            .record("voice_to_voice_ms", m.voice_to_voice_ms);
                        self.metrics.observe_turn(m);
                    }
                }
            }
            SpeakerEvent::PlaybackPaused { at_ms } => {
                if let Some((onset, reaction)) = st.barge_in.as_mut() {
                    *reaction = at_ms.saturating_sub(*onset);
                }
            }
            SpeakerEvent::PlaybackFinished {
                utterance,
                at_ms,
                interrupted,
                ..
            } => {
                if let Some(line) = st.pending.remove(&utterance) {
                    let start_ms = line.started_ms.unwrap_or(at_ms);
                    self.agent_line(st, line.text, start_ms, at_ms, interrupted);
                    if utterance < LLM_UTTERANCE_BASE && utterance != 0 {
                        let event = ConversationEvent::SayFinished {
                            utterance,
                            interrupted,
                        };
                        self.deliver(st, event, jobs).await;
                    }
                }
                self.arm_no_input(st);
            }
        }
    }

    async fn on_llm(&mut self, st: &mut State, rep: LlmReport, jobs: &Jobs) {
        match rep {
            LlmReport::FirstToken { turn, at_ms } => {
                if let Some(m) = st.report.turn_mut(turn) {
                    m.llm_first_token_ms =
                        Some(at_ms.saturating_sub(m.last_voice_ms + m.end_of_utterance_delay_ms));
                }
            }
            LlmReport::LineQueued {
                turn,
                utterance,
                text,
            } => {
                if turn == st.turn {
                    st.report.usage.characters_synthesised += text.chars().count() as u64;
                    st.last_agent_text = Some(text.clone());
                    st.pending.insert(
                        utterance,
                        PendingLine {
                            text,
                            interruptible: true,
                            started_ms: None,
                        },
                    );
                }
            }
            LlmReport::Done {
                turn,
                text,
                tool_calls,
                usage,
                ..
            } => {
                if st.llm_in_flight.as_ref().map(|l| l.0) != Some(turn) {
                    return;
                }
                st.llm_in_flight = None;
                st.llm_failures = 0;
                st.report.usage.llm_prompt_tokens += u64::from(usage.prompt_tokens);
                st.report.usage.llm_completion_tokens += u64::from(usage.completion_tokens);
                let replied = ConversationEvent::LlmReplied { text, tool_calls };
                self.deliver(st, replied, jobs).await;
                self.arm_no_input(st);
            }
            LlmReport::Failed { turn, error, .. } => {
                if st.llm_in_flight.as_ref().map(|l| l.0) != Some(turn) {
                    return;
                }
                if let Some((_, token, _)) = st.llm_in_flight.take() {
                    token.cancel();
                }
                st.llm_failures += 1;
                tracing::warn!(%error, failures = st.llm_failures, "LLM request failed");
                let line = self.config.llm_fallback_line.clone();
                self.say(st, 0, line, true).await;
                if st.llm_failures >= self.config.max_llm_failures {
                    st.hangup = Some((
                        outcome("failed", "llm_unavailable"),
                        Instant::now() + self.config.hangup_drain,
                    ));
                } else {
                    self.deliver(st, ConversationEvent::LlmFailed { reason: error }, jobs)
                        .await;
                }
            }
        }
    }

    /// Starts the no-input timer once the agent has finished speaking and is listening.
    fn arm_no_input(&self, st: &mut State) {
        let waiting = st.hangup.is_some() || st.awaiting.is_some() || st.listening.is_some();
        if self.agent_idle(st) && !waiting {
            st.no_input_at =
                Some(Instant::now() + Duration::from_millis(st.listen.no_input_ms.into()));
        }
    }
}

/// What the recogniser is told before the caller's audio: the question the caller is
/// answering (it names the expected words, e.g. "1 to 5"), else the listen's vocabulary
/// hints. Whisper follows natural preceding text far better than a bare word list, which
/// made it decode slowly, repeat itself or continue the list in trials.
fn stt_prompt(st: &State) -> Option<String> {
    st.last_agent_text
        .clone()
        .or_else(|| st.listen.hints.clone())
}

/// Whether a transcript carries words for the conversation (not noise or a backchannel).
fn is_meaningful(text: &str) -> bool {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-')
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    !words.is_empty() && !words.iter().all(|w| BACKCHANNELS.contains(&w.as_str()))
}

fn next_timer(timers: &BTreeMap<u64, Instant>) -> Option<(u64, Instant)> {
    timers
        .iter()
        .min_by_key(|(_, at)| **at)
        .map(|(id, at)| (*id, *at))
}

fn outcome(disposition: &str, reason: &str) -> Outcome {
    Outcome::new(disposition, reason)
}

/// The next transport key press; never resolves when the transport has none.
async fn recv_or_wait<T>(rx: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
