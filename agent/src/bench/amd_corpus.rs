//! The answer-detection corpus of `switchboard bench amd`, generated at run time and never
//! stored: people answering, voicemail greetings (half with a beep), screening prompts and IVR
//! menus spoken by several espeak-ng voices at two speeds after 200–800 ms of lead-in, plus
//! silence and fax calling tones; each with line noise (three levels) through a G.711 µ-law
//! 8 kHz round trip.

use anyhow::Context;
use audio::{G711Law, SampleRate};
use speech::tts::EspeakVoice;

use crate::outcome::AnswerClass;

pub(super) const LINE: SampleRate = SampleRate::HZ_8K;

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
pub(super) const VOICES: &[&str] = &["en-us", "en-us+f3", "en-gb+m3", "en-us+f2"];
pub(super) const SPEEDS: &[u32] = &[150, 185];

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
