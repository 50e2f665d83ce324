//! API-key authentication (`Authorization: Bearer sb_…`) and a per-key token-bucket rate
//! limit. The key's tenant scopes everything the request touches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use super::error::ApiError;
use super::ApiState;

/// Token buckets by key id: `rate_per_min` tokens a minute, bursts up to a tenth of that
/// (at least 5).
#[derive(Clone, Default)]
pub struct RateLimiter {
    buckets: Arc<Mutex<HashMap<String, (f64, Instant)>>>,
}

impl RateLimiter {
    /// Takes a token for `key`; `Err(seconds)` to wait when the bucket is empty.
    pub fn take(&self, key: &str, rate_per_min: i64) -> Result<(), u64> {
        let rate = rate_per_min.max(1) as f64 / 60.0;
        let burst = (rate_per_min as f64 / 10.0).max(5.0);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let (tokens, last) = buckets.entry(key.to_owned()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil() as u64)
        }
    }
}

pub async fn require_key(State(st): State<ApiState>, mut req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(presented) = presented else {
        return ApiError::unauthorized("send an API key as `Authorization: Bearer <key>`")
            .into_response();
    };
    let key = match st.rt.store.authenticate(presented).await {
        Ok(Some(key)) => key,
        Ok(None) => return ApiError::unauthorized("unknown or revoked API key").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Err(wait) = st.limiter.take(&key.id, key.rate_per_min) {
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "rate limit of {} requests a minute reached",
                key.rate_per_min
            ),
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return response;
    }
    req.extensions_mut().insert(key);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn buckets_refill_at_the_keys_rate() {
        let limiter = RateLimiter::default();
        for _ in 0..6 {
            assert!(limiter.take("k", 60).is_ok()); // burst of 6 at 60/min
        }
        assert_eq!(limiter.take("k", 60), Err(1));
        assert!(limiter.take("other", 60).is_ok());
        tokio::time::advance(std::time::Duration::from_secs(1)).await;
        assert!(limiter.take("k", 60).is_ok());
        assert!(limiter.take("k", 60).is_err());
    }
}
