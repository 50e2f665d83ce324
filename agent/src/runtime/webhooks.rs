//! Delivers the event outbox to the tenants' webhook endpoints, at least once: each POST is
//! signed (`Switchboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`)
//! and carries the event id for de-duplication; failures back off exponentially.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::time::Duration;

use super::Runtime;
use crate::store::model::now_ms;
use crate::store::outbox::PendingEvent;

/// `t=<ts>,v1=<hex>` for `body` sent at `ts` (unix seconds).
pub fn signature(secret: &str, ts: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(ts.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={ts},v1={hex}")
}

/// Delay before retry number `attempts` (1-based): 5 s doubling, at most an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    (5_000i64 << attempts.clamp(0, 10)).min(3_600_000)
}

/// Runs until the runtime shuts down.
pub async fn run(rt: Arc<Runtime>, every: Duration) {
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "Webhook sender could not start");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = rt.shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let due = match rt.store.claim_events(now_ms(), 60_000, 50).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "Could not read the event outbox");
                continue;
            }
        };
        for event in due {
            let result = deliver(&rt, &http, &event).await;
            let stored = match result {
                Ok(()) => rt.store.event_delivered(&event.id, now_ms()).await,
                Err(e) => {
                    tracing::warn!(event = %event.id, kind = %event.kind, error = %e, "Webhook delivery failed");
                    let next = now_ms() + backoff_ms(event.attempts + 1);
                    rt.store.event_failed(&event.id, next, &e).await
                }
            };
            if let Err(e) = stored {
                tracing::warn!(error = %e, "Could not record a webhook delivery");
            }
        }
    }
}

async fn deliver(rt: &Runtime, http: &reqwest::Client, event: &PendingEvent) -> Result<(), String> {
    let endpoints = rt
        .store
        .webhooks(&event.tenant)
        .await
        .map_err(|e| e.to_string())?;
    let data: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
    let body = json!({
        "id": event.id, "type": event.kind, "created_at": event.created_at, "data": data,
    })
    .to_string();
    for endpoint in endpoints {
        let ts = now_ms() / 1000;
        let response = http
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("switchboard-event-id", &event.id)
            .header("switchboard-event", &event.kind)
            .header(
                "switchboard-signature",
                signature(&endpoint.secret, ts, body.as_bytes()),
            )
            .body(body.clone())
            .send()
            .await
            .map_err(|e| format!("{}: {e}", endpoint.id))?;
        if !response.status().is_success() {
            return Err(format!("{}: HTTP {}", endpoint.id, response.status()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_covers_time_and_body() {
        let a = signature("s3cret", 1_700_000_000, b"{}");
        assert!(a.starts_with("t=1700000000,v1="));
        assert_eq!(a.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(a, signature("s3cret", 1_700_000_001, b"{}"));
        assert_ne!(a, signature("s3cret", 1_700_000_000, b"{ }"));
        assert_ne!(a, signature("other", 1_700_000_000, b"{}"));
        assert_eq!(backoff_ms(1), 10_000);
        assert_eq!(backoff_ms(30), 3_600_000);
    }
}
