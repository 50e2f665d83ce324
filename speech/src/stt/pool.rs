//! A bounded pool of whisper decoder states shared by every call of the process. Each state
//! holds its own KV caches and scratch buffers (tens of MB), so the pool size caps both memory
//! and concurrent CPU use; `transcribe` blocks until a state is free.

use std::sync::{Arc, Condvar, Mutex, PoisonError};

use whisper_rs::WhisperState;

use super::audio::AudioCheck;
use super::model::WhisperModel;
use super::params::{audio_ctx_for, full_params};
use super::{DecodeRequest, SttError, Transcript};

/// Prompt tokens kept at most (whisper allows 223 before the start-of-transcript token).
const MAX_PROMPT_TOKENS: usize = 128;

/// A fixed number of decoder states over one shared model.
pub struct WhisperPool {
    model: Arc<WhisperModel>,
    /// Idle states; a decode takes one and its [`Lease`] puts it back, even on panic.
    idle: Mutex<Vec<WhisperState>>,
    /// Signalled each time a state is returned.
    returned: Condvar,
    size: usize,
}

impl std::fmt::Debug for WhisperPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperPool")
            .field("model", &self.model)
            .field("size", &self.size)
            .finish()
    }
}

/// A state on loan; returns it to the pool on drop.
struct Lease<'a> {
    pool: &'a WhisperPool,
    state: Option<WhisperState>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            let mut idle = self
                .pool
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            idle.push(state);
            self.pool.returned.notify_one();
        }
    }
}

impl WhisperPool {
    /// Creates `size` decoder states (at least one) up front.
    ///
    /// # Errors
    /// [`SttError::State`] if whisper.cpp cannot allocate a state.
    pub fn new(model: Arc<WhisperModel>, size: usize) -> Result<Self, SttError> {
        let size = size.max(1);
        let idle = (0..size)
            .map(|_| model.new_state())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            model,
            idle: Mutex::new(idle),
            returned: Condvar::new(),
            size,
        })
    }

    /// One state per available core (each decode uses one thread).
    ///
    /// # Errors
    /// [`SttError::State`] if whisper.cpp cannot allocate a state.
    pub fn per_core(model: Arc<WhisperModel>) -> Result<Self, SttError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(model, cores)
    }

    /// Number of decoder states (maximum concurrent decodes).
    pub fn size(&self) -> usize {
        self.size
    }

    /// The shared model.
    pub fn model(&self) -> &Arc<WhisperModel> {
        &self.model
    }

    fn lease(&self) -> Lease<'_> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(state) = idle.pop() {
                return Lease {
                    pool: self,
                    state: Some(state),
                };
            }
            idle = self
                .returned
                .wait(idle)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Transcribes one utterance. Blocking: run it on a blocking thread. Waits for a free
    /// decoder state when all are busy.
    ///
    /// Empty, too-short and silent audio returns [`Transcript::empty`] without decoding.
    ///
    /// # Errors
    /// [`SttError::InvalidAudio`] (NaN/∞, far out of range), [`SttError::UnsupportedLanguage`],
    /// [`SttError::Decode`].
    pub fn transcribe(&self, req: &DecodeRequest<'_>) -> Result<Transcript, SttError> {
        self.model.check_language(req.language)?;
        let audio = match AudioCheck::of(req.audio_16k)? {
            AudioCheck::NoSpeech => return Ok(Transcript::empty()),
            AudioCheck::Decode(audio) => audio,
        };
        let prompt = req
            .initial_prompt
            .map(|p| self.model.prompt_tokens(p, MAX_PROMPT_TOKENS))
            .unwrap_or_default();
        let audio_ctx = audio_ctx_for(audio.len(), self.model.max_audio_ctx());
        let params = full_params(
            req.language,
            &prompt,
            audio_ctx,
            req.max_tokens.max(1),
            req.fallback,
        );

        let mut lease = self.lease();
        let state = lease.state.as_mut().expect("a lease always holds a state");
        #[allow(clippy::disallowed_types)] // Timing a blocking FFI call; no tokio clock here.
        let started = std::time::Instant::now();
        state.full(params, &audio).map_err(SttError::Decode)?;
        let decode_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(collect(state, self.model.eot(), decode_ms))
    }
}

/// Gathers text, token log-probabilities and the no-speech probability of a finished decode.
fn collect(state: &WhisperState, eot: whisper_rs::WhisperTokenId, decode_ms: f64) -> Transcript {
    let mut text = String::new();
    let mut logprob_sum = 0.0f64;
    let mut n_tokens = 0usize;
    let mut no_speech_prob = None;
    for segment in state.as_iter() {
        no_speech_prob = Some(segment.no_speech_probability());
        if let Ok(t) = segment.to_str_lossy() {
            text.push_str(&t);
        }
        for i in 0..segment.n_tokens() {
            let Some(token) = segment.get_token(i) else {
                continue;
            };
            if token.token_id() < eot {
                let p = token.token_probability().clamp(1e-10, 1.0);
                logprob_sum += f64::from(p.ln());
                n_tokens += 1;
            }
        }
    }
    let text = clean_text(&text);
    if text.is_empty() || n_tokens == 0 {
        return Transcript {
            no_speech_prob,
            decode_ms,
            ..Transcript::empty()
        };
    }
    let avg_logprob = (logprob_sum / n_tokens as f64) as f32;
    Transcript {
        text,
        avg_logprob,
        confidence: avg_logprob.exp().clamp(0.0, 1.0),
        no_speech_prob,
        decode_ms,
    }
}

/// Trims, drops output that is only a non-speech annotation (`[BLANK_AUDIO]`, `(music)`) or
/// has no letters or digits at all (`♪♪`, `...`), and collapses decoder loops
/// ([`collapse_loops`]).
fn clean_text(raw: &str) -> String {
    let t = raw.trim();
    let annotation = |open: char, close: char| t.starts_with(open) && t.ends_with(close);
    let wordless = !t.chars().any(char::is_alphanumeric);
    if wordless || annotation('[', ']') || annotation('(', ')') || annotation('*', '*') {
        String::new()
    } else {
        collapse_loops(t)
    }
}

/// A phrase said this many times in a row is a decoder loop, not speech.
const LOOP_REPEATS: usize = 3;
/// The longest phrase (in words) looked for as a loop.
const LOOP_MAX_WORDS: usize = 12;

/// Keeps one copy of a phrase repeated [`LOOP_REPEATS`] or more times in a row (case and
/// punctuation ignored): greedy decodes without temperature fallback loop on hard audio
/// ("Please, please, please, …", "Hello? Hello? Hello? …" ×16 after a two-word greeting).
/// A person's "Hello? Hello?" (twice) is kept.
fn collapse_loops(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let key: Vec<String> = words
        .iter()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .flat_map(char::to_lowercase)
                .collect()
        })
        .collect();
    let mut kept: Vec<&str> = Vec::with_capacity(words.len());
    let mut i = 0;
    'words: while i < words.len() {
        for len in 1..=LOOP_MAX_WORDS.min((words.len() - i) / LOOP_REPEATS) {
            let phrase = &key[i..i + len];
            let repeats = key[i..]
                .chunks(len)
                .take_while(|chunk| *chunk == phrase)
                .count();
            if repeats >= LOOP_REPEATS {
                kept.extend_from_slice(&words[i..i + len]);
                i += repeats * len;
                continue 'words;
            }
        }
        kept.push(words[i]);
        i += 1;
    }
    kept.join(" ")
}

#[cfg(test)]
mod tests {
    use super::clean_text;

    #[test]
    fn decoder_loops_keep_one_copy_and_real_repeats_stay() {
        let please = ["Please,"; 16].join(" ");
        assert_eq!(clean_text(&please), "Please,");
        let hello = format!("Hello, hello? {}", ["Hello?"; 14].join(" "));
        assert_eq!(clean_text(&hello), "Hello,");
        let phrase = "Thank you for calling Blocky of Planning.";
        let looped = format!("{phrase} {phrase} {phrase} Thank you");
        assert_eq!(clean_text(&looped), format!("{phrase} Thank you"));
        for kept in ["Hello? Hello?", "No, no. I said no, no, not now.", "Yes."] {
            assert_eq!(clean_text(kept), kept);
        }
    }

    #[test]
    fn annotations_are_not_speech() {
        assert_eq!(clean_text(" [BLANK_AUDIO] "), "");
        assert_eq!(clean_text("(upbeat music)"), "");
        assert_eq!(clean_text(" ♪♪ "), "");
        assert_eq!(clean_text("..."), "");
        assert_eq!(
            clean_text("  Yes, it was resolved. "),
            "Yes, it was resolved."
        );
    }
}
