//! Cuts LLM output into speakable pieces between the LLM and TTS stages. Tokens arrive a few
//! characters at a time; a piece is released as soon as its end is certain, so synthesis of the
//! first sentence overlaps with generation of the rest.
//!
//! A sentence ends at `.`, `!`, `?` or `…` (plus closing quotes or brackets) followed by
//! whitespace, or at a line break. A period does not end a sentence after a title or common
//! abbreviation ("Dr.", "e.g.", "etc.") or a single-letter initial, and "3.5" never splits
//! because no whitespace follows the point. To start speaking early, the first piece of a reply
//! is also released at a clause mark (`,;:—`) once it holds enough words, and any piece that
//! grows very long is cut at its next clause mark.

/// Words that end with a period but rarely end a sentence (compared case-insensitively,
/// without the final period).
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "mt", "ft", "jr", "sr", "gen", "gov", "sen", "rep",
    "capt", "lt", "col", "sgt", "rev", "hon", "pres", "supt", "fr", "vs", "etc", "e.g", "i.e",
    "approx", "no", "nos", "fig", "vol", "ch", "pp", "cf", "inc", "ltd", "co", "corp", "dept",
    "ave", "blvd", "rd", "apt", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", "a.m", "p.m", "u.s", "u.k",
];

/// Default word count at which the first piece may be cut at a clause mark.
pub const EARLY_CLAUSE_WORDS: usize = 6;
/// Pieces longer than this many words are cut at the next clause mark.
pub const LONG_PIECE_WORDS: usize = 30;

/// Incremental sentence splitter for streamed text.
#[derive(Debug, Clone)]
pub struct SentenceSplitter {
    buf: String,
    /// Byte offset in `buf` up to which boundaries were already ruled out.
    scanned: usize,
    /// Whether a piece was already released (early clauses apply to the first only).
    released_any: bool,
    /// Minimum words before the first piece may end at a clause mark; `None` disables it.
    early_clause_words: Option<usize>,
}

impl Default for SentenceSplitter {
    fn default() -> Self {
        Self::new()
    }
}

impl SentenceSplitter {
    /// A splitter that releases an early first clause after [`EARLY_CLAUSE_WORDS`] words.
    pub fn new() -> Self {
        Self::with_early_clause(Some(EARLY_CLAUSE_WORDS))
    }

    /// A splitter with a custom early-clause threshold (`None`: whole sentences only).
    pub fn with_early_clause(min_words: Option<usize>) -> Self {
        SentenceSplitter {
            buf: String::new(),
            scanned: 0,
            released_any: false,
            early_clause_words: min_words,
        }
    }

    /// Adds a token; returns the pieces it completed (trimmed, non-empty), in order.
    pub fn push(&mut self, token: &str) -> Vec<String> {
        self.buf.push_str(token);
        let mut out = Vec::new();
        while let Some(end) = self.find_boundary() {
            let piece: String = self.buf[..end].trim().to_string();
            self.buf.drain(..end);
            self.scanned = 0;
            if !piece.is_empty() {
                self.released_any = true;
                out.push(piece);
            }
        }
        out
    }

    /// Ends the stream: whatever is left, if it holds anything speakable.
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.buf);
        self.scanned = 0;
        self.released_any = false;
        let rest = rest.trim();
        (!rest.is_empty()).then(|| rest.to_string())
    }

    /// Byte offset just past the next certain boundary, if any.
    fn find_boundary(&mut self) -> Option<usize> {
        let chars: Vec<(usize, char)> = self.buf.char_indices().collect();
        let start = chars
            .iter()
            .position(|&(i, _)| i >= self.scanned)
            .unwrap_or(chars.len());
        for idx in start..chars.len() {
            let (pos, c) = chars[idx];
            if c == '\n' {
                return Some(pos + 1);
            }
            let next_is_space = |j: usize| chars.get(j).map(|&(_, n)| n.is_whitespace());
            if matches!(c, '.' | '!' | '?' | '…') {
                // Skip closing quotes/brackets, then require whitespace.
                let mut j = idx + 1;
                while chars
                    .get(j)
                    .is_some_and(|&(_, n)| matches!(n, '"' | '\'' | '”' | '’' | ')' | ']'))
                {
                    j += 1;
                }
                match next_is_space(j) {
                    None => return self.stop_at(pos),
                    Some(true) if c != '.' || !self.is_abbreviation(pos) => {
                        return Some(chars[j].0)
                    }
                    _ => {}
                }
            } else if matches!(c, ',' | ';' | ':' | '—') && self.clause_may_end(pos) {
                match next_is_space(idx + 1) {
                    None => return self.stop_at(pos),
                    Some(true) => return Some(chars[idx + 1].0),
                    Some(false) => {}
                }
            }
        }
        self.scanned = self.buf.len();
        None
    }

    /// Undecided at `pos` (the text after it has not arrived): rescan from there next time.
    fn stop_at(&mut self, pos: usize) -> Option<usize> {
        self.scanned = pos;
        None
    }

    /// Whether a clause mark at `pos` may end the current piece.
    fn clause_may_end(&self, pos: usize) -> bool {
        let words = self.buf[..pos].split_whitespace().count();
        let early = !self.released_any && self.early_clause_words.is_some_and(|n| words >= n);
        early || words >= LONG_PIECE_WORDS
    }

    /// Whether the period at `pos` closes a title, abbreviation, initial or decimal-free number
    /// list marker rather than a sentence.
    fn is_abbreviation(&self, pos: usize) -> bool {
        let before = &self.buf[..pos];
        let word = before
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or("");
        let word = word.trim_start_matches(['(', '"', '\'', '“', '‘']);
        if word.is_empty() {
            return false;
        }
        let mut cs = word.chars();
        if let (Some(c), None) = (cs.next(), cs.next()) {
            return c.is_uppercase();
        }
        let lower = word.to_lowercase();
        ABBREVIATIONS.contains(&lower.as_str())
    }
}

/// Splits a complete text into sentences (no early clauses): what one model call should see.
pub(crate) fn split_sentences(text: &str) -> Vec<String> {
    let mut s = SentenceSplitter::with_early_clause(None);
    let mut out = s.push(text);
    out.extend(s.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(s: &mut SentenceSplitter, text: &str, step: usize) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        for chunk in chars.chunks(step) {
            out.extend(s.push(&chunk.iter().collect::<String>()));
        }
        out.extend(s.finish());
        out
    }

    #[test]
    fn splits_sentences_across_token_boundaries() {
        for step in [1, 2, 3, 7, 100] {
            let mut s = SentenceSplitter::with_early_clause(None);
            let got = feed(&mut s, "Hello there. How are you? I am fine!", step);
            assert_eq!(
                got,
                vec!["Hello there.", "How are you?", "I am fine!"],
                "step {step}"
            );
        }
    }

    #[test]
    fn a_sentence_is_released_as_soon_as_whitespace_follows_its_end() {
        let mut s = SentenceSplitter::new();
        assert!(
            s.push("Thanks for calling.").is_empty(),
            "no whitespace yet: could be 'calling.com'"
        );
        assert_eq!(s.push(" How"), vec!["Thanks for calling."]);
        assert_eq!(s.finish().as_deref(), Some("How"));
    }

    #[test]
    fn does_not_split_titles_abbreviations_initials_or_decimals() {
        let text = "Dr. Smith said it costs 3.5 dollars, e.g. for J. Doe, etc. and more. Next one.";
        let mut s = SentenceSplitter::with_early_clause(None);
        let got = feed(&mut s, text, 2);
        assert_eq!(
            got,
            vec![
                "Dr. Smith said it costs 3.5 dollars, e.g. for J. Doe, etc. and more.",
                "Next one."
            ]
        );
    }

    #[test]
    fn first_piece_ends_early_at_a_comma_after_enough_words() {
        let mut s = SentenceSplitter::new();
        let got = feed(
            &mut s,
            "Yes, I can. Well I think that we could meet on Tuesday, if that works for you, then.",
            3,
        );
        assert_eq!(
            got,
            vec![
                "Yes, I can.",
                "Well I think that we could meet on Tuesday, if that works for you, then."
            ],
            "the first piece is short enough; the second is not the first"
        );
        let mut s = SentenceSplitter::new();
        let got = feed(
            &mut s,
            "Well I think that we could meet on Tuesday, if that works for you.",
            4,
        );
        assert_eq!(
            got,
            vec![
                "Well I think that we could meet on Tuesday,",
                "if that works for you."
            ]
        );
    }

    #[test]
    fn handles_quotes_newlines_and_ellipses() {
        let mut s = SentenceSplitter::with_early_clause(None);
        let got = feed(&mut s, "He said \"stop.\" Then\nleft… Bye", 1);
        assert_eq!(got, vec!["He said \"stop.\"", "Then", "left…", "Bye"]);
    }

    #[test]
    fn very_long_sentences_are_cut_at_a_clause_mark() {
        let long = format!(
            "{}, and the rest.",
            vec!["word"; LONG_PIECE_WORDS + 2].join(" ")
        );
        let got = split_sentences(&long);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].ends_with(','));
    }

    #[test]
    fn empty_and_whitespace_input_yield_nothing() {
        let mut s = SentenceSplitter::new();
        assert!(s.push("   ").is_empty());
        assert_eq!(s.finish(), None);
        assert!(split_sentences("").is_empty());
    }
}
