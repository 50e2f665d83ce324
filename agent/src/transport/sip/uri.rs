//! SIP URIs and name-addr values (From, To, Contact, Refer-To): just enough of RFC 3261 §19
//! and §20 to route a call (the user part is the dialled number), find a dialog's tags and
//! reach a peer's contact. Pure parsing; callers get `None` for anything malformed.

/// A parsed `sip:`/`sips:`/`tel:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    pub scheme: String,
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl SipUri {
    /// Parses `scheme:[user[:password]@]host[:port][;params][?headers]`.
    pub fn parse(s: &str) -> Option<Self> {
        let (scheme, rest) = s.trim().split_once(':')?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme == "tel" {
            let number = rest.split(';').next()?.to_string();
            return (!number.is_empty()).then(|| SipUri {
                scheme,
                user: Some(number),
                host: String::new(),
                port: None,
            });
        }
        if scheme != "sip" && scheme != "sips" {
            return None;
        }
        let rest = rest.split(['?']).next()?;
        let (userinfo, hostport) = match rest.rfind('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let hostport = hostport.split(';').next()?;
        let user = userinfo
            .map(|u| u.split(':').next().unwrap_or(u))
            .map(percent_decode);
        let (host, port) = split_host_port(hostport)?;
        Some(SipUri {
            scheme,
            user,
            host,
            port,
        })
    }
}

/// `host[:port]`, with `[v6]` literals.
pub fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let s = s.trim();
    if let Some(v6) = s.strip_prefix('[') {
        let (host, tail) = v6.split_once(']')?;
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if tail.is_empty() => None,
            None => return None,
        };
        return Some((format!("[{host}]"), port));
    }
    let (host, port) = match s.split_once(':') {
        Some((h, p)) => (h, Some(p.parse().ok()?)),
        None => (s, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
    host_ok.then(|| (host.to_string(), port))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A From/To/Contact value: display name, URI text, and the header parameters after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    pub display: Option<String>,
    pub uri: String,
    /// Header parameters (after `>`, or after the URI in addr-spec form), raw, without `;`.
    pub params: String,
}

impl NameAddr {
    pub fn parse(value: &str) -> Option<Self> {
        let v = value.trim();
        if let Some(open) = find_unquoted(v, '<') {
            let display = v[..open].trim().trim_matches('"').trim();
            let close = v[open..].find('>')? + open;
            let uri = v[open + 1..close].trim().to_string();
            let params = v[close + 1..].trim().trim_start_matches(';').to_string();
            return (!uri.is_empty()).then(|| NameAddr {
                display: (!display.is_empty()).then(|| display.to_string()),
                uri,
                params,
            });
        }
        // addr-spec form: parameters after the URI belong to the header.
        let (uri, params) = v.split_once(';').unwrap_or((v, ""));
        (!uri.is_empty() && uri.contains(':')).then(|| NameAddr {
            display: None,
            uri: uri.trim().to_string(),
            params: params.to_string(),
        })
    }

    /// The `tag` header parameter.
    pub fn tag(&self) -> Option<&str> {
        param_in(&self.params, "tag")
    }

    pub fn sip_uri(&self) -> Option<SipUri> {
        SipUri::parse(&self.uri)
    }
}

fn find_unquoted(s: &str, target: char) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == target && !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// The value of `;name=value` in a header value such as a Via (first match, case-insensitive
/// name). A parameter without a value yields `Some("")`.
pub fn param<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    let params = header.split_once(';').map(|(_, p)| p)?;
    param_in(params, name)
}

fn param_in<'a>(params: &'a str, name: &str) -> Option<&'a str> {
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"'))
    })
}

/// Masks a phone number for logs: keeps the last two digits.
pub fn mask_number(number: &str) -> String {
    let n = number.chars().count();
    number
        .chars()
        .enumerate()
        .map(|(i, c)| if i + 2 < n { '*' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uris_with_user_port_and_params() {
        let u = SipUri::parse("sip:+15551234@10.0.0.1:5070;transport=udp?x=y").unwrap();
        assert_eq!(u.user.as_deref(), Some("+15551234"));
        assert_eq!((u.host.as_str(), u.port), ("10.0.0.1", Some(5070)));
        let u = SipUri::parse("sip:alice:secret@[::1]:5060").unwrap();
        assert_eq!(
            (u.user.as_deref(), u.host.as_str()),
            (Some("alice"), "[::1]")
        );
        assert_eq!(
            SipUri::parse("sip:%61lice@h").unwrap().user.unwrap(),
            "alice"
        );
        assert!(SipUri::parse("http://x").is_none());
        assert!(SipUri::parse("sip:user@host:99999").is_none());
        assert!(SipUri::parse("sip:user@ho st").is_none());
    }

    #[test]
    fn name_addr_finds_display_uri_and_tag() {
        let n = NameAddr::parse(r#""Bob, \"B\" <x>" <sip:bob@h>;tag=abc;x=1"#).unwrap();
        assert_eq!(n.uri, "sip:bob@h");
        assert_eq!(n.tag(), Some("abc"));
        let n = NameAddr::parse("sip:carol@h;tag=77").unwrap();
        assert_eq!((n.uri.as_str(), n.tag()), ("sip:carol@h", Some("77")));
        assert!(NameAddr::parse("<sip:x@h").is_none());
    }

    #[test]
    fn masks_all_but_the_last_two_digits() {
        assert_eq!(mask_number("+15551234"), "*******34");
        assert_eq!(mask_number("7"), "7");
    }
}
