//! The voices that speak the answer-detection corpus: espeak-ng's formant voices (the older
//! corpora), festival's diphone and HTS voices (recorded speakers, concatenated or modelled),
//! and hibari, the neural voice the agent itself speaks with. The last two sound far closer to
//! people than espeak does, which is what the recogniser is measured on. Festival and espeak-ng
//! are run as programs (never linked); every voice ends as 8 kHz line audio.

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::Context;
use audio::{SampleRate, SilenceTrimmer, TrimConfig};
use speech::tts::{EspeakVoice, HibariVoice, SynthOptions};

use super::corpus::LINE;

/// The pace every voice is asked for is given in words per minute; this is the pace each
/// voice speaks at unasked (espeak's default), so 175 means "the voice's own pace".
const NATURAL_WPM: u32 = 175;

/// Festival's output rate, asked for explicitly so its raw output has a known format.
const FESTIVAL_RATE: SampleRate = SampleRate::HZ_16K;

/// One voice of a corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voice {
    /// An espeak-ng voice and variant (`en-us+f4`).
    Espeak(&'static str),
    /// A festival voice by its name without `voice_` (`cmu_us_slt_arctic_hts`, `kal_diphone`).
    Festival(&'static str),
    /// The hibari voice of the model store.
    Hibari,
}

impl Voice {
    /// The voice's name in reports.
    pub fn name(self) -> String {
        match self {
            Voice::Espeak(v) => format!("espeak {v}"),
            Voice::Festival(v) => format!("festival {v}"),
            Voice::Hibari => "hibari".to_owned(),
        }
    }

    /// Speaks `text` at `wpm` as 8 kHz line audio (before line noise and µ-law). `seed` fixes
    /// hibari's noise component so a corpus is the same on every run.
    ///
    /// # Errors
    /// A missing program (named with the package to install) or a failed synthesis.
    pub fn speak(
        self,
        text: &str,
        wpm: u32,
        seed: u64,
        hibari: &HibariVoice,
    ) -> anyhow::Result<Vec<i16>> {
        let (samples, rate) = match self {
            Voice::Espeak(voice) => EspeakVoice::new(voice, wpm)
                .synthesize(text)
                .with_context(|| format!("espeak-ng voice {voice} (apt-get install espeak-ng)"))?,
            Voice::Festival(voice) => (festival(voice, wpm, text)?, FESTIVAL_RATE.hz()),
            Voice::Hibari => {
                let opts = SynthOptions {
                    speed: wpm as f32 / NATURAL_WPM as f32,
                    seed: Some(seed),
                };
                let samples = hibari.synthesize(text, &opts).context("hibari")?;
                let rate = hibari.sample_rate();
                (padding_trimmed(&audio::f32_to_i16(&samples), rate), rate)
            }
        };
        let rate = SampleRate::new(rate).context("voice sample rate")?;
        Ok(audio::resample_all(&samples, rate, LINE)?)
    }
}

/// hibari pads every sentence with ~300 ms of silence at each end, which a person answering does
/// not: the greeting's ends are trimmed as the agent trims its own lines. Pauses inside it are
/// kept whole (~0.7 s between sentences, as recorded greetings and menus pause, and its
/// "..."): they are what the detector listens for.
fn padding_trimmed(samples: &[i16], rate: u32) -> Vec<i16> {
    let config = TrimConfig {
        max_gap: rate as usize * 5,
        ..TrimConfig::speech(rate)
    };
    let mut trimmer = SilenceTrimmer::new(config);
    let mut out = Vec::with_capacity(samples.len());
    trimmer.push(samples, &mut out);
    trimmer.finish(&mut out);
    out
}

/// A "..." in a corpus line: a pause this long (festival's diphone voices crash on "? ...").
const PAUSE_MS: u32 = 600;

/// Speaks each part of `text` between "..." pauses with festival, joined by the pauses.
fn festival(voice: &str, wpm: u32, text: &str) -> anyhow::Result<Vec<i16>> {
    let mut out = Vec::new();
    let parts = text.split("...").map(str::trim).filter(|p| !p.is_empty());
    for (i, part) in parts.enumerate() {
        if i > 0 {
            out.extend(audio::synth::silence(PAUSE_MS, FESTIVAL_RATE));
        }
        out.extend(text2wave(voice, wpm, part)?);
    }
    Ok(out)
}

/// Runs festival's `text2wave` with the text on stdin and reads raw 16-bit samples from stdout.
fn text2wave(voice: &str, wpm: u32, text: &str) -> anyhow::Result<Vec<i16>> {
    let install = "apt-get install festival festvox-us-slt-hts festvox-kallpc16k";
    let stretch = NATURAL_WPM as f32 / wpm as f32;
    let mut child = Command::new("text2wave")
        .args(["-eval", &format!("(voice_{voice})")])
        .args([
            "-eval",
            &format!("(Parameter.set 'Duration_Stretch {stretch:.3})"),
        ])
        .args([
            "-otype",
            "raw",
            "-F",
            &FESTIVAL_RATE.hz().to_string(),
            "-o",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running festival's text2wave ({install})"))?;
    child
        .stdin
        .take()
        .context("text2wave stdin")?
        .write_all(text.as_bytes())
        .context("writing to text2wave")?;
    let out = child.wait_with_output().context("text2wave")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Festival reports an unknown voice on stderr ("SIOD ERROR: unbound variable") and may
    // still exit 0 with the default voice's audio.
    if !out.status.success() || stderr.contains("SIOD ERROR") {
        anyhow::bail!(
            "festival voice {voice} failed ({install}): {}",
            stderr.trim()
        );
    }
    anyhow::ensure!(
        out.stdout.len() >= 2,
        "festival voice {voice} produced no audio for {text:?}"
    );
    Ok(out
        .stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect())
}
