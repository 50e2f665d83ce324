//! The answer-detection bench's scoring: the test half's verdicts tallied per class and voice,
//! what the gate would do after them (a machine, a person or a menu after all), and the tables
//! and lines of the report.

use std::collections::BTreeMap;

use super::{late_beep, Classified, Clip};
use crate::bench::stats::{Summary, Table};
use crate::outcome::{
    after_all_cue, menu_after_all, person_after_all, words_class, AnswerClass, Verdict,
};
use crate::turn::answer_gate::WENT_ON_MS;

/// Test-half results.
#[derive(Default)]
pub(super) struct Tally {
    confusion: BTreeMap<(AnswerClass, AnswerClass), usize>,
    /// (true class, ms to the class verdict, ms to "person or machine").
    pub(super) times: Vec<(AnswerClass, u64, u64)>,
    pub(super) wrong: Vec<String>,
    pub(super) humans: usize,
    pub(super) human_as_machine: usize,
    pub(super) machine_as_human: usize,
    /// Spoken clips, and those whose text (read in full, no recognition) shows their class.
    pub(super) spoken: usize,
    pub(super) read_right: usize,
    /// Per voice: clips, right, people, people taken for machines.
    by_voice: BTreeMap<String, [usize; 4]>,
    /// Person verdicts turned to a machine's path after all ([`AfterAll`]), per true class.
    after_all: BTreeMap<AnswerClass, AfterAll>,
    /// Voicemail verdicts turned to a person's path after all ([`super::quiet_end_words`]), per true
    /// class.
    person_after_all: BTreeMap<AnswerClass, usize>,
    /// Voicemail verdicts turned to a menu's path after all, per true class.
    menu_after_all: BTreeMap<AnswerClass, usize>,
}

/// Person verdicts that the call turns to a machine's path after all: the agent stops its
/// opening and leaves the message after the greeting, or answers the screener.
#[derive(Default, Clone, Copy)]
struct AfterAll {
    /// By a beep within the watch ([`super::late_beep`]) or by a machine's words in speech that went
    /// on at once ([`super::went_on_words`]); either.
    beep: usize,
    words: usize,
    either: usize,
}

impl Tally {
    pub(super) fn add(&mut self, clip: &Clip, c: &Classified, watch_ms: u64) {
        let v = &c.verdict;
        // A beep turns a call to the voicemail message and a screener's words to the screening
        // reply: for a voicemail or a screener only its own sign counts, any for a person (a
        // false alarm) or a menu.
        let own = |class: AnswerClass| {
            class == clip.class
                || !matches!(clip.class, AnswerClass::Voicemail | AnswerClass::Screening)
        };
        let beep = late_beep(clip, v, watch_ms).is_some() && own(AnswerClass::Voicemail);
        let cue = c.went_on.as_deref().and_then(after_all_cue);
        let words = cue.is_some_and(|(class, _)| own(class));
        if beep || words {
            let row = self.after_all.entry(clip.class).or_default();
            row.beep += usize::from(beep);
            row.words += usize::from(words);
            row.either += 1;
        }
        // The gate's order: a person's question first, then a menu's choices.
        match c.quiet_end.as_deref() {
            Some(words) if person_after_all(words) => {
                *self.person_after_all.entry(clip.class).or_default() += 1;
            }
            Some(words) if menu_after_all(words) => {
                *self.menu_after_all.entry(clip.class).or_default() += 1;
            }
            _ => {}
        }
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
        if let Some(voice) = clip.voice {
            let row = self.by_voice.entry(voice.name()).or_default();
            let human = clip.class == AnswerClass::Human;
            row[0] += 1;
            row[1] += usize::from(v.class == clip.class);
            row[2] += usize::from(human);
            row[3] += usize::from(human && v.class.is_machine());
        }
        if !clip.text.is_empty() {
            self.spoken += 1;
            let read = words_class(clip.text).unwrap_or(AnswerClass::Human);
            self.read_right += usize::from(read == clip.class);
        }
    }

    /// What the machine-after-all watch did to the person verdicts.
    pub(super) fn after_all_text(&self, watch_ms: u64) -> String {
        let row = |class| self.after_all.get(&class).copied().unwrap_or_default();
        let what = |class, whom: &str| {
            let r = row(class);
            format!(
                "{whom} {} ({} by a beep, {} by words)",
                r.either, r.beep, r.words
            )
        };
        let others = row(AnswerClass::Ivr).either + row(AnswerClass::SilenceOrFax).either;
        format!(
            "Machine after all — person verdicts the call turns to the machine's path (the \
             agent stops its opening; a beep within {} s of the verdict, or a voicemail's or a \
             screener's words in speech that went on within {} s of it): {}; {}; menus {others} \
             (they get the message or the screening reply); {}.",
            watch_ms / 1000,
            WENT_ON_MS as f64 / 1000.0,
            what(AnswerClass::Voicemail, "voicemails (the message)"),
            what(AnswerClass::Screening, "screeners (the reply)"),
            what(AnswerClass::Human, "**people**"),
        )
    }

    /// What the gate's reading of a voicemail greeting's quiet end did to voicemail verdicts.
    pub(super) fn quiet_end_text(&self) -> String {
        let n =
            |tally: &BTreeMap<AnswerClass, usize>, class| tally.get(&class).copied().unwrap_or(0);
        let person = |class| n(&self.person_after_all, class);
        let machines: usize = AnswerClass::ALL
            .iter()
            .filter(|c| c.is_machine())
            .map(|c| person(*c))
            .sum();
        let menu = |class| n(&self.menu_after_all, class);
        let others: usize = AnswerClass::ALL
            .iter()
            .filter(|c| **c != AnswerClass::Ivr)
            .map(|c| menu(*c))
            .sum();
        format!(
            "Person after all — voicemail verdicts whose greeting ends with no beep on a \
             person's question after its last machine words (the gate answers instead of \
             leaving the message; the greeting decoded whole at its end): **people** {}; \
             machines {machines}. Menu after all — voicemail verdicts whose greeting ends with \
             no beep after offering keys for choices (the gate takes the menu's way or hangs \
             up): **menus** {}; others {others}.",
            person(AnswerClass::Human),
            menu(AnswerClass::Ivr),
        )
    }

    pub(super) fn correct(&self) -> usize {
        AnswerClass::ALL
            .iter()
            .map(|c| self.confusion.get(&(*c, *c)).copied().unwrap_or(0))
            .sum()
    }

    pub(super) fn confusion_table(&self) -> Table {
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

    /// Accuracy and people taken for machines per voice: what the voices do to recognition.
    pub(super) fn voice_table(&self) -> Table {
        let mut table = Table::new(&["voice", "correct", "accuracy", "people as machines"]);
        for (voice, [n, right, people, lost]) in &self.by_voice {
            table.row(vec![
                voice.clone(),
                format!("{right} / {n}"),
                format!("{:.1} %", 100.0 * *right as f64 / (*n).max(1) as f64),
                format!("{lost} / {people}"),
            ]);
        }
        table
    }

    /// Time to "person or machine" (what holds the agent's first line) and to the class, in
    /// all and per true class.
    pub(super) fn timing_table(&self) -> Table {
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

pub(super) fn describe(clip: &Clip, v: &Verdict) -> String {
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
