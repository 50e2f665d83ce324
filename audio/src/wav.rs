//! WAV decoding and encoding for prompts, fixtures and recordings.
//!
//! Outside the live media path: the agent loads pre-recorded prompts and hold music with
//! [`read_wav_file`], tests load speech fixtures, and call recordings are written with
//! [`write_wav_bytes`]. Any PCM (8/16/24/32-bit) or 32-bit float file with any number of
//! channels is decoded to mono `i16` (channels averaged). Every malformed input yields a
//! [`WavError`] naming the problem; nothing here panics on bad bytes. Parsing uses `hound`.

use crate::frame::f32_to_sample;
use crate::{FrameError, SampleRate};
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// What was wrong with a WAV file or a write request.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// The bytes do not start with a RIFF/WAVE header.
    #[error("not a WAV file: {0}")]
    NotWav(&'static str),
    /// The file ended inside the header, before the data chunk.
    #[error("truncated WAV header: the file ends before the data chunk")]
    TruncatedHeader,
    /// The data chunk announces more samples than the file holds.
    #[error("truncated WAV data: header announces {declared} samples, file holds {read}")]
    TruncatedData {
        /// Samples (all channels) the header announces.
        declared: u32,
        /// Samples actually present.
        read: usize,
    },
    /// The data chunk holds no complete sample frame.
    #[error("WAV file has no audio (zero-length data chunk)")]
    Empty,
    /// A header field is inconsistent or invalid.
    #[error("malformed WAV header: {0}")]
    Malformed(&'static str),
    /// A valid WAV encoding this reader does not handle (e.g. 64-bit float, compressed).
    #[error("unsupported WAV encoding: {0}")]
    Unsupported(String),
    /// The header's sample rate is zero or absurd.
    #[error("invalid WAV sample rate: {0}")]
    InvalidRate(#[from] FrameError),
    /// Writing supports 1 or 2 channels with a whole number of frames.
    #[error("cannot write {samples} samples as {channels}-channel WAV")]
    InvalidChannels {
        /// Requested channel count.
        channels: u16,
        /// Interleaved samples given.
        samples: usize,
    },
    /// Reading or writing a file failed.
    #[error("WAV file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Any other error reported by the WAV parser.
    #[error("WAV codec error: {0}")]
    Codec(hound::Error),
}

fn header_error(e: hound::Error) -> WavError {
    match e {
        hound::Error::FormatError(msg @ ("no RIFF tag found" | "no WAVE tag found")) => {
            WavError::NotWav(msg)
        }
        hound::Error::FormatError(msg) => WavError::Malformed(msg),
        hound::Error::IoError(io) if is_short_read(&io) => WavError::TruncatedHeader,
        hound::Error::Unsupported => WavError::Unsupported("format tag or bit depth".into()),
        other => WavError::Codec(other),
    }
}

/// hound reports running out of bytes either as `UnexpectedEof` or as a custom error.
fn is_short_read(io: &std::io::Error) -> bool {
    io.kind() == std::io::ErrorKind::UnexpectedEof
        || io.to_string().contains("Failed to read enough bytes")
}

/// Decodes a WAV file held in memory to mono 16-bit samples and its rate.
///
/// # Errors
/// [`WavError::NotWav`], [`WavError::TruncatedHeader`], [`WavError::TruncatedData`],
/// [`WavError::Empty`], [`WavError::Malformed`], [`WavError::Unsupported`] or
/// [`WavError::InvalidRate`] naming what is wrong with the bytes.
pub fn read_wav_bytes(bytes: &[u8]) -> Result<(Vec<i16>, SampleRate), WavError> {
    let mut reader = hound::WavReader::new(Cursor::new(bytes)).map_err(header_error)?;
    let spec = reader.spec();
    let rate = SampleRate::new(spec.sample_rate)?;
    let channels = usize::from(spec.channels.max(1));
    let declared = reader.len();
    // Never trust the header for allocation: cap by what the bytes could hold.
    let cap = (declared as usize).min(bytes.len());
    let mut interleaved: Vec<f32> = Vec::with_capacity(cap);
    let result = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, 8 | 16) => {
            let scale = if spec.bits_per_sample == 8 {
                128.0
            } else {
                32768.0
            };
            collect(reader.samples::<i16>(), &mut interleaved, |s| {
                f32::from(s) / scale
            })
        }
        (hound::SampleFormat::Int, 24 | 32) => {
            let scale = 2f64.powi(i32::from(spec.bits_per_sample) - 1);
            collect(reader.samples::<i32>(), &mut interleaved, |s| {
                (f64::from(s) / scale) as f32
            })
        }
        (hound::SampleFormat::Float, 32) => {
            collect(reader.samples::<f32>(), &mut interleaved, |s| {
                if s.is_finite() {
                    s
                } else {
                    0.0
                }
            })
        }
        (format, bits) => {
            return Err(WavError::Unsupported(format!(
                "{bits}-bit {format:?} samples"
            )));
        }
    };
    match result {
        Ok(()) => {}
        Err(hound::Error::IoError(io)) if is_short_read(&io) => {
            return Err(WavError::TruncatedData {
                declared,
                read: interleaved.len(),
            });
        }
        Err(e) => return Err(WavError::Codec(e)),
    }
    // An incomplete trailing frame is dropped.
    let frames = interleaved.len() / channels;
    if frames == 0 {
        return Err(WavError::Empty);
    }
    let mono = interleaved
        .chunks_exact(channels)
        .map(|frame| f32_to_sample(frame.iter().sum::<f32>() / channels as f32))
        .collect();
    Ok((mono, rate))
}

fn collect<T>(
    samples: impl Iterator<Item = hound::Result<T>>,
    out: &mut Vec<f32>,
    convert: impl Fn(T) -> f32,
) -> hound::Result<()> {
    for s in samples {
        out.push(convert(s?));
    }
    Ok(())
}

/// Reads and decodes a WAV file (see [`read_wav_bytes`]).
///
/// # Errors
/// [`WavError::Io`] if the file cannot be read, otherwise as [`read_wav_bytes`].
pub fn read_wav_file(path: impl AsRef<Path>) -> Result<(Vec<i16>, SampleRate), WavError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| WavError::Io {
        path: path.to_owned(),
        source,
    })?;
    read_wav_bytes(&bytes)
}

/// Encodes interleaved 16-bit samples (1 or 2 channels) as a PCM16 WAV file in memory.
///
/// # Errors
/// [`WavError::InvalidChannels`] unless `channels` is 1 or 2 and divides `samples.len()`.
pub fn write_wav_bytes(
    samples: &[i16],
    channels: u16,
    rate: SampleRate,
) -> Result<Vec<u8>, WavError> {
    if !(1..=2).contains(&channels) || samples.len() % usize::from(channels) != 0 {
        return Err(WavError::InvalidChannels {
            channels,
            samples: samples.len(),
        });
    }
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate.hz(),
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    let mut writer = hound::WavWriter::new(&mut out, spec).map_err(WavError::Codec)?;
    let mut w16 = writer.get_i16_writer(samples.len() as u32);
    for &s in samples {
        w16.write_sample(s);
    }
    w16.flush().map_err(WavError::Codec)?;
    writer.finalize().map_err(WavError::Codec)?;
    Ok(out.into_inner())
}

/// Writes interleaved 16-bit samples as a PCM16 WAV file.
///
/// # Errors
/// As [`write_wav_bytes`], plus [`WavError::Io`] if the file cannot be written.
pub fn write_wav_file(
    path: impl AsRef<Path>,
    samples: &[i16],
    channels: u16,
    rate: SampleRate,
) -> Result<(), WavError> {
    let path = path.as_ref();
    let bytes = write_wav_bytes(samples, channels, rate)?;
    std::fs::write(path, bytes).map_err(|source| WavError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{self, Rng};

    fn wav_with(
        spec: hound::WavSpec,
        write: impl FnOnce(&mut hound::WavWriter<&mut Cursor<Vec<u8>>>),
    ) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut buf, spec).unwrap();
        write(&mut w);
        w.finalize().unwrap();
        buf.into_inner()
    }

    fn spec(channels: u16, bits: u16, format: hound::SampleFormat) -> hound::WavSpec {
        hound::WavSpec {
            channels,
            sample_rate: 16_000,
            bits_per_sample: bits,
            sample_format: format,
        }
    }

    #[test]
    fn mono_pcm16_round_trips_exactly() {
        let samples = synth::white_noise(0.3, 100, SampleRate::HZ_16K, 1);
        let bytes = write_wav_bytes(&samples, 1, SampleRate::HZ_16K).unwrap();
        assert_eq!(bytes.len(), 44 + samples.len() * 2);
        let (back, rate) = read_wav_bytes(&bytes).unwrap();
        assert_eq!(rate, SampleRate::HZ_16K);
        assert_eq!(back, samples);
    }

    #[test]
    fn stereo_is_downmixed_by_averaging() {
        let interleaved = [1000i16, 3000, -200, -400, 32767, 32767];
        let bytes = write_wav_bytes(&interleaved, 2, SampleRate::HZ_8K).unwrap();
        let (mono, rate) = read_wav_bytes(&bytes).unwrap();
        assert_eq!((mono, rate), (vec![2000, -300, 32767], SampleRate::HZ_8K));
    }

    #[test]
    fn other_bit_depths_and_float_decode_to_the_same_level() {
        use hound::SampleFormat::{Float, Int};
        let b8 = wav_with(spec(1, 8, Int), |w| {
            [64i8, -64].iter().for_each(|&s| w.write_sample(s).unwrap())
        });
        assert_eq!(read_wav_bytes(&b8).unwrap().0, vec![16384, -16384]);
        let b24 = wav_with(spec(3, 24, Int), |w| {
            [4_194_304i32, 4_194_304, 4_194_304]
                .iter()
                .for_each(|&s| w.write_sample(s).unwrap())
        });
        assert_eq!(read_wav_bytes(&b24).unwrap().0, vec![16384]);
        let b32 = wav_with(spec(1, 32, Int), |w| {
            w.write_sample(-1_073_741_824i32).unwrap()
        });
        assert_eq!(read_wav_bytes(&b32).unwrap().0, vec![-16384]);
        let f32s = wav_with(spec(2, 32, Float), |w| {
            [0.5f32, 0.0, 2.0, 2.0, f32::NAN, 0.0]
                .iter()
                .for_each(|&s| w.write_sample(s).unwrap())
        });
        assert_eq!(read_wav_bytes(&f32s).unwrap().0, vec![8192, 32767, 0]);
    }

    #[test]
    fn malformed_files_name_the_problem() {
        let e = read_wav_bytes(b"");
        assert!(matches!(e, Err(WavError::TruncatedHeader)), "{e:?}");
        assert!(matches!(
            read_wav_bytes(b"ID3\x03 this is an mp3"),
            Err(WavError::NotWav(_))
        ));
        let good = write_wav_bytes(&[1, 2, 3, 4, 5, 6, 7, 8], 1, SampleRate::HZ_8K).unwrap();
        let err = read_wav_bytes(&good[..good.len() - 5]).unwrap_err();
        assert!(
            matches!(
                err,
                WavError::TruncatedData {
                    declared: 8,
                    read: 5
                }
            ),
            "{err}"
        );
        assert!(matches!(
            read_wav_bytes(&good[..30]),
            Err(WavError::TruncatedHeader)
        ));
        let empty = write_wav_bytes(&[], 1, SampleRate::HZ_8K).unwrap();
        let err = read_wav_bytes(&empty).unwrap_err();
        assert!(matches!(err, WavError::Empty) && err.to_string().contains("zero-length"));
        let mut zero_rate = good.clone();
        zero_rate[24..28].copy_from_slice(&0u32.to_le_bytes());
        zero_rate[28..32].copy_from_slice(&0u32.to_le_bytes());
        assert!(read_wav_bytes(&zero_rate).is_err());
        let err = read_wav_file("/nonexistent/x.wav").unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.wav"));
        assert!(matches!(
            write_wav_bytes(&[1, 2, 3], 2, SampleRate::HZ_8K),
            Err(WavError::InvalidChannels { .. })
        ));
        assert!(matches!(
            write_wav_bytes(&[1], 3, SampleRate::HZ_8K),
            Err(WavError::InvalidChannels { .. })
        ));
    }

    #[test]
    fn files_round_trip() {
        let dir = std::env::temp_dir().join(format!("sb-audio-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.wav");
        write_wav_file(&path, &[5, -5, 7], 1, SampleRate::HZ_24K).unwrap();
        assert_eq!(
            read_wav_file(&path).unwrap(),
            (vec![5, -5, 7], SampleRate::HZ_24K)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn random_and_mutated_bytes_never_panic() {
        let mut rng = Rng::new(99);
        let good = write_wav_bytes(
            &synth::white_noise(0.2, 10, SampleRate::HZ_8K, 2),
            1,
            SampleRate::HZ_8K,
        )
        .unwrap();
        for i in 0..20_000 {
            let bytes = if i % 2 == 0 {
                let mut b = good.clone();
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(b.len());
                    b[at] = rng.next_u64() as u8;
                }
                b.truncate(rng.below(b.len() + 1).max(12));
                b
            } else {
                let mut b = b"RIFF\x00\x00\x00\x00WAVE".to_vec();
                b.extend(rng.bytes_below(120));
                b
            };
            if let Ok((samples, rate)) = read_wav_bytes(&bytes) {
                assert!(!samples.is_empty());
                assert!(rate.hz() > 0);
            }
        }
    }
}
