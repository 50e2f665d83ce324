//! The hibari voice: text → phonemes ([`G2p`]) → phoneme ids (`vocab.json`) → acoustic model
//! (`hibari.onnx`: inputs `ids` [1, L] i64 and `speed` [1] f32; outputs five [1, 601, F]
//! spectral planes and `f0` [1, F]) → [`Vocoder`] → 24 kHz mono `f32`.
//!
//! One [`HibariVoice`] is loaded per process and shared through an `Arc`. `Session::run`
//! needs `&mut`, so concurrent calls borrow sessions from a small pool that grows on demand
//! up to [`MAX_SESSIONS`] and then makes callers wait their turn.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use ort::environment::Environment;
use ort::session::Session;
use ort::value::Tensor;

use super::g2p::G2p;
use super::ort_env;
use super::vocoder::{Frames, SentenceVocoder, Vocoder, BINS, SAMPLE_RATE};
use super::TtsError;

/// Sample rate of hibari's output.
pub const HIBARI_SAMPLE_RATE: u32 = SAMPLE_RATE;
/// Most sessions kept for concurrent calls (each holds its own copy of the 8 MB model).
pub const MAX_SESSIONS: usize = 4;
/// Phoneme strings longer than this are cut at clause punctuation before synthesis.
const MAX_PHONEMES: usize = 400;
/// Frames per streamed chunk after the first (200 ms of audio).
const STREAM_FRAMES: usize = 16;
/// Frames in the first streamed chunk of each sentence (100 ms), so playback starts early.
const FIRST_STREAM_FRAMES: usize = 8;

/// Per-call synthesis options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthOptions {
    /// Speaking rate relative to the voice's natural pace, 0.5 (slow) ..= 2.0 (fast).
    pub speed: f32,
    /// Fixes the noise component so repeated calls are identical; `None` varies per call.
    pub seed: Option<u64>,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            speed: 1.0,
            seed: None,
        }
    }
}

impl SynthOptions {
    fn validate(&self) -> Result<(), TtsError> {
        if !(0.5..=2.0).contains(&self.speed) {
            return Err(TtsError::InvalidOptions(format!(
                "speed {} outside 0.5..=2.0",
                self.speed
            )));
        }
        Ok(())
    }
}

/// The hibari voice: model sessions, phoneme vocabulary, G2P and vocoder.
#[derive(Debug)]
pub struct HibariVoice {
    pool: SessionPool,
    vocab: HashMap<char, i64>,
    g2p: G2p,
    vocoder: Vocoder,
    /// Source of noise seeds for calls without an explicit seed.
    seeds: AtomicU64,
}

impl HibariVoice {
    /// Loads the voice from a directory holding `hibari.onnx`, `vocab.json` and the G2P data
    /// (the model store's `hibari/`). The ONNX Runtime library comes from `ORT_DYLIB_PATH` or
    /// the store's `onnxruntime/libonnxruntime.so`.
    ///
    /// # Errors
    /// Missing files, an unloadable runtime or model, malformed data files.
    pub fn load(dir: impl AsRef<Path>) -> Result<Arc<HibariVoice>, TtsError> {
        let dir = dir.as_ref();
        let model = dir.join("hibari.onnx");
        if !model.is_file() {
            return Err(TtsError::MissingModel { path: model });
        }
        let env = ort_env::ensure_runtime(dir)?;
        let pool = SessionPool::new(env, model)?;
        let vocab = load_vocab(&dir.join("vocab.json"))?;
        let g2p = G2p::load(dir)?;
        Ok(Arc::new(HibariVoice {
            pool,
            vocab,
            g2p,
            vocoder: Vocoder::new(),
            seeds: AtomicU64::new(1),
        }))
    }

    /// Output sample rate (24 kHz).
    pub fn sample_rate(&self) -> u32 {
        HIBARI_SAMPLE_RATE
    }

    /// The English G2P this voice uses.
    pub fn g2p(&self) -> &G2p {
        &self.g2p
    }

    /// Phoneme strings the model will be fed for `text`: one per sentence (long sentences cut
    /// at clause punctuation).
    pub fn phonemize(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for sentence in super::splitter::split_sentences(text) {
            let ps = self.g2p.phonemize(&sentence);
            if ps.trim().is_empty() {
                continue;
            }
            out.extend(cut_long(&ps, MAX_PHONEMES));
        }
        out
    }

    /// Model ids for a phoneme string: characters outside the vocabulary are dropped, and the
    /// sequence is wrapped in the 0 pad id.
    pub fn ids(&self, phonemes: &str) -> Vec<i64> {
        let mut ids = vec![0];
        ids.extend(phonemes.chars().filter_map(|c| self.vocab.get(&c).copied()));
        ids.push(0);
        ids
    }

    /// Synthesises `text` (one or more sentences) to 24 kHz mono samples.
    ///
    /// # Errors
    /// Invalid options or an ONNX Runtime failure.
    pub fn synthesize(&self, text: &str, opts: &SynthOptions) -> Result<Vec<f32>, TtsError> {
        let mut out = Vec::new();
        for chunk in self.stream(text, opts)? {
            out.extend(chunk?);
        }
        Ok(out)
    }

    /// Synthesises a phoneme string in the model's alphabet directly (no G2P).
    ///
    /// # Errors
    /// Invalid options or an ONNX Runtime failure.
    pub fn synthesize_phonemes(
        &self,
        phonemes: &str,
        opts: &SynthOptions,
    ) -> Result<Vec<f32>, TtsError> {
        opts.validate()?;
        match self.frames(&self.ids(phonemes), opts.speed)? {
            Some(frames) => Ok(self.vocoder.synthesize(frames, self.seed(opts))),
            None => Ok(Vec::new()),
        }
    }

    /// Streams `text` as audio chunks: sentence by sentence, each sentence's waveform released
    /// in 100–200 ms pieces as the vocoder finishes them. The G2P runs up front (cheap); the
    /// model runs when the stream reaches each sentence, so the first chunk arrives after one
    /// sentence's inference.
    ///
    /// # Errors
    /// Invalid options (later errors come out of the iterator).
    pub fn stream(&self, text: &str, opts: &SynthOptions) -> Result<HibariStream<'_>, TtsError> {
        opts.validate()?;
        Ok(HibariStream {
            voice: self,
            pending: self.phonemize(text).into(),
            current: None,
            speed: opts.speed,
            seed: self.seed(opts),
        })
    }

    fn seed(&self, opts: &SynthOptions) -> u64 {
        opts.seed
            .unwrap_or_else(|| self.seeds.fetch_add(1, Ordering::Relaxed))
    }

    /// Runs the acoustic model; `None` when there is nothing to say.
    fn frames(&self, ids: &[i64], speed: f32) -> Result<Option<Frames>, TtsError> {
        if ids.len() < 3 {
            return Ok(None);
        }
        let mut session = self.pool.take()?;
        let ids_t = Tensor::from_array(([1usize, ids.len()], ids.to_vec()))?;
        let speed_t = Tensor::from_array(([1usize], vec![speed]))?;
        let outputs = session
            .session()
            .run(ort::inputs!["ids" => ids_t, "speed" => speed_t])?;
        let plane = |name: &str| -> Result<(Vec<f32>, usize), TtsError> {
            let value = outputs
                .get(name)
                .ok_or_else(|| TtsError::BadOutput(format!("no output {name}")))?;
            let (shape, data) = value.try_extract_tensor::<f32>()?;
            match **shape {
                [1, b, f] if b as usize == BINS => Ok((data.to_vec(), f as usize)),
                _ => Err(TtsError::BadOutput(format!("{name} has shape {shape:?}"))),
            }
        };
        let (lh, n) = plane("lh")?;
        let (theta, _) = plane("theta")?;
        let (ln, _) = plane("ln")?;
        let (lr, _) = plane("lr")?;
        let (phi, _) = plane("phi")?;
        let f0_value = outputs
            .get("f0")
            .ok_or_else(|| TtsError::BadOutput("no output f0".into()))?;
        let (_, f0) = f0_value.try_extract_tensor::<f32>()?;
        if f0.len() != n || [&theta, &ln, &lr, &phi].iter().any(|p| p.len() != lh.len()) {
            return Err(TtsError::BadOutput(format!(
                "inconsistent frame counts ({n} frames, f0 {})",
                f0.len()
            )));
        }
        Ok(Some(Frames {
            lh,
            theta,
            ln,
            lr,
            phi,
            f0: f0.to_vec(),
        }))
    }
}

/// Audio chunks of one [`HibariVoice::stream`] call, in order. Dropping it stops the work.
pub struct HibariStream<'a> {
    voice: &'a HibariVoice,
    /// Phoneme strings not yet sent to the model.
    pending: VecDeque<String>,
    /// The sentence being vocoded, with whether its first chunk was already produced.
    current: Option<(SentenceVocoder, bool)>,
    speed: f32,
    seed: u64,
}

impl Iterator for HibariStream<'_> {
    type Item = Result<Vec<f32>, TtsError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((run, started)) = &mut self.current {
                let frames = if *started {
                    STREAM_FRAMES
                } else {
                    FIRST_STREAM_FRAMES
                };
                *started = true;
                match run.next_chunk(frames) {
                    Some(chunk) if chunk.is_empty() => continue,
                    Some(chunk) => return Some(Ok(chunk)),
                    None => self.current = None,
                }
            }
            let phonemes = self.pending.pop_front()?;
            let ids = self.voice.ids(&phonemes);
            match self.voice.frames(&ids, self.speed) {
                Ok(Some(frames)) => {
                    self.seed = self.seed.wrapping_add(1);
                    self.current = Some((self.voice.vocoder.start(frames, self.seed), false));
                }
                Ok(None) => {}
                Err(e) => {
                    self.pending.clear();
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Cuts a phoneme string longer than `max` at clause punctuation (`,;:—`).
fn cut_long(ps: &str, max: usize) -> Vec<String> {
    if ps.chars().count() <= max {
        return vec![ps.to_string()];
    }
    let mut parts = Vec::new();
    let mut cur = String::new();
    for piece in ps.split_inclusive([',', ';', ':', '—']) {
        let piece = piece.trim();
        if !cur.is_empty() && cur.chars().count() + piece.chars().count() + 1 > max {
            parts.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(piece);
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    parts
}

fn load_vocab(path: &Path) -> Result<HashMap<char, i64>, TtsError> {
    let bad = |reason: String| TtsError::BadData {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let raw: HashMap<String, i64> = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let mut vocab = HashMap::with_capacity(raw.len());
    for (k, v) in raw {
        let mut chars = k.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => vocab.insert(c, v),
            _ => return Err(bad(format!("key {k:?} is not one character"))),
        };
    }
    Ok(vocab)
}

/// Sessions of one model, lent out one call at a time.
#[derive(Debug)]
struct SessionPool {
    env: Environment,
    model: PathBuf,
    state: Mutex<PoolState>,
    returned: Condvar,
}

#[derive(Debug)]
struct PoolState {
    idle: Vec<Session>,
    created: usize,
}

impl SessionPool {
    /// Creates the pool with one session, so a bad model fails at load time.
    fn new(env: Environment, model: PathBuf) -> Result<Self, TtsError> {
        let first = ort_env::session(&env, &model)?;
        Ok(SessionPool {
            env,
            model,
            state: Mutex::new(PoolState {
                idle: vec![first],
                created: 1,
            }),
            returned: Condvar::new(),
        })
    }

    /// Borrows a session, creating one if all are busy and the cap allows, else waiting.
    fn take(&self) -> Result<PooledSession<'_>, TtsError> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(s) = st.idle.pop() {
                return Ok(PooledSession {
                    pool: self,
                    session: Some(s),
                });
            }
            if st.created < MAX_SESSIONS {
                st.created += 1;
                drop(st);
                return match ort_env::session(&self.env, &self.model) {
                    Ok(s) => Ok(PooledSession {
                        pool: self,
                        session: Some(s),
                    }),
                    Err(e) => {
                        self.state.lock().unwrap_or_else(|p| p.into_inner()).created -= 1;
                        Err(e)
                    }
                };
            }
            st = self.returned.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// A borrowed session; goes back to the pool on drop.
struct PooledSession<'a> {
    pool: &'a SessionPool,
    session: Option<Session>,
}

impl PooledSession<'_> {
    fn session(&mut self) -> &mut Session {
        self.session.as_mut().expect("session present until drop")
    }
}

impl Drop for PooledSession<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            self.pool
                .state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .idle
                .push(s);
            self.pool.returned.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_phoneme_strings_are_cut_at_clauses() {
        let ps = "ab cd, ef gh, ij kl; mn op.";
        let parts = cut_long(ps, 14);
        assert_eq!(parts, vec!["ab cd, ef gh,", "ij kl; mn op."]);
        assert_eq!(cut_long("short.", 14), vec!["short."]);
    }

    #[test]
    fn speed_outside_range_is_rejected() {
        assert!(SynthOptions {
            speed: 3.0,
            seed: None
        }
        .validate()
        .is_err());
        assert!(SynthOptions::default().validate().is_ok());
    }
}
