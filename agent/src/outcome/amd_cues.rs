//! The phrase model of answer detection: what the words of a greeting say about who answered.
//!
//! Each machine class has weighted phrases, matched word by word in the normalised transcript
//! (lower case, punctuation spaced out); `*` in a phrase stands for up to three words. A phrase
//! counts once; a class's evidence is the sum of its phrases' weights. Weights:
//! - 3: the class's own business ("leave a message", "say your name", "press", "main menu");
//! - 2: typical of the class but said by others too ("not available", "after the tone");
//! - 1: shared openings ("you've reached", "thank you for calling"), which only break ties.
//!
//! No single phrase decides against another class's evidence: "the person you're calling is
//! not available" (voicemail) and "the person you're calling uses call screening" share their
//! start, "you have reached the main line" is a menu, and a receptionist's "thank you for
//! calling Acme, this is Lee" is a person. The forms whisper tiny.en hears on 8 kHz lines are
//! included ("you reach" for "you've reached"). A person's words are listed too: they extend
//! the patience before a greeting counts as a machine's.

use super::AnswerClass;

#[path = "amd_keys.rs"]
mod keys;
pub(super) use keys::{asks_for_key_in, connect_key_in};
use keys::{
    extension_to_call, keyless_press, lone_press, press_open, voicemail_escape, ESCAPE_PHRASES,
    KEY_PHRASES,
};

/// Evidence a class needs to be decided while the greeting still plays, and its lead over
/// every other class.
const DECISIVE: u32 = 3;
const LEAD: u32 = 2;
/// Evidence that shows a machine (its class may still be open).
pub(super) const MACHINE: u32 = 2;

const VOICEMAIL: &[(u32, &str)] = &[
    (3, "leave me a message"),
    (3, "leave us a message"),
    (3, "leave your message"),
    (3, "leave a * message"),
    (3, "leave your name"),
    (3, "leave your number"),
    (3, "leave a voice"),
    (3, "record your message"),
    (3, "voicemail"),
    (3, "voice mail"),
    (3, "mailbox"),
    (3, "mail box"),
    (3, "leave your details"),
    (3, "voice messaging"),
    (3, "come to the phone"),
    (3, "get to the phone"),
    (3, "take your call"),
    (3, "get back to you"),
    (3, "return your call"),
    (3, "missed your call"),
    (3, "sorry i missed"),
    (3, "not been set up"),
    (3, "wireless customer"),
    (3, "finished recording"),
    (3, "know what to do"),
    (3, "out of the office"),
    (3, "answer phone"),
    (3, "answerphone"),
    (3, "answering machine"),
    (3, "leave one"),
    (3, "leave me one"),
    (2, "call you back"),
    (2, "not available"),
    (2, "unavailable"),
    (2, "can't answer"),
    (2, "can't take"),
    (2, "cannot take"),
    (2, "away from"),
    (2, "not here"),
    (2, "not around"),
    (2, "i'm not in"),
    (2, "after the tone"),
    (2, "after the beep"),
    (2, "after the beat"),
    (2, "at the tone"),
    (2, "at the beep"),
    (2, "has been forwarded"),
    (2, "the number you"),
    (2, "is full"),
    (2, "send me a text"),
    (2, "text me"),
    (2, "try again later"),
    (2, "get back to"),
    (2, "on leave until"),
    (2, "be closed"),
    (2, "are closed"),
    // An absence's notice and who to call instead ("… with limited access to email; for
    // anything urgent, contact my colleague Ben on extension 224").
    (2, "limited access"),
    (2, "my colleague"),
    (2, "on extension"),
    (1, "on leave"),
    (1, "on vacation"),
    (1, "on holiday"),
    (1, "you've reached"),
    (1, "you have reached"),
    (1, "you reached"),
    (1, "you reach"),
    (1, "you've got"),
    (1, "you got"),
    (1, "right now"),
    (1, "at the moment"),
    // Where the owner is instead ("I'm currently overseas", "I am currently on the road"): 7
    // of 7 greetings that say it are voicemails'.
    (1, "i'm currently"),
    (1, "i am currently"),
    (1, "message"),
];

const SCREENING: &[(u32, &str)] = &[
    (3, "screening"),
    (3, "screened"),
    (3, "screens"),
    (3, "screener"),
    (3, "identify themselves"),
    (3, "protected line"),
    (3, "accepts calls"),
    (3, "assistant"),
    (3, "state your * name"),
    (3, "say your * name"),
    (3, "record your name"),
    (3, "tell me your name"),
    (3, "name and * reason"),
    (3, "name and why"),
    (3, "reason for * call"),
    (3, "reason for calling"),
    (3, "reason you're calling"),
    (3, "purpose of * call"),
    (3, "why you're calling"),
    (3, "why you are calling"),
    (3, "what you're calling about"),
    (3, "what you are calling about"),
    (3, "what this is about"),
    (3, "what this call is about"),
    (3, "what * regarding"),
    (3, "put * through"),
    (3, "who may i say"),
    (3, "are you a real person"),
    (3, "are you a person"),
    (3, "are you human"),
    (3, "are you a human"),
    (3, "spam protection"),
    (3, "transcribe"),
    (3, "digital receptionist"),
    (3, "try to connect"),
    (3, "see if * available"),
    (3, "call assist"),
    (3, "unidentified"),
    (3, "unknown callers"),
    (3, "does not accept"),
    (3, "doesn't accept"),
    (3, "unmask"),
    (3, "answering for"),
    (3, "call filter"),
    (3, "call blocking"),
    (3, "is protected by"),
    (3, "doesn't take calls"),
    (3, "does not take calls"),
    (3, "virtual receptionist"),
    (3, "ai receptionist"),
    (3, "i receptionist"),
    (3, "eye receptionist"),
    (3, "ireceptionist"),
    (3, "called blocking"),
    (3, "privacy manager"),
    (3, "screen line"),
    (3, "checking who"),
    (3, "announce yourself"),
    (3, "before your call goes through"),
    (3, "speak your name"),
    (2, "please announce"),
    (2, "identify yourself"),
    (2, "who you are"),
    (2, "who is calling and"),
    (2, "who's calling and"),
    (2, "connect you"),
    (2, "to be connected"),
    (2, "get a copy"),
    (2, "this conversation"),
    (2, "go ahead and"),
    (2, "for this line"),
    (2, "i'm the virtual assistant"),
    (2, "let them know"),
    (2, "have your name"),
    (1, "is using"),
    (1, "uses"),
    (1, "before i"),
];

const IVR: &[(u32, &str)] = &[
    (3, "press"),
    (3, "menu"),
    (3, "options"),
    (3, "para espanol"),
    (3, "para español"),
    (3, "listen carefully"),
    (3, "representative"),
    (3, "representatives"),
    (3, "next available"),
    (3, "in the order"),
    (3, "extension"),
    (3, "directory"),
    (3, "person or department"),
    (3, "important to us"),
    (3, "please hold"),
    (3, "continue to hold"),
    (3, "recorded for"),
    (3, "monitored"),
    (3, "training purposes"),
    (3, "quality assurance"),
    (3, "you can say"),
    // "In a few words, tell me …", "Using a few words …": only speech menus ask it (22 lines
    // of 22 across the corpora), and they ask for "the reason for your call" as screeners do.
    (3, "few words"),
    (3, "party's"),
    (3, "dial it now"),
    (3, "pound"),
    (3, "queue"),
    (3, "wait time"),
    (3, "wait times"),
    (3, "call volume"),
    (3, "call volumes"),
    (3, "for training"),
    (3, "quality purposes"),
    (3, "call back during"),
    (3, "virtual assistant"),
    (3, "virtual agent"),
    (2, "the * virtual assistant"),
    (3, "for holding"),
    (3, "automated attendant"),
    (3, "auto attendant"),
    (2, "opening hours"),
    (2, "open hours"),
    (3, "keypad"),
    (3, "say or enter"),
    (3, "number ready"),
    (2, "enter your"),
    (2, "digit"),
    (2, "followed by"),
    (2, "hash"),
    (2, "your patience"),
    (2, "your patients"),
    (2, "select"),
    (2, "option"),
    (2, "is important"),
    (2, "may be recorded"),
    (2, "stay on the line"),
    (2, "remain on the line"),
    (2, "stay in the line"),
    (2, "to speak with"),
    (2, "to speak to"),
    (2, "to hear"),
    (2, "if you know"),
    (1, "customer service"),
    (1, "customer services"),
    (1, "customer care"),
    (1, "operator"),
    (2, "emergency"),
    (2, "business hours"),
    (2, "office hours"),
    // A notice before the menu ("Please note our offices will be closed Friday …").
    (2, "please note"),
    (2, "be closed"),
    (2, "are closed"),
    // An office's hours are a menu's words and an after-hours voicemail's ("Our office is
    // open nine till five … please leave your name").
    (2, "offices are open"),
    (2, "office is open"),
    (2, "our hours"),
    (2, "main line"),
    (1, "agent"),
    (1, "welcome to"),
    (1, "thank you for calling"),
    (1, "thanks for calling"),
    (1, "thank you for ringing"),
    (1, "thanks for ringing"),
    (1, "dial"),
    (1, "sales"),
    (1, "billing"),
    (1, "support"),
    (1, "account"),
    (1, "you've reached"),
    (1, "you have reached"),
    (1, "please listen"),
];

/// Openings only a machine plays: a call is not a person's once one is heard, whatever the
/// class turns out to be, unless a person names themselves in it ([`names_the_speaker`]) or
/// says the one thing a person means by it ("you've reached me at a bad time").
const MACHINE_OPENINGS: &[&str] = &[
    "you've reached",
    "you have reached",
    "the person you're calling",
    "the person you are calling",
    "the person you are trying",
    "the person you're trying",
    "the party you",
    "the number you",
    "number you have called",
    "number you've called",
    "number you have dialed",
    "number you have dialled",
    "mobile you have called",
    "mobile you've called",
    "mobile you are calling",
    "mobile you're calling",
    "the subscriber",
    "the customer you",
    "your call has been",
    "your call is being",
    "this call is being",
    "this call may be",
    "this is an automated",
    "this is an automatic",
];

/// Words of a person answering; so is a speaker's name with "speaking" ([`names_the_speaker`]),
/// where "you're speaking with Mia, the clinic's AI receptionist" is not.
const HUMAN: &[&str] = &[
    "hello",
    "who's this",
    "who is this",
    "who's calling",
    "who is calling",
    "yeah",
    "what do you want",
    "can i help",
    "may i help",
    "good morning",
    "good afternoon",
    "good evening",
    "sorry",
    "hang on",
    "can you hear me",
    "speak up",
    "what's up",
    "who's that",
    "what can i do for you",
    "hanging up",
    "who is it",
    "bad time",
];

/// What a person asks or offers on answering and a recording does not: it outweighs machine
/// words that people say too ("… just about to call you back… wait, who is this?", "you've
/// reached the front desk, this is Marcus, how can I help?", "she's not available right now,
/// can I take a message?"), not a phrase of a class's own business.
const PERSON_ASKS: &[&str] = &[
    "who is this",
    "who's this",
    "who am i speaking",
    "who is speaking",
    "who's speaking",
    "how can i help",
    "how may i help",
    "what can i do for you",
    "take a message",
    "can i take",
    "who is it",
];

/// An offer to the caller ("My mommy's not here … do you want to talk to my grandma?"), said by
/// 3 people across the corpora and by no machine: it outweighs machine words as
/// [`PERSON_ASKS`] do, but is not one of a person's words, which hold a greeting as a person's
/// for good: those are what a person says on answering ("Hello?", "Who's this?").
const PERSON_OFFERS: &[&str] = &["do you want"];

/// A menu's phrases that screeners say too ("Hi, I'm Ava, the virtual assistant. Before I
/// connect you, can I get your name?", "Please hold on … this number uses call screening"):
/// they decide a menu only when the greeting has ended.
pub(super) const SCREENERS_TOO: &[&str] = &[
    "virtual assistant",
    "the * virtual assistant",
    "please hold",
];

/// Classes in the order that wins a tie: a screener wrongly taken for a voicemail box gets a
/// message it will not pass on; the reverse only costs a spoken reply.
const CLASSES: [(AnswerClass, &[(u32, &str)]); 3] = [
    (AnswerClass::Screening, SCREENING),
    (AnswerClass::Ivr, IVR),
    (AnswerClass::Voicemail, VOICEMAIL),
];

/// What one transcript says about the machine classes.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Evidence {
    /// Score and strongest phrase per class, in [`CLASSES`] order.
    classes: Vec<(AnswerClass, u32, &'static str)>,
    /// A lone "press" whose purpose is not heard yet ([`press_open`]).
    press_open: bool,
    /// Keys offered for choices ("for sales, press one; for service, press two").
    choices: bool,
}

impl Evidence {
    /// Weighs a normalised transcript.
    pub fn of(text: &str) -> Self {
        let words = unmentioned(text);
        // A privacy manager's lone "press one to be connected" is a screener's demand, not a
        // menu's choice; so are the keys a greeting asks for after its notice that it screens.
        let privacy = asks_for_key_in(&words);
        let screens = privacy || SCREENING_NOTICES.iter().any(|p| contains(&words, p));
        // Keys offered for choices ("for appointments, press one; for results, press two") are
        // a menu's, whatever else it says ("cancer screening").
        let choices = !screens
            && words.iter().filter(|w| **w == "press").count() >= 2
            && lone_press(&words).is_none();
        // A voicemail's one key ("press zero to reach reception", "press pound for more
        // options") is its way past the greeting, not a menu's choice.
        let escape = !screens && !choices && voicemail_escape(&words);
        let keyless = keyless_press(&words);
        let owner_screens = owner_screens(&words);
        let classes = CLASSES
            .iter()
            .map(|(class, phrases)| {
                let mut score = 0;
                let mut best: (u32, &'static str) = (0, "");
                if privacy && *class == AnswerClass::Screening {
                    (score, best) = (3, (3, PRIVACY_CUE));
                }
                if choices && *class == AnswerClass::Ivr {
                    (score, best) = (3, (3, CHOICES_CUE));
                }
                for (weight, phrase) in phrases.iter() {
                    let discounted = *class == AnswerClass::Ivr
                        && ((screens || escape) && KEY_PHRASES.contains(phrase)
                            || escape && ESCAPE_PHRASES.contains(phrase)
                            || keyless && *phrase == "press")
                        || *phrase == "extension" && extension_to_call(&words)
                        || *phrase == "screening" && owner_screens;
                    if !discounted && contains(&words, phrase) {
                        score += weight;
                        if *weight > best.0 {
                            best = (*weight, phrase);
                        }
                    }
                }
                (*class, score, best.1)
            })
            .collect();
        Self {
            classes,
            press_open: !privacy && press_open(&words),
            choices,
        }
    }

    /// The class with the most evidence (ties: [`CLASSES`] order), with its strongest phrase.
    pub fn leading(&self) -> Option<(AnswerClass, u32, &'static str)> {
        self.classes
            .iter()
            .copied()
            .filter(|c| c.1 > 0)
            .fold(None, |best, c| match best {
                Some(b) if b.1 >= c.1 => Some(b),
                _ => Some(c),
            })
    }

    /// The leading class if its evidence is strong and well ahead of every other's: it can be
    /// decided before the greeting ends.
    pub fn decisive(&self) -> Option<(AnswerClass, &'static str)> {
        let (class, score, cue) = self.leading()?;
        let runner_up = self
            .classes
            .iter()
            .filter(|c| c.0 != class)
            .map(|c| c.1)
            .max()
            .unwrap_or(0);
        // Weaker phrases adding up ("emergency" … "dial" in a doctor's voicemail) wait for the
        // rest of the greeting: only a phrase that one class alone says decides early.
        (weight(class, cue) >= DECISIVE && score >= DECISIVE && score >= runner_up + LEAD)
            .then_some((class, cue))
    }

    /// Whether the greeting's one "press" is among its last words, what it is for not heard
    /// yet ([`keys::PRESS_PURPOSE_WORDS`]).
    pub fn press_open(&self) -> bool {
        self.press_open
    }

    /// The most evidence any machine class has.
    pub fn strongest(&self) -> u32 {
        self.classes.iter().map(|c| c.1).max().unwrap_or(0)
    }

    /// The weight of the strongest phrase heard, of any class.
    fn strongest_phrase(&self) -> u32 {
        self.classes
            .iter()
            .map(|(class, _, cue)| weight(*class, cue))
            .max()
            .unwrap_or(0)
    }
}

/// The weight of one of a class's phrases.
fn weight(class: AnswerClass, cue: &str) -> u32 {
    if (class, cue) == (AnswerClass::Screening, PRIVACY_CUE)
        || (class, cue) == (AnswerClass::Ivr, CHOICES_CUE)
    {
        return DECISIVE;
    }
    CLASSES
        .iter()
        .filter(|(c, _)| *c == class)
        .flat_map(|(_, phrases)| phrases.iter())
        .find(|(_, phrase)| *phrase == cue)
        .map_or(0, |(w, _)| *w)
}

/// A person's words or question in a normalised transcript that shows no machine.
pub(super) fn human_words(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    (HUMAN.iter().chain(PERSON_ASKS).any(|p| contains(&words, p)) || names_the_speaker(&words))
        && !machine_words(text, &Evidence::of(text))
}

/// Whether a normalised transcript (weighed as `evidence`) shows a machine: words of some
/// weight or a machine-only opening, unless a person's question outweighs them.
pub(super) fn machine_words(text: &str, evidence: &Evidence) -> bool {
    (evidence.strongest() >= MACHINE || machine_opening(text)) && !person_asks(text, evidence)
}

/// Whether a normalised transcript holds a person's question or offer ([`PERSON_ASKS`],
/// [`PERSON_OFFERS`]) and no phrase of a machine class's own business.
pub(super) fn person_asks(text: &str, evidence: &Evidence) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    evidence.strongest_phrase() < DECISIVE
        && PERSON_ASKS
            .iter()
            .chain(PERSON_OFFERS)
            .any(|p| contains(&words, p))
}

/// Whether a greeting taken for a voicemail's, over with no beep, was a menu's after all: read
/// whole, it offers keys for choices ("… can't come to the phone right now. To book an
/// appointment, press one. For billing, press two."). A voicemail offers one key at most, its
/// way past itself ("press pound for more options").
pub(super) fn menu_after_all(text: &str) -> bool {
    Evidence::of(text).choices
}

/// What a person asks that no voicemail greeting ends on: [`PERSON_ASKS`], [`PERSON_OFFERS`]
/// and this.
const LAST_WORDS_OF_A_PERSON: &[&str] = &["what's up"];

/// Whether a greeting taken for a voicemail's, over with no beep, was a person's after all:
/// after its last machine phrase (of some weight, or a machine-only opening) it asks what a
/// person asks ("Leave a message after the beep… ha, just kidding, it's me, what's up?"). A
/// voicemail ends on its own business ("… leave a message", "… after the tone"), not on a
/// question to the caller; a person pretending to be one ends on theirs.
pub(super) fn person_after_all(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    let unmentioned = unmentioned(text);
    let last_machine_word = CLASSES
        .iter()
        .flat_map(|(_, phrases)| phrases.iter())
        .filter(|(weight, _)| *weight >= MACHINE)
        .map(|(_, phrase)| *phrase)
        .chain(MACHINE_OPENINGS.iter().copied())
        .filter_map(|phrase| last_end(&unmentioned, phrase))
        .max()
        .unwrap_or(0);
    let tail = &words[last_machine_word..];
    PERSON_ASKS
        .iter()
        .chain(PERSON_OFFERS)
        .chain(LAST_WORDS_OF_A_PERSON)
        .any(|p| contains(tail, p))
}

/// Whether a normalised transcript holds a machine-only opening.
pub(super) fn machine_opening(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    MACHINE_OPENINGS.iter().any(|p| contains(&words, p))
        && !names_the_speaker(&words)
        && !contains(&words, "reached me")
}

/// "Jenny speaking": a person answering a business line ("you've reached accounts, Jenny
/// speaking", or "you're through to …" as the decoder may hear it). A recording does not
/// speak; "you're speaking to the voicemail of …" is not this, nor a partial reading's "you
/// were speaking" before its "… with Mia, the clinic's AI receptionist".
fn names_the_speaker(words: &[&str]) -> bool {
    (0..words.len()).any(|i| {
        words[i] == "speaking"
            && !matches!(words.get(i + 1), Some(&"to" | &"with"))
            && !(i > 0 && NOT_A_NAME.contains(&words[i - 1]))
    })
}

/// Words before "speaking" that say who is spoken to, not who speaks.
const NOT_A_NAME: &[&str] = &["you're", "you", "are", "were", "is", "am", "i'm"];

/// Words after "thought" or "let" that a person uses to say what they took the call for, or
/// nearly left it to ("sorry, I thought you were the voicemail", "I thought you'd go to
/// voicemail", "I nearly let that go to voicemail"): a mention of a machine, not a machine's
/// words.
const MENTIONED_WORDS: usize = 4;

/// The verbs of a mention and what follows them in it ([`MENTIONED_WORDS`]).
const MENTION_VERBS: &[&str] = &["thought", "let"];
const MENTION_SUBJECTS: &[&str] = &[
    "it", "it's", "it'd", "you", "you're", "you'd", "this", "that", "i", "i'd",
];

/// Where a call goes that a person nearly left unanswered ("I thought it would go to
/// voicemail", "it almost went to voice mail"): the two words after one of these and "to" are
/// a mention when they name a machine ([`MACHINE_NAMES`]). A greeting sends the caller on
/// with other words ("you have been forwarded to", "at the tone").
const GONE_TO: &[&str] = &["go", "went", "gone"];
const MACHINE_NAMES: &[&str] = &["voicemail", "voice", "answerphone", "machine"];

/// A normalised transcript's words, those a person mentions a machine with blanked out (each
/// in its place).
fn unmentioned(text: &str) -> Vec<&str> {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    for i in 0..words.len() {
        if let Some(end) = machine_destination(&words, i) {
            words[i + 2..end].fill("_");
        }
    }
    let mut i = 0;
    while i + 1 < words.len() {
        if MENTION_VERBS.contains(&words[i]) && MENTION_SUBJECTS.contains(&words[i + 1]) {
            let end = (i + 1 + MENTIONED_WORDS).min(words.len());
            words[i + 1..end].fill("_");
            i = end;
        } else {
            i += 1;
        }
    }
    words
}

/// The end of the two words after "go to" (or "went to", "gone to") at `i`, when they name a
/// machine.
fn machine_destination(words: &[&str], i: usize) -> Option<usize> {
    let end = (i + 4).min(words.len());
    let named = words.get(i + 2..end)?;
    (GONE_TO.contains(&words[i])
        && words[i + 1] == "to"
        && named.iter().any(|w| MACHINE_NAMES.contains(w)))
    .then_some(end)
}

/// The cue a privacy manager's key request reports.
const PRIVACY_CUE: &str = "press a key to be connected";
/// The cue of a menu's keys for choices.
const CHOICES_CUE: &str = "press … press";

/// A screener's notice that it screens calls: the keys it then asks for ("… protected by call
/// screening. Please enter your phone number followed by the pound key") are its way through,
/// not a menu's choices. A clinic menu's "cancer screening" is no such notice.
const SCREENING_NOTICES: &[&str] = &[
    "call screening",
    "screening service",
    "screens calls",
    "call filter",
    "call blocking",
    "called blocking",
    "privacy manager",
    "is protected by",
    "unidentified",
    "unknown callers",
    "unknown numbers",
    "spam protection",
];

/// Who says they screen their own calls ("I'm screening my calls", "we are either screening
/// your call or out having fun"; "were" as the decoder hears "we're"): the owner of a voicemail
/// box (4 of 4 such greetings across the corpora), where a screener screens for someone ("I'm
/// screening calls for Callum").
const OWNERS: &[&str] = &["i", "i'm", "we", "we're", "were"];

/// Whether a greeting's owner says they screen their calls ([`OWNERS`], up to three words
/// before): not a screener's notice.
fn owner_screens(words: &[&str]) -> bool {
    words.iter().enumerate().any(|(i, w)| {
        *w == "screening"
            && words[i.saturating_sub(3)..i]
                .iter()
                .any(|w| OWNERS.contains(w))
            && !words[i + 1..].iter().take(3).any(|w| *w == "for")
    })
}

/// Whether `phrase` occurs in `words`, `*` standing for up to three words.
fn contains(words: &[&str], phrase: &str) -> bool {
    let pattern: Vec<&str> = phrase.split_whitespace().collect();
    (0..words.len()).any(|start| match_len(&words[start..], &pattern).is_some())
}

/// Where the last occurrence of `phrase` in `words` ends.
fn last_end(words: &[&str], phrase: &str) -> Option<usize> {
    let pattern: Vec<&str> = phrase.split_whitespace().collect();
    (0..words.len())
        .rev()
        .find_map(|start| match_len(&words[start..], &pattern).map(|len| start + len))
}

/// How many of `words`, from the first, `pattern` matches (`*` taking as few as it can).
fn match_len(words: &[&str], pattern: &[&str]) -> Option<usize> {
    match pattern.split_first() {
        None => Some(0),
        Some((&"*", rest)) => (0..=3.min(words.len()))
            .find_map(|skip| match_len(&words[skip..], rest).map(|len| skip + len)),
        Some((want, rest)) => words
            .split_first()
            .filter(|(w, _)| *w == want)
            .and_then(|(_, tail)| match_len(tail, rest).map(|len| 1 + len)),
    }
}
