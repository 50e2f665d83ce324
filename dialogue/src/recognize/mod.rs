//! Offline recognisers that turn a caller's words into typed slot values with a confidence:
//! yes/no, numbers and ratings, relative date-times, choices with synonyms, phone numbers,
//! e-mail addresses and free text. Ambiguous answers are reported as such so the engine
//! re-asks instead of guessing.

pub mod datetime;
pub mod number;
pub mod text;
pub mod yesno;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::script::SlotSpec;
use crate::value::Value;
use text::{contains_phrase, normalize};

/// A recogniser's verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Recognized<T> {
    Match {
        value: T,
        confidence: f32,
    },
    /// More than one reading (or an explicit "not sure"): re-ask.
    Ambiguous,
    NoMatch,
}

impl<T> Recognized<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Recognized<U> {
        match self {
            Recognized::Match { value, confidence } => Recognized::Match {
                value: f(value),
                confidence,
            },
            Recognized::Ambiguous => Recognized::Ambiguous,
            Recognized::NoMatch => Recognized::NoMatch,
        }
    }
}

/// Matches below this confidence (recogniser × STT) are treated as ambiguous.
pub const MIN_CONFIDENCE: f32 = 0.4;

/// Recognises `text` for a slot. `stt_confidence` scales the result.
pub fn recognize(
    spec: &SlotSpec,
    text: &str,
    stt_confidence: f32,
    now: DateTime<Utc>,
    tz: Tz,
) -> Recognized<Value> {
    let r = match spec {
        SlotSpec::YesNo => yesno::yes_no(text).map(Value::Bool),
        SlotSpec::Rating { min, max } => number::rating(text, *min, *max).map(Value::Int),
        SlotSpec::Number { min, max } => number::number(text, *min, *max).map(Value::Int),
        SlotSpec::Choice(options) => choice(text, options).map(Value::Str),
        SlotSpec::Datetime => datetime::datetime(text, now, tz).map(Value::Datetime),
        SlotSpec::Text => {
            let t = text.trim();
            if t.is_empty() {
                Recognized::NoMatch
            } else {
                Recognized::Match {
                    value: Value::Str(t.to_string()),
                    confidence: 1.0,
                }
            }
        }
        SlotSpec::Phone => phone(text).map(Value::Str),
        SlotSpec::Email => email(text).map(Value::Str),
    };
    match r {
        Recognized::Match { value, confidence } => {
            let c = confidence * stt_confidence.clamp(0.0, 1.0);
            if c < MIN_CONFIDENCE {
                Recognized::Ambiguous
            } else {
                Recognized::Match {
                    value,
                    confidence: c,
                }
            }
        }
        other => other,
    }
}

/// Picks the option whose value or a synonym occurs in the text; two options → ambiguous.
pub fn choice(text: &str, options: &[(String, Vec<String>)]) -> Recognized<String> {
    let t = normalize(text);
    let hits: Vec<&String> = options
        .iter()
        .filter(|(value, syn)| {
            contains_phrase(&t, &normalize(value)) || syn.iter().any(|s| contains_phrase(&t, s))
        })
        .map(|(v, _)| v)
        .collect();
    match hits.as_slice() {
        [one] => Recognized::Match {
            value: (*one).clone(),
            confidence: 0.9,
        },
        [] => Recognized::NoMatch,
        _ => Recognized::Ambiguous,
    }
}

/// Digits spoken or typed; 7 to 15 of them. A leading "plus" or `+` is kept.
pub fn phone(text: &str) -> Recognized<String> {
    let norm = normalize(text);
    let mut digits = String::new();
    let mut plus = text.trim_start().starts_with('+');
    let mut repeat = 1;
    for w in text::words(&norm) {
        let d = match w {
            "zero" | "oh" | "o" => Some("0".to_string()),
            "one" => Some("1".into()),
            "two" => Some("2".into()),
            "three" => Some("3".into()),
            "four" => Some("4".into()),
            "five" => Some("5".into()),
            "six" => Some("6".into()),
            "seven" => Some("7".into()),
            "eight" => Some("8".into()),
            "nine" => Some("9".into()),
            "double" => {
                repeat = 2;
                continue;
            }
            "triple" => {
                repeat = 3;
                continue;
            }
            "plus" if digits.is_empty() => {
                plus = true;
                continue;
            }
            w if w
                .trim_start_matches('+')
                .chars()
                .all(|c| c.is_ascii_digit()) =>
            {
                Some(w.trim_start_matches('+').to_string())
            }
            _ => None,
        };
        if let Some(d) = d {
            for _ in 0..repeat {
                digits.push_str(&d);
            }
        }
        repeat = 1;
    }
    if !(7..=15).contains(&digits.len()) {
        return Recognized::NoMatch;
    }
    let value = if plus { format!("+{digits}") } else { digits };
    Recognized::Match {
        value,
        confidence: 0.85,
    }
}

/// An address typed or spoken ("dana at example dot com").
pub fn email(text: &str) -> Recognized<String> {
    let find = |s: &str| -> Option<String> {
        s.split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .find(|w| {
                let Some((user, host)) = w.split_once('@') else {
                    return false;
                };
                !user.is_empty()
                    && host.contains('.')
                    && !host.starts_with('.')
                    && !host.ends_with('.')
                    && w.chars()
                        .all(|c| c.is_alphanumeric() || "@._+-".contains(c))
            })
    };
    if let Some(e) = find(text) {
        return Recognized::Match {
            value: e,
            confidence: 0.95,
        };
    }
    let lower = format!(" {} ", text.to_lowercase());
    let spoken = lower
        .replace(" at ", "@")
        .replace(" dot ", ".")
        .replace(" underscore ", "_")
        .replace(" dash ", "-");
    let squeezed: String = spoken
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" @", "@")
        .replace("@ ", "@")
        .replace(" .", ".")
        .replace(". ", ".");
    match find(&squeezed) {
        Some(e) => Recognized::Match {
            value: e,
            confidence: 0.75,
        },
        None => Recognized::NoMatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_phones_emails() {
        let opts = vec![
            (
                "demo".to_string(),
                vec!["show me".to_string(), "walkthrough".to_string()],
            ),
            (
                "agreement".to_string(),
                vec!["send it".to_string(), "partner agreement".to_string()],
            ),
        ];
        assert_eq!(
            choice("just send it over", &opts),
            Recognized::Match {
                value: "agreement".into(),
                confidence: 0.9
            }
        );
        assert_eq!(
            choice("a quick walkthrough please", &opts).map(|v| v == "demo"),
            Recognized::Match {
                value: true,
                confidence: 0.9
            }
        );
        assert_eq!(
            choice("demo or the agreement", &opts),
            Recognized::Ambiguous
        );
        assert_eq!(
            phone("it's five five five, one two three, four five six seven"),
            Recognized::Match {
                value: "5551234567".into(),
                confidence: 0.85
            }
        );
        assert_eq!(
            phone("+44 20 7946 0958"),
            Recognized::Match {
                value: "+442079460958".into(),
                confidence: 0.85
            }
        );
        assert_eq!(phone("twelve"), Recognized::NoMatch);
        assert_eq!(
            email("it's Dana.Lee@Example.com thanks"),
            Recognized::Match {
                value: "dana.lee@example.com".into(),
                confidence: 0.95
            }
        );
        assert_eq!(
            email("dana at example dot com"),
            Recognized::Match {
                value: "dana@example.com".into(),
                confidence: 0.75
            }
        );
        assert_eq!(email("no email"), Recognized::NoMatch);
    }

    #[test]
    fn low_stt_confidence_becomes_ambiguous() {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2025, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            recognize(&SlotSpec::YesNo, "yes", 0.3, now, Tz::UTC),
            Recognized::Ambiguous
        );
        assert!(matches!(
            recognize(&SlotSpec::YesNo, "yes", 0.95, now, Tz::UTC),
            Recognized::Match { .. }
        ));
    }
}
