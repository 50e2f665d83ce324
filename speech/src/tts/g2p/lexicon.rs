//! Pronunciation lexicon: the voice's US "gold" dictionary (hand-checked) with the larger
//! "silver" one behind it, both gzip'd JSON maps from word to phonemes (or to phonemes per part
//! of speech). On top of plain lookup: case folding, spelled-out initialisms, inflection rules
//! (-s, -ed, -ing built from a known stem), stress adjustment for capitalised words, and the
//! function words whose reading depends on the next word ("the apple", "to eat").

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use crate::tts::TtsError;

/// Primary stress mark.
pub const PRIMARY: char = 'ˈ';
/// Secondary stress mark.
pub const SECONDARY: char = 'ˌ';
/// Vowel phonemes (diphthongs are single capital letters in this alphabet).
pub const VOWELS: &str = "AIOQWYaiuæɑɒɔəɛɜɪʊʌᵻ";
/// Consonant phonemes.
pub const CONSONANTS: &str = "bdfhjklmnpstvwzðŋɡɹɾʃʒʤʧθ";
/// Vowels after which a final t flaps before a vowel suffix ("getting" → ɡˈɛɾɪŋ).
const FLAP_BEFORE: &str = "AIOWYiuæɑəɛɪɹʊʌ";

/// What the next word starts with, seen from the current word: a vowel, a consonant, or
/// nothing (punctuation or the end).
pub type NextSound = Option<bool>;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Entry {
    Plain(String),
    /// Readings per part of speech; `DEFAULT` always present, `None` = before a pause.
    Tagged(HashMap<String, Option<String>>),
}

/// Gold and silver dictionaries.
#[derive(Debug)]
pub struct Lexicon {
    gold: HashMap<String, Entry>,
    silver: HashMap<String, Entry>,
}

fn load_gz(path: &Path) -> Result<HashMap<String, Entry>, TtsError> {
    let file = std::fs::File::open(path).map_err(|_| TtsError::MissingModel {
        path: path.to_path_buf(),
    })?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .map_err(|e| TtsError::BadData {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    serde_json::from_str(&text).map_err(|e| TtsError::BadData {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn is_vowel(c: char) -> bool {
    VOWELS.contains(c)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| {
            f.to_uppercase()
                .chain(c.flat_map(char::to_lowercase))
                .collect()
        })
        .unwrap_or_default()
}

/// Moves/adds stress. `stress`: `None` leaves it; below -1 strips it; -1 (or 0/-0.5 on a
/// stressed word) demotes primary to secondary; 0..1 adds secondary to an unstressed word;
/// ≥ 1 promotes a secondary-only word; > 1 adds primary to an unstressed word.
pub fn apply_stress(ps: &str, stress: Option<f32>) -> String {
    let Some(s) = stress else {
        return ps.to_string();
    };
    let has_p = ps.contains(PRIMARY);
    let has_s = ps.contains(SECONDARY);
    let add = |mark: char| -> String {
        match ps.char_indices().find(|&(_, c)| is_vowel(c)) {
            Some((i, _)) => format!("{}{mark}{}", &ps[..i], &ps[i..]),
            None => ps.to_string(),
        }
    };
    if s < -1.0 {
        ps.replace([PRIMARY, SECONDARY], "")
    } else if s == -1.0 || ((s == 0.0 || s == -0.5) && has_p) {
        ps.replace(SECONDARY, "")
            .replace(PRIMARY, &SECONDARY.to_string())
    } else if (s == 0.0 || s == 0.5 || s == 1.0) && !has_p && !has_s {
        add(SECONDARY)
    } else if s >= 1.0 && !has_p && has_s {
        ps.replace(SECONDARY, &PRIMARY.to_string())
    } else if s > 1.0 && !has_p && !has_s {
        add(PRIMARY)
    } else {
        ps.to_string()
    }
}

impl Lexicon {
    /// Loads `lexicon_us_gold.json.gz` and `lexicon_us_silver.json.gz` from `dir`.
    ///
    /// # Errors
    /// Missing or malformed files.
    pub fn load(dir: &Path) -> Result<Self, TtsError> {
        Ok(Lexicon {
            gold: load_gz(&dir.join("lexicon_us_gold.json.gz"))?,
            silver: load_gz(&dir.join("lexicon_us_silver.json.gz"))?,
        })
    }

    /// Dictionary lookup where a lowercase key also answers for its Capitalised form and vice
    /// versa (unless that form has its own entry).
    fn get<'a>(d: &'a HashMap<String, Entry>, w: &str) -> Option<&'a Entry> {
        if let Some(e) = d.get(w) {
            return Some(e);
        }
        if w.chars().count() < 2 {
            return None;
        }
        let lower = w.to_lowercase();
        if w == lower {
            let cap = capitalize(w);
            return if cap != w { d.get(&cap) } else { None };
        }
        if w == capitalize(w) {
            return d.get(&lower);
        }
        None
    }

    fn in_dicts(&self, w: &str) -> bool {
        Self::get(&self.gold, w).is_some() || Self::get(&self.silver, w).is_some()
    }

    fn gold_str(&self, w: &str) -> Option<String> {
        match self.gold.get(w) {
            Some(Entry::Plain(s)) => Some(s.clone()),
            Some(Entry::Tagged(m)) => m.get("DEFAULT").cloned().flatten(),
            None => None,
        }
    }

    fn is_known(&self, w: &str) -> bool {
        if self.in_dicts(w) {
            return true;
        }
        if !w.chars().all(|c| c.is_ascii_alphabetic()) {
            return false;
        }
        let rest: String = w.chars().skip(1).collect();
        w.chars().count() == 1
            || (w == w.to_uppercase() && self.gold.contains_key(&w.to_lowercase()))
            || rest == rest.to_uppercase()
    }

    /// Spells a word letter by letter ("IBM" → ˌIbˌiˈɛm), primary stress on the last letter.
    pub fn spell(&self, word: &str) -> Option<String> {
        let mut ps = String::new();
        for c in word.chars().filter(|c| c.is_alphabetic()) {
            ps.push_str(&self.gold_str(&c.to_uppercase().to_string())?);
        }
        if ps.is_empty() {
            return None;
        }
        let ps = apply_stress(&ps, Some(0.0));
        Some(match ps.rfind(SECONDARY) {
            Some(i) => format!("{}{PRIMARY}{}", &ps[..i], &ps[i + SECONDARY.len_utf8()..]),
            None => ps,
        })
    }

    fn lookup(&self, word: &str, stress: Option<f32>, next: NextSound) -> Option<String> {
        let mut w = word.to_string();
        let mut spell_short_caps = false;
        if w == w.to_uppercase() && !self.gold.contains_key(&w) {
            // Short all-caps words without their own entry are acronyms ("US", "TV").
            spell_short_caps = w.chars().count() <= 3 && w.chars().count() > 1;
            w = w.to_lowercase();
        }
        let entry = if spell_short_caps {
            None
        } else {
            Self::get(&self.gold, &w).or_else(|| Self::get(&self.silver, &w))
        };
        let ps = match entry {
            Some(Entry::Plain(s)) => Some(s.clone()),
            Some(Entry::Tagged(m)) => {
                let key = if next.is_none() && m.contains_key("None") {
                    "None"
                } else {
                    "DEFAULT"
                };
                m.get(key).cloned().flatten()
            }
            None => None,
        };
        match ps {
            Some(ps) => Some(apply_stress(&ps, stress)),
            None => self.spell(&w),
        }
    }

    /// Readings that depend on the next word, and a few fixed ones.
    fn special(&self, word: &str, next: NextSound) -> Option<String> {
        let trimmed = word.trim_matches('.');
        if trimmed.contains('.')
            && trimmed.chars().all(|c| c.is_alphabetic() || c == '.')
            && trimmed.split('.').all(|p| p.chars().count() < 3)
        {
            return self.spell(trimmed);
        }
        Some(match word {
            "a" | "A" => if next.is_some() { "ɐ" } else { "ˈA" }.to_string(),
            "an" | "An" => "ɐn".to_string(),
            "AM" | "PM" => return self.spell(word),
            "am" | "Am" if next.is_none() || word != "am" => self.gold_str("am")?,
            "am" => "ɐm".to_string(),
            "I" => format!("{SECONDARY}I"),
            "to" | "To" => match next {
                None => self.gold_str("to")?,
                Some(false) => "tə".to_string(),
                Some(true) => "tʊ".to_string(),
            },
            "in" | "In" => if next.is_none() { "ˈɪn" } else { "ɪn" }.to_string(),
            "the" | "The" => if next == Some(true) { "ði" } else { "ðə" }.to_string(),
            _ => return None,
        })
    }

    /// Phonemes of one word given what follows it, or `None` when the lexicon cannot read it.
    pub fn word(&self, word: &str, next: NextSound) -> Option<String> {
        if let Some(ps) = self.special(word, next) {
            return Some(ps);
        }
        let lower = word.to_lowercase();
        let stress = if word == lower {
            None
        } else if word == word.to_uppercase() {
            Some(2.0)
        } else {
            Some(0.5)
        };
        let mut w = word.to_string();
        let letters_only = word.chars().all(|c| c.is_alphabetic() || c == '\'');
        let rest: String = word.chars().skip(1).collect();
        if word.chars().count() > 1
            && letters_only
            && word != lower
            && !self.in_dicts(word)
            && (word == word.to_uppercase() && word.chars().count() > 3
                || rest == rest.to_lowercase())
            && (self.in_dicts(&lower) || self.inflected(&lower, stress, next).is_some())
        {
            w = lower;
        }
        if self.is_known(&w) {
            return self.lookup(&w, stress, next);
        }
        if let Some(stem) = w.strip_suffix("s'") {
            if self.is_known(&format!("{stem}'s")) {
                return self.lookup(&format!("{stem}'s"), stress, next);
            }
        }
        if let Some(stem) = w.strip_suffix('\'') {
            if self.is_known(stem) {
                return self.lookup(stem, stress, next);
            }
        }
        self.inflected(&w, stress, next)
    }

    /// -s, -ed and -ing forms of known stems.
    fn inflected(&self, w: &str, stress: Option<f32>, next: NextSound) -> Option<String> {
        self.stem_s(w, stress, next)
            .or_else(|| self.stem_ed(w, stress, next))
            .or_else(|| self.stem_ing(w, Some(stress.unwrap_or(0.5)), next))
    }

    fn stem_s(&self, w: &str, stress: Option<f32>, next: NextSound) -> Option<String> {
        if w.len() < 3 || !w.ends_with('s') {
            return None;
        }
        let n = w.len();
        let stem = if !w.ends_with("ss") && self.is_known(&w[..n - 1]) {
            w[..n - 1].to_string()
        } else if (w.ends_with("'s") || (n > 4 && w.ends_with("es") && !w.ends_with("ies")))
            && self.is_known(&w[..n - 2])
        {
            w[..n - 2].to_string()
        } else if n > 4 && w.ends_with("ies") && self.is_known(&format!("{}y", &w[..n - 3])) {
            format!("{}y", &w[..n - 3])
        } else {
            return None;
        };
        let ps = self.lookup(&stem, stress, next)?;
        let last = ps.chars().last()?;
        Some(if "ptkfθ".contains(last) {
            format!("{ps}s")
        } else if "szʃʒʧʤ".contains(last) {
            format!("{ps}ᵻz")
        } else {
            format!("{ps}z")
        })
    }

    fn stem_ed(&self, w: &str, stress: Option<f32>, next: NextSound) -> Option<String> {
        if w.len() < 4 || !w.ends_with('d') {
            return None;
        }
        let n = w.len();
        let stem = if !w.ends_with("dd") && self.is_known(&w[..n - 1]) {
            &w[..n - 1]
        } else if n > 4 && w.ends_with("ed") && !w.ends_with("eed") && self.is_known(&w[..n - 2]) {
            &w[..n - 2]
        } else {
            return None;
        };
        let ps = self.lookup(stem, stress, next)?;
        let chars: Vec<char> = ps.chars().collect();
        let last = *chars.last()?;
        Some(if "pkfθʃsʧ".contains(last) {
            format!("{ps}t")
        } else if last == 'd' {
            format!("{ps}ᵻd")
        } else if last != 't' {
            format!("{ps}d")
        } else if chars.len() >= 2 && FLAP_BEFORE.contains(chars[chars.len() - 2]) {
            format!("{}ɾᵻd", chars[..chars.len() - 1].iter().collect::<String>())
        } else {
            format!("{ps}ᵻd")
        })
    }

    fn stem_ing(&self, w: &str, stress: Option<f32>, next: NextSound) -> Option<String> {
        if w.len() < 5 || !w.ends_with("ing") || !w.is_ascii() {
            return None;
        }
        let n = w.len();
        let b = w.as_bytes();
        let doubled = n > 5
            && (b[n - 4] == b[n - 5] && b"bcdgklmnprstvxz".contains(&b[n - 4])
                || w.ends_with("cking"));
        let stem = if n > 5 && self.is_known(&w[..n - 3]) {
            w[..n - 3].to_string()
        } else if self.is_known(&format!("{}e", &w[..n - 3])) {
            format!("{}e", &w[..n - 3])
        } else if doubled && self.is_known(&w[..n - 4]) {
            w[..n - 4].to_string()
        } else {
            return None;
        };
        let ps = self.lookup(&stem, stress, next)?;
        let chars: Vec<char> = ps.chars().collect();
        Some(
            if chars.len() > 1
                && chars[chars.len() - 1] == 't'
                && FLAP_BEFORE.contains(chars[chars.len() - 2])
            {
                format!("{}ɾɪŋ", chars[..chars.len() - 1].iter().collect::<String>())
            } else {
                format!("{ps}ɪŋ")
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stress_rules() {
        assert_eq!(apply_stress("ɪt", Some(0.5)), "ˌɪt");
        assert_eq!(apply_stress("həlˈO", Some(0.5)), "həlˈO");
        assert_eq!(apply_stress("həlˈO", Some(-1.0)), "həlˌO");
        assert_eq!(apply_stress("kˌæt", Some(2.0)), "kˈæt");
        assert_eq!(apply_stress("kæt", Some(2.0)), "kˈæt");
        assert_eq!(apply_stress("kˈæt", Some(-2.0)), "kæt");
        assert_eq!(apply_stress("st", Some(2.0)), "st");
    }
}
