//! Offline sentiment of caller utterances: a lexicon scorer tuned to call-centre speech.
//!
//! Runs on each final caller transcript (after STT, beside the conversation): the turn engine
//! feeds the running call score to the dialogue as `SentimentMeasured` so its negative
//! sentiment handler can escalate, and [`super::assess`] aggregates the scores when the call
//! ends. Pure and deterministic: no model, no I/O.
//!
//! Each word of the lexicon carries a valence in -1..1. Modifiers act on the next sentiment
//! word within a short window: negators flip and damp it ("not bad" is mildly positive, "not
//! happy" negative), intensifiers scale it ("really", "very", "extremely"), downtoners shrink
//! it ("a bit", "slightly"). After "but"/"however" the clause that follows outweighs the one
//! before. Multi-word phrases ("thank you", "waste of time", "stop calling") are matched
//! first.

use serde::Serialize;

use super::lexicon::{CONTRAST, DOWNTONERS, INTENSIFIERS, NEGATORS, PHRASES, WORDS};

/// Sentiment of one utterance or one call.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sentiment {
    /// -1 (very negative) .. 1 (very positive); 0 is neutral.
    pub score: f32,
    /// 0..1: how much evidence the score rests on (0 when no sentiment word was found).
    pub confidence: f32,
}

impl Sentiment {
    pub const NEUTRAL: Sentiment = Sentiment {
        score: 0.0,
        confidence: 0.0,
    };
}

/// How far back (in words) a negator or intensifier reaches.
const MODIFIER_WINDOW: usize = 3;

/// Scores one utterance.
pub fn score_text(text: &str) -> Sentiment {
    let words = tokenize(text);
    // Clauses split at contrast words; the clause after the contrast weighs double.
    let mut clauses: Vec<(f32, f32, u32)> = vec![(0.0, 0.0, 0)]; // (weighted sum, weight, hits)
    let mut clause_weight = 1.0f32;
    let mut i = 0;
    // Index of the last modifier state: pending negation and intensity since `since`.
    let mut negated_at: Option<usize> = None;
    let mut scale = 1.0f32;
    let mut scale_at: Option<usize> = None;
    while i < words.len() {
        let w = words[i].as_str();
        if CONTRAST.contains(&w) {
            clause_weight *= 2.0;
            clauses.push((0.0, 0.0, 0));
            negated_at = None;
            scale_at = None;
            scale = 1.0;
            i += 1;
            continue;
        }
        if let Some((len, valence)) = phrase_at(&words, i) {
            apply(
                &mut clauses,
                clause_weight,
                valence,
                i,
                &mut negated_at,
                &mut scale,
                &mut scale_at,
            );
            i += len;
            continue;
        }
        if NEGATORS.contains(&w) {
            negated_at = Some(i);
            // A bare "no" is itself mildly negative; handled by the lexicon only when it is
            // not followed by a sentiment word (see below).
            if w == "no" && next_valence(&words, i + 1).is_none() {
                apply(
                    &mut clauses,
                    clause_weight,
                    -0.1,
                    i,
                    &mut None,
                    &mut 1.0,
                    &mut None,
                );
            }
            i += 1;
            continue;
        }
        if let Some(f) = lookup(INTENSIFIERS, w) {
            // "Absolutely!" on its own is an answer, not a modifier.
            if let (None, Some(valence)) = (next_valence(&words, i + 1), lookup(WORDS, w)) {
                apply(
                    &mut clauses,
                    clause_weight,
                    valence,
                    i,
                    &mut negated_at,
                    &mut scale,
                    &mut scale_at,
                );
                i += 1;
                continue;
            }
            scale *= f;
            scale_at = Some(i);
            i += 1;
            continue;
        }
        if let Some(f) = lookup(DOWNTONERS, w) {
            scale *= f;
            scale_at = Some(i);
            i += 1;
            continue;
        }
        if let Some(valence) = lookup(WORDS, w) {
            apply(
                &mut clauses,
                clause_weight,
                valence,
                i,
                &mut negated_at,
                &mut scale,
                &mut scale_at,
            );
        }
        i += 1;
    }
    let (sum, weight, hits) = clauses.iter().fold((0.0, 0.0, 0), |acc, c| {
        (acc.0 + c.0, acc.1 + c.1, acc.2 + c.2)
    });
    if hits == 0 || weight <= 0.0 {
        return Sentiment::NEUTRAL;
    }
    let mean = sum / weight;
    // A few strong words say more than many weak ones; squash gently into -1..1.
    let score = (mean * 1.2).tanh().clamp(-1.0, 1.0);
    let confidence = (1.0 - (-0.6 * hits as f32).exp()) * (0.5 + 0.5 * mean.abs().min(1.0));
    Sentiment {
        score,
        confidence: confidence.clamp(0.0, 1.0),
    }
}

/// Applies one sentiment word (or phrase) at `at` with the pending modifiers.
#[allow(clippy::too_many_arguments)]
fn apply(
    clauses: &mut [(f32, f32, u32)],
    clause_weight: f32,
    valence: f32,
    at: usize,
    negated_at: &mut Option<usize>,
    scale: &mut f32,
    scale_at: &mut Option<usize>,
) {
    let mut v = valence;
    if scale_at.is_some_and(|s| at - s <= MODIFIER_WINDOW) {
        v *= *scale;
    }
    if negated_at.is_some_and(|n| at - n <= MODIFIER_WINDOW + 1) {
        // Negation flips and damps: "not bad" is mildly good, "not great" rather bad.
        v = if v > 0.0 { -0.75 * v } else { -0.5 * v };
    }
    *negated_at = None;
    *scale_at = None;
    *scale = 1.0;
    let v = v.clamp(-1.0, 1.0);
    if let Some(last) = clauses.last_mut() {
        last.0 += clause_weight * v;
        last.1 += clause_weight;
        last.2 += 1;
    }
}

fn phrase_at(words: &[String], i: usize) -> Option<(usize, f32)> {
    PHRASES.iter().find_map(|(phrase, valence)| {
        let parts: Vec<&str> = phrase.split(' ').collect();
        let matches = parts.len() <= words.len() - i
            && parts.iter().zip(&words[i..]).all(|(p, w)| *p == w.as_str());
        matches.then_some((parts.len(), *valence))
    })
}

fn next_valence(words: &[String], from: usize) -> Option<f32> {
    words
        .iter()
        .skip(from)
        .take(MODIFIER_WINDOW)
        .find_map(|w| lookup(WORDS, w))
}

fn lookup(table: &[(&str, f32)], word: &str) -> Option<f32> {
    table.iter().find(|(w, _)| *w == word).map(|(_, v)| *v)
}

/// Lower-case words, apostrophes kept ("don't"), other punctuation dropped.
fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | '!' | '?' | ';' | ':'))
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
                .replace('’', "'")
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Running call-level sentiment: an exponentially recency-weighted mean of utterance scores,
/// each weighted by its confidence, so the latest mood counts most and neutral small talk
/// ("okay", "yes") hardly moves it.
#[derive(Debug, Clone, Default)]
pub struct CallSentiment {
    weighted: f32,
    weights: f32,
    evidence: f32,
    utterances: u32,
}

/// How much each earlier utterance counts relative to the next one.
const RECENCY_DECAY: f32 = 0.7;

impl CallSentiment {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one utterance's sentiment; returns the updated call sentiment.
    pub fn push(&mut self, s: Sentiment) -> Sentiment {
        self.weighted = self.weighted * RECENCY_DECAY + s.score * s.confidence;
        self.weights = self.weights * RECENCY_DECAY + s.confidence;
        self.evidence = self.evidence * RECENCY_DECAY + s.confidence;
        self.utterances += 1;
        self.current()
    }

    /// The call sentiment so far (neutral with zero confidence before any evidence).
    pub fn current(&self) -> Sentiment {
        if self.weights <= f32::EPSILON {
            return Sentiment::NEUTRAL;
        }
        Sentiment {
            score: (self.weighted / self.weights).clamp(-1.0, 1.0),
            confidence: (1.0 - (-self.evidence).exp()).clamp(0.0, 1.0),
        }
    }

    /// Utterances pushed so far.
    pub fn utterances(&self) -> u32 {
        self.utterances
    }
}

/// Call sentiment of a sequence of utterance scores (in call order).
pub fn aggregate(scores: impl IntoIterator<Item = Sentiment>) -> Sentiment {
    let mut call = CallSentiment::new();
    for s in scores {
        call.push(s);
    }
    call.current()
}

#[cfg(test)]
#[path = "sentiment_tests.rs"]
mod tests;
