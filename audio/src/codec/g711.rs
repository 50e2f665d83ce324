//! ITU-T G.711 companding: µ-law (PCMU, RTP payload type 0) and A-law (PCMA, type 8).
//!
//! The SIP transport decodes each 20 ms RTP payload (160 bytes at 8 kHz) with these tables
//! before resampling to the VAD/STT rate, and encodes TTS audio back after resampling to 8 kHz.
//! Written from the segment definitions of G.711 (eight chords of sixteen steps):
//! µ-law works on 14-bit magnitudes with a bias of 33, A-law on 13-bit magnitudes with a linear
//! first two segments, and A-law codes are transmitted with even bits inverted (XOR 0x55).
//! Encoding and decoding are table lookups built at compile time.

/// Which companding law a G.711 stream uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum G711Law {
    /// µ-law (North America, Japan); RTP payload type 0.
    MuLaw,
    /// A-law (rest of the world); RTP payload type 8.
    ALaw,
}

impl G711Law {
    /// Static RTP payload type of this law.
    pub const fn payload_type(self) -> u8 {
        match self {
            Self::MuLaw => 0,
            Self::ALaw => 8,
        }
    }

    /// The law for an RTP payload type (0 or 8).
    pub const fn from_payload_type(pt: u8) -> Option<Self> {
        match pt {
            0 => Some(Self::MuLaw),
            8 => Some(Self::ALaw),
            _ => None,
        }
    }

    /// Encodes PCM samples, one byte per sample.
    pub fn encode(self, samples: &[i16]) -> Vec<u8> {
        match self {
            Self::MuLaw => samples.iter().map(|&s| ulaw_encode(s)).collect(),
            Self::ALaw => samples.iter().map(|&s| alaw_encode(s)).collect(),
        }
    }

    /// Decodes bytes, one sample per byte. Every byte value is a valid code.
    pub fn decode(self, codes: &[u8]) -> Vec<i16> {
        match self {
            Self::MuLaw => codes.iter().map(|&c| ulaw_decode(c)).collect(),
            Self::ALaw => codes.iter().map(|&c| alaw_decode(c)).collect(),
        }
    }

    /// Decodes into an existing buffer (cleared first), avoiding an allocation per packet.
    pub fn decode_into(self, codes: &[u8], out: &mut Vec<i16>) {
        out.clear();
        let table = match self {
            Self::MuLaw => &ULAW_DECODE,
            Self::ALaw => &ALAW_DECODE,
        };
        out.extend(codes.iter().map(|&c| table[usize::from(c)]));
    }
}

/// µ-law: 14-bit magnitude plus bias 33 is coded as chord (exponent) and 4-bit step.
const fn ulaw_encode_14(x14: i32) -> u8 {
    // x14 is a 14-bit two's-complement sample (-8192..=8191).
    let (mag, sign) = if x14 < 0 {
        (-x14 - 1, 0x00)
    } else {
        (x14, 0x80)
    };
    let mut biased = mag + 33;
    if biased > 0x1FFF {
        biased = 0x1FFF;
    }
    // Chord = position of the highest set bit above bit 5 (biased >= 33 > 32).
    let mut chord = 0;
    while chord < 7 && (biased >> (chord + 6)) != 0 {
        chord += 1;
    }
    let step = (biased >> (chord + 1)) & 0x0F;
    // Codes are transmitted inverted; positive samples carry the sign bit.
    (!((chord << 4) | step) as u8 & 0x7F) | sign
}

const fn ulaw_decode_code(code: u8) -> i16 {
    let inv = !code;
    let chord = ((inv >> 4) & 0x07) as i32;
    let step = (inv & 0x0F) as i32;
    // Reconstruct at the middle of the step: ((2*step + 33) << chord) - 33, in 14 bits, then
    // scaled to 16 bits.
    let mag = (((step << 1) + 33) << chord) - 33;
    let v = mag << 2;
    if code & 0x80 != 0 {
        v as i16
    } else {
        -v as i16
    }
}

/// A-law: 13-bit magnitude; chords 0 and 1 share the same step size (linear region).
const fn alaw_encode_13(x13: i32) -> u8 {
    let (mag, sign) = if x13 < 0 {
        (-x13 - 1, 0x00)
    } else {
        (x13, 0x80)
    };
    let mag = if mag > 0x0FFF { 0x0FFF } else { mag };
    let mut chord = 0;
    while chord < 7 && (mag >> (chord + 5)) != 0 {
        chord += 1;
    }
    let step = if chord == 0 {
        (mag >> 1) & 0x0F
    } else {
        (mag >> chord) & 0x0F
    };
    (((chord << 4) | step) as u8 | sign) ^ 0x55
}

const fn alaw_decode_code(code: u8) -> i16 {
    let c = code ^ 0x55;
    let chord = ((c >> 4) & 0x07) as i32;
    let step = (c & 0x0F) as i32;
    // Middle of the step, in 13 bits: chord 0 is (2*step + 1), others (2*step + 33) << (chord-1).
    let mag = if chord == 0 {
        (step << 1) + 1
    } else {
        ((step << 1) + 33) << (chord - 1)
    };
    let v = mag << 3;
    if c & 0x80 != 0 {
        v as i16
    } else {
        -v as i16
    }
}

const fn build_ulaw_encode() -> [u8; 16384] {
    let mut t = [0u8; 16384];
    let mut i = 0;
    while i < 16384 {
        t[i] = ulaw_encode_14(i as i32 - 8192);
        i += 1;
    }
    t
}

const fn build_alaw_encode() -> [u8; 8192] {
    let mut t = [0u8; 8192];
    let mut i = 0;
    while i < 8192 {
        t[i] = alaw_encode_13(i as i32 - 4096);
        i += 1;
    }
    t
}

const fn build_decode(alaw: bool) -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if alaw {
            alaw_decode_code(i as u8)
        } else {
            ulaw_decode_code(i as u8)
        };
        i += 1;
    }
    t
}

/// Encoder table indexed by the 14-bit sample + 8192.
static ULAW_ENCODE: [u8; 16384] = build_ulaw_encode();
/// Encoder table indexed by the 13-bit sample + 4096.
static ALAW_ENCODE: [u8; 8192] = build_alaw_encode();
static ULAW_DECODE: [i16; 256] = build_decode(false);
static ALAW_DECODE: [i16; 256] = build_decode(true);

/// Encodes one 16-bit sample to µ-law (the two low bits are below µ-law's resolution).
#[inline]
pub fn ulaw_encode(sample: i16) -> u8 {
    ULAW_ENCODE[((i32::from(sample) >> 2) + 8192) as usize]
}

/// Decodes one µ-law byte to a 16-bit sample (range ±32124).
#[inline]
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_DECODE[usize::from(code)]
}

/// Encodes one 16-bit sample to A-law (the three low bits are below A-law's resolution).
#[inline]
pub fn alaw_encode(sample: i16) -> u8 {
    ALAW_ENCODE[((i32::from(sample) >> 3) + 4096) as usize]
}

/// Decodes one A-law byte to a 16-bit sample (range ±32256).
#[inline]
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_DECODE[usize::from(code)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Rng;

    #[test]
    fn ulaw_known_code_points() {
        // Zero codes to 0xFF; 0x7F is negative zero; the extremes are ±32124.
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_encode(-1), 0x7F);
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0);
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        // First chord boundary: 14-bit magnitude 30 → biased 63 → chord 0, step 15 (code 0xF0).
        assert_eq!(ulaw_encode(30 << 2), 0xF0);
        assert_eq!(ulaw_encode(31 << 2), 0xEF);
        assert_eq!(ulaw_decode(0xF0), 30 << 2);
        // 0xEF decodes to the middle of chord 1 step 0: ((0+33)<<1)-33 = 33 → 132.
        assert_eq!(ulaw_decode(0xEF), 132);
    }

    #[test]
    fn alaw_known_code_points() {
        // Zero codes to 0xD5 (0x80 ^ 0x55); 0x55 is the smallest negative.
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(alaw_decode(0x2A), -32256);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
        // Linear region: 13-bit magnitude 31 → chord 0 step 15; 32 → chord 1 step 0.
        assert_eq!(alaw_encode(31 << 3), 0x8F ^ 0x55);
        assert_eq!(alaw_encode(32 << 3), 0x90 ^ 0x55);
        assert_eq!(alaw_decode(0x90 ^ 0x55), 33 << 3);
    }

    #[test]
    fn decode_then_encode_is_identity_on_all_codes() {
        for code in 0..=255u8 {
            // µ-law 0x7F (negative zero) and 0xFF both decode to 0, which encodes to 0xFF.
            let expected = if code == 0x7F { 0xFF } else { code };
            assert_eq!(
                ulaw_encode(ulaw_decode(code)),
                expected,
                "µ-law {code:#04x}"
            );
            assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
        }
    }

    #[test]
    fn round_trip_error_is_within_half_a_step() {
        for s in (i16::MIN..=i16::MAX).step_by(3) {
            let x = i32::from(s);
            let u = i32::from(ulaw_decode(ulaw_encode(s)));
            let a = i32::from(alaw_decode(alaw_encode(s)));
            // Quantisation error grows with the chord: relative error is at most ~3.2 %
            // plus the absolute size of the smallest step.
            assert!(
                (u - x).abs() <= x.abs() / 30 + 8 || x.abs() > 32_000,
                "µ {s} -> {u}"
            );
            assert!(
                (a - x).abs() <= x.abs() / 30 + 16 || x.abs() > 32_000,
                "A {s} -> {a}"
            );
        }
    }

    #[test]
    fn decode_is_monotonic_in_magnitude() {
        let mut pos: Vec<i16> = (0x80..=0xFFu8).map(ulaw_decode).collect();
        pos.reverse();
        assert!(
            pos.windows(2).all(|w| w[0] < w[1]),
            "µ-law positive codes must ascend"
        );
        let mut a: Vec<i16> = (0x80..=0xFFu8).map(|c| alaw_decode(c ^ 0x55)).collect();
        a.sort_unstable();
        a.dedup();
        assert_eq!(a.len(), 128);
    }

    #[test]
    fn slices_and_payload_types() {
        let mut rng = Rng::new(7);
        for _ in 0..200 {
            let bytes = rng.bytes_below(400);
            for law in [G711Law::MuLaw, G711Law::ALaw] {
                let pcm = law.decode(&bytes);
                assert_eq!(pcm.len(), bytes.len());
                assert_eq!(
                    law.encode(&pcm),
                    bytes.iter().map(|&b| law_canon(law, b)).collect::<Vec<_>>()
                );
                let mut out = vec![1, 2, 3];
                law.decode_into(&bytes, &mut out);
                assert_eq!(out, pcm);
            }
        }
        assert_eq!(G711Law::from_payload_type(8), Some(G711Law::ALaw));
        assert_eq!(G711Law::MuLaw.payload_type(), 0);
        assert_eq!(G711Law::from_payload_type(9), None);
        assert!(G711Law::MuLaw.encode(&[]).is_empty());
    }

    /// The code a decoded byte re-encodes to (µ-law negative zero becomes positive zero).
    fn law_canon(law: G711Law, b: u8) -> u8 {
        match (law, b) {
            (G711Law::MuLaw, 0x7F) => 0xFF,
            _ => b,
        }
    }
}
