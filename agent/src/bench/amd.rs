//! `switchboard bench amd`: accuracy and time-to-verdict of answer classification
//! ([`crate::outcome::amd`]) on a corpus generated at bench time and never stored: voicemail
//! greetings with and without beeps, screening prompts, IVR menus, people answering, silence
//! and fax tones, spoken by several voices at several speeds, with noise, through a
//! G.711 µ-law 8 kHz round trip as a phone line delivers them.
//!
//! Each recording runs through the same signal path as a call: Silero VAD segment edges,
//! the beep detector on the 8 kHz line audio, and streaming whisper partials of the greeting
//! so far every [`PARTIAL_EVERY_MS`], at most as many in flight as the pool has decoders,
//! each delivered after its measured decode time. Half the clips (alternating in pairs) tune
//! the thresholds; the other half is the reported test half.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use audio::vad::{SileroModel, SileroVad, StreamingVad, VadConfig, VadEvent};
use audio::{BeepConfig, BeepDetector, BeepEvent, SampleRate};
use speech::stt::{DecodeRequest, WhisperPool};

use super::stats::{Section, Summary};
use crate::local_models::LocalModels;
use crate::outcome::{
    after_all_cue, greeting_prompt, is_bare_answer, AmdConfig, AnswerClass, AnswerClassifier,
    Verdict,
};
use crate::turn::answer_gate::{GateConfig, WENT_ON_MS};

#[path = "amd_corpus.rs"]
mod corpus;
#[path = "amd_tally.rs"]
mod tally;
#[path = "amd_voices.rs"]
mod voices;
use corpus::LINE;
pub use corpus::{corpus, Clip, Corpus};
use tally::{describe, Tally};
pub use voices::Voice;

const FRAME_MS: u64 = 20;
/// A partial transcript of the greeting so far every this much speech.
const PARTIAL_EVERY_MS: u64 = 250;

/// Runs one clip through VAD, beep detection, streaming whisper and the classifier.
///
/// # Errors
/// A VAD, resampler or decode failure.
pub fn classify(
    clip: &Clip,
    silero: &Arc<SileroModel>,
    whisper: &WhisperPool,
    config: &AmdConfig,
    details: Option<&str>,
) -> anyhow::Result<Verdict> {
    let mut replay = Replay::new(silero, whisper, config, details)?;
    let total_ms = (clip.audio.len() / LINE.samples_per_ms()) as u64;
    let frame = LINE.samples_for_ms(FRAME_MS as u32);
    // Past the recording, silence until the decodes under way land and the classifier decides
    // (a long greeting's last words decode seconds after it ends).
    let end_ms = config.max_wait_ms.max(total_ms) + config.machine_class_max_ms;
    let mut t = 0;
    while t <= end_ms {
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
    Ok(replay.classifier.poll(t).cloned().unwrap_or(Verdict {
        class: AnswerClass::Human,
        reason: "end of recording".into(),
        at_ms: t,
        machine_at_ms: None,
    }))
}

/// The VAD on a greeting's 16 kHz audio, as the call's ingest runs it (segments end after
/// 300 ms of silence).
fn greeting_vad(silero: &Arc<SileroModel>) -> anyhow::Result<StreamingVad<SileroVad>> {
    let config = VadConfig {
        min_silence_ms: 300,
        ..VadConfig::default()
    };
    let vad = SileroVad::new(silero.clone(), SampleRate::HZ_16K)?;
    Ok(StreamingVad::new(vad, config)?)
}

/// When a beep starts in the clip within `watch_ms` after a person verdict: the call then
/// turns to the voicemail path (`GateConfig::late_voicemail_ms`).
fn late_beep(clip: &Clip, v: &Verdict, watch_ms: u64) -> Option<u64> {
    if v.class != AnswerClass::Human {
        return None;
    }
    let mut beeps = BeepDetector::new(LINE, BeepConfig::default());
    beeps.push(&clip.audio).into_iter().find_map(|e| match e {
        BeepEvent::Started { onset_ms, .. } => {
            (onset_ms > v.at_ms && onset_ms <= v.at_ms + watch_ms).then_some(onset_ms)
        }
        BeepEvent::Ended { .. } => None,
    })
}

/// After a person verdict: the clip's next utterance (pauses under 800 ms bridged, as a turn
/// would), decoded whole, when it starts within [`WENT_ON_MS`] of the verdict: the greeting
/// went on without hearing the agent, and the call shows it the words. After a bare answer
/// ("Hello? … Hello? …"), the utterance after it, when it too starts that soon: the words
/// the call read last.
fn went_on_words(
    clip: &Clip,
    v: &Verdict,
    silero: &Arc<SileroModel>,
    whisper: &WhisperPool,
) -> anyhow::Result<Option<String>> {
    if v.class != AnswerClass::Human {
        return Ok(None);
    }
    let wide = audio::resample_all(&clip.audio, LINE, SampleRate::HZ_16K)?;
    let spans = speech_spans(&wide, silero)?;
    let mut after = spans
        .into_iter()
        .skip_while(|&(_, to)| to <= v.at_ms)
        .peekable();
    let ms = |t: u64| SampleRate::HZ_16K.samples_for_ms(t as u32).min(wide.len());
    let mut by = v.at_ms + WENT_ON_MS;
    let mut read = None;
    while let Some((from, mut to)) = after.next_if(|&(from, _)| from <= by) {
        while let Some((_, next_to)) = after.next_if(|&(next_from, _)| next_from <= to + 800) {
            to = next_to;
        }
        let pcm = audio::i16_to_f32(&wide[ms(from.saturating_sub(300))..ms(to + 200)]);
        let text = whisper.transcribe(&DecodeRequest::new(&pcm))?.text;
        let goes_on = after_all_cue(&text).is_none() && is_bare_answer(&text);
        read = Some(text);
        if !goes_on {
            break;
        }
        by = to + WENT_ON_MS;
    }
    Ok(read)
}

/// After a voicemail verdict: the greeting, decoded whole, when it ends as the gate waits for
/// it with no beep — the first pause of `silence_ms` still under way at the verdict or after
/// it (`GateConfig::voicemail_silence_ms`); none when a beep ends it first. What the gate reads
/// for a person's question ([`person_after_all`]) or a menu's choices ([`menu_after_all`])
/// before it leaves the message.
fn quiet_end_words(
    clip: &Clip,
    v: &Verdict,
    silence_ms: u64,
    silero: &Arc<SileroModel>,
    whisper: &WhisperPool,
) -> anyhow::Result<Option<String>> {
    if v.class != AnswerClass::Voicemail {
        return Ok(None);
    }
    let wide = audio::resample_all(&clip.audio, LINE, SampleRate::HZ_16K)?;
    let spans = speech_spans(&wide, silero)?;
    let gap_after = |i: usize| spans.get(i + 1).map_or(u64::MAX, |s| s.0);
    let Some(end) = (0..spans.len())
        .find(|&i| gap_after(i) > v.at_ms && gap_after(i) - spans[i].1 >= silence_ms)
        .map(|i| spans[i].1)
    else {
        return Ok(None);
    };
    let mut beeps = BeepDetector::new(LINE, BeepConfig::default());
    let beep = beeps
        .push(&clip.audio)
        .into_iter()
        .any(|e| matches!(e, BeepEvent::Started { onset_ms, .. } if onset_ms <= end + silence_ms));
    if beep {
        return Ok(None);
    }
    let ms = |t: u64| SampleRate::HZ_16K.samples_for_ms(t as u32).min(wide.len());
    let pcm = audio::i16_to_f32(&wide[..ms(end + 200)]);
    Ok(Some(whisper.transcribe(&DecodeRequest::new(&pcm))?.text))
}

/// The voiced spans of 16 kHz audio (ms), as the greeting's VAD finds them.
fn speech_spans(wide: &[i16], silero: &Arc<SileroModel>) -> anyhow::Result<Vec<(u64, u64)>> {
    let mut vad = greeting_vad(silero)?;
    let mut spans = Vec::new();
    let mut onset = None;
    for chunk in wide.chunks(SampleRate::HZ_16K.samples_for_ms(FRAME_MS as u32)) {
        for e in vad.push(chunk)? {
            match e {
                VadEvent::SpeechStarted { at_ms } => onset = Some(at_ms as u64),
                VadEvent::SpeechEnded { at_ms, .. } => {
                    if let Some(from) = onset.take() {
                        spans.push((from, at_ms as u64));
                    }
                }
            }
        }
    }
    Ok(spans)
}

/// One clip's signal path, frame by frame: the call's receive side as the gate sees it.
struct Replay<'a> {
    whisper: &'a WhisperPool,
    /// The clip's tag on each printed line, when printing.
    details: Option<&'a str>,
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
    /// Transcripts (and the call ms their audio reaches) by the call ms at which their
    /// decode finishes.
    pending: BTreeMap<u64, (u64, String)>,
}

impl<'a> Replay<'a> {
    fn new(
        silero: &Arc<SileroModel>,
        whisper: &'a WhisperPool,
        config: &AmdConfig,
        details: Option<&'a str>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            whisper,
            details,
            vad: greeting_vad(silero)?,
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
            let (at, (heard_to, text)) = entry.remove_entry();
            self.classifier.transcript(&text, heard_to, at);
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
        let mut request = DecodeRequest::new(&audio).partial();
        let audio_ms = (audio.len() / SampleRate::HZ_16K.samples_per_ms()) as u64;
        if let Some(prompt) = greeting_prompt(audio_ms) {
            request = request.with_prompt(prompt);
        }
        self.classifier.decode_started(t);
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
        self.pending.insert(ready, (t, transcript.text));
        Ok(())
    }

    fn note(&self, t: u64, what: &str) {
        if let Some(tag) = self.details {
            eprintln!("  {tag} {t} ms {what}");
        }
    }
}

/// Tune/test split: alternate clips, shifted every pair so that both halves hold both
/// speeds and every voice.
fn is_tune(i: usize) -> bool {
    (i + i / 2).is_multiple_of(2)
}

/// A clip's verdict; after a person verdict the words of speech that went on at once, after a
/// voicemail's the greeting's when it ends with no beep.
struct Classified {
    verdict: Verdict,
    went_on: Option<String>,
    quiet_end: Option<String>,
}

/// Classifies every clip, `bench.jobs` at a time; the verdicts in the clips' order.
fn classify_all(
    clips: &[Clip],
    models: &LocalModels,
    bench: &AmdBench,
    config: &AmdConfig,
    is_tune: impl Fn(usize) -> bool + Sync,
) -> anyhow::Result<Vec<Classified>> {
    let next = AtomicUsize::new(0);
    let worker = || -> anyhow::Result<Vec<(usize, Classified)>> {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(clip) = clips.get(i) else {
                return Ok(done);
            };
            let tag = format!("#{i}");
            if bench.details {
                eprintln!("{tag} {}", if is_tune(i) { "tune" } else { "test" });
            }
            let details = bench.details.then_some(tag.as_str());
            let verdict = classify(clip, &models.silero, &models.whisper, config, details)?;
            let went_on = went_on_words(clip, &verdict, &models.silero, &models.whisper)?;
            let silence_ms = GateConfig::default().voicemail_silence_ms;
            let quiet_end =
                quiet_end_words(clip, &verdict, silence_ms, &models.silero, &models.whisper)?;
            if bench.details {
                eprintln!("{tag} {}", describe(clip, &verdict));
                if let Some(words) = &went_on {
                    eprintln!("{tag} went on: {words:?}");
                }
                if let Some(words) = &quiet_end {
                    eprintln!("{tag} quiet end: {words:?}");
                }
            }
            done.push((
                i,
                Classified {
                    verdict,
                    went_on,
                    quiet_end,
                },
            ));
        }
    };
    let mut verdicts: Vec<Option<Classified>> = (0..clips.len()).map(|_| None).collect();
    std::thread::scope(|s| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..bench.jobs.max(1)).map(|_| s.spawn(worker)).collect();
        for w in workers {
            let done = w
                .join()
                .map_err(|_| anyhow::anyhow!("a classifier thread panicked"))??;
            for (i, v) in done {
                verdicts[i] = Some(v);
            }
        }
        Ok(())
    })?;
    Ok(verdicts.into_iter().flatten().collect())
}

/// What `switchboard bench amd` runs.
#[derive(Debug, Clone)]
pub struct AmdBench {
    pub corpus: Corpus,
    /// Speak the corpus with the voices close to people instead of its own.
    pub natural_voices: bool,
    /// Only the first N recordings of each class.
    pub limit_per_class: Option<usize>,
    /// Print every partial transcript and verdict (tagged with the clip's number).
    pub details: bool,
    /// Clips classified at once (each with its own decoders' share of the pool).
    pub jobs: usize,
    /// Classifier thresholds other than the defaults ([`AmdConfig::set`]).
    pub set: Vec<(String, u64)>,
}

/// The bench: classifies the test half of the tuning corpus (or every clip of another corpus)
/// and reports accuracy and timing.
///
/// # Errors
/// Corpus generation or a model failure.
pub fn run(models: &LocalModels, bench: &AmdBench) -> anyhow::Result<Section> {
    let which = bench.corpus;
    let clips = corpus(
        which,
        bench.natural_voices,
        bench.limit_per_class,
        &models.hibari,
    )?;
    let mut config = AmdConfig::default();
    for (name, ms) in &bench.set {
        config.set(name, *ms).map_err(anyhow::Error::msg)?;
    }
    let is_tune = |i: usize| which == Corpus::Tune && is_tune(i);
    let verdicts = classify_all(&clips, models, bench, &config, is_tune)?;
    let mut tally = Tally::default();
    let watch_ms = GateConfig::default().late_voicemail_ms;
    let (mut tune_ok, mut tune_n) = (0, 0);
    for (i, (clip, c)) in clips.iter().zip(&verdicts).enumerate() {
        if is_tune(i) {
            tune_n += 1;
            tune_ok += usize::from(c.verdict.class == clip.class);
        } else {
            tally.add(clip, c, watch_ms);
        }
    }
    let test_n = clips.len() - tune_n;
    let correct = tally.correct();
    let mut section = Section::new("Answer classification (`switchboard bench amd`)");
    let scored: &str = match which {
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
        Corpus::Fresh4 => {
            "fresh4: written by a fourth engineer who saw no code, notes, corpora or results; \
             every clip scored"
        }
        Corpus::Fresh5 => {
            "fresh5: written by a fifth engineer who saw no code, notes, corpora or results, as \
             a campaign typically hears it; every clip scored"
        }
        Corpus::Fresh6 => {
            "fresh6: written by a sixth engineer who saw no code, notes, corpora or results, \
             from what US, UK, Australian and Canadian lines say; every clip scored"
        }
        Corpus::Fresh7 => {
            "fresh7: written by a seventh engineer who saw no code, notes, corpora or results, \
             from US, UK, Irish, Australian, New Zealand, Canadian and Indian lines; every clip \
             scored"
        }
        Corpus::Fresh8 => {
            "fresh8: written by an eighth engineer who saw no code, notes, corpora or results, \
             from US, UK, Irish, Australian, South African, Canadian and Indian lines; every clip \
             scored"
        }
        Corpus::Fresh9 => {
            "fresh9: written by a ninth engineer who saw no code, notes, corpora or results, from \
             US, UK, Scottish, Irish, Australian, New Zealand, Nigerian, Indian, Caribbean and \
             Canadian lines; every clip scored"
        }
        Corpus::Fresh10 => {
            "fresh10: written by a tenth engineer who saw no code, notes, corpora, results or \
             example lines, from US, UK, Irish, Scottish, Australian, New Zealand, Canadian, \
             Indian, South African and Caribbean lines; every clip scored"
        }
        Corpus::Fresh11 => &blind("fresh11", "an eleventh", "ten or more countries"),
        Corpus::Fresh12 => &blind("fresh12", "a twelfth", "fifteen or more places"),
        Corpus::Fresh13 => &blind("fresh13", "a thirteenth", "fifteen or more places"),
        Corpus::Fresh14 => &blind("fresh14", "a fourteenth", "seventeen places"),
        Corpus::Fresh15 => &blind("fresh15", "a fifteenth", "eighteen places"),
        Corpus::Fresh16 => &blind("fresh16", "a sixteenth", "eighteen places"),
        Corpus::Fresh17 => &blind("fresh17", "a seventeenth", "eighteen places"),
    };
    let tuned = if tune_n > 0 {
        format!(" Tune half: {tune_ok}/{tune_n} correct.")
    } else {
        String::new()
    };
    let natural = bench.natural_voices;
    let settings = if bench.set.is_empty() {
        String::new()
    } else {
        let set: Vec<String> = bench
            .set
            .iter()
            .map(|(n, ms)| format!("{n}={ms}"))
            .collect();
        format!(" Thresholds changed from the defaults: {}.", set.join(", "))
    };
    section.para(format!(
        "Corpus `{which:?}` ({scored}). {} recordings generated at bench time ({} tune, {} test): \
         voices {}, three noise levels, G.711 µ-law 8 kHz; Silero VAD, beep detector, \
         whisper partials ({}, prompted from 1.5 s) every {PARTIAL_EVERY_MS} ms of greeting on \
         {} decoders (each delivered after its measured decode time), {} build.{tuned}{settings}",
        clips.len(),
        tune_n,
        test_n,
        which.voices(natural),
        whisper_file(models),
        models.whisper.size(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    ));
    section.table(&tally.confusion_table());
    section.table(&tally.timing_table());
    section.table(&tally.voice_table());
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
    section.para(tally.after_all_text(watch_ms));
    section.para(tally.quiet_end_text());
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

/// How a corpus written like fresh10 came about: by whom, from the lines of where.
fn blind(name: &str, nth: &str, places: &str) -> String {
    format!(
        "{name}: written like fresh10 by {nth} engineer who saw no code, notes, corpora, results \
         or example lines, from the lines of {places}; every clip scored"
    )
}

/// The whisper model file the bench decodes with (`SWITCHBOARD_WHISPER`).
fn whisper_file(models: &LocalModels) -> String {
    let path = models.whisper.model().path();
    path.file_name().map_or_else(
        || path.display().to_string(),
        |f| f.to_string_lossy().into(),
    )
}
