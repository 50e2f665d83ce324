//! `switchboard bench amd`: accuracy and time-to-verdict of answer classification
//! ([`crate::outcome::amd`]) on a corpus generated at bench time and never stored: voicemail
//! greetings with and without beeps, screening prompts, IVR menus, people answering, silence
//! and fax tones, spoken by several espeak-ng voices at several speeds, with noise, through a
//! G.711 µ-law 8 kHz round trip as a phone line delivers them.
//!
//! Each recording runs through the same signal path as a call: Silero VAD segment edges,
//! the beep detector on the 8 kHz line audio, and streaming whisper partials of the greeting
//! so far (each delivered after its real decode time). Clips with an even index tune the
//! thresholds; the odd ones are the reported test half.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use audio::vad::{SileroModel, SileroVad, StreamingVad, VadConfig, VadEvent};
use audio::{BeepConfig, BeepDetector, BeepEvent, G711Law, SampleRate};
use speech::stt::{DecodeRequest, WhisperPool};
use speech::tts::EspeakVoice;

use super::stats::{Section, Summary, Table};
use crate::outcome::{AmdConfig, AnswerClass, AnswerClassifier, Verdict};

const LINE: SampleRate = SampleRate::HZ_8K;
const FRAME_MS: u64 = 20;
/// A partial transcript of the greeting so far every this much speech.
const PARTIAL_EVERY_MS: u64 = 500;

const HUMAN: &[&str] = &[
    "Hello?",
    "Yeah, who's this?",
    "Hi, this is Dana.",
    "Hello, Mike speaking.",
    "Yes?",
    "Hello, who is calling?",
    "Hi there.",
    "Good morning, this is Sarah.",
];
const VOICEMAIL: &[&str] = &[
    "Hi, you've reached Sam. I can't come to the phone right now, please leave a message after the tone.",
    "Hello, this is Jordan. Sorry I missed your call. Leave your name and number and I'll get back to you.",
    "The number you have dialed is not available. Please leave a message after the beep.",
    "Hey, it's Chris, I'm away from my phone right now. Leave me a message!",
    "You have reached the voicemail of Pat Lee. Please record your message.",
    "Hi, this is Dana at Summit Fitness. I'm not available right now, but leave a message and I'll call you back.",
];
const SCREENING: &[&str] = &[
    "Hi, the person you're calling is using a screening service. Go ahead and say your name and why you're calling.",
    "Please state your name and the reason for your call, and I'll see if this person is available.",
    "This call is being screened. Please record your name after the tone.",
    "Hello, I'm a call assistant. Before I try to connect you, what's the reason for your call?",
];
const IVR: &[&str] = &[
    "Thank you for calling Acme Fitness. For sales, press one. For billing, press two.",
    "Please listen carefully, as our menu options have changed.",
    "Your call is important to us. Please stay on the line for the next available representative.",
    "Welcome to Summit Gym. If you know your party's extension, dial it now.",
];
const VOICES: &[&str] = &["en-us", "en-us+f3", "en-gb+m3", "en-us+f2"];
const SPEEDS: &[u32] = &[150, 185];

/// One recording of the corpus.
pub struct Clip {
    pub class: AnswerClass,
    pub label: String,
    /// 8 kHz line audio after the µ-law round trip; time 0 is the answer.
    pub audio: Vec<i16>,
}

/// Generates the corpus (deterministic). `limit_per_class` keeps a slice for tests.
///
/// # Errors
/// espeak-ng missing (`apt-get install espeak-ng`) or failing.
pub fn corpus(limit_per_class: Option<usize>) -> anyhow::Result<Vec<Clip>> {
    let mut clips = Vec::new();
    let spoken: [(AnswerClass, &[&str]); 4] = [
        (AnswerClass::Human, HUMAN),
        (AnswerClass::Voicemail, VOICEMAIL),
        (AnswerClass::Screening, SCREENING),
        (AnswerClass::Ivr, IVR),
    ];
    for (class, texts) in spoken {
        let mut n = 0;
        'class: for (t, text) in texts.iter().enumerate() {
            for (v, voice) in VOICES.iter().enumerate() {
                for (s, speed) in SPEEDS.iter().enumerate() {
                    if limit_per_class.is_some_and(|l| n >= l) {
                        break 'class;
                    }
                    let seed = (t * 100 + v * 10 + s) as u64;
                    let speech = speak(voice, *speed, text)?;
                    let beep = (class == AnswerClass::Voicemail && seed.is_multiple_of(2))
                        .then(|| [440.0, 850.0, 1000.0, 1400.0][(seed / 2) as usize % 4]);
                    let lead_ms = 200 + (seed * 137 % 600) as u32;
                    let mut audio = audio::synth::silence(lead_ms, LINE);
                    audio.extend(speech);
                    if let Some(freq) = beep {
                        audio.extend(audio::synth::silence(300, LINE));
                        audio.extend(audio::synth::sine(freq, 0.4, 400, LINE));
                    }
                    audio.extend(audio::synth::silence(4_000, LINE));
                    let label = format!(
                        "{} \"{}\" {voice} {speed} wpm{}",
                        class.name(),
                        text.chars().take(24).collect::<String>(),
                        beep.map(|f| format!(" beep {f} Hz")).unwrap_or_default()
                    );
                    clips.push(line(class, label, audio, seed));
                    n += 1;
                }
            }
        }
    }
    let silent = limit_per_class.unwrap_or(24);
    for i in 0..silent.min(24) {
        let seed = 9_000 + i as u64;
        let audio = if i % 2 == 0 {
            audio::synth::silence(8_000, LINE)
        } else {
            // Fax calling tone: 1100 Hz for 0.5 s every 3.5 s.
            let mut a = audio::synth::silence(300, LINE);
            for _ in 0..3 {
                a.extend(audio::synth::sine(1_100.0, 0.3, 500, LINE));
                a.extend(audio::synth::silence(3_000, LINE));
            }
            a
        };
        let label = format!(
            "silence_or_fax {}",
            if i % 2 == 0 { "silence" } else { "fax" }
        );
        clips.push(line(AnswerClass::SilenceOrFax, label, audio, seed));
    }
    Ok(clips)
}

fn speak(voice: &str, speed: u32, text: &str) -> anyhow::Result<Vec<i16>> {
    let (samples, rate) = EspeakVoice::new(voice, speed)
        .synthesize(text)
        .with_context(|| format!("espeak-ng voice {voice} (apt-get install espeak-ng)"))?;
    let rate = SampleRate::new(rate).context("espeak sample rate")?;
    Ok(audio::resample_all(&samples, rate, LINE)?)
}

/// Adds line noise (three levels by seed) and runs the µ-law round trip.
fn line(class: AnswerClass, label: String, audio: Vec<i16>, seed: u64) -> Clip {
    let rms = [0.0, 0.003, 0.01][seed as usize % 3];
    let ms = (audio.len() / LINE.samples_per_ms()) as u32;
    let noisy = if rms > 0.0 {
        audio::synth::mix(&audio, &audio::synth::white_noise(rms, ms, LINE, seed))
    } else {
        audio
    };
    let audio = G711Law::MuLaw.decode(&G711Law::MuLaw.encode(&noisy));
    Clip {
        class,
        label,
        audio,
    }
}

/// Runs one clip through VAD, beep detection, streaming whisper and the classifier.
///
/// # Errors
/// A VAD or resampler failure.
pub fn classify(
    clip: &Clip,
    silero: &Arc<SileroModel>,
    whisper: &WhisperPool,
    config: &AmdConfig,
    details: bool,
) -> anyhow::Result<Verdict> {
    let vad_config = VadConfig {
        min_silence_ms: 300,
        ..VadConfig::default()
    };
    let mut vad = StreamingVad::new(
        SileroVad::new(silero.clone(), SampleRate::HZ_16K)?,
        vad_config,
    )?;
    let mut beeps = BeepDetector::new(LINE, BeepConfig::default());
    let mut up = audio::Resampler::new(LINE, SampleRate::HZ_16K)?;
    let mut classifier = AnswerClassifier::new(config.clone());
    let mut heard_16k: Vec<i16> = Vec::new();
    let mut onset_ms: Option<u64> = None;
    let mut next_partial_ms = u64::MAX;
    let mut pending: BTreeMap<u64, String> = BTreeMap::new();
    let frame = LINE.samples_for_ms(FRAME_MS as u32);
    let total_ms = (clip.audio.len() / LINE.samples_per_ms()) as u64;
    let mut t = 0;
    while t <= config.max_wait_ms.max(total_ms) {
        let start = (t / FRAME_MS) as usize * frame;
        let chunk: Vec<i16> = clip
            .audio
            .get(start..(start + frame).min(clip.audio.len()))
            .map(<[i16]>::to_vec)
            .unwrap_or_else(|| vec![0; frame]);
        t += FRAME_MS;
        for e in beeps.push(&chunk) {
            if let BeepEvent::Started { .. } = e {
                classifier.tone(t);
            }
        }
        let wide = up.process(&chunk);
        heard_16k.extend_from_slice(&wide);
        let mut decode_now = false;
        for e in vad.push(&wide)? {
            match e {
                VadEvent::SpeechStarted { at_ms } => {
                    classifier.speech_started(at_ms as u64);
                    if onset_ms.is_none() {
                        onset_ms = Some(at_ms as u64);
                        next_partial_ms = at_ms as u64 + PARTIAL_EVERY_MS;
                    }
                }
                VadEvent::SpeechEnded { at_ms, .. } => {
                    classifier.speech_stopped(at_ms as u64);
                    decode_now = true;
                }
            }
        }
        if t >= next_partial_ms {
            decode_now = true;
        }
        if let (true, Some(onset)) = (decode_now, onset_ms) {
            next_partial_ms = t + PARTIAL_EVERY_MS;
            let from = SampleRate::HZ_16K.samples_for_ms(onset.saturating_sub(300) as u32);
            let audio = audio::i16_to_f32(&heard_16k[from.min(heard_16k.len())..]);
            let transcript = whisper.transcribe(&DecodeRequest::new(&audio))?;
            let ready = t + transcript.decode_ms.ceil() as u64;
            if details {
                eprintln!(
                    "  {t} ms (+{:.0} ms decode): {:?}",
                    transcript.decode_ms, transcript.text
                );
            }
            pending.insert(ready, transcript.text);
        }
        while let Some(entry) = pending.first_entry() {
            if *entry.key() > t {
                break;
            }
            let (at, text) = entry.remove_entry();
            classifier.transcript(&text, at);
        }
        if let Some(v) = classifier.poll(t) {
            return Ok(v.clone());
        }
    }
    Ok(classifier.poll(u64::MAX).cloned().unwrap_or(Verdict {
        class: AnswerClass::Human,
        reason: "end of recording".into(),
        at_ms: t,
    }))
}

/// Tune/test split: alternate clips, shifted every pair so that both halves hold both
/// speeds and every voice.
fn is_tune(i: usize) -> bool {
    (i + i / 2).is_multiple_of(2)
}

/// The bench: classifies the test half of the corpus and reports accuracy and timing.
///
/// # Errors
/// Corpus generation or a model failure.
pub fn run(
    silero: &Arc<SileroModel>,
    whisper: &WhisperPool,
    limit_per_class: Option<usize>,
    details: bool,
) -> anyhow::Result<Section> {
    let clips = corpus(limit_per_class)?;
    let config = AmdConfig::default();
    let mut confusion: BTreeMap<(AnswerClass, AnswerClass), usize> = BTreeMap::new();
    let mut times = Vec::new();
    let mut wrong = Vec::new();
    let (mut tune_ok, mut tune_n) = (0, 0);
    let (mut humans, mut human_as_machine) = (0, 0);
    for (i, clip) in clips.iter().enumerate() {
        let v = classify(clip, silero, whisper, &config, details)?;
        if details {
            eprintln!(
                "{} → {} ({}, {} ms)",
                clip.label,
                v.class.name(),
                v.reason,
                v.at_ms
            );
        }
        if is_tune(i) {
            tune_n += 1;
            tune_ok += usize::from(v.class == clip.class);
            continue;
        }
        *confusion.entry((clip.class, v.class)).or_default() += 1;
        times.push(v.at_ms);
        if clip.class == AnswerClass::Human {
            humans += 1;
            human_as_machine += usize::from(v.class.is_machine());
        }
        if v.class != clip.class {
            wrong.push(format!(
                "{} → {} ({}, {} ms)",
                clip.label,
                v.class.name(),
                v.reason,
                v.at_ms
            ));
        }
    }
    let test_n = clips.len() - tune_n;
    let correct: usize = AnswerClass::ALL
        .iter()
        .map(|c| confusion.get(&(*c, *c)).copied().unwrap_or(0))
        .sum();
    let mut section = Section::new("Answer classification (`switchboard bench amd`)");
    section.para(format!(
        "{} recordings generated at bench time ({} tune, {} test): espeak-ng voices {}, {} wpm, \
         three noise levels, G.711 µ-law 8 kHz; Silero VAD, beep detector, whisper tiny.en partials \
         every {PARTIAL_EVERY_MS} ms of greeting (each delivered after its measured decode time). \
         Tune half: {tune_ok}/{tune_n} correct.",
        clips.len(), tune_n, test_n, VOICES.join(", "),
        SPEEDS.iter().map(u32::to_string).collect::<Vec<_>>().join("/"),
    ));
    let mut table = Table::new(&[
        "true \\ verdict",
        "human",
        "voicemail",
        "screening",
        "ivr",
        "silence_or_fax",
    ]);
    for truth in AnswerClass::ALL {
        let mut row = vec![truth.name().to_string()];
        row.extend(AnswerClass::ALL.iter().map(|v| {
            confusion
                .get(&(truth, *v))
                .copied()
                .unwrap_or(0)
                .to_string()
        }));
        table.row(row);
    }
    section.table(&table);
    let mut timing = Table::for_summaries("time to verdict (ms after answer)");
    timing.summary_row("all test clips", Summary::of_ms(times.iter().copied()), 0);
    section.table(&timing);
    let accuracy = 100.0 * correct as f64 / test_n.max(1) as f64;
    let h2m = 100.0 * human_as_machine as f64 / humans.max(1) as f64;
    section.para(format!("Accuracy {accuracy:.1} % ({correct}/{test_n}); people classified as machines {human_as_machine}/{humans}."));
    section.target("errors (100 − accuracy)", 100.0 - accuracy, 3.0, "%");
    if let Some(s) = Summary::of_ms(times.iter().copied()) {
        section.target("median time to verdict", s.p50 / 1000.0, 2.5, "s");
    }
    section.target("people classified as machines", h2m, 1.0, "%");
    if !wrong.is_empty() {
        section.para(format!("Misclassified: {}.", wrong.join("; ")));
    }
    Ok(section)
}
