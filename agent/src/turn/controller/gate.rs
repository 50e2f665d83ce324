//! The controller's side of the answer gate ([`crate::turn::answer_gate`]): while an
//! outbound call's answer is being classified, caller events and transcripts go to the gate
//! instead of the conversation, and the gate's decision starts the conversation, leaves the
//! voicemail message, answers a screening assistant or ends the call. After a person verdict
//! a short watch stays on: a beep, or a voicemail's or screener's words in speech that went on
//! at once, show a machine after all, and a gate is opened again to leave the message after
//! the greeting, or to answer the screener and put the person through to the opening again.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::oneshot::{self, error::TryRecvError};
use tokio::time::{Duration, Instant};

use super::{Controller, EndedTurn, Jobs, State, SttDone};
use crate::conversation::{CallRecord, ConversationEvent, Outcome};
use crate::outcome::{
    after_all_cue, amd_llm, greeting_prompt, is_bare_answer, AnswerClass, Verdict, ANSWER_RECORD,
};
use crate::stt::SttRequest;
use crate::turn::answer_gate::{AnswerGate, GateAction, WENT_ON_MS};
use crate::turn::ingest::{IngestControl, IngestEvent};
use crate::turn::TurnConfig;

/// How often a pending gate is polled.
const POLL: Duration = Duration::from_millis(20);
/// The segment id of a running transcript of the greeting (never a caller turn's).
pub(super) const GREETING_SEGMENT: u64 = u64::MAX;
/// Greeting transcripts decoding at once (the local recogniser's pool holds two); a greeting
/// offered while they run is skipped: the next one, 250 ms on, has more words anyway.
const GREETING_DECODES: usize = 2;

/// After a person verdict: what may still show a machine — a beep within the watch, or a
/// voicemail's or screener's words in the first caller turn when it went on at once (or in
/// the turn after a bare "Hello?" that did).
#[derive(Debug, Clone, Copy)]
pub(super) struct LateWatch {
    /// A caller turn starting by then (call ms) went on without hearing the agent: its words
    /// are read for a machine's. [`WENT_ON_MS`] after the verdict, or after a bare answer that
    /// went on too; `None` once a turn has been read.
    went_on_by_ms: Option<u64>,
    /// Tones are looked for until then; `None` once the watch is over.
    beep_until_ms: Option<u64>,
}

/// What showed a machine after a person verdict.
enum LateSign<'a> {
    /// A voicemail's beep.
    Beep,
    /// A voicemail's or a screener's words in a caller turn that ended at `last_voice_ms`.
    Words { text: &'a str, last_voice_ms: u64 },
}

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
            st.gate = None;
            let watch_ms = self
                .config
                .answer_gate
                .as_ref()
                .map(|g| g.late_voicemail_ms);
            match (&action, watch_ms) {
                // Tones are still looked for: a short voicemail taken for a person beeps.
                (GateAction::Answered(_), Some(watch_ms)) if !st.after_all => {
                    st.late = Some(LateWatch {
                        went_on_by_ms: Some(now + WENT_ON_MS),
                        beep_until_ms: Some(now + watch_ms),
                    });
                }
                _ => self.stop_tone_detection().await,
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
                st.person_verdict_ms = Some(now);
                // After a screener found late, the conversation has started already: the
                // person hears its opening again.
                let event = if st.after_all {
                    ConversationEvent::PutThrough
                } else {
                    ConversationEvent::CallAnswered
                };
                self.deliver(st, event, jobs).await;
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
    /// After a person verdict: a beep within the watch shows a voicemail after all. Tones
    /// stop being looked for once the watch is over.
    pub(super) async fn late_beep(&mut self, st: &mut State, ev: &IngestEvent, jobs: &Jobs) {
        let Some(until_ms) = st.late.as_mut().and_then(|w| w.beep_until_ms) else {
            return;
        };
        let beep = match ev {
            IngestEvent::ToneDetected { onset_ms, .. } if *onset_ms <= until_ms => Some(*onset_ms),
            _ => None,
        };
        if beep.is_none() && self.clock.now_ms() <= until_ms {
            return;
        }
        if let Some(watch) = st.late.as_mut() {
            watch.beep_until_ms = None;
        }
        match beep {
            Some(at_ms) => {
                let reason = "beep after the person verdict";
                let class = AnswerClass::Voicemail;
                self.machine_after_all(st, class, reason, at_ms, LateSign::Beep, jobs)
                    .await;
            }
            None => self.stop_tone_detection().await,
        }
    }

    /// After a person verdict: the first caller turn, when it started at once (the greeting
    /// went on without hearing the agent) and says a voicemail's words ("… leave a message")
    /// or a screener's ("… say your name and why you're calling"), shows a machine after all,
    /// however long it ran. After a bare "Hello?" that went on at once, so does the turn
    /// after it, when it too starts at once ("Hello? … Hello? … Ha, gotcha, leave a message").
    /// True when it did (the turn is not the conversation's).
    pub(super) async fn late_words(
        &mut self,
        st: &mut State,
        text: &str,
        turn: &EndedTurn,
        jobs: &Jobs,
    ) -> bool {
        let Some(watch) = st.late.as_mut() else {
            return false;
        };
        if watch
            .went_on_by_ms
            .take()
            .is_none_or(|by| turn.onset_ms > by)
        {
            return false;
        }
        let Some((class, cue)) = after_all_cue(text) else {
            if is_bare_answer(text) {
                // "Hello? … Hello? …": a greeting that may go on with a machine's words.
                watch.went_on_by_ms = Some(turn.last_voice_ms + WENT_ON_MS);
            }
            return false;
        };
        let reason = format!(
            "{} words after the person verdict, cue \"{cue}\"",
            class.name()
        );
        let at_ms = self.clock.now_ms();
        let sign = LateSign::Words {
            text,
            last_voice_ms: turn.last_voice_ms,
        };
        self.machine_after_all(st, class, &reason, at_ms, sign, jobs)
            .await;
        true
    }

    /// A call taken for a person is a machine after all: whatever the agent was saying stops,
    /// and a gate carries out the new verdict — a voicemail's message once the greeting has
    /// ended (at once after a beep), a screener's answer, after which a person coming on is
    /// put through to the conversation's opening again. The answer record says so.
    async fn machine_after_all(
        &mut self,
        st: &mut State,
        class: AnswerClass,
        reason: &str,
        at_ms: u64,
        sign: LateSign<'_>,
        jobs: &Jobs,
    ) {
        let Some(config) = self.config.answer_gate.clone() else {
            return;
        };
        st.late = None;
        if st.hangup.is_some() || st.ended.is_some() || st.listening.is_some() {
            self.stop_tone_detection().await;
            return;
        }
        tracing::info!(
            at_ms,
            reason,
            class = class.name(),
            "A machine after all: the agent stops its opening and answers the machine"
        );
        st.turn += 1;
        st.barge_in = None;
        st.after_all = true;
        self.flush(st).await;
        let verdict = Verdict {
            class,
            reason: reason.to_string(),
            at_ms,
            machine_at_ms: Some(at_ms),
        };
        let (heard, last_voice_ms, beep) = match sign {
            LateSign::Beep => ("", None, true),
            LateSign::Words {
                text,
                last_voice_ms,
            } => (text, Some(last_voice_ms), false),
        };
        record(st, &verdict, heard.to_string());
        st.gate = Some(AnswerGate::after_all(
            config,
            verdict,
            heard,
            last_voice_ms,
            beep,
        ));
        self.gate_tick(st, jobs).await;
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

/// Leaves the verdict, and what the callee said before it, in the call report; a verdict that
/// corrects an earlier one (a machine after all) keeps the call's first as `first_verdict`.
fn record(st: &mut State, v: &Verdict, heard: String) {
    tracing::info!(class = v.class.name(), reason = %v.reason, at_ms = v.at_ms, "Answer classified");
    let mut detail = json!({ "class": v.class.name(), "reason": v.reason, "at_ms": v.at_ms,
                             "machine_at_ms": v.machine_at_ms, "heard": heard });
    let records = &mut st.report.records;
    if let Some(i) = records.iter().position(|r| r.kind == ANSWER_RECORD) {
        let earlier = records.remove(i).detail;
        detail["first_verdict"] = match earlier.get("first_verdict") {
            Some(first) => first.clone(),
            None => json!({ "class": earlier["class"], "reason": earlier["reason"],
                            "at_ms": earlier["at_ms"], "heard": earlier["heard"] }),
        };
    }
    records.push(CallRecord {
        kind: ANSWER_RECORD.into(),
        detail,
    });
}
