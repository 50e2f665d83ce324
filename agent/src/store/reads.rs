//! What the control API reads back: a call with its transcript, answers and metrics, and
//! filtered, paginated lists. Always scoped by tenant: another tenant's call is not found.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::model::{LineRow, MetricsRow};
use super::{Store, StoreError};

/// A call row as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRow {
    pub id: String,
    pub tenant: String,
    pub direction: String,
    pub transport: String,
    pub transport_options: Value,
    pub status: String,
    pub script_id: Option<String>,
    pub script_version: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub room: Option<String>,
    pub lead_id: Option<String>,
    pub external_refs: Value,
    pub variables: Value,
    pub time_zone: Option<String>,
    pub refusal_reason: Option<String>,
    pub queued_at: i64,
    pub not_before: i64,
    pub dialled_at: Option<i64>,
    pub answered_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub answered: bool,
    pub duration_ms: Option<i64>,
    pub disposition: Option<String>,
    pub outcome: Option<String>,
    pub end_reason: Option<String>,
    pub sentiment_score: Option<f64>,
    pub sentiment_confidence: Option<f64>,
    pub summary: Option<String>,
    pub interest_score: Option<i64>,
    pub recording_path: Option<String>,
    pub attempts: i64,
    pub max_attempts: i64,
    pub last_error: Option<String>,
}

pub(super) const CALL_COLUMNS: &str =
    "id, tenant_id, direction, transport, transport_options, status, script_id,
    script_version, from_number, to_number, room, lead_id, external_refs, variables, time_zone,
    refusal_reason, queued_at, not_before, dialled_at, answered_at, ended_at, answered,
    duration_ms, disposition, outcome, end_reason, sentiment_score, sentiment_confidence,
    summary, interest_score, recording_path, attempts, max_attempts, last_error";

impl CallRow {
    /// The row `new` becomes once written (for calls hosted right away, such as inbound ones).
    pub fn from_new(new: &super::model::NewCall) -> Self {
        Self {
            id: new.id.clone(),
            tenant: new.tenant.clone(),
            direction: new.direction.as_str().into(),
            transport: new.transport.clone(),
            transport_options: new.transport_options.clone(),
            status: new.status.clone(),
            script_id: new.script_id.clone(),
            script_version: None,
            from: new.from_number.clone(),
            to: new.to_number.clone(),
            room: new.room.clone(),
            lead_id: new.lead_id.clone(),
            external_refs: new.external_refs.clone(),
            variables: new.variables.clone(),
            time_zone: new.time_zone.clone(),
            refusal_reason: None,
            queued_at: new.queued_at,
            not_before: new.not_before,
            dialled_at: None,
            answered_at: None,
            ended_at: None,
            answered: false,
            duration_ms: None,
            disposition: None,
            outcome: None,
            end_reason: None,
            sentiment_score: None,
            sentiment_confidence: None,
            summary: None,
            interest_score: None,
            recording_path: None,
            attempts: 0,
            max_attempts: new.max_attempts,
            last_error: None,
        }
    }

    pub(super) fn from_row(r: &AnyRow) -> Result<Self, StoreError> {
        let json = |col: &str| -> Result<Value, StoreError> {
            let text: String = r.try_get(col)?;
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                what: "call JSON column",
                detail: format!("{col}: {e}"),
            })
        };
        Ok(Self {
            id: r.try_get("id")?,
            tenant: r.try_get("tenant_id")?,
            direction: r.try_get("direction")?,
            transport: r.try_get("transport")?,
            transport_options: json("transport_options")?,
            status: r.try_get("status")?,
            script_id: r.try_get("script_id")?,
            script_version: r.try_get("script_version")?,
            from: r.try_get("from_number")?,
            to: r.try_get("to_number")?,
            room: r.try_get("room")?,
            lead_id: r.try_get("lead_id")?,
            external_refs: json("external_refs")?,
            variables: json("variables")?,
            time_zone: r.try_get("time_zone")?,
            refusal_reason: r.try_get("refusal_reason")?,
            queued_at: r.try_get("queued_at")?,
            not_before: r.try_get("not_before")?,
            dialled_at: r.try_get("dialled_at")?,
            answered_at: r.try_get("answered_at")?,
            ended_at: r.try_get("ended_at")?,
            answered: super::flag(r, "answered")?,
            duration_ms: r.try_get("duration_ms")?,
            disposition: r.try_get("disposition")?,
            outcome: r.try_get("outcome")?,
            end_reason: r.try_get("end_reason")?,
            sentiment_score: r.try_get("sentiment_score")?,
            sentiment_confidence: r.try_get("sentiment_confidence")?,
            summary: r.try_get("summary")?,
            interest_score: r.try_get("interest_score")?,
            recording_path: r.try_get("recording_path")?,
            attempts: r.try_get("attempts")?,
            max_attempts: r.try_get("max_attempts")?,
            last_error: r.try_get("last_error")?,
        })
    }
}

/// Filters for [`Store::list_calls`]; `before` is the cursor (a call id from the last page).
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    pub status: Option<String>,
    pub disposition: Option<String>,
    pub script_id: Option<String>,
    pub direction: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

impl Store {
    /// The call `id` of `tenant`, if it exists.
    ///
    /// # Errors
    /// The database failed.
    pub async fn call(&self, tenant: &str, id: &str) -> Result<Option<CallRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(CallRow::from_row).transpose()
    }

    /// The tenant's calls, newest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list_calls(
        &self,
        tenant: &str,
        f: &CallFilter,
    ) -> Result<Vec<CallRow>, StoreError> {
        let (before_at, before_id) = f.before.clone().unzip();
        let rows = sqlx::query(&format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE tenant_id = $1
               AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR disposition = $3)
               AND ($4 IS NULL OR script_id = $4) AND ($5 IS NULL OR direction = $5)
               AND ($6 IS NULL OR queued_at >= $6) AND ($7 IS NULL OR queued_at < $7)
               AND ($8 IS NULL OR queued_at < $8 OR (queued_at = $8 AND id < $9))
             ORDER BY queued_at DESC, id DESC LIMIT $10"
        ))
        .bind(tenant)
        .bind(&f.status)
        .bind(&f.disposition)
        .bind(&f.script_id)
        .bind(&f.direction)
        .bind(f.since)
        .bind(f.until)
        .bind(before_at)
        .bind(before_id)
        .bind(f.limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(CallRow::from_row).collect()
    }

    /// The call's transcript so far, in order.
    ///
    /// # Errors
    /// The database failed.
    pub async fn transcript(&self, tenant: &str, id: &str) -> Result<Vec<LineRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, speaker, text, start_ms, end_ms, interrupted, node, sentiment
             FROM call_transcript WHERE tenant_id = $1 AND call_id = $2 ORDER BY seq",
        )
        .bind(tenant)
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LineRow {
                    seq: r.try_get("seq")?,
                    speaker: r.try_get("speaker")?,
                    text: r.try_get("text")?,
                    start_ms: r.try_get("start_ms")?,
                    end_ms: r.try_get("end_ms")?,
                    interrupted: super::flag(r, "interrupted")?,
                    node: r.try_get("node")?,
                    sentiment: r.try_get("sentiment")?,
                })
            })
            .collect()
    }

    /// The call's collected answers, by slot.
    ///
    /// # Errors
    /// The database failed, or a stored value is not JSON.
    pub async fn answers(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<BTreeMap<String, Value>, StoreError> {
        let rows = sqlx::query(
            "SELECT slot, value FROM call_answers WHERE tenant_id = $1 AND call_id = $2",
        )
        .bind(tenant)
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let slot: String = r.try_get("slot")?;
                let value: String = r.try_get("value")?;
                let value = serde_json::from_str(&value).map_err(|e| StoreError::Corrupt {
                    what: "answer",
                    detail: format!("{slot}: {e}"),
                })?;
                Ok((slot, value))
            })
            .collect()
    }

    /// The call's per-turn latency.
    ///
    /// # Errors
    /// The database failed.
    pub async fn metrics(&self, tenant: &str, id: &str) -> Result<Vec<MetricsRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT turn, end_of_utterance_ms, stt_ms, stt_wait_ms, llm_first_token_ms,
                tts_first_audio_ms, voice_to_voice_ms
             FROM call_metrics WHERE tenant_id = $1 AND call_id = $2 ORDER BY turn",
        )
        .bind(tenant)
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MetricsRow {
                    turn: r.try_get("turn")?,
                    end_of_utterance_ms: r.try_get("end_of_utterance_ms")?,
                    stt_ms: r.try_get("stt_ms")?,
                    stt_wait_ms: r.try_get("stt_wait_ms")?,
                    llm_first_token_ms: r.try_get("llm_first_token_ms")?,
                    tts_first_audio_ms: r.try_get("tts_first_audio_ms")?,
                    voice_to_voice_ms: r.try_get("voice_to_voice_ms")?,
                })
            })
            .collect()
    }
}
