//! The call-start answer gate for outbound calls: between answer and the conversation's first
//! line, it watches the callee's audio (ingest's VAD edges and utterances, and transcripts of
//! them) with [`AnswerClassifier`] and decides what the controller does next: start the
//! conversation (a person), wait for the end of a voicemail greeting and then let the
//! conversation leave its message (never talking over the greeting; a greeting that ends with
//! no beep on a person's question was a person's after all, one that offered keys for choices a
//! menu's), answer a screening assistant with the caller's name and reason, or hang up on an
//! IVR, silence or a fax.
//!
//! Opt-in per call ([`super::TurnConfig::answer_gate`], set for outbound jobs). Pure: the
//! controller feeds it events with call times and polls it; `controller/gate.rs` carries out
//! its [`GateAction`]s.

use dialogue::script::{IvrAction, IvrRule};

use super::ingest::IngestEvent;
use crate::outcome::{
    menu_after_all, person_after_all, AmdConfig, AnswerClass, AnswerClassifier, Verdict,
};

/// Speech starting this soon after a person verdict went on without hearing the agent: a
/// greeting's next sentence, not a person's answer to the opening.
pub const WENT_ON_MS: u64 = 1_500;

/// How long a privacy manager's key is waited for once "press" is heard without it.
const KEY_WAIT_MS: u64 = 2_000;

/// Answer-gate settings of an outbound call.
#[derive(Debug, Clone, PartialEq)]
pub struct GateConfig {
    pub amd: AmdConfig,
    /// What to tell a call-screening assistant (the caller's name and reason). `None` hangs
    /// up on screening instead.
    pub screening_reply: Option<String>,
    /// Silence after a voicemail greeting that counts as its end when no beep was heard.
    pub voicemail_silence_ms: u64,
    /// Longest wait for a voicemail greeting to end; the message is left anyway after it.
    pub voicemail_max_wait_ms: u64,
    /// After the screening reply, how long to wait for a person before giving up.
    pub screening_wait_ms: u64,
    /// Ways through a phone menu to a person (the script's `ivr`); none: hang up on menus.
    pub ivr: Vec<IvrRule>,
    /// How long a menu may talk without offering one of the `ivr` ways.
    pub ivr_listen_ms: u64,
    /// Menus navigated and screeners answered at most on one call (a menu leading to another
    /// menu, a privacy manager's key and then its name request).
    pub ivr_max_steps: u32,
    /// With an LLM configured: how long its verdict on a doubtful machine is waited for.
    pub llm_deadline_ms: u64,
    /// After a person verdict, how long a beep still shows a voicemail after all (a short
    /// greeting taken for a person's "Hello?"): the agent stops and leaves its message. A
    /// voicemail's or a screener's words in the first caller turn do too when it began within
    /// [`WENT_ON_MS`] of the verdict: the message then follows the greeting, or the screener
    /// gets its answer.
    pub late_voicemail_ms: u64,
}

impl GateConfig {
    /// The gate of an outbound call running `script`: its menu rules and its person pause.
    pub fn for_script(script: &dialogue::Script, screening_reply: String) -> Self {
        let mut gate = Self {
            screening_reply: Some(screening_reply),
            ivr: script.ivr.clone(),
            ..Self::default()
        };
        if let Some(pause) = script.person_pause {
            gate.amd.human_silence_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX);
        }
        gate
    }
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            amd: AmdConfig::default(),
            screening_reply: None,
            voicemail_silence_ms: 1_500,
            voicemail_max_wait_ms: 30_000,
            screening_wait_ms: 20_000,
            ivr: Vec::new(),
            ivr_listen_ms: 15_000,
            ivr_max_steps: 3,
            llm_deadline_ms: 1_500,
            late_voicemail_ms: 10_000,
        }
    }
}

/// What the controller should do now.
#[derive(Debug, Clone, PartialEq)]
pub enum GateAction {
    /// Nothing yet; poll again later.
    Wait,
    /// A person answered: start the conversation.
    Answered(Verdict),
    /// The voicemail greeting is over (beep or silence): leave the message.
    LeaveVoicemail(Verdict),
    /// Say this (to a screening assistant or a speech menu), then keep listening for a person.
    Say(String),
    /// Press these keys (a phone menu's way to a person), then keep listening.
    SendDtmf(String),
    /// Ask the LLM who said this ([`crate::outcome::amd_llm`]) and report back with
    /// [`AnswerGate::on_llm_verdict`].
    AskLlm(String),
    /// Nobody to talk to: end the call with this disposition and reason.
    HangUp {
        verdict: Verdict,
        disposition: &'static str,
        reason: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Classifying,
    /// The verdict was reached outside the gate ([`AnswerGate::after_all`]): carried out at
    /// the next poll.
    Decided,
    /// A machine whose class the words left in doubt, `since`: the LLM was asked.
    AwaitingLlm {
        since: u64,
    },
    /// A voicemail: waiting for the beep or the end of the greeting, since `since`.
    AwaitingGreetingEnd {
        since: u64,
    },
    /// The screening reply, a key or a menu choice was given at `since`: a fresh classifier
    /// listens for a person. `menus`: menus navigated and screeners answered so far.
    AwaitingPerson {
        since: u64,
        menus: u32,
    },
    /// A phone menu answered: listening since `since` for the way to a person it offers.
    Navigating {
        since: u64,
        menus: u32,
    },
    Done,
}

/// Per-call gate state.
#[derive(Debug)]
pub struct AnswerGate {
    config: GateConfig,
    classifier: AnswerClassifier,
    /// Time 0 of `classifier` in call ms (moves when screening restarts it).
    base_ms: u64,
    phase: Phase,
    speaking: bool,
    last_voice_ms: Option<u64>,
    beep_heard: bool,
    verdict: Option<Verdict>,
    /// What the callee said while the gate listened (their "Hello?", or the greeting).
    heard: String,
    /// The menu prompt last acted on: the menu finishing it is not a new menu.
    menu_acted_on: Option<String>,
    /// The screening reply was given: a screener talking on is not asked again.
    replied: bool,
    /// When a privacy manager's key request was first heard without its key.
    key_asked_at: Option<u64>,
    /// An LLM can be asked about doubtful machines.
    llm: bool,
    /// Its answer, once in (`None` inside: it named no class or failed).
    llm_verdict: Option<Option<AnswerClass>>,
}

impl AnswerGate {
    pub fn new(config: GateConfig) -> Self {
        Self {
            classifier: AnswerClassifier::new(config.amd.clone()),
            config,
            base_ms: 0,
            phase: Phase::Classifying,
            speaking: false,
            last_voice_ms: None,
            beep_heard: false,
            verdict: None,
            heard: String::new(),
            menu_acted_on: None,
            replied: false,
            key_asked_at: None,
            llm: false,
            llm_verdict: None,
        }
    }

    /// Lets the gate ask an LLM about machines whose words leave their class in doubt.
    pub fn with_llm(mut self) -> Self {
        self.llm = true;
        self
    }

    /// The LLM's answer to [`GateAction::AskLlm`] (`None`: it failed or named no class).
    pub fn on_llm_verdict(&mut self, class: Option<AnswerClass>) {
        self.llm_verdict = Some(class);
    }

    /// The first verdict (what answered the call).
    pub fn verdict(&self) -> Option<&Verdict> {
        self.verdict.as_ref()
    }

    /// The callee's words heard while the gate listened.
    pub fn heard(&self) -> &str {
        &self.heard
    }

    /// A call first taken for a person that turned out a machine after all (`v`: a voicemail
    /// or a screener, found in what it said, `heard`): the gate carries `v` out at the next
    /// poll — a voicemail's message once its greeting has ended (the voice last heard at
    /// `last_voice_ms`, or the beep already heard), a screener's name and reason or key.
    pub fn after_all(
        config: GateConfig,
        v: Verdict,
        heard: &str,
        last_voice_ms: Option<u64>,
        beep_heard: bool,
    ) -> Self {
        Self {
            phase: Phase::Decided,
            heard: heard.trim().to_string(),
            last_voice_ms,
            beep_heard,
            verdict: Some(v),
            ..Self::new(config)
        }
    }

    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Observes one ingest event at call time `now_ms`.
    pub fn on_ingest(&mut self, ev: &IngestEvent, now_ms: u64) {
        let base = self.base_ms;
        match ev {
            IngestEvent::SpeechStarted { onset_ms } => {
                self.speaking = true;
                self.classifier
                    .speech_started(onset_ms.saturating_sub(base));
            }
            IngestEvent::Resumed => {
                self.speaking = true;
                self.classifier.speech_started(now_ms.saturating_sub(base));
            }
            IngestEvent::Paused { last_voice_ms, .. }
            | IngestEvent::TurnEnded { last_voice_ms, .. } => {
                self.speaking = false;
                self.last_voice_ms = Some(*last_voice_ms);
                self.classifier
                    .speech_stopped(last_voice_ms.saturating_sub(base));
            }
            IngestEvent::ToneDetected { onset_ms, .. } => {
                self.beep_heard = true;
                self.classifier.tone(onset_ms.saturating_sub(base));
            }
            IngestEvent::SpeechSustained { .. }
            | IngestEvent::Greeting { .. }
            | IngestEvent::InputEnded => {}
        }
    }

    /// A transcript of the callee's speech up to `now_ms` is being decoded.
    pub fn on_decode_started(&mut self, now_ms: u64) {
        self.classifier
            .decode_started(now_ms.saturating_sub(self.base_ms));
    }

    /// A transcript of the callee's speech so far (partial or final).
    pub fn on_transcript(&mut self, text: &str, heard_to_ms: u64, now_ms: u64) {
        self.heard = text.trim().to_string();
        let base = self.base_ms;
        self.classifier.transcript(
            text,
            heard_to_ms.saturating_sub(base),
            now_ms.saturating_sub(base),
        );
    }

    /// Decides what to do at call time `now_ms`.
    pub fn poll(&mut self, now_ms: u64) -> GateAction {
        match self.phase {
            Phase::Done => GateAction::Wait,
            Phase::Decided => match self.verdict.clone() {
                Some(v) => self.act_on(v, now_ms),
                None => GateAction::Wait,
            },
            Phase::Classifying => {
                let Some(v) = self.classified(now_ms) else {
                    return GateAction::Wait;
                };
                self.verdict = Some(v.clone());
                if self.llm && self.classifier.doubtful() && !self.heard.is_empty() {
                    self.phase = Phase::AwaitingLlm { since: now_ms };
                    return GateAction::AskLlm(self.heard.clone());
                }
                self.act_on(v, now_ms)
            }
            Phase::AwaitingLlm { since } => {
                let Some(v) = self.verdict.clone() else {
                    return GateAction::Wait;
                };
                match self.llm_verdict.take() {
                    Some(answer) => {
                        let v = settled_by_llm(v, answer, now_ms);
                        self.verdict = Some(v.clone());
                        self.act_on(v, now_ms)
                    }
                    None if now_ms.saturating_sub(since) >= self.config.llm_deadline_ms => {
                        self.act_on(v, now_ms)
                    }
                    None => GateAction::Wait,
                }
            }
            Phase::AwaitingGreetingEnd { since } => {
                let silent_for = self
                    .last_voice_ms
                    .map_or(u64::MAX, |l| now_ms.saturating_sub(l));
                let quiet_end = !self.beep_heard
                    && !self.speaking
                    && silent_for >= self.config.voicemail_silence_ms;
                let ended = self.beep_heard
                    || quiet_end
                    || now_ms.saturating_sub(since) >= self.config.voicemail_max_wait_ms;
                match (ended, self.verdict.clone()) {
                    // No beep, and the last words were a person's question: a person who
                    // played at being a voicemail, or one whose words were misheard as one.
                    (true, Some(v)) if quiet_end && person_after_all(&self.heard) => {
                        let v = Verdict {
                            class: AnswerClass::Human,
                            reason: format!(
                                "a person after all: no beep, a person's question after the \
                                 voicemail's words ({})",
                                v.reason
                            ),
                            at_ms: now_ms,
                            machine_at_ms: None,
                        };
                        self.finish(GateAction::Answered(v))
                    }
                    // No beep, and the greeting offered keys for choices: a menu that opened
                    // like a voicemail ("… can't come to the phone. To book, press one.").
                    (true, Some(v)) if quiet_end && menu_after_all(&self.heard) => {
                        let v = Verdict {
                            class: AnswerClass::Ivr,
                            reason: format!(
                                "a menu after all: no beep, keys offered for choices ({})",
                                v.reason
                            ),
                            at_ms: now_ms,
                            ..v
                        };
                        self.verdict = Some(v.clone());
                        self.navigate(v, now_ms, 0)
                    }
                    (true, Some(v)) => self.finish(GateAction::LeaveVoicemail(v)),
                    _ => GateAction::Wait,
                }
            }
            Phase::AwaitingPerson { since, menus } => {
                let first = self.verdict.clone();
                match self.classified(now_ms) {
                    Some(v) if v.class == AnswerClass::Human => {
                        let after = first.map_or("a machine", |f| f.class.name());
                        let v = Verdict {
                            reason: format!("a person after {after}: {}", v.reason),
                            ..v
                        };
                        self.finish(GateAction::Answered(v))
                    }
                    Some(v) if v.class == AnswerClass::Voicemail => {
                        self.phase = Phase::AwaitingGreetingEnd { since: now_ms };
                        self.poll(now_ms)
                    }
                    Some(v)
                        if v.class == AnswerClass::Screening
                            && menus < self.config.ivr_max_steps
                            && self.screener_asks() =>
                    {
                        self.screen(v, now_ms, menus + 1)
                    }
                    Some(v) if v.class == AnswerClass::Screening => {
                        // Nothing new asked (the prompt acted on, still playing; the name
                        // already given): listen on.
                        self.restart(now_ms, menus);
                        self.phase = Phase::AwaitingPerson { since, menus };
                        GateAction::Wait
                    }
                    Some(v) if v.class == AnswerClass::Ivr && menus > 0 => {
                        if self.menu_acted_on.as_deref() == Some(self.heard.as_str()) {
                            // The same prompt, still playing after the key: listen on.
                            self.restart(now_ms, menus);
                            self.phase = Phase::AwaitingPerson { since, menus };
                            return GateAction::Wait;
                        }
                        self.navigate(v, now_ms, menus)
                    }
                    _ if now_ms.saturating_sub(since) >= self.config.screening_wait_ms => {
                        let v = first.unwrap_or(Verdict {
                            class: AnswerClass::Screening,
                            reason: "screening".into(),
                            at_ms: now_ms,
                            machine_at_ms: Some(now_ms),
                        });
                        let reason = if v.class == AnswerClass::Ivr {
                            "ivr"
                        } else {
                            "screening"
                        };
                        self.hang_up(v, "screened", reason)
                    }
                    _ => GateAction::Wait,
                }
            }
            Phase::Navigating { since, menus } => {
                let way = self.config.ivr.iter().find(|r| r.matches(&self.heard));
                match way.map(|r| r.action.clone()) {
                    Some(action) => {
                        self.menu_acted_on = Some(self.heard.clone());
                        self.restart(now_ms, menus + 1);
                        match action {
                            IvrAction::Dtmf(keys) => GateAction::SendDtmf(keys),
                            IvrAction::Say(words) => GateAction::Say(words),
                        }
                    }
                    None if now_ms.saturating_sub(since) >= self.config.ivr_listen_ms => {
                        let v = self.verdict.clone().unwrap_or(Verdict {
                            class: AnswerClass::Ivr,
                            reason: "ivr".into(),
                            at_ms: now_ms,
                            machine_at_ms: Some(now_ms),
                        });
                        self.hang_up(v, "screened", "ivr")
                    }
                    None => GateAction::Wait,
                }
            }
        }
    }

    /// Carries out the first verdict.
    fn act_on(&mut self, v: Verdict, now_ms: u64) -> GateAction {
        match v.class {
            AnswerClass::Human => self.finish(GateAction::Answered(v)),
            AnswerClass::Voicemail => {
                self.phase = Phase::AwaitingGreetingEnd { since: now_ms };
                self.poll(now_ms)
            }
            AnswerClass::Screening => self.screen(v, now_ms, 1),
            AnswerClass::Ivr => self.navigate(v, now_ms, 0),
            AnswerClass::SilenceOrFax => self.hang_up(v, "no_answer", "silence_or_fax"),
        }
    }

    /// The classifier's verdict, in call time.
    fn classified(&mut self, now_ms: u64) -> Option<Verdict> {
        let base = self.base_ms;
        self.classifier
            .poll(now_ms.saturating_sub(base))
            .cloned()
            .map(|mut v| {
                v.at_ms += base;
                v.machine_at_ms = v.machine_at_ms.map(|m| m + base);
                v
            })
    }

    /// The key a privacy manager asks for in what was heard ("press one to be connected").
    fn screener_key(&self) -> Option<char> {
        crate::outcome::connect_key(&self.heard)
    }

    /// A screener heard after an answer asks something new: a key not pressed yet (or still
    /// being said), or the name and reason not given yet.
    fn screener_asks(&self) -> bool {
        match self.screener_key() {
            Some(_) => self.menu_acted_on.as_deref() != Some(self.heard.as_str()),
            None => !self.replied || crate::outcome::asks_for_key(&self.heard),
        }
    }

    /// A screener's demand, as step `steps`: press the key it asks for; wait for the key while
    /// its "press…" has been heard without one; else give the name and reason (once).
    fn screen(&mut self, v: Verdict, now_ms: u64, steps: u32) -> GateAction {
        if let Some(key) = self.screener_key() {
            return self.press(key, now_ms, steps);
        }
        let key_coming = crate::outcome::asks_for_key(&self.heard)
            && now_ms.saturating_sub(*self.key_asked_at.get_or_insert(now_ms)) < KEY_WAIT_MS;
        match (key_coming, self.replied) {
            (true, _) => GateAction::Wait,
            (false, false) => self.answer_screener(v, now_ms, steps),
            // Asked for a key that never came, the name already given: listen on.
            (false, true) => {
                self.restart(now_ms, steps);
                GateAction::Wait
            }
        }
    }

    /// Presses the key a privacy manager asked for (whatever the script says: it is the way
    /// to the person), then listens for the person.
    fn press(&mut self, key: char, now_ms: u64, steps: u32) -> GateAction {
        self.menu_acted_on = Some(self.heard.clone());
        self.restart(now_ms, steps);
        GateAction::SendDtmf(key.to_string())
    }

    /// Gives a screening assistant the script's name and reason, or hangs up without one.
    fn answer_screener(&mut self, v: Verdict, now_ms: u64, steps: u32) -> GateAction {
        match self.config.screening_reply.clone() {
            Some(text) => {
                self.replied = true;
                self.restart(now_ms, steps);
                GateAction::Say(text)
            }
            None => self.hang_up(v, "screened", "screening"),
        }
    }

    /// A phone menu: follow the script's way through it, if it has one and the menus have
    /// not gone round too often. A lone "press one to be connected" taken for a menu is
    /// pressed like a privacy manager's.
    fn navigate(&mut self, v: Verdict, now_ms: u64, menus: u32) -> GateAction {
        if let Some(key) = self
            .screener_key()
            .filter(|_| menus < self.config.ivr_max_steps)
        {
            return self.press(key, now_ms, menus + 1);
        }
        if self.config.ivr.is_empty() || menus >= self.config.ivr_max_steps {
            return self.hang_up(v, "screened", "ivr");
        }
        self.phase = Phase::Navigating {
            since: now_ms,
            menus,
        };
        self.poll(now_ms)
    }

    /// After the screening reply or a menu choice: listen afresh for a person.
    fn restart(&mut self, now_ms: u64, menus: u32) {
        self.base_ms = now_ms;
        let amd = AmdConfig {
            // A person coming on after screening does not stay silent for long.
            no_speech_ms: self.config.screening_wait_ms,
            max_wait_ms: self.config.screening_wait_ms,
            ..self.config.amd.clone()
        };
        self.classifier = AnswerClassifier::new(amd);
        self.heard.clear();
        self.key_asked_at = None;
        self.phase = Phase::AwaitingPerson {
            since: now_ms,
            menus,
        };
    }

    fn finish(&mut self, action: GateAction) -> GateAction {
        self.phase = Phase::Done;
        action
    }

    fn hang_up(
        &mut self,
        verdict: Verdict,
        disposition: &'static str,
        reason: &'static str,
    ) -> GateAction {
        self.finish(GateAction::HangUp {
            verdict,
            disposition,
            reason,
        })
    }
}

/// The phrase model's doubtful verdict, replaced by the class the LLM named (a person or a
/// machine; never silence, which it cannot hear).
fn settled_by_llm(v: Verdict, answer: Option<AnswerClass>, now_ms: u64) -> Verdict {
    match answer {
        Some(class) if class != AnswerClass::SilenceOrFax && class != v.class => Verdict {
            class,
            reason: format!(
                "llm verdict (words alone: {}, {})",
                v.class.name(),
                v.reason
            ),
            at_ms: now_ms,
            machine_at_ms: class.is_machine().then_some(v.machine_at_ms).flatten(),
        },
        _ => v,
    }
}

#[cfg(test)]
#[path = "answer_gate_tests.rs"]
mod tests;
