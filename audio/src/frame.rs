//! Sample rates and mono PCM frames: the unit every stage of the pipeline exchanges.
//!
//! Transport (RTP/LiveKit) decodes into [`AudioFrame`]s, the resampler converts them to the
//! rate the VAD and STT want, and the VAD consumes fixed-size chunks cut by [`Rechunker`].
//! Samples are mono `i16` PCM throughout; [`i16_to_f32`]/[`f32_to_i16`] convert at the edges of
//! models that want floats.

use std::fmt;

/// Errors from building frames or chunking them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A sample rate of zero, or above [`SampleRate::MAX_HZ`].
    #[error("invalid sample rate {0} Hz (must be 1..={max} Hz)", max = SampleRate::MAX_HZ)]
    InvalidRate(u32),
    /// A chunk duration that yields zero samples at this rate.
    #[error("chunk of {ms} ms holds no samples at {rate}")]
    EmptyChunk {
        /// Requested chunk duration.
        ms: u32,
        /// Rate of the frame being chunked.
        rate: SampleRate,
    },
}

/// A sample rate in Hz. Always non-zero and at most [`SampleRate::MAX_HZ`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SampleRate(u32);

impl SampleRate {
    /// Narrowband telephony (G.711).
    pub const HZ_8K: Self = Self(8_000);
    /// Wideband: Silero VAD and Whisper.
    pub const HZ_16K: Self = Self(16_000);
    /// Piper-style TTS voices.
    pub const HZ_22050: Self = Self(22_050);
    /// Hibari TTS output.
    pub const HZ_24K: Self = Self(24_000);
    /// Opus and WebRTC.
    pub const HZ_48K: Self = Self(48_000);
    /// Highest rate accepted by [`SampleRate::new`].
    pub const MAX_HZ: u32 = 384_000;

    /// Validates a rate in Hz.
    ///
    /// # Errors
    /// [`FrameError::InvalidRate`] for 0 or a rate above [`SampleRate::MAX_HZ`].
    pub const fn new(hz: u32) -> Result<Self, FrameError> {
        if hz == 0 || hz > Self::MAX_HZ {
            Err(FrameError::InvalidRate(hz))
        } else {
            Ok(Self(hz))
        }
    }

    /// The rate in Hz.
    pub const fn hz(self) -> u32 {
        self.0
    }

    /// Whole samples per millisecond (`hz / 1000`, rounded down: 22.05 kHz gives 22). Exact for
    /// 8/16/24/48 kHz; use [`SampleRate::samples_for_ms`] for durations at other rates.
    pub const fn samples_per_ms(self) -> usize {
        (self.0 / 1000) as usize
    }

    /// Samples in `ms` milliseconds, rounded down (`hz * ms / 1000`).
    pub const fn samples_for_ms(self, ms: u32) -> usize {
        (self.0 as u64 * ms as u64 / 1000) as usize
    }

    /// Duration of `samples` samples in milliseconds.
    pub fn ms_for_samples(self, samples: usize) -> f64 {
        samples as f64 * 1000.0 / f64::from(self.0)
    }
}

impl fmt::Display for SampleRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Hz", self.0)
    }
}

impl TryFrom<u32> for SampleRate {
    type Error = FrameError;
    fn try_from(hz: u32) -> Result<Self, FrameError> {
        Self::new(hz)
    }
}

impl From<SampleRate> for u32 {
    fn from(rate: SampleRate) -> u32 {
        rate.0
    }
}

/// A buffer of mono 16-bit PCM at a known rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFrame {
    /// Mono samples, full scale ±32767.
    pub samples: Vec<i16>,
    /// Rate of `samples`.
    pub rate: SampleRate,
}

impl AudioFrame {
    /// Wraps samples.
    pub fn new(samples: Vec<i16>, rate: SampleRate) -> Self {
        Self { samples, rate }
    }

    /// `ms` milliseconds of digital silence.
    pub fn silence(rate: SampleRate, ms: u32) -> Self {
        Self::new(vec![0; rate.samples_for_ms(ms)], rate)
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when the frame holds no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Duration in milliseconds (fractional at rates such as 22.05 kHz).
    pub fn duration_ms(&self) -> f64 {
        self.rate.ms_for_samples(self.samples.len())
    }

    /// Splits into consecutive frames of `ms` milliseconds; the last one is shorter when the
    /// length is not a multiple. An empty frame gives an empty vector.
    ///
    /// # Errors
    /// [`FrameError::EmptyChunk`] when `ms` milliseconds is less than one sample at this rate.
    pub fn chunks(&self, ms: u32) -> Result<Vec<AudioFrame>, FrameError> {
        let len = self.rate.samples_for_ms(ms);
        if len == 0 {
            return Err(FrameError::EmptyChunk {
                ms,
                rate: self.rate,
            });
        }
        Ok(self
            .samples
            .chunks(len)
            .map(|c| AudioFrame::new(c.to_vec(), self.rate))
            .collect())
    }

    /// Samples as floats in [-1, 1).
    pub fn to_f32(&self) -> Vec<f32> {
        i16_to_f32(&self.samples)
    }
}

/// Cuts a stream of arbitrary-length pieces into chunks of exactly `chunk_len` samples, keeping
/// the remainder for the next push (e.g. 20 ms RTP frames into 512-sample Silero chunks).
#[derive(Debug, Clone)]
pub struct Rechunker {
    chunk_len: usize,
    pending: Vec<i16>,
}

impl Rechunker {
    /// A rechunker emitting `chunk_len` samples at a time (`chunk_len` of 0 is treated as 1).
    pub fn new(chunk_len: usize) -> Self {
        let chunk_len = chunk_len.max(1);
        Self {
            chunk_len,
            pending: Vec::with_capacity(chunk_len * 2),
        }
    }

    /// Length of the chunks this emits.
    pub fn chunk_len(&self) -> usize {
        self.chunk_len
    }

    /// Samples waiting for a full chunk.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Appends samples and returns every complete chunk now available, oldest first.
    pub fn push(&mut self, samples: &[i16]) -> Vec<Vec<i16>> {
        self.pending.extend_from_slice(samples);
        let full = self.pending.len() / self.chunk_len * self.chunk_len;
        let out = self.pending[..full]
            .chunks(self.chunk_len)
            .map(<[i16]>::to_vec)
            .collect();
        self.pending.drain(..full);
        out
    }

    /// Returns the partial chunk zero-padded to `chunk_len` (None if nothing is pending).
    pub fn flush_padded(&mut self) -> Option<Vec<i16>> {
        if self.pending.is_empty() {
            return None;
        }
        let mut chunk = std::mem::take(&mut self.pending);
        chunk.resize(self.chunk_len, 0);
        Some(chunk)
    }

    /// Drops pending samples.
    pub fn clear(&mut self) {
        self.pending.clear();
    }
}

/// One sample to a float in [-1, 1).
#[inline]
pub fn sample_to_f32(s: i16) -> f32 {
    f32::from(s) / 32768.0
}

/// One float to a sample: scaled by 32768, rounded, clamped to the i16 range; NaN gives 0.
#[inline]
pub fn f32_to_sample(x: f32) -> i16 {
    if x.is_nan() {
        return 0;
    }
    // `as` saturates, so values beyond ±1.0 clip rather than wrap.
    (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

/// Converts samples to floats in [-1, 1).
pub fn i16_to_f32(samples: &[i16]) -> Vec<f32> {
    samples.iter().map(|&s| sample_to_f32(s)).collect()
}

/// Converts floats to samples (clipping, NaN → 0). Exact inverse of [`i16_to_f32`].
pub fn f32_to_i16(samples: &[f32]) -> Vec<i16> {
    samples.iter().map(|&x| f32_to_sample(x)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_constants_and_sample_counts() {
        assert_eq!(SampleRate::HZ_8K.samples_per_ms(), 8);
        assert_eq!(SampleRate::HZ_16K.samples_for_ms(32), 512);
        assert_eq!(SampleRate::HZ_48K.samples_for_ms(20), 960);
        assert_eq!(SampleRate::HZ_22050.samples_for_ms(20), 441);
        assert_eq!(SampleRate::new(0), Err(FrameError::InvalidRate(0)));
        assert!(SampleRate::new(1_000_000).is_err());
        assert_eq!(SampleRate::try_from(24_000).unwrap(), SampleRate::HZ_24K);
        assert_eq!(SampleRate::HZ_16K.to_string(), "16000 Hz");
    }

    #[test]
    fn duration_and_chunks() {
        let frame = AudioFrame::new((0..1000).map(|i| i as i16).collect(), SampleRate::HZ_16K);
        assert!((frame.duration_ms() - 62.5).abs() < 1e-9);
        let chunks = frame.chunks(20).unwrap();
        assert_eq!(
            chunks.iter().map(AudioFrame::len).collect::<Vec<_>>(),
            [320, 320, 320, 40]
        );
        assert_eq!(chunks[1].samples[0], 320);
        assert_eq!(
            chunks
                .iter()
                .map(|c| c.samples.clone())
                .collect::<Vec<_>>()
                .concat(),
            frame.samples
        );
        assert!(matches!(
            frame.chunks(0),
            Err(FrameError::EmptyChunk { ms: 0, .. })
        ));
        assert!(AudioFrame::new(vec![], SampleRate::HZ_8K)
            .chunks(20)
            .unwrap()
            .is_empty());
        assert_eq!(AudioFrame::silence(SampleRate::HZ_8K, 20).len(), 160);
    }

    #[test]
    fn rechunker_keeps_remainders_in_order() {
        let mut r = Rechunker::new(512);
        let input: Vec<i16> = (0..2000).map(|i| (i % 3000) as i16).collect();
        let mut out = Vec::new();
        for piece in input.chunks(320) {
            for chunk in r.push(piece) {
                assert_eq!(chunk.len(), 512);
                out.extend(chunk);
            }
        }
        assert_eq!(out.len(), 1536);
        assert_eq!(r.pending(), 2000 - 1536);
        let last = r.flush_padded().unwrap();
        assert_eq!(last.len(), 512);
        out.extend(last);
        assert_eq!(&out[..2000], &input[..]);
        assert!(out[2000..].iter().all(|&s| s == 0));
        assert!(r.flush_padded().is_none());
        assert_eq!(Rechunker::new(0).chunk_len(), 1);
    }

    #[test]
    fn float_conversions_round_trip_and_clip() {
        let all: Vec<i16> = (i16::MIN..=i16::MAX).step_by(7).chain([i16::MAX]).collect();
        assert_eq!(f32_to_i16(&i16_to_f32(&all)), all);
        assert_eq!(sample_to_f32(i16::MIN), -1.0);
        assert_eq!(f32_to_sample(2.0), i16::MAX);
        assert_eq!(f32_to_sample(-2.0), i16::MIN);
        assert_eq!(f32_to_sample(f32::NAN), 0);
        assert_eq!(f32_to_sample(0.5), 16384);
    }
}
