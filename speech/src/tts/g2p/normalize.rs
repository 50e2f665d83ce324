//! Text normalisation before phonemisation: everything that is not a plain word becomes words.
//! Times ("7:30 pm"), dates (ISO, US, "March 3rd"), money in several currencies, percentages,
//! degrees, units ("5 km"), phone numbers, ranges, ordinals ("21st"), decades ("1990s"),
//! titles and abbreviations ("Dr. Smith", "approx."), symbols, and finally every remaining
//! number (years, decimals, digit strings, cardinals). Word tables come from the voice's
//! `normalize.json`; the rules are ours.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use regex::{Captures, Regex};
use serde::Deserialize;

use super::numbers;
use crate::tts::TtsError;

/// `normalize.json`: word tables shared with the reference pipeline.
#[derive(Debug, Deserialize)]
struct Tables {
    months: HashMap<String, String>,
    titles: HashMap<String, String>,
    abbreviations: HashMap<String, String>,
    units: HashMap<String, (String, String)>,
    symbols: HashMap<String, String>,
    currency: HashMap<String, (String, String)>,
}

const NUM: &str = r"\d+(?:,\d{3})*(?:\.\d+)?";

/// Compiled normalisation rules.
#[derive(Debug)]
pub struct Normalizer {
    tables: Tables,
    time: Regex,
    date_iso: Regex,
    date_us: Regex,
    month_day: Regex,
    money: Regex,
    other_money: Regex,
    cents: Regex,
    percent: Regex,
    degrees: Regex,
    units: Regex,
    phone: Regex,
    range: Regex,
    ordinal: Regex,
    decade: Regex,
    hash_number: Regex,
    negative: Regex,
    letter_digit: Regex,
    digit_letter: Regex,
    number: Regex,
    space_punct: Regex,
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("built-in pattern {pattern:?} is invalid: {e}"))
}

fn alternation<'a>(words: impl Iterator<Item = &'a String>) -> String {
    let mut w: Vec<&String> = words.collect();
    w.sort_by_key(|s| std::cmp::Reverse(s.len()));
    w.iter()
        .map(|s| regex::escape(s))
        .collect::<Vec<_>>()
        .join("|")
}

impl Normalizer {
    /// Loads the tables from `normalize.json` and compiles the rules.
    ///
    /// # Errors
    /// [`TtsError::MissingModel`] or [`TtsError::BadData`] for a missing or malformed file.
    pub fn load(path: &Path) -> Result<Self, TtsError> {
        let text = std::fs::read_to_string(path).map_err(|_| TtsError::MissingModel {
            path: path.to_path_buf(),
        })?;
        let tables: Tables = serde_json::from_str(&text).map_err(|e| TtsError::BadData {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let months = format!("{}|Sept", alternation(tables.months.values()));
        let short_months: Vec<String> = tables.months.keys().map(|k| capitalize(k)).collect();
        let months = format!("{months}|{}", alternation(short_months.iter()));
        let units = alternation(tables.units.keys());
        Ok(Normalizer {
            time: re(r"\b(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s?([AaPp])\.?[Mm]\b\.?)?"),
            date_iso: re(r"\b(\d{4})-(\d{2})-(\d{2})\b"),
            date_us: re(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b"),
            month_day: re(&format!(r"\b({months})\.? (\d{{1,2}})(?:st|nd|rd|th)?\b")),
            money: re(
                r"([$£€])\s?(\d+(?:,\d{3})*)(?:\.(\d+))?(?:\s?(thousand|million|billion|trillion|bn|[kKmMbB])\b)?",
            ),
            other_money: re(&format!(r"(¥|₹|₩|\bRs\.?|\bUSD|\bEUR|\bGBP)\s?({NUM})")),
            cents: re(&format!(r"({NUM})\s?¢")),
            percent: re(&format!(r"({NUM})\s?%")),
            degrees: re(&format!(r"(-?{NUM})\s?°\s?([CF]\b)?")),
            units: re(&format!(r"\b({NUM})\s?({units})\b")),
            phone: re(r"\b(?:(\d{3})-)?(\d{3})-(\d{4})\b"),
            range: re(r"\b(\d{1,4})\s?[-–]\s?(\d{1,4})\b"),
            ordinal: re(r"\b(\d+)(?:st|nd|rd|th)\b"),
            decade: re(r"\b(\d*0)'?s\b"),
            hash_number: re(r"#(\d)"),
            negative: re(r"(^|[\s(\[])[-−](\d)"),
            letter_digit: re(r"([A-Za-z])(\d)"),
            digit_letter: re(r"(\d)([A-Za-z])"),
            number: re(NUM),
            space_punct: re(r" +([,.;:!?])"),
            tables,
        })
    }

    /// Normalises one sentence or paragraph.
    pub fn normalize(&self, text: &str) -> String {
        let mut t: String = text
            .chars()
            .map(|c| match c {
                '’' | '‘' | '`' => '\'',
                '\u{a0}' | '\t' | '\r' | '\n' => ' ',
                '–' | '‒' => '-',
                '―' => '—',
                c => c,
            })
            .collect();
        t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        let r = |re: &Regex, t: String, f: &dyn Fn(&Captures) -> String| -> String {
            match re.replace_all(&t, |c: &Captures| f(c)) {
                Cow::Borrowed(_) => t,
                Cow::Owned(s) => s,
            }
        };
        t = r(&self.time, t, &|c| self.time_words(c));
        t = r(&self.date_iso, t, &|c| {
            self.date(num(c, 1), num(c, 2), num(c, 3))
                .unwrap_or_else(|| c[0].to_string())
        });
        t = r(&self.date_us, t, &|c| {
            let y = if c[3].len() == 2 {
                2000 + num(c, 3)
            } else {
                num(c, 3)
            };
            self.date(y, num(c, 1), num(c, 2))
                .unwrap_or_else(|| c[0].to_string())
        });
        t = r(&self.month_day, t, &|c| match num(c, 2) {
            d @ 1..=31 => format!("{} {}", self.month_name(&c[1]), numbers::ordinal(d)),
            _ => c[0].to_string(),
        });
        t = r(&self.money, t, &|c| self.money_words(c));
        t = r(&self.other_money, t, &|c| {
            let key = c[1].trim_end_matches('.');
            let (one, many) = &self.tables.currency[key];
            format!("{} {}", &c[2], if is_one(&c[2]) { one } else { many })
        });
        t = r(&self.cents, t, &|c| {
            format!("{} {}", &c[1], if is_one(&c[1]) { "cent" } else { "cents" })
        });
        t = r(&self.percent, t, &|c| format!("{} percent", &c[1]));
        t = r(&self.degrees, t, &|c| {
            let unit = match c.get(2).map(|m| m.as_str()) {
                Some("C") => " Celsius",
                Some("F") => " Fahrenheit",
                _ => "",
            };
            format!(
                "{} {}{unit}",
                &c[1],
                if is_one(&c[1]) { "degree" } else { "degrees" }
            )
        });
        t = r(&self.units, t, &|c| {
            let (one, many) = &self.tables.units[&c[2]];
            format!("{} {}", &c[1], if is_one(&c[1]) { one } else { many })
        });
        t = r(&self.phone, t, &|c| {
            let groups: Vec<String> = (1..=3)
                .filter_map(|i| c.get(i))
                .map(|m| numbers::digits(m.as_str()))
                .collect();
            groups.join(", ")
        });
        t = r(&self.range, t, &|c| format!("{} to {}", &c[1], &c[2]));
        t = r(&self.ordinal, t, &|c| {
            c[1].parse()
                .map(numbers::ordinal)
                .unwrap_or_else(|_| c[0].to_string())
        });
        t = r(&self.decade, t, &|c| match c[1].parse::<u64>() {
            Ok(n) if n >= 10 => plural(&if (1000..2100).contains(&n) {
                numbers::year(n)
            } else {
                numbers::cardinal(n)
            }),
            _ => c[0].to_string(),
        });
        t = r(&self.hash_number, t, &|c| format!("number {}", &c[1]));
        t = self.abbreviations(&t);
        t = self.symbols(t);
        t = r(&self.negative, t, &|c| format!("{}minus {}", &c[1], &c[2]));
        t = r(&self.letter_digit, t, &|c| format!("{} {}", &c[1], &c[2]));
        t = r(&self.digit_letter, t, &|c| format!("{} {}", &c[1], &c[2]));
        t = r(&self.number, t, &|c| number_words(&c[0]));
        let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        self.space_punct.replace_all(&t, "$1").into_owned()
    }

    fn time_words(&self, c: &Captures) -> String {
        let (h, m) = (num(c, 1), num(c, 2));
        let sec = c.get(3).map(|s| s.as_str().parse::<u64>().unwrap_or(99));
        if h > 24 || m > 59 || sec.is_some_and(|s| s > 59) {
            return c[0].to_string();
        }
        let ampm = c.get(4).map(|a| a.as_str().to_ascii_uppercase());
        let mut w = numbers::cardinal(h);
        match m {
            0 if ampm.is_none() && sec.is_none() => w.push_str(" o'clock"),
            0 => {}
            1..=9 => w = format!("{w} oh {}", numbers::cardinal(m)),
            _ => w = format!("{w} {}", numbers::cardinal(m)),
        }
        if let Some(s) = sec {
            w = format!(
                "{w} and {} second{}",
                numbers::cardinal(s),
                if s == 1 { "" } else { "s" }
            );
        }
        if let Some(a) = ampm {
            // A dotted initialism: the tokenizer spells it letter by letter.
            w = format!("{w} {a}.M");
        }
        w
    }

    fn date(&self, y: u64, mo: u64, d: u64) -> Option<String> {
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
            return None;
        }
        let keys = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        let month = self.tables.months.get(keys[mo as usize - 1])?;
        Some(format!("{month} {}, {y}", numbers::ordinal(d)))
    }

    fn month_name(&self, m: &str) -> String {
        let key: String = m.chars().take(3).collect::<String>().to_lowercase();
        self.tables
            .months
            .get(&key)
            .cloned()
            .unwrap_or_else(|| m.to_string())
    }

    fn money_words(&self, c: &Captures) -> String {
        let (one, many) = &self.tables.currency[&c[1]];
        let sub = if &c[1] == "£" { "pence" } else { "cent" };
        let whole = c[2].replace(',', "");
        if let Some(big) = c.get(4) {
            let big = match big.as_str().to_lowercase().as_str() {
                "k" => "thousand".to_string(),
                "m" => "million".to_string(),
                "b" | "bn" => "billion".to_string(),
                b => b.to_string(),
            };
            let frac = c
                .get(3)
                .map(|f| format!(".{}", f.as_str()))
                .unwrap_or_default();
            return format!("{whole}{frac} {big} {many}");
        }
        let cents = c
            .get(3)
            .map(|f| f.as_str())
            .filter(|f| f.len() <= 2)
            .map(|f| format!("{f:0<2}"));
        let cents: u64 = cents.and_then(|f| f.parse().ok()).unwrap_or(0);
        let whole_n: u64 = whole.parse().unwrap_or(0);
        let unit =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let subs = if sub == "pence" {
            ("penny", "pence")
        } else {
            ("cent", "cents")
        };
        match (whole_n, cents) {
            (w, 0) => unit(w, one, many),
            (0, c) => unit(c, subs.0, subs.1),
            (w, c) => format!("{} and {}", unit(w, one, many), unit(c, subs.0, subs.1)),
        }
    }

    /// Titles before a capitalised word ("Dr. Smith", "St Paul") and whole-token abbreviations.
    fn abbreviations(&self, t: &str) -> String {
        let toks: Vec<&str> = t.split(' ').collect();
        let mut out = Vec::with_capacity(toks.len());
        for (i, tok) in toks.iter().enumerate() {
            let next_cap = toks
                .get(i + 1)
                .and_then(|n| n.chars().next())
                .is_some_and(char::is_uppercase);
            let bare = tok.trim_end_matches('.');
            if next_cap && (tok.ends_with('.') || bare == *tok) {
                if let Some(title) = self.tables.titles.get(bare) {
                    out.push(title.clone());
                    continue;
                }
            }
            // Keep a sentence-final period that was also the abbreviation's.
            let (core, tail) = split_trailing_punct(tok);
            if let Some(full) = self.tables.abbreviations.get(core) {
                let last = i + 1 == toks.len();
                let dot = if last && core.ends_with('.') { "." } else { "" };
                out.push(format!("{full}{dot}{tail}"));
                continue;
            }
            out.push((*tok).to_string());
        }
        out.join(" ")
    }

    fn symbols(&self, mut t: String) -> String {
        for (sym, word) in &self.tables.symbols {
            if t.contains(sym.as_str()) {
                t = t.replace(sym.as_str(), &format!(" {word} "));
            }
        }
        for (sym, word) in [("&", "and"), ("+", "plus"), ("@", "at")] {
            if t.contains(sym) {
                t = t.replace(sym, &format!(" {word} "));
            }
        }
        t
    }
}

/// Splits trailing `,;:!?` off a token (not `.`, which abbreviations contain).
fn split_trailing_punct(tok: &str) -> (&str, &str) {
    let core = tok.trim_end_matches([',', ';', ':', '!', '?']);
    (core, &tok[core.len()..])
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn num(c: &Captures, i: usize) -> u64 {
    c.get(i).and_then(|m| m.as_str().parse().ok()).unwrap_or(0)
}

fn is_one(n: &str) -> bool {
    matches!(n.replace(',', "").as_str(), "1" | "1.0" | "1.00")
}

/// Plural of number words: "nineteen ninety" → "nineteen nineties".
fn plural(words: &str) -> String {
    match words.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{words}s"),
    }
}

/// Any digit string left after the specific rules.
fn number_words(s: &str) -> String {
    let trailing_dot = s.ends_with('.');
    let s = s.trim_end_matches('.');
    let plain = s.replace(',', "");
    let words = if plain.contains('.') {
        numbers::decimal(&plain).unwrap_or_else(|| numbers::digits(&plain))
    } else if plain.len() > 1 && plain.starts_with('0') || plain.len() > 15 {
        numbers::digits(&plain)
    } else {
        match plain.parse::<u64>() {
            Ok(n) if plain.len() == 4 && !s.contains(',') && (1000..2100).contains(&n) => {
                numbers::year(n)
            }
            Ok(n) => numbers::cardinal(n),
            Err(_) => numbers::digits(&plain),
        }
    };
    if trailing_dot {
        format!("{words}.")
    } else {
        words
    }
}
