//! Framing SIP messages on a byte stream (RFC 3261 §18.3): each message ends after its
//! header block plus Content-Length bytes (mandatory on streams); CRLF keep-alives between
//! messages are skipped. Pure, so it can be fuzzed on its own.

/// Largest message accepted on a stream (header and body).
pub const MAX_MESSAGE: usize = 65_536;
/// Why a stream was closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("SIP message over {MAX_MESSAGE} bytes on a stream")]
    TooLarge,
    #[error("SIP message on a stream without a valid Content-Length")]
    NoContentLength,
}

/// Splits a byte stream into SIP messages.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
}

impl Framer {
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete message, if the buffer holds one.
    ///
    /// # Errors
    /// [`FramingError`] when the stream cannot be framed any more (close it).
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, FramingError> {
        let start = self
            .buf
            .iter()
            .position(|b| *b != b'\r' && *b != b'\n')
            .unwrap_or(self.buf.len());
        self.buf.drain(..start);
        let Some(head_end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            if self.buf.len() > MAX_MESSAGE {
                return Err(FramingError::TooLarge);
            }
            return Ok(None);
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]);
        let length = head
            .split("\r\n")
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| {
                let n = n.trim();
                n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("l")
            })
            .map(|(_, v)| v.trim().parse::<usize>());
        let length = match length {
            Some(Ok(n)) => n,
            _ => return Err(FramingError::NoContentLength),
        };
        let total = head_end + 4 + length;
        if total > MAX_MESSAGE {
            return Err(FramingError::TooLarge);
        }
        if self.buf.len() < total {
            return Ok(None);
        }
        let rest = self.buf.split_off(total);
        Ok(Some(std::mem::replace(&mut self.buf, rest)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\nContent-Length: 4\r\n\r\nbody";

    #[test]
    fn frames_split_and_joined_messages_by_content_length() {
        let mut f = Framer::default();
        let mut stream = b"\r\n\r\n".to_vec();
        stream.extend_from_slice(MSG);
        stream.extend_from_slice(b"\r\n");
        // Upper-cased: `CONTENT-LENGTH` must still be found.
        stream.extend_from_slice(&MSG.to_ascii_uppercase());
        let mut got = Vec::new();
        for chunk in stream.chunks(7) {
            f.push(chunk);
            while let Some(m) = f.next_message().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], MSG);
        assert!(got[1].ends_with(b"\r\n\r\nBODY"));
    }

    #[test]
    fn a_stream_without_length_or_too_long_is_refused() {
        let mut f = Framer::default();
        f.push(b"BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n");
        assert_eq!(f.next_message(), Err(FramingError::NoContentLength));
        let mut f = Framer::default();
        f.push(b"BYE sip:a@b SIP/2.0\r\nl: 99999999\r\n\r\n");
        assert_eq!(f.next_message(), Err(FramingError::TooLarge));
        let mut f = Framer::default();
        f.push(&vec![b'a'; MAX_MESSAGE + 1]);
        assert_eq!(f.next_message(), Err(FramingError::TooLarge));
    }
}
