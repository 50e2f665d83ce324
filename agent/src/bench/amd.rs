//! `switchboard bench amd`: accuracy and time-to-verdict of answer classification
//! ([`crate::outcome::amd`]) on a corpus generated at bench time and never stored: voicemail
//! greetings with and without beeps, screening prompts, IVR menus, people answering, silence
//! and fax tones, spoken by several espeak-ng voices at several speeds, with noise, through a
//! G.711 µ-law 8 kHz round trip as a phone line delivers them.
//!
//! Each recording runs through the same signal path as a call: Silero VAD segment edges,
//! the beep detector on the 8 kHz line audio, and streaming whisper partials of the greeting
//! so far every [`PARTIAL_EVERY_MS`], at most as many in flight as the pool has decoders,
//! each delivered after its measured decode time. Half the clips (alternating in pairs) tune
//! the thresholds; the other half is the reported test half.

use std::collections::BTreeMap;
use std::sync::Arc;

use audio::vad::{SileroModel, SileroVad, StreamingVad, VadConfig, VadEvent};
use audio::{BeepConfig, BeepDetector, BeepEvent, SampleRate};
use speech::stt::{DecodeRequest, WhisperPool};

use super::stats::{Section, Summary, Table};
use crate::outcome::{
    greeting_prompt, words_class, AmdConfig, AnswerClass, AnswerClassifier, Verdict,
};

#[path = "amd_corpus.rs"]
mod corpus;
use corpus::LINE;
pub use corpus::{corpus, Clip, Corpus};

const FRAME_MS: u64 = 20;
/// A partial transcript of the greeting so far every this much speech.
const PARTIAL_EVERY_MS: u64 = 250;
/// Tokens of a partial: a few seconds of greeting are ~15; more is a decoder loop.
const PARTIAL_MAX_TOKENS: u32 = 32;

/// Runs one clip through VAD, beep detection, streaming whisper and the classifier.
///
/// # Errors
/// A VAD, resampler or decode failure.
pub fn classify(
    clip: &Clip,
    silero: &Arc<SileroModel>,
    whisper: &WhisperPool,
    config: &AmdConfig,
    details: bool,
) -> anyhow::Result<Verdict> {
    let mut replay = Replay::new(silero, whisper, config, details)?;
    let total_ms = (clip.audio.len() / LINE.samples_per_ms()) as u64;
    let frame = LINE.samples_for_ms(FRAME_MS as u32);
    let mut t = 0;
    while t <= config.max_wait_ms.max(total_ms) {
        let start = (t / FRAME_MS) as usize * frame;
        let chunk: Vec<i16> = clip
            .audio
            .get(start..(start + frame).min(clip.audio.len()))
            .map(<[i16]>::to_vec)
            .unwrap_or_else(|| vec![0; frame]);
        t += FRAME_MS;
        if let Some(v) = replay.frame(&chunk, t)? {
            return Ok(v);
        }
    }
    Ok(replay
        .classifier
        .poll(u64::MAX)
        .cloned()
        .unwrap_or(Verdict {
            class: AnswerClass::Human,
            reason: "end of recording".into(),
            at_ms: t,
            machine_at_ms: None,
        }))
}

/// One clip's signal path, frame by frame: the call's receive side as the gate sees it.
struct Replay<'a> {
    whisper: &'a WhisperPool,
    details: bool,
    vad: StreamingVad<SileroVad>,
    beeps: BeepDetector,
    up: audio::Resampler,
    classifier: AnswerClassifier,
    heard_16k: Vec<i16>,
    onset_ms: Option<u64>,
    /// A partial is due (cadence reached or a segment ended) once a decoder is free.
    decode_due: bool,
    next_partial_ms: u64,
    /// Call ms at which each of the pool's decoders is free again: at most `whisper.size()`
    /// partials are in flight, as in a call.
    decoder_free_at: Vec<u64>,
    /// Transcripts by the call ms at which their decode finishes.
    pending: BTreeMap<u64, String>,
}

impl<'a> Replay<'a> {
    fn new(
        silero: &Arc<SileroModel>,
        whisper: &'a WhisperPool,
        config: &AmdConfig,
        details: bool,
    ) -> anyhow::Result<Self> {
        let vad_config = VadConfig {
            min_silence_ms: 300,
            ..VadConfig::default()
        };
        Ok(Self {
            whisper,
            details,
            vad: StreamingVad::new(
                SileroVad::new(silero.clone(), SampleRate::HZ_16K)?,
                vad_config,
            )?,
            beeps: BeepDetector::new(LINE, BeepConfig::default()),
            up: audio::Resampler::new(LINE, SampleRate::HZ_16K)?,
            classifier: AnswerClassifier::new(config.clone()),
            heard_16k: Vec::new(),
            onset_ms: None,
            decode_due: false,
            next_partial_ms: u64::MAX,
            decoder_free_at: vec![0; whisper.size().max(1)],
            pending: BTreeMap::new(),
        })
    }

    /// Feeds one 20 ms line frame ending at call ms `t`; the verdict once reached.
    fn frame(&mut self, chunk: &[i16], t: u64) -> anyhow::Result<Option<Verdict>> {
        for e in self.beeps.push(chunk) {
            if let BeepEvent::Started { .. } = e {
                self.note(t, "tone");
                self.classifier.tone(t);
            }
        }
        let wide = self.up.process(chunk);
        self.heard_16k.extend_from_slice(&wide);
        for e in self.vad.push(&wide)? {
            self.vad_event(e, t);
        }
        self.decode_due |= t >= self.next_partial_ms;
        if self.decode_due {
            self.start_partial(t)?;
        }
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() > t {
                break;
            }
            let (at, text) = entry.remove_entry();
            self.classifier.transcript(&text, at);
        }
        Ok(self.classifier.poll(t).cloned())
    }

    fn vad_event(&mut self, e: VadEvent, t: u64) {
        match e {
            VadEvent::SpeechStarted { at_ms } => {
                let at = at_ms as u64;
                self.note(t, &format!("speech from {at} ms"));
                self.classifier.speech_started(at);
                if self.onset_ms.is_none() {
                    self.onset_ms = Some(at);
                    self.next_partial_ms = at + PARTIAL_EVERY_MS;
                }
            }
            VadEvent::SpeechEnded { at_ms, .. } => {
                self.note(t, &format!("speech to {} ms", at_ms as u64));
                self.classifier.speech_stopped(at_ms as u64);
                self.decode_due = true;
            }
        }
    }

    /// Decodes the greeting so far on a free decoder; its text arrives after its measured
    /// decode time. With every decoder busy the partial waits for the next frame.
    fn start_partial(&mut self, t: u64) -> anyhow::Result<()> {
        let Some(onset) = self.onset_ms else {
            return Ok(());
        };
        let Some(decoder) = self.decoder_free_at.iter_mut().find(|free| **free <= t) else {
            return Ok(());
        };
        self.decode_due = false;
        self.next_partial_ms = t + PARTIAL_EVERY_MS;
        let from = SampleRate::HZ_16K.samples_for_ms(onset.saturating_sub(300) as u32);
        let audio = audio::i16_to_f32(&self.heard_16k[from.min(self.heard_16k.len())..]);
        let mut request = DecodeRequest {
            max_tokens: PARTIAL_MAX_TOKENS,
            ..DecodeRequest::new(&audio)
        }
        .without_fallback();
        let audio_ms = (audio.len() / SampleRate::HZ_16K.samples_per_ms()) as u64;
        if let Some(prompt) = greeting_prompt(audio_ms) {
            request = request.with_prompt(prompt);
        }
        let transcript = self.whisper.transcribe(&request)?;
        let ready = t + transcript.decode_ms.ceil() as u64;
        *decoder = ready;
        self.note(
            t,
            &format!(
                "partial (+{:.0} ms): {:?}",
                transcript.decode_ms, transcript.text
            ),
        );
        self.pending.insert(ready, transcript.text);
        Ok(())
    }

    fn note(&self, t: u64, what: &str) {
        if self.details {
            eprintln!("  {t} ms {what}");
        }
    }
}

/// Tune/test split: alternate clips, shifted every pair so that both halves hold both
/// speeds and every voice.
fn is_tune(i: usize) -> bool {
    (i + i / 2).is_multiple_of(2)
}

/// Test-half results.
#[derive(Default)]
struct Tally {
    confusion: BTreeMap<(AnswerClass, AnswerClass), usize>,
    /// (true class, ms to the class verdict, ms to "person or machine").
    times: Vec<(AnswerClass, u64, u64)>,
    wrong: Vec<String>,
    humans: usize,
    human_as_machine: usize,
    machine_as_human: usize,
    /// Spoken clips, and those whose text (read in full, no recognition) shows their class.
    spoken: usize,
    read_right: usize,
}

impl Tally {
    fn add(&mut self, clip: &Clip, v: &Verdict) {
        *self.confusion.entry((clip.class, v.class)).or_default() += 1;
        self.times
            .push((clip.class, v.at_ms, v.person_or_machine_ms()));
        if clip.class == AnswerClass::Human {
            self.humans += 1;
            self.human_as_machine += usize::from(v.class.is_machine());
        }
        if clip.class.is_machine() && v.class == AnswerClass::Human {
            self.machine_as_human += 1;
        }
        if v.class != clip.class {
            self.wrong.push(describe(clip, v));
        }
        if !clip.text.is_empty() {
            self.spoken += 1;
            let read = words_class(clip.text).unwrap_or(AnswerClass::Human);
            self.read_right += usize::from(read == clip.class);
        }
    }

    fn correct(&self) -> usize {
        AnswerClass::ALL
            .iter()
            .map(|c| self.confusion.get(&(*c, *c)).copied().unwrap_or(0))
            .sum()
    }

    fn confusion_table(&self) -> Table {
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
                let n = self.confusion.get(&(truth, *v)).copied().unwrap_or(0);
                n.to_string()
            }));
            table.row(row);
        }
        table
    }

    /// Time to "person or machine" (what holds the agent's first line) and to the class, in
    /// all and per true class.
    fn timing_table(&self) -> Table {
        let mut timing = Table::for_summaries("time to verdict (ms after answer)");
        let rows = |class: Option<AnswerClass>| {
            let of = move |t: &&(AnswerClass, u64, u64)| class.is_none_or(|k| k == t.0);
            let pm = self.times.iter().filter(of).map(|t| t.2);
            let full = self.times.iter().filter(of).map(|t| t.1);
            (Summary::of_ms(pm), Summary::of_ms(full))
        };
        let (pm, full) = rows(None);
        timing.summary_row("all: person or machine", pm, 0);
        timing.summary_row("all: class", full, 0);
        for class in AnswerClass::ALL {
            let (pm, full) = rows(Some(class));
            if class.is_machine() && class != AnswerClass::SilenceOrFax {
                timing.summary_row(&format!("{}: machine", class.name()), pm, 0);
            }
            timing.summary_row(&format!("{}: class", class.name()), full, 0);
        }
        timing
    }
}

fn describe(clip: &Clip, v: &Verdict) -> String {
    let machine = v
        .machine_at_ms
        .map(|m| format!(", machine at {m} ms"))
        .unwrap_or_default();
    format!(
        "{} → {} ({}, {} ms{machine})",
        clip.label,
        v.class.name(),
        v.reason,
        v.at_ms
    )
}

/// The bench: classifies the test half of the tuning corpus (or every clip of another corpus)
/// and reports accuracy and timing.
///
/// # Errors
/// Corpus generation or a model failure.
pub fn run(
    silero: &Arc<SileroModel>,
    whisper: &WhisperPool,
    which: Corpus,
    limit_per_class: Option<usize>,
    details: bool,
) -> anyhow::Result<Section> {
    let clips = corpus(which, limit_per_class)?;
    let is_tune = |i: usize| which == Corpus::Tune && is_tune(i);
    let config = AmdConfig::default();
    let mut tally = Tally::default();
    let (mut tune_ok, mut tune_n) = (0, 0);
    for (i, clip) in clips.iter().enumerate() {
        if details {
            eprintln!("#{i} {}", if is_tune(i) { "tune" } else { "test" });
        }
        let v = classify(clip, silero, whisper, &config, details)?;
        if details {
            eprintln!("{}", describe(clip, &v));
        }
        if is_tune(i) {
            tune_n += 1;
            tune_ok += usize::from(v.class == clip.class);
        } else {
            tally.add(clip, &v);
        }
    }
    let test_n = clips.len() - tune_n;
    let correct = tally.correct();
    let mut section = Section::new("Answer classification (`switchboard bench amd`)");
    let scored = match which {
        Corpus::Tune => "tuned on one half, scored on the other",
        Corpus::Holdout => {
            "held out from the cue lists, then used to shape the phrase model; every clip scored"
        }
        Corpus::Fresh => {
            "fresh: written by someone who never saw the phrase model; every clip scored; its \
             first run was independent, two fixes followed"
        }
        Corpus::Fresh2 => {
            "fresh2: written by another engineer who saw neither the phrase model nor the other \
             corpora; every clip scored"
        }
        Corpus::Fresh3 => {
            "fresh3: written by a third engineer who saw no code, notes, corpora or results; \
             every clip scored"
        }
    };
    let tuned = if tune_n > 0 {
        format!(" Tune half: {tune_ok}/{tune_n} correct.")
    } else {
        String::new()
    };
    section.para(format!(
        "Corpus `{which:?}` ({scored}). {} recordings generated at bench time ({} tune, {} test): \
         espeak-ng voices {}, three noise levels, G.711 µ-law 8 kHz; Silero VAD, beep detector, \
         whisper tiny.en partials (prompted from 1.5 s) every {PARTIAL_EVERY_MS} ms of greeting on \
         {} decoders (each delivered after its measured decode time).{tuned}",
        clips.len(),
        tune_n,
        test_n,
        which.voices(),
        whisper.size(),
    ));
    section.table(&tally.confusion_table());
    section.table(&tally.timing_table());
    let accuracy = 100.0 * correct as f64 / test_n.max(1) as f64;
    let (humans, h2m) = (tally.humans, tally.human_as_machine);
    section.para(format!(
        "Accuracy {accuracy:.1} % ({correct}/{test_n}); people classified as machines \
         {h2m}/{humans}; machines classified as people {}/{}. The texts read in full (the \
         phrase model without recognition errors): {}/{} spoken clips show their class.",
        tally.machine_as_human,
        test_n - humans,
        tally.read_right,
        tally.spoken,
    ));
    section.target("errors (100 − accuracy)", 100.0 - accuracy, 3.0, "%");
    let median = |f: fn(&(AnswerClass, u64, u64)) -> u64| {
        Summary::of_ms(tally.times.iter().map(f)).map_or(f64::NAN, |s| s.p50 / 1000.0)
    };
    section.target(
        "median time to person or machine",
        median(|t| t.2),
        2.5,
        "s",
    );
    section.target("median time to the class", median(|t| t.1), 2.5, "s");
    let h2m_pct = 100.0 * h2m as f64 / humans.max(1) as f64;
    section.target("people classified as machines", h2m_pct, 1.0, "%");
    if !tally.wrong.is_empty() {
        section.para(format!("Misclassified: {}.", tally.wrong.join("; ")));
    }
    Ok(section)
}
