//! Numbers in digits and words: "4", "four out of five", "I'd give it a four", "maybe 3",
//! "twenty five". Denominators ("out of five", "on a scale of 1 to 5") are ignored; two
//! different candidates ("three or four") are ambiguous.

use super::text::{normalize, words};
use super::Recognized;

fn word_value(w: &str) -> Option<i64> {
    Some(match w {
        "zero" | "oh" => 0,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        "twenty" => 20,
        "thirty" => 30,
        "forty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    })
}

/// All numbers in the text, in order, with the index of the word that ended each.
pub fn numbers(text: &str) -> Vec<(i64, usize)> {
    // Join digit groups like "1,000" before normalising splits them.
    let joined: String = {
        let c: Vec<char> = text.chars().collect();
        c.iter()
            .enumerate()
            .filter(|(i, ch)| {
                !(**ch == ','
                    && *i > 0
                    && c[i - 1].is_ascii_digit()
                    && c.get(i + 1).is_some_and(char::is_ascii_digit))
            })
            .map(|(_, ch)| *ch)
            .collect()
    };
    let norm = normalize(&joined);
    let ws = words(&norm);
    let mut out = Vec::new();
    let mut cur: Option<i64> = None;
    let mut total = 0i64;
    let flush = |cur: &mut Option<i64>, total: &mut i64, out: &mut Vec<(i64, usize)>, at: usize| {
        if let Some(c) = cur.take() {
            out.push((*total + c, at));
        }
        *total = 0;
    };
    for (i, w) in ws.iter().enumerate() {
        if let Ok(n) = w.parse::<i64>() {
            flush(&mut cur, &mut total, &mut out, i.saturating_sub(1));
            if n.abs() < 1_000_000_000 {
                out.push((n, i));
            }
            continue;
        }
        if let Some(v) = word_value(w).filter(|_| *w != "oh" || cur.is_some()) {
            cur = Some(match cur {
                Some(c) if c >= 100 && c % 100 == 0 && v < 100 => c + v,
                Some(c) if c >= 20 && c % 10 == 0 && v < 10 => c + v,
                Some(_) => {
                    flush(&mut cur, &mut total, &mut out, i - 1);
                    v
                }
                None => v,
            });
        } else if *w == "hundred" && cur.is_some() {
            cur = cur.map(|c| c * 100);
        } else if *w == "thousand" && cur.is_some() {
            total += cur.take().unwrap_or(0) * 1000;
            cur = Some(0);
        } else if *w == "and" && cur.is_some_and(|c| c >= 100) {
        } else {
            flush(&mut cur, &mut total, &mut out, i.saturating_sub(1));
        }
    }
    flush(&mut cur, &mut total, &mut out, ws.len().saturating_sub(1));
    out
}

const HEDGES: &[&str] = &[
    "maybe", "probably", "about", "around", "roughly", "perhaps", "guess",
];

/// Recognises one number within `min..=max` (either bound optional).
pub fn number(text: &str, min: Option<i64>, max: Option<i64>) -> Recognized<i64> {
    let norm = normalize(text);
    let ws = words(&norm);
    let nums = numbers(text);
    // Drop denominators: a number right after "out of" / "scale of N to", and "1 to 5" echoes.
    let mut cands: Vec<i64> = Vec::new();
    for (n, end) in &nums {
        let before = |k: usize| {
            end.checked_sub(k)
                .and_then(|i| ws.get(i))
                .copied()
                .unwrap_or("")
        };
        let is_denominator = (before(1) == "of" && before(2) == "out")
            || (before(1) == "to" && ws.contains(&"scale"))
            || (before(1) == "of" && before(2) == "scale");
        if !is_denominator && !cands.contains(n) {
            cands.push(*n);
        }
    }
    let in_range = |n: &i64| min.is_none_or(|m| *n >= m) && max.is_none_or(|m| *n <= m);
    let hedged = ws.iter().any(|w| HEDGES.contains(w));
    let ok: Vec<i64> = cands.iter().copied().filter(in_range).collect();
    match ok.as_slice() {
        [n] => Recognized::Match {
            value: *n,
            confidence: if hedged { 0.75 } else { 0.92 },
        },
        [] if !cands.is_empty() => Recognized::NoMatch,
        [] => Recognized::NoMatch,
        _ => Recognized::Ambiguous,
    }
}

/// A rating: numbers first, then words like "excellent" or "terrible" mapped onto the scale.
pub fn rating(text: &str, min: i64, max: i64) -> Recognized<i64> {
    let r = number(text, Some(min), Some(max));
    if !matches!(r, Recognized::NoMatch) || !numbers(text).is_empty() {
        return r;
    }
    let norm = normalize(text);
    let ws = words(&norm);
    let has = |list: &[&str]| ws.iter().any(|w| list.contains(w));
    let negated = ws
        .iter()
        .any(|w| *w == "not" || *w == "wasnt" || *w == "isnt");
    if negated {
        return Recognized::NoMatch;
    }
    let top = [
        "excellent",
        "perfect",
        "amazing",
        "fantastic",
        "outstanding",
        "brilliant",
        "superb",
        "great",
    ];
    let bottom = ["terrible", "awful", "horrible", "worst", "appalling"];
    let span = max - min;
    let value = if has(&top) {
        max
    } else if has(&bottom) {
        min
    } else if has(&["good"]) {
        min + (span * 3 + 3) / 4
    } else if has(&["okay", "ok", "average", "alright", "fine", "decent", "meh"]) {
        min + span / 2
    } else if has(&["bad", "poor"]) {
        min + span / 4
    } else {
        return Recognized::NoMatch;
    };
    Recognized::Match {
        value,
        confidence: 0.6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Option<i64> {
        match rating(s, 1, 5) {
            Recognized::Match { value, .. } => Some(value),
            _ => None,
        }
    }

    #[test]
    fn ratings_from_real_phrasings() {
        assert_eq!(r("four out of five"), Some(4));
        assert_eq!(r("I'd give it a four"), Some(4));
        assert_eq!(r("maybe 3"), Some(3));
        assert_eq!(r("5"), Some(5));
        assert_eq!(r("a solid 4 out of 5"), Some(4));
        assert_eq!(r("on a scale of one to five I'd say two"), Some(2));
        assert_eq!(r("it was excellent"), Some(5));
        assert_eq!(r("pretty good"), Some(4));
        assert_eq!(r("10"), None);
        assert_eq!(rating("three or four", 1, 5), Recognized::Ambiguous);
        assert_eq!(rating("no idea", 1, 5), Recognized::NoMatch);
    }

    #[test]
    fn compound_numbers() {
        assert_eq!(numbers("twenty five people").first().map(|x| x.0), Some(25));
        assert_eq!(
            numbers("one hundred and twenty").first().map(|x| x.0),
            Some(120)
        );
        assert_eq!(
            numbers("about 1,200 members").first().map(|x| x.0),
            Some(1200)
        );
        assert_eq!(
            number("about two thousand", None, None),
            Recognized::Match {
                value: 2000,
                confidence: 0.75
            }
        );
    }
}
