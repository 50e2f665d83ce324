//! Server-sent events decoding for streamed chat completions: a pure, incremental decoder that
//! turns response body bytes, cut anywhere by the network, into the `data` payload of each
//! complete event. The chat stream driver feeds it; `wire` interprets the payloads.
//!
//! Supports what OpenAI-compatible servers send: `data:` fields (several lines of one event are
//! joined with `\n`), `\n` or `\r\n` line endings, comment lines (`: keep-alive`) and the
//! `event:`/`id:`/`retry:` fields, which are ignored.

/// Incremental SSE decoder. Bytes go in with [`SseDecoder::push`]; complete event payloads
/// come out in order.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    /// Bytes not yet terminated by a newline.
    buffer: Vec<u8>,
    /// `data` lines of the event being read.
    data: Option<String>,
}

impl SseDecoder {
    /// Consumes `bytes` and appends the payload of every event they complete to `out`.
    pub(crate) fn push(&mut self, bytes: &[u8], out: &mut Vec<String>) {
        let mut start = 0;
        // Only the new bytes can contain the newline that ends the buffered partial line.
        let mut scan = self.buffer.len();
        self.buffer.extend_from_slice(bytes);
        while let Some(offset) = self.buffer[scan..].iter().position(|&b| b == b'\n') {
            let end = scan + offset;
            let mut line = &self.buffer[start..end];
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            let line = String::from_utf8_lossy(line).into_owned();
            self.line(&line, out);
            start = end + 1;
            scan = start;
        }
        self.buffer.drain(..start);
    }

    /// Whether bytes of an unfinished event are pending (the stream was cut inside an event).
    pub(crate) fn has_partial_event(&self) -> bool {
        !self.buffer.is_empty() || self.data.is_some()
    }

    fn line(&mut self, line: &str, out: &mut Vec<String>) {
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                out.push(data);
            }
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        if field == "data" {
            match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(input: &[u8], piece: usize) -> Vec<String> {
        let mut decoder = SseDecoder::default();
        let mut out = Vec::new();
        for chunk in input.chunks(piece) {
            decoder.push(chunk, &mut out);
        }
        out
    }

    #[test]
    fn events_survive_any_split_of_the_body() {
        let body = "data: {\"a\":\"h\u{e9}llo\"}\n\n: keep-alive\n\nevent: x\r\ndata: two\r\n\r\ndata: [DONE]\n\n";
        let expected = vec!["{\"a\":\"h\u{e9}llo\"}", "two", "[DONE]"];
        for piece in 1..body.len() {
            assert_eq!(
                decode_in_pieces(body.as_bytes(), piece),
                expected,
                "piece {piece}"
            );
        }
    }

    #[test]
    fn multi_line_data_is_joined_and_unterminated_events_are_held() {
        let mut decoder = SseDecoder::default();
        let mut out = Vec::new();
        decoder.push(b"data: a\ndata:b\n\ndata: c", &mut out);
        assert_eq!(out, vec!["a\nb"]);
        assert!(decoder.has_partial_event());
        decoder.push(b"\n", &mut out);
        assert!(
            decoder.has_partial_event(),
            "an event ends only at a blank line"
        );
        decoder.push(b"\n", &mut out);
        assert_eq!(out, vec!["a\nb", "c"]);
        assert!(!decoder.has_partial_event());
    }
}
