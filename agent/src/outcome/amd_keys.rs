//! A greeting's keys: what "press" asks for and where it leads — a menu's choices, a privacy
//! manager's way through to the person called, a voicemail's way past its greeting, an
//! extension to call.

use super::{contains, DECISIVE, VOICEMAIL};

/// Words that may stand between "press" and the key ("press the number five").
const KEY_FILLERS: &[&str] = &["the", "number", "digit", "key", "button"];

/// A menu's phrases about keys, which a privacy manager's key request says too.
pub(super) const KEY_PHRASES: &[&str] = &[
    "press",
    "pound",
    "hash",
    "digit",
    "keypad",
    "enter your",
    "followed by",
];

/// What a voicemail's key leads to besides the person ("press pound for more options").
pub(super) const ESCAPE_PHRASES: &[&str] = &["options", "option"];

/// Words right after a lone "press <key>" that make it a menu's way to the message ("press one
/// to leave a message"), not a voicemail's way past its greeting.
const MESSAGE_KEY_WORDS: &[&str] = &["leave", "message", "record", "voicemail"];

/// Whether a greeting with a voicemail's own phrase ("leave a detailed message", "record your
/// message") offers one key, for something other than the message: the voicemail's way past
/// itself ("if it's urgent, press zero to reach reception", "when you have finished
/// recording, press pound for more options").
pub(super) fn voicemail_escape(words: &[&str]) -> bool {
    let Some(at) = lone_press(words) else {
        return false;
    };
    let for_message = words[at + 1..]
        .iter()
        .take(4)
        .any(|w| MESSAGE_KEY_WORDS.contains(w));
    !for_message
        && VOICEMAIL
            .iter()
            .any(|(weight, phrase)| *weight >= DECISIVE && contains(words, phrase))
}

/// Phrases near a lone "press <key>" that make it a privacy manager's way through to the person
/// ("to reach this person, press five", "if you're a person, press pound", "press 5 to confirm
/// you are not an automated caller"; a menu's "to speak to a person" is no such way), besides
/// a word of "connect" that connects to the person called ([`connects_to_the_person`]).
const CONNECT_PHRASES: &[&str] = &[
    "robot",
    "human",
    "this person",
    "you're a person",
    "you are a person",
    "confirm you are",
    "confirm you're",
    "not an automated",
    "reach the person",
];

/// Where a privacy manager asks for a key to put the call through ("to be connected, press
/// one", "press 5 if you are not a robot"): its lone "press", with a connecting word near it.
/// A greeting saying "press" for two keys is a menu, and one without a connecting phrase ("press
/// zero to reach reception", "press one for more options") or offering a choice ("for
/// reservations, press one") is no privacy manager.
fn privacy_press(words: &[&str]) -> Option<usize> {
    let at = lone_press(words)?;
    // "For reservations, press one": a menu's choice, whatever it connects to next ("thank
    // you for calling, press one" is no choice).
    let choice = (at.saturating_sub(4)..at.saturating_sub(1))
        .any(|f| words[f] == "for" && !(f > 0 && THANKS.contains(&words[f - 1])));
    if choice {
        return None;
    }
    let near = &words[at.saturating_sub(8)..(at + 12).min(words.len())];
    let connects = (0..near.len()).any(|i| connects_to_the_person(&near[i..]))
        || CONNECT_PHRASES.iter().any(|p| contains(near, p));
    connects.then_some(at)
}

/// What stands before "for" in thanks ("thank you for calling", "thanks for holding").
const THANKS: &[&str] = &["you", "thanks"];

/// Words that name the person called after "connected to" ("… to the party you are calling").
const CALLED_PERSON: &[&str] = &["party", "person", "subscriber", "them", "him", "her"];

/// Whether words start with a word of "connect" ("connected", and "connects" as the decoder may
/// hear it) that puts the caller through to the person called: not a menu's "to be connected
/// to a guest room" or "… to the on-call vet", whose place it names after "to". Until that
/// place is heard ("press one to be connected to"), it puts through to no one yet.
fn connects_to_the_person(words: &[&str]) -> bool {
    match words {
        [connect, rest @ ..] if connect.starts_with("connect") => match rest {
            ["to", place @ ..] => place.iter().take(4).any(|w| CALLED_PERSON.contains(w)),
            _ => true,
        },
        _ => false,
    }
}

/// Where the greeting's one "press" is, if it says one, or says one key more than once
/// ("press one and press one", as the decoder repeats a request).
pub(super) fn lone_press(words: &[&str]) -> Option<usize> {
    let presses: Vec<usize> = (0..words.len()).filter(|&i| words[i] == "press").collect();
    let key = |at: usize| pressed_key(words, at);
    match presses[..] {
        [at] => Some(at),
        [at, ..] if key(at).is_some() && presses.iter().all(|&p| key(p) == key(at)) => Some(at),
        _ => None,
    }
}

/// Whether every "extension" a greeting says is one to call instead ("contact my colleague on
/// extension 224"), a voicemail's: a menu asks for the caller's party's extension.
pub(super) fn extension_to_call(words: &[&str]) -> bool {
    let mut said = (0..words.len())
        .filter(|&i| words[i] == "extension")
        .peekable();
    said.peek().is_some() && said.all(|i| i > 0 && words[i - 1] == "on")
}

/// Words after a lone "press" among which a menu names its key ("press or say one").
const KEY_WORDS_AFTER_PRESS: usize = 4;

/// Whether the greeting's one "press" is followed by words, none of them a key ("Press what?
/// Oh, hi, sorry, I thought it was one of those recordings"): a person repeating what they
/// heard, not a menu's instruction.
pub(super) fn keyless_press(words: &[&str]) -> bool {
    lone_press(words).is_some_and(|at| {
        let after = &words[at + 1..];
        !after.is_empty()
            && !after
                .iter()
                .take(KEY_WORDS_AFTER_PRESS)
                .any(|w| key_named(w).is_some())
    })
}

/// Words after a lone "press" that tell a menu's choice from a privacy manager's way through
/// ("press one to be connected", "press 5 if you are not a robot"): until they are heard, a
/// greeting still playing is not decided a menu on it. A second "press" makes a menu.
pub(super) const PRESS_PURPOSE_WORDS: usize = 8;

/// Whether the greeting's one "press" has fewer than [`PRESS_PURPOSE_WORDS`] words after it.
pub(super) fn press_open(words: &[&str]) -> bool {
    lone_press(words).is_some_and(|at| words.len() - at <= PRESS_PURPOSE_WORDS)
}

/// Whether normalised words hold a privacy manager's key request (its key may not be heard
/// yet: "to be connected, please press").
pub(crate) fn asks_for_key_in(words: &[&str]) -> bool {
    privacy_press(words).is_some()
}

/// The key a privacy manager asks for, in normalised words, once it is heard.
pub(crate) fn connect_key_in(words: &[&str]) -> Option<char> {
    pressed_key(words, privacy_press(words)?)
}

/// The key named after the "press" at `at`, once it is heard ("press the number five").
fn pressed_key(words: &[&str], at: usize) -> Option<char> {
    let named = at
        + 1
        + words[at + 1..]
            .iter()
            .take(3)
            .take_while(|w| KEY_FILLERS.contains(w))
            .count();
    key_named(words.get(named)?)
}

/// The keypad key a word names ("one", "5", "star", "pound", "hash").
fn key_named(word: &str) -> Option<char> {
    const DIGITS: [&str; 10] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    match word {
        "star" => Some('*'),
        "pound" | "hash" => Some('#'),
        w if w.len() == 1 && w.as_bytes()[0].is_ascii_digit() => w.chars().next(),
        w => DIGITS
            .iter()
            .position(|d| *d == w)
            .and_then(|i| char::from_digit(i as u32, 10)),
    }
}
