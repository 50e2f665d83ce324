//! Decoder settings for short spoken replies on CPU (see ENVIRONMENT.md "Speech recognition"):
//! sized `audio_ctx`, greedy with temperature fallback, one segment, one thread, non-speech
//! tokens suppressed, and whisper.cpp's no-speech gate (no_speech_prob > 0.6 with
//! avg_logprob < -1 drops the segment).

use std::ffi::c_int;

use whisper_rs::{FullParams, SamplingStrategy, WhisperTokenId};

use super::SAMPLE_RATE;

/// Encoder frames per second of audio (whisper: 1500 frames for 30 s).
const FRAMES_PER_SEC: f64 = 50.0;

/// Context added after the utterance: with less, whisper tends to loop or truncate.
const TAIL_SECS: f64 = 3.0;

/// Encoder context for `samples` of 16 kHz audio: `ceil((duration + 3 s) × 50)` rounded up to a
/// multiple of 64, capped at the model's `max_ctx` (1500). The encoder pads everything to 30 s
/// otherwise, so this is the main speed lever.
pub fn audio_ctx_for(samples: usize, max_ctx: i32) -> i32 {
    let secs = samples as f64 / f64::from(SAMPLE_RATE);
    let frames = ((secs + TAIL_SECS) * FRAMES_PER_SEC).ceil() as i64;
    let rounded = (frames + 63) / 64 * 64;
    rounded.min(i64::from(max_ctx)) as i32
}

/// Builds whisper.cpp parameters for one decode.
pub(crate) fn full_params<'a, 'b>(
    language: &'a str,
    prompt_tokens: &'b [WhisperTokenId],
    audio_ctx: i32,
    max_tokens: u32,
    fallback: bool,
) -> FullParams<'a, 'b> {
    let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    p.set_n_threads(1);
    p.set_language(Some(language));
    p.set_translate(false);
    p.set_no_context(true);
    // Timestamps stay ON although we never read them: whisper.cpp takes the no-speech
    // probability from the last prompt token, which with `<|notimestamps|>` is always ~0, so
    // noise-only clips would come back as hallucinated text instead of being dropped.
    p.set_no_timestamps(false);
    p.set_single_segment(true);
    p.set_audio_ctx(audio_ctx as c_int);
    p.set_max_tokens(max_tokens.min(c_int::MAX as u32) as c_int);
    // Temperature fallback (whisper.cpp default 0.2 steps) breaks repetition loops; a
    // speculative partial skips it (`max_tokens` bounds a loop instead).
    p.set_temperature(0.0);
    p.set_temperature_inc(if fallback { 0.2 } else { 0.0 });
    p.set_suppress_blank(true);
    p.set_suppress_nst(true);
    p.set_print_special(false);
    p.set_print_progress(false);
    p.set_print_realtime(false);
    p.set_print_timestamps(false);
    if !prompt_tokens.is_empty() {
        p.set_tokens(prompt_tokens);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_ctx_follows_duration_plus_tail_rounded_to_64() {
        // 1 s → (1 + 3) × 50 = 200 → 256.
        assert_eq!(audio_ctx_for(16_000, 1500), 256);
        // 3 s → 300 → 320.
        assert_eq!(audio_ctx_for(48_000, 1500), 320);
        // 6 s → 450 → 512.
        assert_eq!(audio_ctx_for(96_000, 1500), 512);
        // 1.3 s → 215 → 256; 2.12 s → exactly 256 stays; 0.76 s → 188 → 192.
        assert_eq!(audio_ctx_for(20_800, 1500), 256);
        assert_eq!(audio_ctx_for(33_920, 1500), 256);
        assert_eq!(audio_ctx_for(12_160, 1500), 192);
        // Long audio is capped at the model's context.
        assert_eq!(audio_ctx_for(16_000 * 40, 1500), 1500);
    }
}
