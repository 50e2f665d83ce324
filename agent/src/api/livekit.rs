//! Verifying LiveKit's webhook deliveries: the `Authorization` header is a JWT (HS256, signed
//! with the API secret, issued by the API key) whose `sha256` claim is the base64 SHA-256 of
//! the body. An event id seen before is a replay.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::store::keys::constant_time_eq;

/// How many recent event ids are remembered against replays.
const REMEMBERED: usize = 4096;
/// Clock skew tolerated on `exp` / `nbf`, seconds.
const LEEWAY_S: i64 = 60;

pub struct WebhookVerifier {
    api_key: String,
    api_secret: String,
    seen: Mutex<VecDeque<String>>,
}

impl WebhookVerifier {
    pub fn new(api_key: impl Into<String>, api_secret: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            api_secret: api_secret.into(),
            seen: Mutex::new(VecDeque::new()),
        }
    }

    /// The webhook event in `body` if `token` proves LiveKit sent it, now, for the first time.
    ///
    /// # Errors
    /// What was wrong with the delivery, for the 401 body.
    pub fn verify(&self, token: &str, body: &[u8]) -> Result<Value, String> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("signature is not a JWT".into());
        };
        let decode = |s: &str| {
            URL_SAFE_NO_PAD
                .decode(s.trim_end_matches('='))
                .map_err(|_| "JWT is not base64url".to_owned())
        };
        let header: Value =
            serde_json::from_slice(&decode(h)?).map_err(|_| "JWT header is not JSON")?;
        if header.get("alg").and_then(Value::as_str) != Some("HS256") {
            return Err("JWT algorithm must be HS256".into());
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(self.api_secret.as_bytes())
            .map_err(|_| "bad API secret".to_owned())?;
        mac.update(h.as_bytes());
        mac.update(b".");
        mac.update(p.as_bytes());
        if !constant_time_eq(&mac.finalize().into_bytes(), &decode(sig)?) {
            return Err("JWT signature does not match the API secret".into());
        }
        let claims: Value =
            serde_json::from_slice(&decode(p)?).map_err(|_| "JWT claims are not JSON")?;
        if claims.get("iss").and_then(Value::as_str) != Some(self.api_key.as_str()) {
            return Err("JWT issuer is not this API key".into());
        }
        let now = chrono::Utc::now().timestamp();
        let Some(exp) = claims.get("exp").and_then(Value::as_i64) else {
            return Err("JWT has no expiry".into());
        };
        if exp + LEEWAY_S < now {
            return Err("JWT has expired".into());
        }
        if claims
            .get("nbf")
            .and_then(Value::as_i64)
            .is_some_and(|nbf| nbf - LEEWAY_S > now)
        {
            return Err("JWT is not valid yet".into());
        }
        let digest = STANDARD.encode(Sha256::digest(body));
        let claimed = claims
            .get("sha256")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !constant_time_eq(digest.as_bytes(), claimed.as_bytes()) {
            return Err("body does not match the signed hash".into());
        }
        let event: Value = serde_json::from_slice(body).map_err(|_| "body is not JSON")?;
        let Some(id) = event.get("id").and_then(Value::as_str) else {
            return Err("event has no id".into());
        };
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.iter().any(|s| s == id) {
            return Err(format!("event {id} was already delivered (replay)"));
        }
        if seen.len() == REMEMBERED {
            seen.pop_front();
        }
        seen.push_back(id.to_owned());
        drop(seen);
        Ok(event)
    }
}

/// Signs `body` as LiveKit does (for tests and tools that emulate the server).
pub fn sign(api_key: &str, api_secret: &str, body: &[u8], exp: i64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "iss": api_key, "exp": exp, "nbf": exp - 600,
        "sha256": STANDARD.encode(Sha256::digest(body)),
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(api_secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{header}.{payload}").as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{header}.{payload}.{sig}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_bad_and_replayed_deliveries() {
        let v = WebhookVerifier::new("APIkey", "secret");
        let body = br#"{"id":"EV_1","event":"room_started"}"#;
        let exp = chrono::Utc::now().timestamp() + 300;
        let token = sign("APIkey", "secret", body, exp);
        assert!(v.verify(&token, body).is_ok());
        let replay = v.verify(&token, body).unwrap_err();
        assert!(replay.contains("replay"), "{replay}");
        let forged = sign("APIkey", "guess", br#"{"id":"EV_2"}"#, exp);
        assert!(v
            .verify(&forged, br#"{"id":"EV_2"}"#)
            .unwrap_err()
            .contains("signature"));
        let token = sign("APIkey", "secret", br#"{"id":"EV_3"}"#, exp);
        assert!(v
            .verify(&token, br#"{"id":"EV_4"}"#)
            .unwrap_err()
            .contains("hash"));
        let stale = sign("APIkey", "secret", br#"{"id":"EV_5"}"#, exp - 3600);
        assert!(v
            .verify(&stale, br#"{"id":"EV_5"}"#)
            .unwrap_err()
            .contains("expired"));
        assert!(v.verify("not-a-jwt", body).is_err());
        let no_id = sign("APIkey", "secret", br#"{"event":"x"}"#, exp);
        assert!(v
            .verify(&no_id, br#"{"event":"x"}"#)
            .unwrap_err()
            .contains("no id"));
    }
}
