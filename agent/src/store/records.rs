//! The conversation's results for the backend, written with the end of the call: escalations,
//! scheduled follow-ups (a `call` follow-up later becomes a job), the DNC list.

use serde_json::Value;
use sqlx::{Any, Transaction};

use super::model::CallEnd;
use super::StoreError;

pub(super) async fn write(tx: &mut Transaction<'_, Any>, end: &CallEnd) -> Result<(), StoreError> {
    let t = end.tenant.as_str();
    let id = end.call_id.as_str();
    for (seq, record) in end.records.iter().enumerate() {
        let d = &record.detail;
        match record.kind.as_str() {
            "escalation" | "transfer" => {
                sqlx::query(
                    "INSERT INTO escalations (tenant_id, call_id, seq, kind, reason, priority,
                        within_hours, meeting_url, detail, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                )
                .bind(t)
                .bind(id)
                .bind(seq as i64)
                .bind(&record.kind)
                .bind(text(d, "reason"))
                .bind(text(d, "priority"))
                .bind(d.get("within_hours").and_then(Value::as_bool))
                .bind(text(d, "meeting_url"))
                .bind(d.to_string())
                .bind(end.ended_at)
                .execute(&mut **tx)
                .await?;
            }
            "scheduled_action" => {
                let due = text(d, "at")
                    .and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok())
                    .map_or(end.ended_at, |at| at.timestamp_millis());
                sqlx::query(
                    "INSERT INTO scheduled_actions (id, tenant_id, call_id, kind, due_at, reason,
                        detail, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                )
                .bind(format!("{id}:{seq}"))
                .bind(t)
                .bind(id)
                .bind(text(d, "kind").unwrap_or_else(|| "call".into()))
                .bind(due)
                .bind(text(d, "reason").unwrap_or_default())
                .bind(d.to_string())
                .bind(end.ended_at)
                .execute(&mut **tx)
                .await?;
            }
            other => tracing::warn!(kind = other, "Unknown call record kind not stored"),
        }
    }
    if end.assessment.disposition == "dnc" {
        if let Some(number) = &end.party_number {
            sqlx::query(
                "INSERT INTO dnc_numbers (tenant_id, number, source_call_id, added_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(t)
            .bind(number)
            .bind(id)
            .bind(end.ended_at)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

fn text(detail: &Value, key: &str) -> Option<String> {
    detail.get(key).and_then(Value::as_str).map(str::to_owned)
}
