//! The outbound job queue: queued calls live in the `calls` table. Any number of processes
//! claim them (`FOR UPDATE SKIP LOCKED` on Postgres; SQLite's single writer serialises the
//! same statement), hold a lease they renew with heartbeats, and a dead process's leases
//! expire: a job it had claimed but not dialled goes back to the queue, a call it was running
//! is marked `interrupted` with its transcript intact.

use sqlx::Row;

use super::model::{now_ms, status, NewCall};
use super::reads::{CallRow, CALL_COLUMNS};
use super::{Backend, Store, StoreError};

/// What [`Store::enqueue`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    pub id: String,
    /// False when the idempotency key matched an earlier request: `id` is that call's.
    pub created: bool,
}

/// What the reaper found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reaped {
    pub requeued: u64,
    pub interrupted: u64,
}

impl Store {
    /// Queues an outbound call (or, with a known idempotency key, finds the earlier one).
    ///
    /// # Errors
    /// The database failed.
    pub async fn enqueue(&self, call: &NewCall) -> Result<Enqueued, StoreError> {
        let done = super::writes::insert_call(call)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 1 {
            return Ok(Enqueued {
                id: call.id.clone(),
                created: true,
            });
        }
        let existing = match &call.idempotency_key {
            Some(key) => {
                sqlx::query("SELECT id FROM calls WHERE tenant_id = $1 AND idempotency_key = $2")
                    .bind(&call.tenant)
                    .bind(key)
                    .fetch_optional(self.pool())
                    .await?
            }
            None => None,
        };
        match existing {
            Some(row) => Ok(Enqueued {
                id: row.try_get("id")?,
                created: false,
            }),
            None => Err(StoreError::Corrupt {
                what: "call id",
                detail: format!("call {} already exists", call.id),
            }),
        }
    }

    /// Claims up to `limit` due jobs for `worker` with a lease until `lease_until`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn claim(
        &self,
        worker: &str,
        limit: i64,
        lease_until: i64,
    ) -> Result<Vec<CallRow>, StoreError> {
        let lock = match self.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let now = now_ms();
        let rows = sqlx::query(&format!(
            "UPDATE calls SET status = $1, claimed_by = $2, lease_until = $3, updated_at = $4
             WHERE id IN (SELECT id FROM calls WHERE status = $5 AND not_before <= $4
                          ORDER BY not_before LIMIT $6 {lock})
             RETURNING {CALL_COLUMNS}"
        ))
        .bind(status::CLAIMED)
        .bind(worker)
        .bind(lease_until)
        .bind(now)
        .bind(status::QUEUED)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(CallRow::from_row).collect()
    }

    /// Moves a job `worker` has claimed to `dialling` and records the attempt, directly (never
    /// through the spool). `false` when the job is no longer this worker's (its lease expired
    /// and another process took it): the caller must not dial.
    ///
    /// # Errors
    /// The database failed: do not dial either.
    pub async fn start_dial(
        &self,
        worker: &str,
        call: &CallRow,
        attempt: i64,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let mut tx = self.pool().begin().await?;
        let moved = sqlx::query(
            "UPDATE calls SET status = $1, dialled_at = $2, attempts = $3, updated_at = $2
             WHERE tenant_id = $4 AND id = $5 AND claimed_by = $6 AND status = $7",
        )
        .bind(status::DIALLING)
        .bind(now)
        .bind(attempt)
        .bind(&call.tenant)
        .bind(&call.id)
        .bind(worker)
        .bind(status::CLAIMED)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO call_attempts (tenant_id, call_id, attempt, to_number, started_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&call.tenant)
        .bind(&call.id)
        .bind(attempt)
        .bind(call.to.as_deref().unwrap_or_default())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Renews every lease `worker` holds.
    ///
    /// # Errors
    /// The database failed.
    pub async fn heartbeat(&self, worker: &str, lease_until: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE calls SET lease_until = $2
             WHERE claimed_by = $1 AND status IN ($3, $4, $5)",
        )
        .bind(worker)
        .bind(lease_until)
        .bind(status::LIVE[0])
        .bind(status::LIVE[1])
        .bind(status::LIVE[2])
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// Frees expired leases (all live calls when `everything`: a restarted single-process
    /// store owns every lease in it).
    ///
    /// # Errors
    /// The database failed.
    pub async fn reap(&self, everything: bool) -> Result<Reaped, StoreError> {
        let now = now_ms();
        let expired = if everything { i64::MAX } else { now };
        let requeued = sqlx::query(
            "UPDATE calls SET status = $1, claimed_by = NULL, lease_until = NULL, updated_at = $2
             WHERE status = $3 AND (lease_until IS NULL OR lease_until < $4)",
        )
        .bind(status::QUEUED)
        .bind(now)
        .bind(status::CLAIMED)
        .bind(expired)
        .execute(self.pool())
        .await?
        .rows_affected();
        let interrupted = sqlx::query(
            "UPDATE calls SET status = $1, end_reason = 'process_lost', ended_at = $2,
                claimed_by = NULL, lease_until = NULL, updated_at = $2
             WHERE status IN ($3, $4) AND (lease_until IS NULL OR lease_until < $5)",
        )
        .bind(status::INTERRUPTED)
        .bind(now)
        .bind(status::DIALLING)
        .bind(status::IN_PROGRESS)
        .bind(expired)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(Reaped {
            requeued,
            interrupted,
        })
    }

    /// Ends a job without dialling: the compliance gate refused it.
    ///
    /// # Errors
    /// The database failed.
    pub async fn refuse(&self, tenant: &str, id: &str, reason: &str) -> Result<(), StoreError> {
        let now = now_ms();
        sqlx::query(
            "UPDATE calls SET status = $3, refusal_reason = $4, ended_at = $5, claimed_by = NULL,
                lease_until = NULL, updated_at = $5
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(id)
        .bind(status::REFUSED)
        .bind(reason)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Puts a claimed job back in the queue until `not_before` (calling hours, backoff).
    ///
    /// # Errors
    /// The database failed.
    pub async fn defer(
        &self,
        tenant: &str,
        id: &str,
        not_before: i64,
        why: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE calls SET status = $3, not_before = $4, last_error = $5, claimed_by = NULL,
                lease_until = NULL, updated_at = $6
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(id)
        .bind(status::QUEUED)
        .bind(not_before)
        .bind(why)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Cancels a call that has not been dialled yet. Returns whether it was still queued.
    ///
    /// # Errors
    /// The database failed.
    pub async fn cancel_queued(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE calls SET status = $3, ended_at = $4, end_reason = 'cancelled', updated_at = $4
             WHERE tenant_id = $1 AND id = $2 AND status = $5",
        )
        .bind(tenant)
        .bind(id)
        .bind(status::CANCELLED)
        .bind(now)
        .bind(status::QUEUED)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Turns due `call` follow-ups into queued jobs (copying the original call's target,
    /// script and variables). Returns how many.
    ///
    /// # Errors
    /// The database failed.
    pub async fn promote_scheduled_calls(&self) -> Result<u64, StoreError> {
        let now = now_ms();
        let mut tx = self.pool().begin().await?;
        let due = sqlx::query(
            "SELECT id, tenant_id, call_id FROM scheduled_actions
             WHERE kind = 'call' AND status = 'pending' AND due_at <= $1 LIMIT 100",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let mut promoted = 0;
        for row in &due {
            let action: String = row.try_get("id")?;
            let tenant: String = row.try_get("tenant_id")?;
            let source: Option<String> = row.try_get("call_id")?;
            let inserted = sqlx::query(
                "INSERT INTO calls (id, tenant_id, direction, transport, transport_options,
                    script_id, from_number, to_number, room, lead_id, external_refs, variables,
                    time_zone, idempotency_key, status, queued_at, not_before, max_attempts,
                    updated_at)
                 SELECT $1, tenant_id, 'outbound', transport, transport_options, script_id,
                    CASE WHEN direction = 'inbound' THEN to_number ELSE from_number END,
                    CASE WHEN direction = 'inbound' THEN from_number ELSE to_number END,
                    room, lead_id, external_refs, variables, time_zone, $2, $3, $4, $4,
                    max_attempts, $4
                 FROM calls WHERE tenant_id = $5 AND id = $6
                 ON CONFLICT DO NOTHING",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(format!("scheduled:{action}"))
            .bind(status::QUEUED)
            .bind(now)
            .bind(&tenant)
            .bind(&source)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let next = if inserted == 1 { "queued" } else { "failed" };
            sqlx::query(
                "UPDATE scheduled_actions SET status = $1 WHERE tenant_id = $2 AND id = $3",
            )
            .bind(next)
            .bind(&tenant)
            .bind(&action)
            .execute(&mut *tx)
            .await?;
            promoted += inserted;
        }
        tx.commit().await?;
        Ok(promoted)
    }
}
