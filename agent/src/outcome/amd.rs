//! Answer classification for outbound calls ("answering-machine detection"): who or what
//! picked up — a person, a voicemail greeting, a call-screening assistant, an IVR menu, or
//! nothing but silence or a fax tone — from the first seconds of the callee's audio.
//!
//! Runs on the receive path right after answer, before the conversation starts: the turn
//! engine's answer gate (`turn::answer_gate`) feeds it VAD segment edges, beeps and partial
//! transcripts, and holds the agent's first line until the verdict. Pure: time comes in with
//! every input, and [`AnswerClassifier::poll`] is called whenever time moves.
//!
//! Signals, strongest first:
//! - a steady tone (400–2000 Hz, ≥ 150 ms, `audio::BeepDetector`) after speech is a voicemail
//!   beep; a tone before any speech is a fax or modem;
//! - the greeting's words, weighed per class (`amd_cues.rs`): "leave a message", "say your name
//!   and why you're calling", "press 1 for…"; strong, unopposed evidence decides at once, the
//!   rest when the greeting ends;
//! - cadence: a person says a short "Hello?" and waits; a machine's greeting runs on;
//! - nothing voiced for seconds: silence (or a dead line).

use std::collections::HashMap;

use serde::Serialize;

#[path = "amd_cues.rs"]
mod cues;
#[path = "amd_short.rs"]
mod short;
use cues::{
    asks_for_key_in, connect_key_in, human_words, machine_words, person_asks, Evidence, MACHINE,
    SCREENERS_TOO,
};
use short::{bare_answer, self_introduction};

/// The decoder's prompt for a greeting: preceding text in the style of what answers a call
/// (a person, a voicemail box, a screener, a menu). Whisper follows the vocabulary of natural
/// preceding text: tiny.en on 8 kHz lines hears "press one" instead of "present one" and
/// "state your name" instead of "pay your name" with it (greetings read right in full: 115 vs
/// 106 of 144 on the fresh corpus, 104 vs 98 of 112 held out; no person heard as a machine
/// either way). Not for a greeting's first 1.5 s: on a word or two the decoder may answer
/// with the prompt's own words ("This is Priya" heard as "press").
const GREETING_PROMPT: &str = "Hello? Hi, this is Dana speaking. Hi, you've reached the \
    voicemail of Sam, please leave a message after the tone. Please state your name and the \
    reason for your call. For sales, press one.";
/// Greeting audio from which partials are decoded with [`GREETING_PROMPT`].
const PROMPT_FROM_MS: u64 = 1_500;

/// The prompt for decoding the first `audio_ms` of a greeting, if any.
pub fn greeting_prompt(audio_ms: u64) -> Option<&'static str> {
    (audio_ms >= PROMPT_FROM_MS).then_some(GREETING_PROMPT)
}

/// What answered the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum AnswerClass {
    Human,
    Voicemail,
    /// A call-screening assistant asking for the caller's name and reason.
    Screening,
    /// An automated menu ("press 1 for…").
    Ivr,
    SilenceOrFax,
}

impl AnswerClass {
    pub const ALL: [AnswerClass; 5] = [
        AnswerClass::Human,
        AnswerClass::Voicemail,
        AnswerClass::Screening,
        AnswerClass::Ivr,
        AnswerClass::SilenceOrFax,
    ];

    /// Whether a machine (not a person) answered.
    pub fn is_machine(self) -> bool {
        self != AnswerClass::Human
    }

    pub fn name(self) -> &'static str {
        match self {
            AnswerClass::Human => "human",
            AnswerClass::Voicemail => "voicemail",
            AnswerClass::Screening => "screening",
            AnswerClass::Ivr => "ivr",
            AnswerClass::SilenceOrFax => "silence_or_fax",
        }
    }
}

/// The classifier's decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub class: AnswerClass,
    /// Which signal decided, for logs and the call record.
    pub reason: String,
    /// Call ms (since answer) at which the verdict was reached.
    pub at_ms: u64,
    /// For a machine: call ms at which the classifier first knew it was not a person (its
    /// greeting ran on), which may be before its class was known.
    pub machine_at_ms: Option<u64>,
}

impl Verdict {
    /// When it was known whether a person answered: what holds the agent's first line.
    pub fn person_or_machine_ms(&self) -> u64 {
        self.machine_at_ms.map_or(self.at_ms, |m| m.min(self.at_ms))
    }
}

/// Thresholds of the classifier (tuned on the tune half of the bench corpus).
#[derive(Debug, Clone, PartialEq)]
pub struct AmdConfig {
    /// A first utterance up to this long, followed by silence, is a person's "Hello?".
    pub human_max_speech_ms: u64,
    /// Silence after a short greeting that confirms a person waiting for an answer, once the
    /// words of the whole greeting are in and none of them is a machine's.
    pub human_silence_ms: u64,
    /// The same silence after a bare answer ("Hello?", "Yeah?", "Who's this?"), its words all
    /// in: nothing in it to wait on. A voicemail's first words before a pause are a name ("Hi,
    /// it's Liam…") or its owner's greeting; a screener that opens with "Hello?" and pauses is
    /// caught after all by its words ([`after_all_cue`]).
    pub hello_silence_ms: u64,
    /// The same silence after a greeting that is only its speaker's name ("Hi, this is
    /// Grace.", "Declan here."): a voicemail's usual first sentence, paused after before it
    /// goes on ("… I can't take your call"), and a person's less often. Never shorter than
    /// [`Self::human_silence_ms`].
    pub intro_silence_ms: u64,
    /// Silence that ends a longer greeting (a machine's, or a person's that ran on) when no
    /// beep came, and a person's pause after words that sound like a machine's ("Thank you
    /// for calling …"). Its own setting, so that a campaign that waits longer for a person
    /// ([`Self::human_silence_ms`]) does not also wait longer for every machine to end.
    pub greeting_end_silence_ms: u64,
    /// How much longer a pause (a person's, or the end of a machine's greeting) may wait for
    /// the words of the whole greeting (the decoder lags the voice) before the cadence alone
    /// decides. A recording's first sentence ("Welcome to CarePlus Pharmacy.") is followed by
    /// a pause as long as a person's after "Hello?"; its words tell them apart.
    pub human_words_wait_ms: u64,
    /// The same wait while a decode that reaches the end of the voice is under way
    /// ([`AnswerClassifier::decode_started`]): its words are coming, only late (a loaded
    /// machine decodes a greeting's last words 2–4 s after the voice stops).
    pub human_words_max_wait_ms: u64,
    /// Speech beyond this without a person's words is held as a machine's greeting; when it
    /// ends, its words tell the class if any of them leans to one, else it was a person who
    /// talked on (doubtful). With a person's words heard, length decides nothing: only a
    /// machine's words or a beep do.
    pub machine_speech_ms: u64,
    /// Voice this long before a person-length pause, with none of a person's words heard, is
    /// held as a machine (the agent stays silent) until a machine's words, a beep or
    /// [`Self::machine_speech_ms`] confirm it; a person's words decoded later, or the voice
    /// stopping short of that length without them, make it a person. As long as
    /// [`Self::human_max_speech_ms`] (counted while the VAD still holds the segment open,
    /// ~300 ms hangover): a greeting this long has all but left a person's quick "Hello?"
    /// behind (only a person whose 1.3 s of words hold none of a person's waits the longer
    /// pause), and most machines are known by it. From 2.0 s to 1.8 s it made them known
    /// 0.12–0.16 s sooner (the median to person or machine on fresh15 2.74 → 2.58 s, on
    /// fresh16 2.64 → 2.52 s), held a voicemail that paused after its first 1.8 s ("The person
    /// you are calling …"), and made one person of 192 wait 1.4 s longer ("Aloha, this is
    /// Keoni.", misheard). From 1.8 s to 1.6 s: fresh16's median 2.56 → 2.44 s, no verdict
    /// changed, and two of its 96 people waited 2.5 s longer ("Kia ora, this is Aroha …").
    pub machine_run_ms: u64,
    /// No voice at all for this long: silence or fax.
    pub no_speech_ms: u64,
    /// Give up and call it a person after this long (the agent then speaks).
    pub max_wait_ms: u64,
    /// A machine's class is decided when its greeting ends (all its words heard); one that
    /// talks on this long gets the class its words favour so far.
    pub machine_class_max_ms: u64,
}

impl Default for AmdConfig {
    fn default() -> Self {
        Self {
            human_max_speech_ms: 1_600,
            human_silence_ms: 700,
            hello_silence_ms: 500,
            intro_silence_ms: 1_200,
            greeting_end_silence_ms: 2_100,
            human_words_wait_ms: 1_000,
            human_words_max_wait_ms: 3_000,
            machine_speech_ms: 4_000,
            machine_run_ms: 1_600,
            no_speech_ms: 4_000,
            max_wait_ms: 8_000,
            machine_class_max_ms: 20_000,
        }
    }
}

impl AmdConfig {
    /// Sets one threshold by its field name (`human_silence_ms=500`): how `bench amd --set`
    /// tries a value without a rebuild.
    ///
    /// # Errors
    /// An unknown name, listing the known ones.
    pub fn set(&mut self, name: &str, ms: u64) -> Result<(), String> {
        let field = match name {
            "human_max_speech_ms" => &mut self.human_max_speech_ms,
            "human_silence_ms" => &mut self.human_silence_ms,
            "hello_silence_ms" => &mut self.hello_silence_ms,
            "intro_silence_ms" => &mut self.intro_silence_ms,
            "greeting_end_silence_ms" => &mut self.greeting_end_silence_ms,
            "human_words_wait_ms" => &mut self.human_words_wait_ms,
            "human_words_max_wait_ms" => &mut self.human_words_max_wait_ms,
            "machine_speech_ms" => &mut self.machine_speech_ms,
            "machine_run_ms" => &mut self.machine_run_ms,
            "no_speech_ms" => &mut self.no_speech_ms,
            "max_wait_ms" => &mut self.max_wait_ms,
            "machine_class_max_ms" => &mut self.machine_class_max_ms,
            _ => {
                return Err(format!(
                    "no answer-detection setting \"{name}\" (known: human_max_speech_ms, \
                     human_silence_ms, hello_silence_ms, intro_silence_ms, \
                     greeting_end_silence_ms, human_words_wait_ms, human_words_max_wait_ms, \
                     machine_speech_ms, machine_run_ms, no_speech_ms, max_wait_ms, \
                     machine_class_max_ms)"
                ))
            }
        };
        *field = ms;
        Ok(())
    }
}

/// What showed a machine before its class was known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MachineSign {
    /// An unbroken run of voice longer than a person's first words: held, not decided.
    RunOn,
    /// A greeting longer than people talk before waiting ([`AmdConfig::machine_speech_ms`]).
    Length,
    /// A machine's words or opening.
    Words,
}

/// Streaming answer classifier for one call.
#[derive(Debug, Clone)]
pub struct AnswerClassifier {
    config: AmdConfig,
    /// Voiced time so far (closed segments).
    speech_ms: u64,
    /// Onset of the segment in progress.
    speaking_since: Option<u64>,
    /// End of the last voiced segment.
    last_voice_ms: Option<u64>,
    segments: u32,
    transcript: String,
    /// The audio the transcript covers: the greeting up to this ms.
    heard_to_ms: u64,
    /// The audio the furthest-reaching decode under way covers.
    decoding_to_ms: Option<u64>,
    /// What the transcript says about the machine classes.
    evidence: Evidence,
    /// The class the previous reading showed decisively, not yet kept by a second one.
    unconfirmed: Option<AnswerClass>,
    /// The previous reading held a machine's words.
    machine_words_read: bool,
    /// Two readings in a row held a machine's words.
    machine_words_kept: bool,
    /// When, and by what, the greeting showed a machine (class not yet known).
    machine: Option<(u64, MachineSign)>,
    /// A person's words were in some transcript so far.
    person_heard: bool,
    /// A machine whose class the words did not settle (see [`Self::doubtful`]).
    doubtful: bool,
    verdict: Option<Verdict>,
}

impl AnswerClassifier {
    pub fn new(config: AmdConfig) -> Self {
        Self {
            config,
            speech_ms: 0,
            speaking_since: None,
            last_voice_ms: None,
            segments: 0,
            transcript: String::new(),
            heard_to_ms: 0,
            decoding_to_ms: None,
            evidence: Evidence::default(),
            unconfirmed: None,
            machine_words_read: false,
            machine_words_kept: false,
            machine: None,
            person_heard: false,
            doubtful: false,
            verdict: None,
        }
    }

    pub fn verdict(&self) -> Option<&Verdict> {
        self.verdict.as_ref()
    }

    /// The verdict came from weak words or none: a machine whose class its words did not
    /// settle, or a person inferred from a greeting that ran on and then stopped short of a
    /// machine's length. What an LLM, when one is configured, is asked to settle.
    pub fn doubtful(&self) -> bool {
        self.doubtful
    }

    /// The VAD confirmed voice starting at `at_ms`.
    pub fn speech_started(&mut self, at_ms: u64) {
        if self.speaking_since.is_none() {
            self.speaking_since = Some(at_ms);
            self.segments += 1;
        }
    }

    /// The voice stopped; `last_voice_ms` is its last voiced moment.
    pub fn speech_stopped(&mut self, last_voice_ms: u64) {
        if let Some(onset) = self.speaking_since.take() {
            self.speech_ms += last_voice_ms.saturating_sub(onset);
            self.last_voice_ms = Some(last_voice_ms);
        }
    }

    /// A steady tone was heard (`audio::BeepEvent::Started`) at `at_ms`.
    pub fn tone(&mut self, at_ms: u64) {
        if self.verdict.is_some() {
            return;
        }
        if self.segments == 0 {
            self.decide(AnswerClass::SilenceOrFax, "tone before any speech", at_ms);
            return;
        }
        // A screener may beep too ("say your name after the tone"); a menu does not (a
        // doctor's voicemail says "emergency" and "dial" before its beep).
        match self.evidence.leading() {
            Some((class, score, cue)) if class == AnswerClass::Screening && score >= MACHINE => {
                let reason = format!("tone after the greeting, cue \"{cue}\"");
                self.decide(class, &reason, at_ms);
            }
            _ => self.decide(AnswerClass::Voicemail, "beep after the greeting", at_ms),
        }
    }

    /// A decode of everything said up to `heard_to_ms` (when it started) is under way: its
    /// [`Self::transcript`] follows.
    pub fn decode_started(&mut self, heard_to_ms: u64) {
        self.decoding_to_ms = self.decoding_to_ms.max(Some(heard_to_ms));
    }

    /// A (partial or final) transcript of everything said up to `heard_to_ms` (when its
    /// decode started), available at `at_ms`.
    pub fn transcript(&mut self, text: &str, heard_to_ms: u64, at_ms: u64) {
        self.transcript = reading(normalise(text), &self.transcript);
        self.heard_to_ms = heard_to_ms;
        if self.decoding_to_ms.is_some_and(|to| to <= heard_to_ms) {
            self.decoding_to_ms = None;
        }
        self.evidence = Evidence::of(&self.transcript);
        if self.verdict.is_some() {
            return;
        }
        // A partial of a second of audio can hallucinate a whole phrase ("Please listen" read
        // as "Please leave a message", "Good morning" as "Not morning, listen carefully"):
        // a decisive phrase counts once the next reading keeps it, or once the reading covers
        // the whole greeting.
        let whole = self.speaking_since.is_none()
            && self.last_voice_ms.is_some_and(|last| heard_to_ms >= last);
        // A lone "press one" still playing may be a privacy manager's "… to be connected". "I'm
        // Ava, the virtual assistant." may be a screener's, whose request for a name follows
        // after a pause: the greeting's end decides.
        let decisive = self.evidence.decisive().filter(|(class, cue)| {
            *class != AnswerClass::Ivr
                || !(SCREENERS_TOO.contains(cue) || !whole && self.evidence.press_open())
        });
        let kept = decisive.is_some_and(|(class, _)| whole || self.unconfirmed == Some(class));
        self.unconfirmed = decisive.map(|(class, _)| class);
        let machine_words = machine_words(&self.transcript, &self.evidence);
        let person_asks = person_asks(&self.transcript, &self.evidence);
        // Two readings in a row with a machine's words: no misreading of the moment.
        self.machine_words_kept |= machine_words && self.machine_words_read;
        self.machine_words_read = machine_words;
        match decisive {
            Some((class, cue)) if kept => {
                let reason = format!("transcript cue \"{cue}\"");
                self.decide(class, &reason, at_ms);
            }
            _ if machine_words => {
                // Not a person's greeting, whatever its class turns out to be.
                let at = self.machine.map_or(at_ms, |(at, _)| at);
                self.machine = Some((at, MachineSign::Words));
            }
            // The machine's words were a misreading the latest reading dropped (once kept by
            // two readings, it is the latest reading that wavers), or a person's that their
            // question shows ("… call you back… wait, who is this?").
            _ if self.sign() == Some(MachineSign::Words)
                && (!self.machine_words_kept || person_asks) =>
            {
                self.machine = None;
            }
            _ => {}
        }
    }

    /// Lets time pass: decides on cadence and timeouts. Returns the verdict once reached.
    pub fn poll(&mut self, now_ms: u64) -> Option<&Verdict> {
        if self.verdict.is_none() {
            self.decide_on_time(now_ms);
        }
        self.verdict.as_ref()
    }

    /// What showed a machine so far, if anything did.
    fn sign(&self) -> Option<MachineSign> {
        self.machine.map(|(_, sign)| sign)
    }

    /// Voiced time including the segment in progress.
    fn voiced_ms(&self, now_ms: u64) -> u64 {
        self.speech_ms + self.speaking_since.map_or(0, |s| now_ms.saturating_sub(s))
    }

    fn decide_on_time(&mut self, now: u64) {
        if self.segments == 0 {
            if now >= self.config.no_speech_ms {
                self.decide(AnswerClass::SilenceOrFax, "no speech", now);
            }
            return;
        }
        // Sticky: a later partial that mishears the person's "Hello" does not unsay it.
        self.person_heard |= human_words(&self.transcript);
        let person = self.person_heard;
        if person && matches!(self.sign(), Some(MachineSign::RunOn | MachineSign::Length)) {
            // Length alone never outweighs a person's words, even decoded after it: people
            // who answer "Dr. Ortiz's office, how can I help you?" or "Sorry, I'm driving,
            // you're on speaker, what's up?" talk on too (fresh3's first run lost 14 of 44
            // people to length, fresh4's 12 of 88 to words decoded after it). Only a
            // machine's words or a beep make such a greeting a machine's.
            self.machine = None;
        }
        self.note_run_on(now, person);
        let long = !person && self.voiced_ms(now) >= self.config.machine_speech_ms;
        if long && matches!(self.sign(), None | Some(MachineSign::RunOn)) {
            // A machine's length: held since the run-on, if that came first.
            let at = self.machine.map_or(now, |(at, _)| at);
            self.machine = Some((at, MachineSign::Length));
        }
        if self.speaking_since.is_none() {
            self.decide_on_pause(now, person);
        }
        if self.verdict.is_some() {
            return;
        }
        // A known machine holds the agent anyway: its class waits for the rest of its words.
        match self.machine {
            Some(_) if now >= self.config.machine_class_max_ms => {
                self.decide_machine("greeting still playing", now);
            }
            None if now >= self.config.max_wait_ms => {
                self.decide(AnswerClass::Human, "no decision in time", now);
            }
            _ => {}
        }
    }

    /// "The greeting runs on": more voice than a person says before waiting for an answer
    /// (every pause so far too short for that), with none of a person's words heard, is a
    /// machine, whose class the cues still tell.
    fn note_run_on(&mut self, now: u64, person: bool) {
        let limit = self.config.machine_run_ms;
        if self.machine.is_none() && !person && self.voiced_ms(now) >= limit {
            self.machine = Some((now, MachineSign::RunOn));
        }
    }

    /// The voice has paused: a person waiting for an answer, or the end of a machine's
    /// greeting that had no beep.
    fn decide_on_pause(&mut self, now: u64, person: bool) {
        let Some(last) = self.last_voice_ms else {
            return;
        };
        let c = &self.config;
        let silent = now.saturating_sub(last);
        let voiced = self.speech_ms;
        let short = voiced <= c.human_max_speech_ms || person;
        // Every pause decides once the whole greeting's words are in, or have had time to be:
        // a person's words decoded late ("… actually wait, who is this?") still count.
        let words_wait = if self.heard_to_ms >= last {
            0
        } else if self.decoding_to_ms.is_some_and(|to| to >= last) {
            c.human_words_max_wait_ms
        } else {
            c.human_words_wait_ms
        };
        // A person's pause is longer after words that sound like a machine's ("Thank you for
        // calling …").
        let person_pause = words_wait
            + if self.evidence.strongest() > 0 {
                c.greeting_end_silence_ms
            } else if words_wait == 0 && bare_answer(&self.transcript) {
                c.hello_silence_ms
            } else if self_introduction(&self.transcript) {
                c.intro_silence_ms.max(c.human_silence_ms)
            } else {
                c.human_silence_ms
            };
        if self.machine.is_none() && short && silent >= person_pause {
            self.decide(AnswerClass::Human, "short greeting, then waiting", now);
        } else if silent >= c.greeting_end_silence_ms + words_wait {
            // A longer greeting that stopped without a beep is a machine's when its words
            // showed one, or when it ran past a machine's length with words that lean to one
            // ("welcome to …"). Length with no such word is not enough: people who talk on
            // run long too (the independent corpora lost 5–16 people a run to it, and not one
            // voicemail was found that way: they had their words or their beep). A person
            // taken for a machine is the costlier mistake, and a beep after the verdict still
            // turns the call to the voicemail path.
            let leaning = self.evidence.strongest() > 0;
            let machine = match self.sign() {
                Some(MachineSign::Words) => true,
                Some(MachineSign::Length) => leaning,
                Some(MachineSign::RunOn) | None => false,
            };
            if machine {
                self.decide_machine("greeting ended", now);
            } else {
                // Held as a machine while it ran on: doubtful, an LLM may know better.
                self.doubtful = self.machine.is_some();
                self.decide(AnswerClass::Human, "greeting ended", now);
            }
        }
    }

    /// A machine's greeting is over (or has gone on too long): its class is the one its words
    /// favour, voicemail when they favour none.
    fn decide_machine(&mut self, why: &str, now: u64) {
        self.doubtful = self.verdict.is_none() && self.evidence.decisive().is_none();
        match self.evidence.leading() {
            Some((class, _, cue)) => {
                let reason = format!("{why}, cue \"{cue}\"");
                self.decide(class, &reason, now);
            }
            None => self.decide(AnswerClass::Voicemail, why, now),
        }
    }

    fn decide(&mut self, class: AnswerClass, reason: &str, at_ms: u64) {
        if self.verdict.is_some() {
            return;
        }
        let machine_at_ms = class
            .is_machine()
            .then(|| self.machine.map_or(at_ms, |(m, _)| m.min(at_ms)));
        self.verdict = Some(Verdict {
            class,
            reason: reason.to_string(),
            at_ms,
            machine_at_ms,
        });
    }
}

/// The machine class a transcript's words favour, when they show a machine at all.
pub fn words_class(text: &str) -> Option<AnswerClass> {
    let text = normalise(text);
    let evidence = Evidence::of(&text);
    let (class, _, _) = evidence.leading()?;
    (evidence.strongest() >= MACHINE && !person_asks(&text, &evidence)).then_some(class)
}

/// The phrase of a voicemail greeting ("leave a message") or of a screening assistant ("say
/// your name and why you're calling") a transcript shows clearly enough to decide on, with its
/// class: what shows, in speech that went on after a person verdict, a machine after all.
pub fn after_all_cue(text: &str) -> Option<(AnswerClass, &'static str)> {
    Evidence::of(&normalise(text))
        .decisive()
        .filter(|(class, _)| matches!(class, AnswerClass::Voicemail | AnswerClass::Screening))
}

/// Whether a transcript is a bare answer and nothing else ("Hello?", "Yeah, who's this?"): a
/// caller turn that went on at once after a person verdict and said only this leaves the watch
/// for a machine's words on, for the turn after it ("Hello? … Hello? … Ha, gotcha, this is my
/// voicemail, leave a message").
pub fn is_bare_answer(text: &str) -> bool {
    bare_answer(&normalise(text))
}

/// Whether a greeting taken for a voicemail's, its end heard with no beep, was a person's after
/// all: after its last machine phrase it asks what a person asks ("Leave a message after the
/// beep… ha, just kidding, it's me, what's up?"), which no voicemail greeting ends on.
pub fn person_after_all(text: &str) -> bool {
    cues::person_after_all(&normalise(text))
}

/// Whether a greeting taken for a voicemail's, its end heard with no beep, was a menu's after
/// all: it offered keys for choices ("To book an appointment, press one. For billing, press
/// two.").
pub fn menu_after_all(text: &str) -> bool {
    cues::menu_after_all(&normalise(text))
}

/// The key a privacy manager asks the caller to press to be put through, if the transcript
/// holds one: a lone "press" with its key and a connecting word ("connected", "robot") near it.
pub fn connect_key(text: &str) -> Option<char> {
    let text = normalise(text);
    connect_key_in(&text.split_whitespace().collect::<Vec<_>>())
}

/// Whether the transcript holds a privacy manager's key request, its key heard or not yet.
pub fn asks_for_key(text: &str) -> bool {
    let text = normalise(text);
    asks_for_key_in(&text.split_whitespace().collect::<Vec<_>>())
}

/// The machine class and phrase a transcript shows clearly enough to decide on, if any.
#[cfg(test)]
fn machine_cue(text: &str) -> Option<(AnswerClass, &'static str)> {
    Evidence::of(&normalise(text)).decisive()
}

/// What a normalised transcript reads, given the reading before it. A decoder loop is no
/// reading: tiny.en, prompted with a greeting's words, falls into them ("please leave your name
/// and please leave your name and please leave your name" for a menu's "Please listen
/// carefully"). But a loop that starts by reading again what the last reading read is the
/// greeting read to its end and then over and over ("hello the person you've rung uses call
/// screening hello the person you've rung …"): its first round is the reading.
fn reading(text: String, last: &str) -> String {
    if !looping(&text) {
        return text;
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let last: Vec<&str> = last.split_whitespace().take(3).collect();
    let round = (3..words.len())
        .find(|&k| words[k..].starts_with(&words[..3]))
        .map(|k| words[..k].join(" "));
    match round {
        Some(round) if last.len() == 3 && words.starts_with(&last) && !looping(&round) => round,
        _ => String::new(),
    }
}

/// Whether normalised words say one phrase (three words, two of them different) three times:
/// a decoder loop, not what anyone answering a call says.
fn looping(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut seen: HashMap<&[&str], u32> = HashMap::new();
    words
        .windows(3)
        .filter(|w| w[0] != w[1] || w[1] != w[2])
        .any(|w| {
            let n = seen.entry(w).or_default();
            *n += 1;
            *n >= 3
        })
}

/// Lower case, curly apostrophes straightened, punctuation other than apostrophes spaced out.
fn normalise(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| match c {
            '’' | '‘' => '\'',
            c if c.is_alphanumeric() || c == '\'' => c.to_ascii_lowercase(),
            _ => ' ',
        })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
#[path = "amd_person_tests.rs"]
mod person_tests;
#[cfg(test)]
#[path = "amd_tests.rs"]
mod tests;
#[cfg(test)]
#[path = "amd_words_tests.rs"]
mod words_tests;
