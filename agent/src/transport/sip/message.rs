//! SIP message parser and serialiser (RFC 3261 §7): the bottom of the SIP transport. Every
//! datagram the endpoint receives goes through [`SipMessage::parse`] before any transaction or
//! dialog logic sees it. Malformed input is rejected with a [`ParseError`]; the parser never
//! panics and never allocates more than the input's size.

use std::fmt::Write as _;

/// Largest message accepted (the UDP datagram limit).
pub const MAX_MESSAGE: usize = 65_535;

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty message")]
    Empty,
    #[error("message larger than {MAX_MESSAGE} bytes")]
    TooLarge,
    #[error("no blank line ends the header section")]
    Unterminated,
    #[error("header section is not UTF-8")]
    NotUtf8,
    #[error("malformed start line {0:?}")]
    StartLine(String),
    #[error("unsupported protocol version {0:?}")]
    Version(String),
    #[error("malformed header line {0:?}")]
    Header(String),
    #[error("missing mandatory header {0}")]
    Missing(&'static str),
    #[error("invalid Content-Length {0:?}")]
    ContentLength(String),
    #[error("body shorter than Content-Length ({declared} declared, {actual} present)")]
    Truncated { declared: usize, actual: usize },
    #[error("invalid CSeq {0:?}")]
    CSeq(String),
    #[error("CSeq method {cseq} does not match request method {method}")]
    CSeqMethod { cseq: String, method: String },
    #[error("malformed Request-URI {0:?}")]
    Uri(String),
}

/// Request or status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    Request { method: String, uri: String },
    Response { code: u16, reason: String },
}

/// One parsed SIP message. Header names are stored in their long canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipMessage {
    pub start: StartLine,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Expands compact header names (RFC 3261 §7.3.3) and canonicalises case for known ones.
fn canonical_name(name: &str) -> String {
    let long = match name.to_ascii_lowercase().as_str() {
        "i" | "call-id" => "Call-ID",
        "m" | "contact" => "Contact",
        "e" | "content-encoding" => "Content-Encoding",
        "l" | "content-length" => "Content-Length",
        "c" | "content-type" => "Content-Type",
        "f" | "from" => "From",
        "s" | "subject" => "Subject",
        "k" | "supported" => "Supported",
        "t" | "to" => "To",
        "v" | "via" => "Via",
        "r" | "refer-to" => "Refer-To",
        "cseq" => "CSeq",
        "max-forwards" => "Max-Forwards",
        "www-authenticate" => "WWW-Authenticate",
        "proxy-authenticate" => "Proxy-Authenticate",
        "authorization" => "Authorization",
        "proxy-authorization" => "Proxy-Authorization",
        "record-route" => "Record-Route",
        "route" => "Route",
        "event" | "o" => "Event",
        _ => return name.to_string(),
    };
    long.to_string()
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

/// Headers whose values may hold comma-separated lists that we split into one entry each.
fn is_list_header(name: &str) -> bool {
    matches!(name, "Via" | "Route" | "Record-Route")
}

/// Splits on commas outside quotes and angle brackets.
fn split_list(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut angle, mut start) = (false, false, 0);
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                out.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(value[start..].trim());
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

impl SipMessage {
    /// Parses one message from a datagram.
    ///
    /// # Errors
    /// A [`ParseError`] naming the first problem found.
    pub fn parse(data: &[u8]) -> Result<Self, ParseError> {
        if data.len() > MAX_MESSAGE {
            return Err(ParseError::TooLarge);
        }
        // Leading CRLFs are keep-alives or stream padding (RFC 3261 §7.5).
        let start_at = data
            .iter()
            .position(|b| *b != b'\r' && *b != b'\n')
            .ok_or(ParseError::Empty)?;
        let data = &data[start_at..];
        let (head_len, sep_len) = find_blank_line(data).ok_or(ParseError::Unterminated)?;
        let head = std::str::from_utf8(&data[..head_len]).map_err(|_| ParseError::NotUtf8)?;
        let rest = &data[head_len + sep_len..];

        let mut lines = unfold(head).into_iter();
        let first = lines.next().ok_or(ParseError::Empty)?;
        let start = parse_start_line(&first)?;
        let mut headers = Vec::new();
        for line in lines {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| ParseError::Header(line.clone()))?;
            let name = name.trim_end_matches([' ', '\t']);
            if !is_token(name) {
                return Err(ParseError::Header(line.clone()));
            }
            let name = canonical_name(name);
            let value = value.trim_matches([' ', '\t']);
            if is_list_header(&name) {
                for part in split_list(value) {
                    headers.push((name.clone(), part.to_string()));
                }
            } else {
                headers.push((name, value.to_string()));
            }
        }
        let mut msg = SipMessage {
            start,
            headers,
            body: Vec::new(),
        };
        let conflicting = {
            let mut lengths = msg.headers_named("Content-Length");
            let first = lengths.next();
            lengths.find(|v| Some(*v) != first).map(str::to_string)
        };
        if let Some(other) = conflicting {
            return Err(ParseError::ContentLength(other));
        }
        msg.body = match msg.header("Content-Length") {
            Some(v) => {
                let declared: usize = v
                    .trim()
                    .parse()
                    .map_err(|_| ParseError::ContentLength(v.to_string()))?;
                if declared > rest.len() {
                    return Err(ParseError::Truncated {
                        declared,
                        actual: rest.len(),
                    });
                }
                rest[..declared].to_vec()
            }
            None => rest.to_vec(),
        };
        msg.validate()?;
        Ok(msg)
    }

    fn validate(&self) -> Result<(), ParseError> {
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            if self.header(name).is_none_or(|v| v.trim().is_empty()) {
                return Err(ParseError::Missing(match name {
                    "Via" => "Via",
                    "From" => "From",
                    "To" => "To",
                    "Call-ID" => "Call-ID",
                    _ => "CSeq",
                }));
            }
        }
        let (_, cseq_method) = self.cseq()?;
        if let StartLine::Request { method, .. } = &self.start {
            if method != "ACK" && method != "CANCEL" && *method != cseq_method {
                return Err(ParseError::CSeqMethod {
                    cseq: cseq_method,
                    method: method.clone(),
                });
            }
        }
        Ok(())
    }

    /// The first value of header `name` (long form, case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name`, in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// CSeq number and method.
    ///
    /// # Errors
    /// [`ParseError::CSeq`] when absent or malformed.
    pub fn cseq(&self) -> Result<(u32, String), ParseError> {
        let v = self.header("CSeq").unwrap_or_default();
        let mut parts = v.split_whitespace();
        let (Some(n), Some(m), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ParseError::CSeq(v.to_string()));
        };
        let n: u32 = n.parse().map_err(|_| ParseError::CSeq(v.to_string()))?;
        if n >= 1 << 31 || !is_token(m) {
            return Err(ParseError::CSeq(v.to_string()));
        }
        Ok((n, m.to_string()))
    }

    pub fn call_id(&self) -> &str {
        self.header("Call-ID").unwrap_or_default()
    }

    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// The reason phrase of a response (empty for requests).
    pub fn status_reason(&self) -> &str {
        match &self.start {
            StartLine::Response { reason, .. } => reason,
            StartLine::Request { .. } => "",
        }
    }

    /// The `branch` parameter of the top Via.
    pub fn branch(&self) -> Option<&str> {
        super::uri::param(self.header("Via")?, "branch")
    }

    /// Replaces the first `name` header, or appends it.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(h) => h.1 = value,
            None => self.headers.push((name.to_string(), value)),
        }
    }

    /// Serialises with a correct Content-Length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = String::with_capacity(512 + self.body.len());
        match &self.start {
            StartLine::Request { method, uri } => {
                let _ = write!(s, "{method} {uri} SIP/2.0\r\n");
            }
            StartLine::Response { code, reason } => {
                let _ = write!(s, "SIP/2.0 {code} {reason}\r\n");
            }
        }
        for (n, v) in &self.headers {
            if !n.eq_ignore_ascii_case("Content-Length") {
                let _ = write!(s, "{n}: {v}\r\n");
            }
        }
        let _ = write!(s, "Content-Length: {}\r\n\r\n", self.body.len());
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

/// Offset of the blank line and its length (CRLFCRLF, or bare LFLF from lax peers).
fn find_blank_line(data: &[u8]) -> Option<(usize, usize)> {
    let crlf = data.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = data.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) if b < a => Some((b, 2)),
        (Some(a), _) => Some((a, 4)),
        (None, Some(b)) => Some((b, 2)),
        (None, None) => None,
    }
}

/// Splits the head into logical lines, joining folded continuation lines with one space.
fn unfold(head: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in head.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.starts_with([' ', '\t']) {
            if let Some(last) = lines.last_mut() {
                last.push(' ');
                last.push_str(raw.trim_start_matches([' ', '\t']));
                continue;
            }
        }
        lines.push(raw.to_string());
    }
    lines
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseError> {
    if let Some(rest) = line.strip_prefix("SIP/") {
        let (version, rest) = rest
            .split_once(' ')
            .ok_or_else(|| ParseError::StartLine(line.to_string()))?;
        if version != "2.0" {
            return Err(ParseError::Version(format!("SIP/{version}")));
        }
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let code: u16 = code
            .parse()
            .ok()
            .filter(|c| (100..700).contains(c) && code.len() == 3)
            .ok_or_else(|| ParseError::StartLine(line.to_string()))?;
        return Ok(StartLine::Response {
            code,
            reason: reason.to_string(),
        });
    }
    let parts: Vec<&str> = line.split(' ').collect();
    let [method, uri, version] = parts[..] else {
        return Err(ParseError::StartLine(line.to_string()));
    };
    if !is_token(method) {
        return Err(ParseError::StartLine(line.to_string()));
    }
    if version != "SIP/2.0" {
        return Err(ParseError::Version(version.to_string()));
    }
    let scheme_ok = uri.split_once(':').is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
            && !rest.is_empty()
    });
    if !scheme_ok
        || uri
            .bytes()
            .any(|b| b.is_ascii_control() || b == b'<' || b == b'>')
    {
        return Err(ParseError::Uri(uri.to_string()));
    }
    Ok(StartLine::Request {
        method: method.to_string(),
        uri: uri.to_string(),
    })
}
