//! HTTP digest authentication for SIP (RFC 3261 §22, RFC 2617 MD5 with optional
//! `qop=auth`): answers a trunk's 401/407 challenge on an outbound INVITE. Pure.

use md5::{Digest, Md5};

/// A parsed `WWW-Authenticate` / `Proxy-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    /// True when the server offers `qop=auth`.
    pub qop_auth: bool,
}

impl Challenge {
    /// Parses a `Digest` challenge with the MD5 algorithm; `None` for anything else.
    pub fn parse(value: &str) -> Option<Self> {
        let (scheme, rest) = value.trim().split_once(char::is_whitespace)?;
        if !scheme.eq_ignore_ascii_case("digest") {
            return None;
        }
        let params = parse_params(rest);
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        if let Some(alg) = get("algorithm") {
            if !alg.eq_ignore_ascii_case("md5") {
                return None;
            }
        }
        Some(Challenge {
            realm: get("realm")?,
            nonce: get("nonce")?,
            opaque: get("opaque"),
            qop_auth: get("qop")
                .is_some_and(|q| q.split(',').any(|t| t.trim().eq_ignore_ascii_case("auth"))),
        })
    }

    /// The `Authorization` value for `method` on `uri`. `cnonce` is only used with qop.
    pub fn authorize(
        &self,
        user: &str,
        password: &str,
        method: &str,
        uri: &str,
        cnonce: &str,
    ) -> String {
        let ha1 = md5_hex(&format!("{user}:{}:{password}", self.realm));
        let ha2 = md5_hex(&format!("{method}:{uri}"));
        let mut v = format!(
            "Digest username=\"{user}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", algorithm=MD5",
            self.realm, self.nonce
        );
        let response = if self.qop_auth {
            let nc = "00000001";
            v.push_str(&format!(", qop=auth, nc={nc}, cnonce=\"{cnonce}\""));
            md5_hex(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce))
        } else {
            md5_hex(&format!("{ha1}:{}:{ha2}", self.nonce))
        };
        v.push_str(&format!(", response=\"{response}\""));
        if let Some(o) = &self.opaque {
            v.push_str(&format!(", opaque=\"{o}\""));
        }
        v
    }
}

/// The fields of an `Authorization` header that a server checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    /// `(nc, cnonce)` when the client used `qop=auth`.
    pub qop: Option<(String, String)>,
}

impl Credentials {
    /// Parses a `Digest` authorization value; `None` when fields are missing.
    pub fn parse(value: &str) -> Option<Self> {
        let (scheme, rest) = value.trim().split_once(char::is_whitespace)?;
        if !scheme.eq_ignore_ascii_case("digest") {
            return None;
        }
        let params = parse_params(rest);
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        let qop = match get("qop") {
            Some(q) if q.eq_ignore_ascii_case("auth") => Some((get("nc")?, get("cnonce")?)),
            Some(_) => return None,
            None => None,
        };
        Some(Credentials {
            username: get("username")?,
            realm: get("realm")?,
            nonce: get("nonce")?,
            uri: get("uri")?,
            response: get("response")?,
            qop,
        })
    }

    /// Whether `response` is right for `password` and `method`.
    pub fn verify(&self, password: &str, method: &str) -> bool {
        let ha1 = md5_hex(&format!("{}:{}:{password}", self.username, self.realm));
        let ha2 = md5_hex(&format!("{method}:{}", self.uri));
        let expected = match &self.qop {
            Some((nc, cnonce)) => {
                md5_hex(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce))
            }
            None => md5_hex(&format!("{ha1}:{}:{ha2}", self.nonce)),
        };
        // Not secret-dependent timing worth guarding: the nonce is single-use.
        expected.eq_ignore_ascii_case(&self.response)
    }
}

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `k=v, k="v, with comma"` pairs.
fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim().trim_start_matches(',').trim().to_string();
        let after = after.trim_start();
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (q[..end].to_string(), &q[end + 1..]),
                None => (q.to_string(), ""),
            }
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.push((key, value));
        rest = tail.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_the_rfc_2617_example() {
        // RFC 2617 §3.5: the worked example with qop=auth.
        let c = Challenge::parse(
            "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        )
        .unwrap();
        assert!(c.qop_auth);
        let v = c.authorize(
            "Mufasa",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            "0a4f113b",
        );
        assert!(
            v.contains("response=\"6629fae49393a05397450978507c4ef1\""),
            "{v}"
        );
        assert!(
            v.contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""),
            "{v}"
        );
    }

    #[test]
    fn what_we_send_verifies_and_a_wrong_password_does_not() {
        let c = Challenge::parse("Digest realm=\"sb\", nonce=\"abc\", qop=\"auth\"").unwrap();
        let header = c.authorize("alice", "pw", "INVITE", "sip:100@h", "cn");
        let creds = Credentials::parse(&header).unwrap();
        assert_eq!(
            (creds.username.as_str(), creds.nonce.as_str()),
            ("alice", "abc")
        );
        assert!(creds.verify("pw", "INVITE"));
        assert!(!creds.verify("nope", "INVITE"));
        assert!(!creds.verify("pw", "BYE"));
        assert!(Credentials::parse("Digest username=\"a\"").is_none());
    }

    #[test]
    fn plain_md5_without_qop_and_refusals() {
        let c = Challenge::parse("Digest realm=\"r\",nonce=\"n\"").unwrap();
        assert!(!c.qop_auth);
        let v = c.authorize("u", "p", "INVITE", "sip:1@h", "x");
        let want = md5_hex(&format!(
            "{}:n:{}",
            md5_hex("u:r:p"),
            md5_hex("INVITE:sip:1@h")
        ));
        assert!(v.contains(&format!("response=\"{want}\"")), "{v}");
        assert!(!v.contains("qop"));
        assert!(Challenge::parse("Basic realm=\"r\"").is_none());
        assert!(Challenge::parse("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256").is_none());
        assert!(Challenge::parse("Digest nonce=\"n\"").is_none());
        assert!(Challenge::parse("Digest").is_none());
    }
}
