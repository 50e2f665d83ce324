//! English (US) grapheme-to-phoneme conversion for the hibari voice, written for this project
//! (no espeak-ng: it is GPL). Pipeline: [`normalize`] (numbers, money, times, abbreviations →
//! words) → tokenise (words, initialisms, punctuation) → [`lexicon`] lookup from right to left
//! (function words depend on the next sound) → [`oov`] network for unknown words, with a
//! letter-to-sound fallback. The output uses the model's phoneme alphabet (misaki conventions:
//! `ˈ`/`ˌ` stress, capital letters for diphthongs, `T` for the flap).

pub mod lexicon;
pub mod normalize;
pub mod numbers;
pub mod oov;

use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;

use self::lexicon::{Lexicon, NextSound, CONSONANTS, VOWELS};
use self::normalize::Normalizer;
use self::oov::OovModel;
use super::{ort_env, TtsError};

/// Punctuation the model hears (pauses and intonation).
const PUNCT: &str = ";:,.!?—…“”()";

/// The G2P: normaliser, lexicon and OOV network.
#[derive(Debug)]
pub struct G2p {
    normalizer: Normalizer,
    lexicon: Lexicon,
    oov: Option<OovModel>,
}

#[derive(Debug)]
enum Piece {
    Word(String),
    Punct(char),
}

fn token_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?P<init>\b[A-Za-z](?:\.[A-Za-z])+\.?)|(?P<word>[^\W\d_]+(?:'[^\W\d_]+)*'?)|(?P<num>\d+)|(?P<ws>\s+)|(?P<other>.)")
            .unwrap_or_else(|e| panic!("built-in token pattern is invalid: {e}"))
    })
}

impl G2p {
    /// Loads the lexicons, tables and OOV network from a hibari data directory.
    ///
    /// # Errors
    /// Missing or malformed data files, or an ONNX Runtime that cannot be loaded.
    pub fn load(dir: &Path) -> Result<Self, TtsError> {
        let env = ort_env::ensure_runtime(dir)?;
        Ok(G2p {
            normalizer: Normalizer::load(&dir.join("normalize.json"))?,
            lexicon: Lexicon::load(dir)?,
            oov: Some(OovModel::load(&env, dir)?),
        })
    }

    /// The text normaliser on its own.
    pub fn normalize(&self, text: &str) -> String {
        self.normalizer.normalize(text)
    }

    /// Phonemes for one sentence of text.
    pub fn phonemize(&self, text: &str) -> String {
        let norm = self.normalizer.normalize(text);
        let pieces = tokenize(&norm);
        // Right to left: each word's reading may depend on the sound that follows it.
        let mut out: Vec<(String, bool)> = Vec::with_capacity(pieces.len());
        let mut next: NextSound = None;
        for (piece, space_after) in pieces.iter().rev() {
            let ps = match piece {
                Piece::Punct(c) => c.to_string(),
                Piece::Word(w) => self.word(w, next),
            };
            next = next_sound(&ps).unwrap_or(next);
            out.push((ps, *space_after));
        }
        out.reverse();
        let mut s = String::new();
        for (ps, space) in out {
            if ps.is_empty() {
                if space && !s.ends_with(' ') && !s.is_empty() {
                    s.push(' ');
                }
                continue;
            }
            s.push_str(&ps);
            if space {
                s.push(' ');
            }
        }
        s.trim().replace('ɾ', "T").replace('ʔ', "t")
    }

    /// One word: lexicon, then the OOV network, then letter-to-sound rules.
    fn word(&self, w: &str, next: NextSound) -> String {
        if let Some(ps) = self.lexicon.word(w, next) {
            return ps;
        }
        let lower = w.to_lowercase();
        match self.oov.as_ref().map(|m| m.phonemes(&lower)) {
            Some(Ok(Some(ps))) => ps,
            Some(Err(e)) => {
                tracing::warn!(word = w, error = %e, "OOV network failed; using letter-to-sound rules.");
                oov::letter_to_sound(w)
            }
            _ => oov::letter_to_sound(w),
        }
    }
}

/// `Some(true)` if the phonemes start with a vowel, `Some(false)` a consonant, `None`
/// (inside the option) for punctuation; outer `None` when they say nothing (empty, quotes).
fn next_sound(ps: &str) -> Option<NextSound> {
    for c in ps.chars() {
        if VOWELS.contains(c) {
            return Some(Some(true));
        }
        if CONSONANTS.contains(c) {
            return Some(Some(false));
        }
        if ";:,.!?—…()".contains(c) {
            return Some(None);
        }
    }
    None
}

/// Splits normalised text into words, initialisms and punctuation, each with whether
/// whitespace follows it. Other symbols are dropped (the normaliser already spelled out the
/// ones that matter).
fn tokenize(text: &str) -> Vec<(Piece, bool)> {
    let mut out: Vec<(Piece, bool)> = Vec::new();
    for caps in token_re().captures_iter(text) {
        if caps.name("ws").is_some() {
            if let Some(last) = out.last_mut() {
                last.1 = true;
            }
            continue;
        }
        if let Some(m) = caps.name("init") {
            let s = m.as_str();
            // A final period at the very end is the sentence's, not the initialism's.
            if m.end() == text.len() && s.ends_with('.') {
                out.push((Piece::Word(s[..s.len() - 1].to_string()), false));
                out.push((Piece::Punct('.'), false));
            } else {
                out.push((Piece::Word(s.to_string()), false));
            }
        } else if let Some(m) = caps.name("word") {
            out.push((
                Piece::Word(m.as_str().trim_end_matches('\'').to_string()),
                false,
            ));
        } else if let Some(m) = caps.name("num") {
            let words = m
                .as_str()
                .parse()
                .map(numbers::cardinal)
                .unwrap_or_else(|_| numbers::digits(m.as_str()));
            let n = words.split(' ').count();
            for (i, w) in words.split(' ').enumerate() {
                out.push((Piece::Word(w.to_string()), i + 1 < n));
            }
        } else if let Some(m) = caps.name("other") {
            let c = m.as_str().chars().next().unwrap_or(' ');
            if PUNCT.contains(c) {
                out.push((Piece::Punct(c), false));
            } else if c == '-' || c == '/' {
                // Joins words: read as a pause-free gap.
                if let Some(last) = out.last_mut() {
                    last.1 = true;
                }
            }
        }
    }
    out
}
