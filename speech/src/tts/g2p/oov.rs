//! Words the lexicon cannot read. First choice: the voice's small character-level network
//! (`oov.onnx`: `chars` [1, L] i64 letter ids → `ids` [1, T] i64 phoneme ids, CTC-style output:
//! collapse repeats, drop the blank 0; alphabets in `oov.json`). If that network fails, a crude
//! letter-to-sound rule table keeps the word audible rather than silent.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use ort::environment::Environment;
use ort::session::Session;
use ort::value::Tensor;
use serde::Deserialize;

use crate::tts::{ort_env, TtsError};

#[derive(Debug, Deserialize)]
struct Meta {
    #[serde(rename = "in")]
    input: Vec<String>,
    out: Vec<String>,
    maxlen: usize,
}

/// The out-of-vocabulary network.
#[derive(Debug)]
pub struct OovModel {
    session: Mutex<Session>,
    chars: HashMap<char, i64>,
    phones: Vec<String>,
    maxlen: usize,
}

impl OovModel {
    /// Loads `oov.onnx` and `oov.json` from `dir` (the ONNX Runtime must already be set up).
    ///
    /// # Errors
    /// Missing or malformed files, or a model ONNX Runtime cannot load.
    pub fn load(env: &Environment, dir: &Path) -> Result<Self, TtsError> {
        let meta_path = dir.join("oov.json");
        let text = std::fs::read_to_string(&meta_path).map_err(|_| TtsError::MissingModel {
            path: meta_path.clone(),
        })?;
        let meta: Meta = serde_json::from_str(&text).map_err(|e| TtsError::BadData {
            path: meta_path.clone(),
            reason: e.to_string(),
        })?;
        let chars = meta
            .input
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.chars().next().map(|c| (c, i as i64 + 1)))
            .collect();
        let session = ort_env::session(env, &dir.join("oov.onnx"))?;
        Ok(OovModel {
            session: Mutex::new(session),
            chars,
            phones: meta.out,
            maxlen: meta.maxlen,
        })
    }

    /// Phonemes for `word`, or `None` if it has no letters the network knows.
    ///
    /// # Errors
    /// An ONNX Runtime failure.
    pub fn phonemes(&self, word: &str) -> Result<Option<String>, TtsError> {
        let ids: Vec<i64> = word
            .chars()
            .filter_map(|c| self.chars.get(&c).copied())
            .take(self.maxlen)
            .collect();
        if ids.is_empty() {
            return Ok(None);
        }
        let input = Tensor::from_array(([1usize, ids.len()], ids))?;
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session.run(ort::inputs!["chars" => input])?;
        let (_, out) = outputs[0].try_extract_tensor::<i64>()?;
        let mut ps = String::new();
        let mut prev = 0;
        for &i in out {
            if i != prev && i != 0 {
                if let Some(p) = self.phones.get(i as usize - 1) {
                    ps.push_str(p);
                }
            }
            prev = i;
        }
        Ok((!ps.trim().is_empty()).then(|| ps.trim().to_string()))
    }
}

/// Rough English spelling-to-sound rules: the last resort for unknown words.
pub fn letter_to_sound(word: &str) -> String {
    const RULES: &[(&str, &str)] = &[
        ("tch", "ʧ"),
        ("sch", "sk"),
        ("igh", "I"),
        ("ch", "ʧ"),
        ("sh", "ʃ"),
        ("th", "θ"),
        ("ph", "f"),
        ("ng", "ŋ"),
        ("ck", "k"),
        ("qu", "kw"),
        ("wh", "w"),
        ("ee", "i"),
        ("ea", "i"),
        ("oo", "u"),
        ("ai", "A"),
        ("ay", "A"),
        ("oa", "O"),
        ("ou", "W"),
        ("ow", "O"),
        ("oi", "Y"),
        ("oy", "Y"),
        ("au", "ɔ"),
        ("aw", "ɔ"),
        ("er", "əɹ"),
        ("ir", "ɜɹ"),
        ("ur", "ɜɹ"),
        ("ar", "ɑɹ"),
        ("or", "ɔɹ"),
        ("a", "æ"),
        ("b", "b"),
        ("c", "k"),
        ("d", "d"),
        ("e", "ɛ"),
        ("f", "f"),
        ("g", "ɡ"),
        ("h", "h"),
        ("i", "ɪ"),
        ("j", "ʤ"),
        ("k", "k"),
        ("l", "l"),
        ("m", "m"),
        ("n", "n"),
        ("o", "ɑ"),
        ("p", "p"),
        ("q", "k"),
        ("r", "ɹ"),
        ("s", "s"),
        ("t", "t"),
        ("u", "ʌ"),
        ("v", "v"),
        ("w", "w"),
        ("x", "ks"),
        ("y", "i"),
        ("z", "z"),
    ];
    let w = word.to_lowercase();
    // A final silent e after a consonant.
    let w = match w.strip_suffix('e') {
        Some(stem) if stem.len() > 2 && !stem.ends_with(['a', 'e', 'i', 'o', 'u']) => {
            stem.to_string()
        }
        _ => w,
    };
    let mut ps = String::new();
    let mut rest = w.as_str();
    while !rest.is_empty() {
        match RULES.iter().find(|(g, _)| rest.starts_with(g)) {
            Some((g, p)) => {
                ps.push_str(p);
                rest = &rest[g.len()..];
            }
            None => {
                let skip = rest.chars().next().map_or(1, char::len_utf8);
                rest = &rest[skip..];
            }
        }
    }
    super::lexicon::apply_stress(&ps, Some(2.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letter_to_sound_gives_stressed_plausible_phonemes() {
        assert_eq!(letter_to_sound("zorb"), "zˈɔɹb");
        assert_eq!(letter_to_sound("shimble"), "ʃˈɪmbl");
        assert_eq!(letter_to_sound("xyz"), "ksiz".replacen('i', "ˈi", 1));
        assert_eq!(letter_to_sound("123"), "");
    }
}
