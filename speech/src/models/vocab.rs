//! Whisper's byte-level BPE vocabulary: CTranslate2 ships it as one printable token per line
//! (GPT-2's byte→unicode mapping, e.g. a leading space is `Ġ`); whisper.cpp wants the raw bytes
//! of each ordinary token (special tokens from `<|endoftext|>` on are synthesised by whisper.cpp).

/// Why a vocabulary could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VocabError {
    /// A token holds a character outside the byte-level alphabet.
    #[error("token {index} ({token:?}) is not a byte-level BPE token")]
    NotByteLevel { index: usize, token: String },
    /// No `<|endoftext|>` line: not a whisper vocabulary.
    #[error("vocabulary has no <|endoftext|> token")]
    NoEndOfText,
}

/// The GPT-2 byte→char table: printable Latin-1 bytes map to themselves, the other 68 bytes
/// map, in order, to U+0100 onwards.
fn byte_to_char() -> [char; 256] {
    let printable = |b: u32| (33..=126).contains(&b) || (161..=172).contains(&b) || b >= 174;
    let mut table = ['\0'; 256];
    let mut next = 256u32;
    for b in 0..256u32 {
        let code = if printable(b) {
            b
        } else {
            next += 1;
            next - 1
        };
        table[b as usize] = char::from_u32(code).unwrap_or('\0');
    }
    table
}

/// Decodes one printable token back to its bytes.
pub fn decode_token(token: &str) -> Option<Vec<u8>> {
    let table = byte_to_char();
    token
        .chars()
        .map(|c| table.iter().position(|&t| t == c).map(|b| b as u8))
        .collect()
}

/// Decodes the ordinary tokens of a `vocabulary.txt` (one token per line), stopping before
/// `<|endoftext|>`.
///
/// # Errors
/// [`VocabError`] if a token is not byte-level or the end-of-text marker is absent.
pub fn decode_vocabulary(text: &str) -> Result<Vec<Vec<u8>>, VocabError> {
    let table = byte_to_char();
    let mut inverse = std::collections::HashMap::with_capacity(256);
    for (b, c) in table.iter().enumerate() {
        inverse.insert(*c, b as u8);
    }
    let mut out = Vec::with_capacity(51_000);
    for (index, token) in text.lines().enumerate() {
        if token == "<|endoftext|>" {
            return Ok(out);
        }
        let bytes = token
            .chars()
            .map(|c| inverse.get(&c).copied())
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| VocabError::NotByteLevel {
                index,
                token: token.to_string(),
            })?;
        out.push(bytes);
    }
    Err(VocabError::NoEndOfText)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_table_is_a_bijection() {
        let table = byte_to_char();
        let mut seen: Vec<char> = table.to_vec();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 256);
        assert_eq!(table[b' ' as usize], 'Ġ');
        assert_eq!(table[b'\n' as usize], 'Ċ');
        assert_eq!(table[b'a' as usize], 'a');
    }

    #[test]
    fn decodes_spaces_newlines_and_utf8_pieces() {
        assert_eq!(decode_token("Ġhello").unwrap(), b" hello");
        assert_eq!(decode_token("ĊĊ").unwrap(), b"\n\n");
        // "é" is two bytes 0xC3 0xA9, which map to 'Ã' and '©'.
        assert_eq!(decode_token("Ã©").unwrap(), "é".as_bytes());
        assert_eq!(decode_token("日"), None);
    }

    #[test]
    fn vocabulary_stops_at_end_of_text() {
        let v = decode_vocabulary("!\nĠthe\n<|endoftext|>\n<|startoftranscript|>\n").unwrap();
        assert_eq!(v, vec![b"!".to_vec(), b" the".to_vec()]);
        assert_eq!(decode_vocabulary("a\nb\n"), Err(VocabError::NoEndOfText));
        assert!(matches!(
            decode_vocabulary("a\n日\n<|endoftext|>"),
            Err(VocabError::NotByteLevel { index: 1, .. })
        ));
    }
}
