//! The controller's side of the answer gate ([`crate::turn::answer_gate`]): while an
//! outbound call's answer is being classified, caller events and transcripts go to the gate
//! instead of the conversation, and the gate's decision starts the conversation, leaves the
//! voicemail message, answers a screening assistant or ends the call.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::oneshot::{self, error::TryRecvError};
use tokio::time::{Duration, Instant};

use super::{Controller, Jobs, State, SttDone};
use crate::conversation::{CallRecord, ConversationEvent, Outcome};
use crate::outcome::{amd_llm, greeting_prompt, AnswerClass, Verdict, ANSWER_RECORD};
use crate::stt::SttRequest;
use crate::turn::answer_gate::AnswerGate;
use crate::turn::answer_gate::GateAction;
use crate::turn::ingest::{IngestControl, IngestEvent};
use crate::turn::TurnConfig;

/// How often a pending gate is polled.
const POLL: Duration = Duration::from_millis(20);
/// The segment id of a running transcript of the greeting (never a caller turn's).
pub(super) const GREETING_SEGMENT: u64 = u64::MAX;
/// Greeting transcripts decoding at once (the local recogniser's pool holds two); a greeting
/// offered while they run is skipped: the next one, 250 ms on, has more words anyway.
const GREETING_DECODES: usize = 2;

/// The gate of a call whose settings ask for one (asking the LLM about doubtful machines
/// when the call has one).
pub(super) fn new(config: &TurnConfig, llm: bool) -> Option<AnswerGate> {
    let gate = AnswerGate::new(config.answer_gate.clone()?);
    Some(if llm { gate.with_llm() } else { gate })
}

/// When the pending gate wants polling (`far` when there is none).
pub(super) fn deadline(st: &State, far: Instant) -> Instant {
    if st.gate.is_some() {
        Instant::now() + POLL
    } else {
        far
    }
}

impl Controller {
    /// Starts the conversation at answer, unless the gate must classify the answer first.
    pub(super) async fn gate_start(&mut self, st: &mut State, jobs: &Jobs) {
        if st.gate.is_none() {
            self.deliver(st, ConversationEvent::CallAnswered, jobs)
                .await;
        }
    }

    pub(super) fn gate_observe(&self, st: &mut State, ev: &IngestEvent) {
        if let Some(gate) = st.gate.as_mut() {
            gate.on_ingest(ev, self.clock.now_ms());
        }
    }

    /// The greeting so far: transcribed quickly for the gate, unless enough are under way.
    pub(super) fn gate_greeting(&self, st: &mut State, audio: Arc<[i16]>, jobs: &Jobs) {
        if st.gate.is_none() || st.greeting_decodes >= GREETING_DECODES {
            return;
        }
        st.greeting_decodes += 1;
        self.gate_decoding(st);
        let audio_ms = (audio.len() / audio::SampleRate::HZ_16K.samples_per_ms()) as u64;
        let request = SttRequest {
            audio_16k: audio,
            hints: greeting_prompt(audio_ms).map(str::to_string),
            language: self.config.language.clone(),
            quick: true,
        };
        self.spawn_stt(GREETING_SEGMENT, request, jobs);
    }

    /// A transcript of the callee's speech so far is being decoded: the gate waits for it.
    pub(super) fn gate_decoding(&self, st: &mut State) {
        if let Some(gate) = st.gate.as_mut() {
            gate.on_decode_started(self.clock.now_ms());
        }
    }

    /// A speculative transcript of the greeting so far.
    pub(super) fn gate_partial(&self, st: &mut State, done: &SttDone) {
        if done.segment == GREETING_SEGMENT {
            st.greeting_decodes = st.greeting_decodes.saturating_sub(1);
        }
        if let (Some(gate), Ok(r)) = (st.gate.as_mut(), &done.result) {
            gate.on_transcript(&r.text, done.started_ms, self.clock.now_ms());
        }
    }

    /// A finished caller turn: the gate's while it decides (false: not for the
    /// conversation), the conversation's after.
    pub(super) async fn gate_passes(
        &mut self,
        st: &mut State,
        text: &str,
        heard_to_ms: u64,
        jobs: &Jobs,
    ) -> bool {
        let Some(gate) = st.gate.as_mut() else {
            return true;
        };
        gate.on_transcript(text, heard_to_ms, self.clock.now_ms());
        self.gate_tick(st, jobs).await;
        false
    }

    /// Polls the gate and carries out its decision.
    pub(super) async fn gate_tick(&mut self, st: &mut State, jobs: &Jobs) {
        let Some(gate) = st.gate.as_mut() else {
            return;
        };
        // The conversation has not started: no-input does not apply yet.
        st.no_input_at = None;
        if let Some(rx) = st.gate_llm.as_mut() {
            let answer = match rx.try_recv() {
                Ok(class) => Some(class),
                Err(TryRecvError::Closed) => Some(None),
                Err(TryRecvError::Empty) => None,
            };
            if let Some(class) = answer {
                gate.on_llm_verdict(class);
                st.gate_llm = None;
            }
        }
        let now = self.clock.now_ms();
        let action = gate.poll(now);
        let heard = gate.heard().to_string();
        if gate.is_done() {
            let late_beep_ms = gate.late_beep_ms();
            st.gate = None;
            if matches!(action, GateAction::Answered(_)) {
                // Tones are still looked for: a short voicemail taken for a person beeps.
                st.late_beep_until = Some(now + late_beep_ms);
            } else {
                self.stop_tone_detection().await;
            }
        }
        match action {
            GateAction::Wait => {}
            GateAction::Say(text) => self.say(st, 0, text, false).await,
            GateAction::AskLlm(heard) => st.gate_llm = self.ask_who_answered(heard),
            GateAction::SendDtmf(keys) => {
                tracing::info!(%keys, "Pressing keys to reach a person (phone menu or privacy manager)");
                let sent = match &self.keys_out {
                    Some(out) => out.send(keys).await.is_ok(),
                    None => false,
                };
                if !sent {
                    tracing::warn!("This transport cannot send key presses; keys not sent");
                }
            }
            GateAction::Answered(v) => {
                record(st, &v, heard);
                self.deliver(st, ConversationEvent::CallAnswered, jobs)
                    .await;
            }
            GateAction::LeaveVoicemail(v) => {
                record(st, &v, heard);
                self.deliver(st, ConversationEvent::VoicemailDetected, jobs)
                    .await;
            }
            GateAction::HangUp {
                verdict,
                disposition,
                reason,
            } => {
                record(st, &verdict, heard);
                let drain = Instant::now() + self.config.hangup_drain;
                st.hangup = Some((Outcome::new(disposition, reason), drain));
            }
        }
    }
}

impl Controller {
    /// After a person verdict: a beep in time shows a voicemail after all. Whatever the agent
    /// was saying stops, the conversation leaves its voicemail message (right after the beep)
    /// and the call's answer record says so. Tones stop being looked for after the watch.
    pub(super) async fn watch_late_beep(&mut self, st: &mut State, ev: &IngestEvent, jobs: &Jobs) {
        let Some(until) = st.late_beep_until else {
            return;
        };
        let beep = match ev {
            IngestEvent::ToneDetected { onset_ms, .. } => Some(*onset_ms).filter(|&at| at <= until),
            _ => None,
        };
        if beep.is_none() && self.clock.now_ms() <= until {
            return;
        }
        st.late_beep_until = None;
        self.stop_tone_detection().await;
        let Some(at_ms) = beep else {
            return;
        };
        if st.hangup.is_some() || st.ended.is_some() || st.listening.is_some() {
            return;
        }
        tracing::info!(
            at_ms,
            "A beep after the person verdict: a voicemail after all; leaving the message"
        );
        reclassified_by_beep(st, at_ms);
        // The agent's lines so far went to the recorder's greeting: drop what is left.
        st.turn += 1;
        st.barge_in = None;
        self.flush(st).await;
        self.deliver(st, ConversationEvent::VoicemailDetected, jobs)
            .await;
    }

    async fn stop_tone_detection(&mut self) {
        let _ = self
            .ingest_control
            .send(IngestControl::StopToneDetection)
            .await;
    }

    /// Asks the LLM who answered, in the background; the answer arrives on the receiver
    /// (`None` when it fails or names no class).
    fn ask_who_answered(&self, heard: String) -> Option<oneshot::Receiver<Option<AnswerClass>>> {
        let llm = self.llm.clone()?;
        let deadline = Duration::from_millis(
            self.config
                .answer_gate
                .as_ref()
                .map_or(1_500, |g| g.llm_deadline_ms),
        );
        let (tx, rx) = oneshot::channel();
        let cancel = self.cancel.child_token();
        self.tasks.spawn(async move {
            let answer = tokio::select! {
                _ = cancel.cancelled() => return,
                r = amd_llm::ask(llm.as_ref(), &heard, deadline) => r,
            };
            let class = answer.unwrap_or_else(|error| {
                tracing::warn!(%error, "No LLM verdict on the answer; the words decide");
                None
            });
            let _ = tx.send(class);
        });
        Some(rx)
    }
}

/// Leaves the verdict, and what the callee said before it, in the call report.
fn record(st: &mut State, v: &Verdict, heard: String) {
    tracing::info!(class = v.class.name(), reason = %v.reason, at_ms = v.at_ms, "Answer classified");
    st.report.records.push(CallRecord {
        kind: ANSWER_RECORD.into(),
        detail: json!({ "class": v.class.name(), "reason": v.reason, "at_ms": v.at_ms,
                        "machine_at_ms": v.machine_at_ms, "heard": heard }),
    });
}

/// The answer record of a call taken for a person whose greeting then beeped: a voicemail,
/// keeping what was first decided.
fn reclassified_by_beep(st: &mut State, at_ms: u64) {
    let record = st
        .report
        .records
        .iter_mut()
        .find(|r| r.kind == ANSWER_RECORD);
    if let Some(detail) = record.and_then(|r| r.detail.as_object_mut()) {
        let first = json!({ "class": detail.get("class"), "reason": detail.get("reason"),
                            "at_ms": detail.get("at_ms") });
        detail.insert("first_verdict".into(), first);
        detail.insert("class".into(), json!(AnswerClass::Voicemail.name()));
        detail.insert("reason".into(), json!("beep after the person verdict"));
        detail.insert("at_ms".into(), json!(at_ms));
        detail.insert("machine_at_ms".into(), json!(at_ms));
    }
}
