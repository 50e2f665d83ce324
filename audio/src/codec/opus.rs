//! Opus voice codec at 48 kHz mono with 20 ms frames (WebRTC/LiveKit audio tracks).
//!
//! Sits between the jitter buffer and the resampler: each packet popped from the jitter
//! buffer is decoded to 960 samples at 48 kHz; a slot the jitter buffer reports as lost is
//! filled by [`OpusDecoder::conceal`] (packet-loss concealment) or, when the following packet
//! is already buffered and carries in-band FEC, by [`OpusDecoder::recover_from_fec`]. Outbound
//! TTS audio is resampled to 48 kHz and encoded 960 samples at a time. Uses the `opus` crate,
//! which builds libopus from bundled sources.

use crate::SampleRate;

/// Sample rate of every Opus stream handled here.
pub const OPUS_RATE: SampleRate = SampleRate::HZ_48K;
/// Samples in one 20 ms frame at 48 kHz.
pub const FRAME_SAMPLES: usize = 960;
/// Largest frame a packet may decode to: 120 ms at 48 kHz.
pub const MAX_FRAME_SAMPLES: usize = 5760;
/// Output buffer size for one encoded packet (recommended by libopus).
const MAX_PACKET_BYTES: usize = 4000;

/// Errors from the Opus encoder or decoder.
#[derive(Debug, thiserror::Error)]
pub enum OpusError {
    /// The encoder takes exactly one 20 ms frame.
    #[error("Opus encoder needs {expected} samples (20 ms at 48 kHz), got {got}")]
    WrongFrameLength {
        /// Samples per frame (960).
        expected: usize,
        /// Samples given.
        got: usize,
    },
    /// An empty payload: loss must be signalled with [`OpusDecoder::conceal`].
    #[error("empty Opus packet (use conceal() for a lost packet)")]
    EmptyPacket,
    /// libopus rejected a packet as malformed.
    #[error("invalid Opus packet of {len} bytes: {source}")]
    InvalidPacket {
        /// Length of the rejected packet.
        len: usize,
        /// libopus' description.
        source: ::opus::Error,
    },
    /// A libopus call failed for another reason (bad configuration, internal error).
    #[error("Opus {context} failed: {source}")]
    Codec {
        /// What was being done.
        context: &'static str,
        /// libopus' description.
        source: ::opus::Error,
    },
}

fn codec(context: &'static str) -> impl FnOnce(::opus::Error) -> OpusError {
    move |source| OpusError::Codec { context, source }
}

/// Encoder settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusConfig {
    /// Target bitrate in bits per second (e.g. 24 000 for wideband speech).
    pub bitrate_bps: i32,
    /// Embed in-band forward error correction (needs `expected_loss_percent` > 0 to be used).
    pub inband_fec: bool,
    /// Expected packet loss in percent (0–100); tunes FEC redundancy.
    pub expected_loss_percent: u8,
    /// Encoder complexity 0–10 (higher is better and slower).
    pub complexity: u8,
}

impl Default for OpusConfig {
    fn default() -> Self {
        Self {
            bitrate_bps: 32_000,
            inband_fec: true,
            expected_loss_percent: 5,
            complexity: 5,
        }
    }
}

/// Encodes 20 ms mono frames at 48 kHz (VoIP application mode).
pub struct OpusEncoder {
    inner: ::opus::Encoder,
    out: Vec<u8>,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder").finish_non_exhaustive()
    }
}

impl OpusEncoder {
    /// Creates an encoder.
    ///
    /// # Errors
    /// [`OpusError::Codec`] if libopus rejects the configuration (e.g. bitrate out of range).
    pub fn new(config: OpusConfig) -> Result<Self, OpusError> {
        use ::opus::{Application, Bitrate, Channels, Signal};
        let mut inner = ::opus::Encoder::new(OPUS_RATE.hz(), Channels::Mono, Application::Voip)
            .map_err(codec("encoder creation"))?;
        inner
            .set_bitrate(Bitrate::Bits(config.bitrate_bps))
            .map_err(codec("set bitrate"))?;
        inner
            .set_inband_fec(config.inband_fec)
            .map_err(codec("set FEC"))?;
        inner
            .set_packet_loss_perc(i32::from(config.expected_loss_percent.min(100)))
            .map_err(codec("set packet loss"))?;
        inner
            .set_complexity(i32::from(config.complexity.min(10)))
            .map_err(codec("set complexity"))?;
        inner
            .set_signal(Signal::Voice)
            .map_err(codec("set signal"))?;
        Ok(Self {
            inner,
            out: vec![0; MAX_PACKET_BYTES],
        })
    }

    /// Encodes one 20 ms frame (exactly [`FRAME_SAMPLES`] samples) into a packet.
    ///
    /// # Errors
    /// [`OpusError::WrongFrameLength`] for any other length; [`OpusError::Codec`] if libopus
    /// fails.
    pub fn encode(&mut self, frame: &[i16]) -> Result<Vec<u8>, OpusError> {
        if frame.len() != FRAME_SAMPLES {
            return Err(OpusError::WrongFrameLength {
                expected: FRAME_SAMPLES,
                got: frame.len(),
            });
        }
        let n = self
            .inner
            .encode(frame, &mut self.out)
            .map_err(codec("encode"))?;
        Ok(self.out[..n].to_vec())
    }
}

/// Decodes mono packets to 48 kHz PCM, with concealment of lost packets.
pub struct OpusDecoder {
    inner: ::opus::Decoder,
    out: Vec<i16>,
    /// Samples per frame of the last good packet: the length to conceal.
    last_frame: usize,
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder")
            .field("last_frame", &self.last_frame)
            .finish_non_exhaustive()
    }
}

impl OpusDecoder {
    /// Creates a decoder.
    ///
    /// # Errors
    /// [`OpusError::Codec`] if libopus cannot allocate the decoder.
    pub fn new() -> Result<Self, OpusError> {
        let inner = ::opus::Decoder::new(OPUS_RATE.hz(), ::opus::Channels::Mono)
            .map_err(codec("decoder creation"))?;
        Ok(Self {
            inner,
            out: vec![0; MAX_FRAME_SAMPLES],
            last_frame: FRAME_SAMPLES,
        })
    }

    /// Decodes one packet (stereo packets are downmixed by libopus).
    ///
    /// Opus accepts most byte strings whose table-of-contents byte is consistent, so random
    /// bytes can decode to noise; structurally invalid packets give an error.
    ///
    /// # Errors
    /// [`OpusError::EmptyPacket`] for an empty slice; [`OpusError::InvalidPacket`] when libopus
    /// rejects the packet (the decoder state stays usable).
    pub fn decode(&mut self, packet: &[u8]) -> Result<Vec<i16>, OpusError> {
        if packet.is_empty() {
            return Err(OpusError::EmptyPacket);
        }
        let n = self
            .inner
            .decode(packet, &mut self.out, false)
            .map_err(|source| OpusError::InvalidPacket {
                len: packet.len(),
                source,
            })?;
        if n > 0 {
            self.last_frame = n;
        }
        Ok(self.out[..n].to_vec())
    }

    /// Synthesises audio for one lost packet (libopus PLC), as long as the last good frame.
    ///
    /// # Errors
    /// [`OpusError::Codec`] if libopus fails.
    pub fn conceal(&mut self) -> Result<Vec<i16>, OpusError> {
        let len = self.last_frame;
        let n = self
            .inner
            .decode(&[], &mut self.out[..len], false)
            .map_err(codec("conceal"))?;
        Ok(self.out[..n].to_vec())
    }

    /// Rebuilds a lost packet from the FEC data carried by the packet that followed it. Call it
    /// for the lost slot, then [`OpusDecoder::decode`] the next packet as usual. Without FEC
    /// data in `next_packet` libopus falls back to concealment.
    ///
    /// # Errors
    /// [`OpusError::EmptyPacket`] / [`OpusError::InvalidPacket`] as for `decode`.
    pub fn recover_from_fec(&mut self, next_packet: &[u8]) -> Result<Vec<i16>, OpusError> {
        if next_packet.is_empty() {
            return Err(OpusError::EmptyPacket);
        }
        let len = self.last_frame;
        let n = self
            .inner
            .decode(next_packet, &mut self.out[..len], true)
            .map_err(|source| OpusError::InvalidPacket {
                len: next_packet.len(),
                source,
            })?;
        Ok(self.out[..n].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::dbfs;
    use crate::synth::{self, Rng};

    fn voice_frames(ms: u32) -> Vec<Vec<i16>> {
        let v = synth::speech_like(180.0, 0.3, ms, OPUS_RATE, 5);
        v.chunks(FRAME_SAMPLES).map(<[i16]>::to_vec).collect()
    }

    /// Correlation between two equal-length signals.
    fn correlation(a: &[i16], b: &[i16]) -> f64 {
        let dot: f64 = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| f64::from(x) * f64::from(y))
            .sum();
        let na: f64 = a.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        let nb: f64 = b.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        dot / (na * nb).max(1e-9)
    }

    #[test]
    fn encode_decode_preserves_the_signal() {
        let mut enc = OpusEncoder::new(OpusConfig::default()).unwrap();
        let mut dec = OpusDecoder::new().unwrap();
        let frames = voice_frames(1000);
        let mut out = Vec::new();
        for f in &frames {
            let packet = enc.encode(f).unwrap();
            assert!(!packet.is_empty() && packet.len() < 400, "{}", packet.len());
            let pcm = dec.decode(&packet).unwrap();
            assert_eq!(pcm.len(), FRAME_SAMPLES);
            out.extend(pcm);
        }
        let input: Vec<i16> = frames.concat();
        // Opus adds a fixed algorithmic delay (6.5 ms at 48 kHz = 312 samples): align first.
        let best = (0..600)
            .map(|lag| {
                correlation(
                    &input[..input.len() - 600],
                    &out[lag..lag + input.len() - 600],
                )
            })
            .fold(f64::MIN, f64::max);
        assert!(best > 0.9, "correlation {best}");
        assert!((dbfs(&out) - dbfs(&input)).abs() < 2.0);
    }

    #[test]
    fn loss_is_concealed_and_fec_recovers() {
        let mut enc = OpusEncoder::new(OpusConfig {
            expected_loss_percent: 20,
            ..Default::default()
        })
        .unwrap();
        let mut dec = OpusDecoder::new().unwrap();
        let packets: Vec<Vec<u8>> = voice_frames(400)
            .iter()
            .map(|f| enc.encode(f).unwrap())
            .collect();
        for p in &packets[..10] {
            dec.decode(p).unwrap();
        }
        let plc = dec.conceal().unwrap();
        assert_eq!(plc.len(), FRAME_SAMPLES);
        assert!(
            dbfs(&plc) > -40.0,
            "PLC should continue the voice, got {} dBFS",
            dbfs(&plc)
        );
        // Packet 11 is lost: rebuild it from packet 12's FEC, then decode packet 12.
        let fec = dec.recover_from_fec(&packets[12]).unwrap();
        assert_eq!(fec.len(), FRAME_SAMPLES);
        assert!(dbfs(&fec) > -40.0);
        assert_eq!(dec.decode(&packets[12]).unwrap().len(), FRAME_SAMPLES);
    }

    #[test]
    fn bad_input_gives_errors() {
        let mut enc = OpusEncoder::new(OpusConfig::default()).unwrap();
        assert!(matches!(
            enc.encode(&[0; 100]),
            Err(OpusError::WrongFrameLength { got: 100, .. })
        ));
        assert!(matches!(
            enc.encode(&[]),
            Err(OpusError::WrongFrameLength { .. })
        ));
        let mut dec = OpusDecoder::new().unwrap();
        assert!(matches!(dec.decode(&[]), Err(OpusError::EmptyPacket)));
        // TOC code 3 (arbitrary frame count) with a frame count of zero is invalid.
        let err = dec.decode(&[0x03, 0x00]).unwrap_err();
        assert!(
            matches!(err, OpusError::InvalidPacket { len: 2, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("invalid Opus packet"));
        // Code 1 (two equal frames) with an odd payload length is invalid too.
        assert!(dec.decode(&[0x01, 1, 2, 3]).is_err());
        assert!(OpusEncoder::new(OpusConfig {
            bitrate_bps: -5,
            ..Default::default()
        })
        .is_err());
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut dec = OpusDecoder::new().unwrap();
        let mut rng = Rng::new(11);
        for _ in 0..2000 {
            let len = 1 + rng.below(300);
            if let Ok(pcm) = dec.decode(&rng.bytes(len)) {
                assert!(pcm.len() <= MAX_FRAME_SAMPLES);
            }
        }
        // The decoder still works after garbage.
        let mut enc = OpusEncoder::new(OpusConfig::default()).unwrap();
        let packet = enc.encode(&[0; FRAME_SAMPLES]).unwrap();
        assert_eq!(dec.decode(&packet).unwrap().len(), FRAME_SAMPLES);
    }
}
