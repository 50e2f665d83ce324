//! The facts the compliance gate needs about a number, and the lists behind them: consent to
//! be called, the do-not-call list, attempts made.

use sqlx::Row;

use super::model::now_ms;
use super::{Store, StoreError};

/// What the store knows about calling `number` for a tenant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NumberFacts {
    pub dnc: bool,
    /// The latest consent record: granted or withdrawn; `None` when there is none.
    pub consent: Option<bool>,
    /// Dial attempts since the start of the callee's day.
    pub attempts_today: i64,
}

impl Store {
    /// # Errors
    /// The database failed.
    pub async fn number_facts(
        &self,
        tenant: &str,
        number: &str,
        day_start: i64,
    ) -> Result<NumberFacts, StoreError> {
        let dnc =
            sqlx::query("SELECT 1 AS hit FROM dnc_numbers WHERE tenant_id = $1 AND number = $2")
                .bind(tenant)
                .bind(number)
                .fetch_optional(self.pool())
                .await?
                .is_some();
        let consent =
            sqlx::query("SELECT granted FROM consents WHERE tenant_id = $1 AND number = $2")
                .bind(tenant)
                .bind(number)
                .fetch_optional(self.pool())
                .await?
                .map(|r| super::flag(&r, "granted"))
                .transpose()?;
        let attempts_today: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM call_attempts
             WHERE tenant_id = $1 AND to_number = $2 AND started_at >= $3",
        )
        .bind(tenant)
        .bind(number)
        .bind(day_start)
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        Ok(NumberFacts {
            dnc,
            consent,
            attempts_today,
        })
    }

    /// Records consent (or its withdrawal) to call `number`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn record_consent(
        &self,
        tenant: &str,
        number: &str,
        granted: bool,
        source: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO consents (tenant_id, number, granted, source, recorded_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id, number) DO UPDATE SET granted = excluded.granted,
                source = excluded.source, recorded_at = excluded.recorded_at",
        )
        .bind(tenant)
        .bind(number)
        .bind(granted)
        .bind(source)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Puts `number` on the tenant's do-not-call list.
    ///
    /// # Errors
    /// The database failed.
    pub async fn add_dnc(
        &self,
        tenant: &str,
        number: &str,
        source_call: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO dnc_numbers (tenant_id, number, source_call_id, added_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(tenant)
        .bind(number)
        .bind(source_call)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
