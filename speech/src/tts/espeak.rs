//! espeak-ng as a subprocess: the fallback voice, and the voice of simulated callers in demos
//! and tests. espeak-ng is GPL-3, so it is only ever run as a separate program, never linked.
//!
//! The text goes in on stdin (so it can never be mistaken for an option), a WAV comes out on
//! stdout. espeak-ng writes that WAV without knowing its length, so the parser here takes the
//! data chunk to the end of the stream when the header's size is a placeholder.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::TtsError;

/// Longest a single synthesis may take before the process is killed.
pub const ESPEAK_TIMEOUT: Duration = Duration::from_secs(10);
/// Sample rate of espeak-ng's stock voices (reported for empty input, where it writes nothing).
pub const ESPEAK_SAMPLE_RATE: u32 = 22_050;
/// The program that is run.
const PROGRAM: &str = "espeak-ng";

/// An espeak-ng voice: a voice name with an optional variant (`en-us`, `en-us+m3`, `en-gb+f2`)
/// and a speaking rate in words per minute (espeak's default is 175; 80..=450 is accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EspeakVoice {
    /// espeak-ng voice and variant, as passed to `-v`.
    pub voice: String,
    /// Words per minute, as passed to `-s`.
    pub rate_wpm: u32,
}

impl Default for EspeakVoice {
    fn default() -> Self {
        EspeakVoice::new("en-us", 175)
    }
}

impl EspeakVoice {
    /// A voice by name and rate.
    pub fn new(voice: impl Into<String>, rate_wpm: u32) -> Self {
        EspeakVoice {
            voice: voice.into(),
            rate_wpm,
        }
    }

    /// The default voice for simulated callers: male US English, a little faster than default,
    /// so it sounds clearly different from the agent's (female) hibari voice.
    pub fn caller() -> Self {
        EspeakVoice::new("en-us+m3", 180)
    }

    /// Whether espeak-ng can be run on this machine.
    pub fn is_installed() -> bool {
        Command::new(PROGRAM)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Synthesises `text`; returns 16-bit mono samples and their sample rate (22 050 Hz for the
    /// stock voices). Empty text gives no samples.
    ///
    /// # Errors
    /// [`TtsError::EspeakMissing`] when espeak-ng is not installed, [`TtsError::EspeakTimeout`]
    /// after [`ESPEAK_TIMEOUT`], [`TtsError::Espeak`] for an unknown voice, an invalid rate or
    /// unreadable output.
    pub fn synthesize(&self, text: &str) -> Result<(Vec<i16>, u32), TtsError> {
        self.synthesize_with_timeout(text, ESPEAK_TIMEOUT)
    }

    /// [`EspeakVoice::synthesize`] with a custom deadline.
    ///
    /// # Errors
    /// As for [`EspeakVoice::synthesize`].
    pub fn synthesize_with_timeout(
        &self,
        text: &str,
        timeout: Duration,
    ) -> Result<(Vec<i16>, u32), TtsError> {
        if !(80..=450).contains(&self.rate_wpm) {
            return Err(TtsError::Espeak(format!(
                "rate {} wpm outside 80..=450",
                self.rate_wpm
            )));
        }
        if self.voice.is_empty()
            || self.voice.starts_with('-')
            || self.voice.chars().any(char::is_whitespace)
        {
            return Err(TtsError::Espeak(format!(
                "invalid voice name {:?}",
                self.voice
            )));
        }
        if text.trim().is_empty() {
            return Ok((Vec::new(), ESPEAK_SAMPLE_RATE));
        }
        let mut child = Command::new(PROGRAM)
            .args([
                "--stdout",
                "--stdin",
                "-v",
                &self.voice,
                "-s",
                &self.rate_wpm.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => TtsError::EspeakMissing,
                _ => TtsError::Espeak(format!("cannot start {PROGRAM}: {e}")),
            })?;
        let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            return Err(TtsError::Espeak("child pipes missing".into()));
        };
        // Feed, drain stdout and stderr on helper threads so a full pipe cannot deadlock us,
        // and wait for the result with a deadline.
        let input = text.replace('\0', " ");
        let (tx, rx) = mpsc::sync_channel(1);
        std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
            drop(stdin);
        });
        let err_thread = std::thread::spawn(move || {
            let mut e = String::new();
            let _ = stderr.read_to_string(&mut e);
            e
        });
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let res = stdout.read_to_end(&mut out).map(|_| out);
            let _ = tx.send(res);
        });
        let wav = match rx.recv_timeout(timeout) {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(TtsError::Espeak(format!("reading output: {e}")));
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(TtsError::EspeakTimeout(timeout));
            }
        };
        let status = child.wait().map_err(|e| TtsError::Espeak(e.to_string()))?;
        let err_text = err_thread.join().unwrap_or_default();
        if !status.success() || !err_text.trim().is_empty() && wav.len() <= 44 {
            return Err(TtsError::Espeak(format!(
                "voice {:?}: {} ({status})",
                self.voice,
                err_text.trim()
            )));
        }
        if wav.is_empty() {
            return Ok((Vec::new(), ESPEAK_SAMPLE_RATE));
        }
        parse_wav(&wav)
    }
}

/// Parses a 16-bit PCM mono WAV whose data chunk size may be a streaming placeholder.
pub(crate) fn parse_wav(bytes: &[u8]) -> Result<(Vec<i16>, u32), TtsError> {
    let bad = |m: &str| TtsError::Espeak(format!("bad WAV output: {m}"));
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("not a RIFF/WAVE stream"));
    }
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let mut pos = 12;
    let mut rate = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32_at(pos + 4) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            if body + 16 > bytes.len() {
                return Err(bad("truncated fmt chunk"));
            }
            let (format, channels, bits) = (u16_at(body), u16_at(body + 2), u16_at(body + 14));
            if format != 1 || channels != 1 || bits != 16 {
                return Err(bad(&format!(
                    "format {format}, {channels} channels, {bits} bits"
                )));
            }
            rate = Some(u32_at(body + 4));
        } else if id == b"data" {
            let rate = rate.ok_or_else(|| bad("data before fmt"))?;
            let avail = bytes.len() - body;
            let len = if size == 0 || size > avail {
                avail
            } else {
                size
            };
            let samples = bytes[body..body + len - len % 2]
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect();
            return Ok((samples, rate));
        }
        pos = body.saturating_add(size + size % 2);
    }
    Err(bad("no data chunk"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(rate: u32, data_size: u32, samples: &[i16]) -> Vec<u8> {
        let mut v = b"RIFF\xff\xff\xff\xffWAVEfmt ".to_vec();
        v.extend(16u32.to_le_bytes());
        v.extend(1u16.to_le_bytes());
        v.extend(1u16.to_le_bytes());
        v.extend(rate.to_le_bytes());
        v.extend((rate * 2).to_le_bytes());
        v.extend(2u16.to_le_bytes());
        v.extend(16u16.to_le_bytes());
        v.extend(b"data");
        v.extend(data_size.to_le_bytes());
        for s in samples {
            v.extend(s.to_le_bytes());
        }
        v
    }

    #[test]
    fn parses_streamed_wav_with_placeholder_size() {
        let (s, r) = parse_wav(&wav(22050, u32::MAX, &[1, -2, 300])).expect("parse");
        assert_eq!((s, r), (vec![1, -2, 300], 22050));
        let (s, _) = parse_wav(&wav(16000, 0, &[5, 6])).expect("parse");
        assert_eq!(s, vec![5, 6]);
        let (s, _) = parse_wav(&wav(16000, 2, &[5, 6])).expect("parse");
        assert_eq!(s, vec![5]);
    }

    #[test]
    fn rejects_non_wav() {
        assert!(parse_wav(b"hello world, not a wav").is_err());
    }
}
