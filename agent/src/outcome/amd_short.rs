//! What a short greeting's words say about its pause: a bare answer ("Hello?") is a person
//! waiting, a name alone ("Hi, this is Grace.") may be a voicemail about to go on.

/// The words of a bare answer ("Hello?", "Yeah?", "Yes, who's this?"), and those of them one
/// must hold: a person who said only these is waiting for the caller.
const BARE_ANSWER: &[&str] = &[
    "hello", "hallo", "hullo", "hi", "oh", "yeah", "yes", "yep", "who's", "who", "is", "this",
    "it", "calling",
];
const BARE_ANSWER_ANCHORS: &[&str] = &[
    "hello", "hallo", "hullo", "yeah", "yes", "yep", "who's", "who",
];

/// Whether a normalised transcript is a bare answer and nothing else: at most four words, all
/// a bare answer's, one of them "hello", "yeah", "yes" or "who". What a voicemail says before
/// its first pause is a name ("Hi, it's Liam… leave a message"), never this alone.
pub(super) fn bare_answer(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    (1..=4).contains(&words.len())
        && words.iter().all(|w| BARE_ANSWER.contains(w))
        && words.iter().any(|w| BARE_ANSWER_ANCHORS.contains(w))
}

/// Words a greeting may open with before its speaker's name ("Hi there, this is …", "G'day,
/// it's …").
const INTRO_OPENERS: &[&str] = &[
    "hi",
    "hey",
    "hello",
    "hallo",
    "hullo",
    "hiya",
    "heya",
    "yo",
    "howdy",
    "g'day",
    "mate",
    "oh",
    "well",
    "good",
    "morning",
    "afternoon",
    "evening",
    "day",
    "there",
];

/// What comes before the name: "this is Grace", "it's Shane", "you've got Bruce".
const INTRO_LEADS: &[&[&str]] = &[
    &["this", "is"],
    &["it's"],
    &["it", "is"],
    &["you've", "got"],
    &["you", "got"],
];
/// A name of up to this many words ("Doctor Anjali Mehta", "Rick from Northside Roofing"),
/// and as many again for where its speaker is after one of [`AFFILIATIONS`] ("Father Michael
/// Doyle at Saint Brendan's parish").
const INTRO_NAME_WORDS: usize = 4;
const AFFILIATIONS: &[&str] = &["from", "at", "with", "of", "in"];
/// Words that make what follows the lead something other than a name: an answer to someone
/// ("yes, this is she", "yeah, Rajesh here"), a question or an invitation to speak ("hello, is
/// anyone there", "hey, it's Jordan, what's up", "it's Marcus, go ahead"), "it's fine".
const NOT_A_NAME: &[&str] = &[
    "he", "she", "him", "her", "yes", "yeah", "yep", "who", "what", "what's", "this", "that",
    "anyone", "anybody", "there", "calling", "speaking", "go", "ahead", "up", "okay", "ok", "fine",
    "alright", "not",
];
/// Words that a name said alone ("Tom Okafor.") is not made of, besides [`NOT_A_NAME`] and a
/// bare answer's: what people say to hold the caller or to end ("hang on", "one sec", "thank
/// you", "bye").
const NOT_A_BARE_NAME: &[&str] = &[
    "here", "i", "i'm", "me", "you", "your", "thank", "thanks", "sorry", "please", "the", "a",
    "an", "and", "to", "on", "no", "hold", "wait", "moment", "minute", "second", "sec", "one",
    "bye", "speak", "talk",
];
/// The most words of a name said alone.
const BARE_NAME_WORDS: usize = 3;

/// Whether a normalised transcript is its speaker's name and nothing else ("Hi, this is
/// Grace", "Declan here", "Tom Okafor"): a voicemail's usual first sentence, which a person
/// says too. Read as the decoder may give it: said twice, or started again ("hi it's kirsty hi
/// you it's kirsty").
pub(super) fn self_introduction(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    introduces(unrepeated(&words)) || restarted(&words).is_some_and(introduces)
}

fn introduces(words: &[&str]) -> bool {
    let opened = words
        .iter()
        .take_while(|w| INTRO_OPENERS.contains(w))
        .count();
    let rest = &words[opened..];
    let led = |rest: &[&str]| {
        INTRO_LEADS
            .iter()
            .find(|lead| rest.starts_with(lead))
            .map(|lead| lead.len())
            // "Hey, it's Connor" as the decoder may hear it: "hey is connor".
            .or((opened > 0 && rest.first() == Some(&"is")).then_some(1))
            .is_some_and(|n| a_name(&rest[n..]))
    };
    // One word the decoder made of an opener ("hide, this is sophie") may stand before the lead.
    led(rest)
        || rest
            .split_first()
            .is_some_and(|(first, after)| !NOT_A_NAME.contains(first) && led(after))
        || rest
            .split_last()
            .is_some_and(|(last, name)| *last == "here" && a_name(name))
        || bare_name(rest)
}

/// A name, with where its speaker is after it ("Marisol from Bright Smiles").
fn a_name(words: &[&str]) -> bool {
    let at = words
        .iter()
        .position(|w| AFFILIATIONS.contains(w))
        .unwrap_or(words.len());
    let (name, place) = words.split_at(at);
    let fits = |part: &[&str]| {
        (1..=INTRO_NAME_WORDS).contains(&part.len()) && !part.iter().any(|w| NOT_A_NAME.contains(w))
    };
    fits(name) && (place.is_empty() || fits(&place[1..]))
}

/// A name said alone: a few words, none of them a bare answer's or anything else people say on
/// answering.
fn bare_name(words: &[&str]) -> bool {
    (1..=BARE_NAME_WORDS).contains(&words.len())
        && !words.iter().any(|w| {
            NOT_A_NAME.contains(w) || NOT_A_BARE_NAME.contains(w) || BARE_ANSWER.contains(w)
        })
}

/// Words without the decoder's repeat of their start at their end ("hi this is wei ling hi
/// this is"): whisper repeats a short greeting it has no more words for.
fn unrepeated<'a>(words: &'a [&'a str]) -> &'a [&'a str] {
    let n = words.len();
    (n.div_ceil(2)..n)
        .find(|&k| words[k..] == words[..n - k])
        .map_or(words, |k| &words[..k])
}

/// The words before the greeting's first word comes again, two or more words on: the decoder
/// starting the greeting over in other words ("hi it's kirsty hi you it's kirsty").
fn restarted<'a>(words: &'a [&'a str]) -> Option<&'a [&'a str]> {
    let first = words.first()?;
    let k = words.iter().skip(2).position(|w| w == first)? + 2;
    Some(&words[..k])
}
