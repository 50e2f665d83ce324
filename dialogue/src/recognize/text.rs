//! Text normalisation shared by the recognisers and phrase matching: lower case, apostrophes
//! dropped ("don't" → "dont"), punctuation to spaces, single spaces.

/// Normalises an utterance or phrase for matching.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = true;
    for c in s.chars().flat_map(char::to_lowercase) {
        if c == '\'' || c == '\u{2019}' {
            continue;
        }
        if c.is_alphanumeric() || c == '@' || c == '+' {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Whether normalised `phrase` occurs in normalised `text` on word boundaries.
pub fn contains_phrase(text: &str, phrase: &str) -> bool {
    if phrase.is_empty() {
        return false;
    }
    let mut start = 0;
    while let Some(i) = text[start..].find(phrase) {
        let at = start + i;
        let end = at + phrase.len();
        let left_ok = at == 0 || text.as_bytes()[at - 1] == b' ';
        let right_ok = end == text.len() || text.as_bytes()[end] == b' ';
        if left_ok && right_ok {
            return true;
        }
        start = at + 1;
        while !text.is_char_boundary(start) {
            start += 1;
        }
    }
    false
}

/// Words of a normalised text.
pub fn words(text: &str) -> Vec<&str> {
    text.split(' ').filter(|w| !w.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_matches_on_word_boundaries() {
        assert_eq!(normalize("Don't call me AGAIN!!"), "dont call me again");
        assert!(contains_phrase(
            &normalize("Please, don't call me again."),
            "dont call me again"
        ));
        assert!(!contains_phrase("yesterday", "yes"));
        assert!(contains_phrase("oh yes please", "yes"));
        assert!(!contains_phrase("", ""));
    }
}
