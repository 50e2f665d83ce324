//! Yes/no with hedges and negation: "yeah", "absolutely", "I guess so" (yes, lower
//! confidence), "nope", "not really", "absolutely not" (no); "not sure", "yes and no" are
//! ambiguous and re-asked.

use super::text::{contains_phrase, normalize};
use super::Recognized;

/// Idioms that contain a negative word but mean yes; removed before looking for "no".
const YES_IDIOMS: &[&str] = &[
    "no problem",
    "no doubt",
    "why not",
    "cant complain",
    "no complaints",
];
const UNSURE: &[&str] = &[
    "not sure",
    "dont know",
    "no idea",
    "maybe",
    "hard to say",
    "yes and no",
    "not certain",
    "unsure",
    "partly",
    "partially",
];
/// Negatives, longest first so "absolutely not" is taken before "absolutely" is seen.
const NO: &[&str] = &[
    "absolutely not",
    "definitely not",
    "certainly not",
    "of course not",
    "i dont think so",
    "not at all",
    "not really",
    "not yet",
    "not quite",
    "no way",
    "it wasnt",
    "it was not",
    "it didnt",
    "it did not",
    "i dont",
    "i wouldnt",
    "i would not",
    "wasnt",
    "didnt",
    "negative",
    "never",
    "nope",
    "nah",
    "no",
    "not",
    "isnt",
];
const HEDGED_YES: &[&str] = &[
    "i guess so",
    "i think so",
    "i suppose",
    "kind of",
    "sort of",
    "mostly",
    "more or less",
    "pretty much",
    "probably",
    "i believe so",
];
const YES: &[&str] = &[
    "yes",
    "yeah",
    "yea",
    "yep",
    "yup",
    "ya",
    "absolutely",
    "definitely",
    "certainly",
    "sure",
    "of course",
    "correct",
    "thats right",
    "affirmative",
    "totally",
    "indeed",
    "ok",
    "okay",
    "it was",
    "it did",
    "i do",
    "i would",
    "i will",
    "sounds good",
    "uh huh",
    "mhm",
    "please do",
    "go ahead",
];

fn take(t: &mut String, phrases: &[&str]) -> usize {
    let mut n = 0;
    for p in phrases {
        while contains_phrase(t, p) {
            n += 1;
            let padded = format!(" {t} ").replacen(&format!(" {p} "), " | ", 1);
            *t = padded.trim().to_string();
        }
    }
    n
}

/// Recognises a yes/no answer.
pub fn yes_no(text: &str) -> Recognized<bool> {
    let mut t = normalize(text);
    let idioms = take(&mut t, YES_IDIOMS);
    if take(&mut t, UNSURE) > 0 {
        return Recognized::Ambiguous;
    }
    let no = take(&mut t, NO);
    let hedged = take(&mut t, HEDGED_YES);
    let yes = take(&mut t, YES) + idioms;
    match (yes + hedged > 0, no > 0) {
        (true, true) => Recognized::Ambiguous,
        (false, true) => Recognized::Match {
            value: false,
            confidence: 0.9,
        },
        (true, false) if yes > 0 => Recognized::Match {
            value: true,
            confidence: 0.9,
        },
        (true, false) => Recognized::Match {
            value: true,
            confidence: 0.65,
        },
        (false, false) => Recognized::NoMatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Option<bool> {
        match yes_no(s) {
            Recognized::Match { value, .. } => Some(value),
            _ => None,
        }
    }

    #[test]
    fn real_caller_answers() {
        for s in [
            "Yeah.",
            "yes it was",
            "Absolutely!",
            "I guess so",
            "yep, all sorted",
            "sure",
            "no problem",
        ] {
            assert_eq!(v(s), Some(true), "{s}");
        }
        for s in [
            "Nope.",
            "not really",
            "No, it wasn't.",
            "absolutely not",
            "I don't think so",
            "nah",
        ] {
            assert_eq!(v(s), Some(false), "{s}");
        }
        for s in ["I'm not sure", "maybe", "yes and no", "yes... well no"] {
            assert_eq!(yes_no(s), Recognized::Ambiguous, "{s}");
        }
        assert_eq!(yes_no("what's the weather"), Recognized::NoMatch);
        assert!(
            matches!(yes_no("I guess so"), Recognized::Match { confidence, .. } if confidence < 0.8)
        );
    }
}
