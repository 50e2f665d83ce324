//! Streaming fixed-ratio sample-rate conversion (rubato's FFT resampler).
//!
//! Sits right after the codec on the way in (8 kHz G.711 or 48 kHz Opus → 16 kHz for Silero
//! and Whisper) and right before it on the way out (24 kHz Hibari or 22.05 kHz Piper TTS → 8 or
//! 48 kHz). [`Resampler::process`] takes any number of samples and buffers internally; the
//! output is aligned with the input (the filter's start-up delay is trimmed) and
//! [`Resampler::flush`] drains the tail so that the total output length is
//! `round(total_input × to / from)`.
//!
//! # Latency
//! Input is processed in 20 ms chunks, so a sample waits up to 20 ms for its chunk to fill,
//! plus the FFT filter's delay of half an FFT block (about 3–4 ms; see
//! [`Resampler::latency_ms`]). Equal rates pass through with no latency and no copy beyond the
//! returned vector.

use crate::frame::{f32_to_sample, sample_to_f32};
use crate::SampleRate;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler as _};

/// Rates the resampler converts between (any pair).
pub const SUPPORTED_RATES: [u32; 8] = [
    8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000,
];

/// Errors building a resampler.
#[derive(Debug, thiserror::Error)]
pub enum ResampleError {
    /// A rate outside [`SUPPORTED_RATES`] (arbitrary ratios would need huge FFTs).
    #[error(
        "unsupported resampling rate {0} (supported: 8, 11.025, 16, 22.05, 24, 32, 44.1, 48 kHz)"
    )]
    UnsupportedRate(SampleRate),
    /// rubato refused the configuration.
    #[error("resampler construction failed: {0}")]
    Construction(#[from] rubato::ResamplerConstructionError),
}

/// A mono streaming resampler from one fixed rate to another.
pub struct Resampler {
    from: SampleRate,
    to: SampleRate,
    inner: Option<FftState>,
}

struct FftState {
    fft: Fft<f32>,
    chunk_in: usize,
    /// Input samples not yet processed.
    pending: Vec<f32>,
    out_buf: Vec<f32>,
    /// Output samples still to discard (the filter's start-up delay).
    skip: usize,
    total_in: u64,
    total_out: u64,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

impl Resampler {
    /// A resampler from `from` to `to`; a passthrough when they are equal.
    ///
    /// # Errors
    /// [`ResampleError::UnsupportedRate`] when either rate is not in [`SUPPORTED_RATES`].
    pub fn new(from: SampleRate, to: SampleRate) -> Result<Self, ResampleError> {
        for r in [from, to] {
            if !SUPPORTED_RATES.contains(&r.hz()) {
                return Err(ResampleError::UnsupportedRate(r));
            }
        }
        if from == to {
            return Ok(Self {
                from,
                to,
                inner: None,
            });
        }
        let chunk_in = from.samples_for_ms(20);
        let fft = Fft::<f32>::new(
            from.hz() as usize,
            to.hz() as usize,
            chunk_in,
            1,
            FixedSync::Input,
        )?;
        let chunk_in = fft.input_frames_next();
        let state = FftState {
            skip: fft.output_delay(),
            out_buf: vec![0.0; fft.output_frames_max()],
            pending: Vec::with_capacity(chunk_in * 2),
            fft,
            chunk_in,
            total_in: 0,
            total_out: 0,
        };
        Ok(Self {
            from,
            to,
            inner: Some(state),
        })
    }

    /// Input rate.
    pub fn from_rate(&self) -> SampleRate {
        self.from
    }

    /// Output rate.
    pub fn to_rate(&self) -> SampleRate {
        self.to
    }

    /// Worst-case delay this resampler adds, in milliseconds: chunk buffering plus filter delay
    /// (0 for a passthrough).
    pub fn latency_ms(&self) -> f64 {
        match &self.inner {
            None => 0.0,
            Some(s) => {
                self.from.ms_for_samples(s.chunk_in) + self.to.ms_for_samples(s.fft.output_delay())
            }
        }
    }

    /// Resamples `input` (any length, including 0) and returns every output sample now
    /// available. Output lags input by up to one 20 ms chunk until [`Resampler::flush`].
    pub fn process(&mut self, input: &[i16]) -> Vec<i16> {
        let Some(s) = &mut self.inner else {
            return input.to_vec();
        };
        s.total_in += input.len() as u64;
        s.pending.extend(input.iter().map(|&x| sample_to_f32(x)));
        let mut out =
            Vec::with_capacity(input.len() * self.to.hz() as usize / self.from.hz() as usize + 64);
        let mut consumed = 0;
        while s.pending.len() - consumed >= s.chunk_in {
            let (n_in, _) = s.run(consumed, s.chunk_in, &mut out);
            consumed += n_in;
        }
        s.pending.drain(..consumed);
        out
    }

    /// Pushes the buffered input and the filter tail through with trailing silence, returns
    /// the remaining output, and resets the resampler for a new stream.
    pub fn flush(&mut self) -> Vec<i16> {
        let Some(s) = &mut self.inner else {
            return Vec::new();
        };
        let expected = (s.total_in * u64::from(self.to.hz()) + u64::from(self.from.hz()) / 2)
            / u64::from(self.from.hz());
        let mut out = Vec::new();
        let mut guard = 0;
        while s.total_out < expected && guard < 8 {
            let available = s.pending.len().min(s.chunk_in);
            let (n_in, _) = s.run(0, available, &mut out);
            s.pending.drain(..n_in.min(s.pending.len()));
            guard += 1;
        }
        let excess = (s.total_out.saturating_sub(expected)) as usize;
        out.truncate(out.len().saturating_sub(excess));
        self.reset();
        out
    }

    /// Drops buffered input and filter state.
    pub fn reset(&mut self) {
        if let Some(s) = &mut self.inner {
            s.fft.reset();
            s.pending.clear();
            s.skip = s.fft.output_delay();
            s.total_in = 0;
            s.total_out = 0;
        }
    }
}

impl FftState {
    /// Runs one chunk starting at `offset` in `pending` with `len` real samples (the rest of
    /// the chunk is zero-filled by rubato), appending output to `out`.
    fn run(&mut self, offset: usize, len: usize, out: &mut Vec<i16>) -> (usize, usize) {
        let indexing = Indexing {
            input_offset: offset,
            output_offset: 0,
            partial_len: (len < self.chunk_in).then_some(len),
            active_channels_mask: None,
        };
        let frames_in = self.pending.len();
        let frames_out = self.out_buf.len();
        // Both adapters are sized from the buffers themselves, so construction cannot fail and
        // rubato only errors on undersized buffers, which output_frames_max rules out.
        let (Ok(input), Ok(mut output)) = (
            InterleavedSlice::new(&self.pending[..], 1, frames_in),
            InterleavedSlice::new_mut(&mut self.out_buf[..], 1, frames_out),
        ) else {
            return (len, 0);
        };
        let Ok((n_in, n_out)) = self
            .fft
            .process_into_buffer(&input, &mut output, Some(&indexing))
        else {
            return (len, 0);
        };
        let skip = self.skip.min(n_out);
        self.skip -= skip;
        out.extend(self.out_buf[skip..n_out].iter().map(|&x| f32_to_sample(x)));
        self.total_out += (n_out - skip) as u64;
        (n_in.min(len), n_out - skip)
    }
}

/// Resamples a whole buffer at once (process + flush). Returns a copy for equal rates.
///
/// # Errors
/// As [`Resampler::new`].
pub fn resample_all(
    input: &[i16],
    from: SampleRate,
    to: SampleRate,
) -> Result<Vec<i16>, ResampleError> {
    let mut r = Resampler::new(from, to)?;
    let mut out = r.process(input);
    out.extend(r.flush());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::dbfs;
    use crate::synth;
    use crate::tone::goertzel_power;

    const RATES: [SampleRate; 5] = [
        SampleRate::HZ_8K,
        SampleRate::HZ_16K,
        SampleRate::HZ_22050,
        SampleRate::HZ_24K,
        SampleRate::HZ_48K,
    ];

    #[test]
    fn lengths_and_tones_survive_every_pair() {
        for from in RATES {
            for to in RATES {
                let tone = synth::sine(1000.0, 0.5, 500, from);
                let out = resample_all(&tone, from, to).unwrap();
                let expected = (tone.len() as u64 * u64::from(to.hz()) + u64::from(from.hz()) / 2)
                    / u64::from(from.hz());
                assert_eq!(out.len() as u64, expected, "{from} -> {to}");
                // Level preserved and the energy is still at 1 kHz (away from the edges).
                let mid = &out[out.len() / 4..out.len() * 3 / 4];
                assert!(
                    (dbfs(mid) - dbfs(&tone)).abs() < 0.5,
                    "{from} -> {to}: {}",
                    dbfs(mid)
                );
                let f: Vec<f32> = crate::frame::i16_to_f32(mid);
                let at_1k = goertzel_power(&f, 1000.0, to);
                let at_1k5 = goertzel_power(&f, 1500.0, to);
                assert!(at_1k > 100.0 * at_1k5, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn output_is_aligned_with_input() {
        // A click at 100 ms must come out at 100 ms.
        let mut input = vec![0i16; 16_000];
        input[1600] = 20_000;
        let out = resample_all(&input, SampleRate::HZ_16K, SampleRate::HZ_48K).unwrap();
        let peak_at = out
            .iter()
            .enumerate()
            .max_by_key(|(_, &s)| s.unsigned_abs())
            .unwrap()
            .0;
        assert!((peak_at as i64 - 4800).abs() <= 2, "peak at {peak_at}");
    }

    #[test]
    fn streaming_in_odd_pieces_matches_whole_buffer() {
        let voice = synth::speech_like(150.0, 0.3, 700, SampleRate::HZ_48K, 3);
        let whole = resample_all(&voice, SampleRate::HZ_48K, SampleRate::HZ_16K).unwrap();
        let mut r = Resampler::new(SampleRate::HZ_48K, SampleRate::HZ_16K).unwrap();
        let mut streamed = Vec::new();
        let mut at = 0;
        for (i, size) in [0usize, 1, 7, 960, 333, 2000, 5, 4096]
            .iter()
            .cycle()
            .enumerate()
        {
            if at >= voice.len() || i > 1000 {
                break;
            }
            let end = (at + size).min(voice.len());
            streamed.extend(r.process(&voice[at..end]));
            at = end;
        }
        streamed.extend(r.flush());
        assert_eq!(streamed, whole);
        // After flush the resampler starts a fresh stream.
        let again: Vec<i16> = [r.process(&voice), r.flush()].concat();
        assert_eq!(again, whole);
    }

    #[test]
    fn passthrough_and_errors() {
        let mut r = Resampler::new(SampleRate::HZ_16K, SampleRate::HZ_16K).unwrap();
        assert_eq!(r.process(&[1, 2, 3]), vec![1, 2, 3]);
        assert!(r.flush().is_empty());
        assert_eq!(r.latency_ms(), 0.0);
        let odd = SampleRate::new(44_101).unwrap();
        let err = Resampler::new(odd, SampleRate::HZ_16K).unwrap_err();
        assert!(err.to_string().contains("44101"));
        let r = Resampler::new(SampleRate::HZ_48K, SampleRate::HZ_16K).unwrap();
        assert!(
            r.latency_ms() > 20.0 && r.latency_ms() < 30.0,
            "{}",
            r.latency_ms()
        );
        assert!(resample_all(&[], SampleRate::HZ_8K, SampleRate::HZ_16K)
            .unwrap()
            .is_empty());
        let mut r = Resampler::new(SampleRate::HZ_8K, SampleRate::HZ_16K).unwrap();
        assert!(r.process(&[]).is_empty());
        assert_eq!(
            resample_all(&[100], SampleRate::HZ_8K, SampleRate::HZ_16K)
                .unwrap()
                .len(),
            2
        );
    }
}
