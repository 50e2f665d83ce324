//! The event outbox: webhook events are written in the same transaction as the state they
//! describe, then delivered at least once by the webhook sender.

use sqlx::Row;

use super::{Store, StoreError};

/// An event due for delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEvent {
    pub id: String,
    pub tenant: String,
    pub kind: String,
    pub payload: String,
    pub created_at: i64,
    pub attempts: i64,
}

impl Store {
    /// Claims undelivered events whose next attempt is due, oldest first: each is hidden from
    /// other processes' senders for `lease_ms` (so one process delivers it), and is due again
    /// then if this one dies before recording the result.
    ///
    /// # Errors
    /// The database failed.
    pub async fn claim_events(
        &self,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<PendingEvent>, StoreError> {
        let lock = match self.backend() {
            super::Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            super::Backend::Sqlite => "",
        };
        let rows = sqlx::query(&format!(
            "UPDATE event_outbox SET next_attempt_at = $2
             WHERE id IN (SELECT id FROM event_outbox
                          WHERE delivered_at IS NULL AND next_attempt_at <= $1
                          ORDER BY created_at LIMIT $3 {lock})
             RETURNING id, tenant_id, kind, payload, created_at, attempts"
        ))
        .bind(now)
        .bind(now + lease_ms)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut events = rows
            .iter()
            .map(|r| {
                Ok(PendingEvent {
                    id: r.try_get("id")?,
                    tenant: r.try_get("tenant_id")?,
                    kind: r.try_get("kind")?,
                    payload: r.try_get("payload")?,
                    created_at: r.try_get("created_at")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        events.sort_by_key(|e| e.created_at);
        Ok(events)
    }

    /// # Errors
    /// The database failed.
    pub async fn event_delivered(&self, id: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE event_outbox SET delivered_at = $2, attempts = attempts + 1 WHERE id = $1",
        )
        .bind(id)
        .bind(at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a failed attempt; the next one is due at `next_at`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn event_failed(
        &self,
        id: &str,
        next_at: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE event_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3
             WHERE id = $1",
        )
        .bind(id)
        .bind(next_at)
        .bind(error)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Events recorded for a call, for tests and the API (kind, payload).
    ///
    /// # Errors
    /// The database failed.
    pub async fn call_events(
        &self,
        tenant: &str,
        call_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, payload FROM event_outbox WHERE tenant_id = $1 AND call_id = $2
             ORDER BY created_at, id",
        )
        .bind(tenant)
        .bind(call_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get("payload")?)))
            .collect()
    }
}
