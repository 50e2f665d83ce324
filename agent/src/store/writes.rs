//! Applying the call side's writes. Every statement is an idempotent upsert keyed by the
//! call and a sequence number, so a write replayed from the spool after a partial success
//! lands once; the end of a call is one transaction.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Connection};

use super::model::{status, CallEnd, LineRow, NewCall, OutboxEvent, WriteOp};
use super::StoreError;

type Q<'a> = Query<'a, Any, AnyArguments<'a>>;

/// Applies one write.
pub(super) async fn apply(conn: &mut AnyConnection, op: &WriteOp) -> Result<(), StoreError> {
    match op {
        WriteOp::InsertCall(call) => insert_call(call).execute(&mut *conn).await.map(drop)?,
        WriteOp::Answered {
            tenant,
            call_id,
            at,
            script_id,
            script_version,
        } => {
            sqlx::query(
                "UPDATE calls SET status = $3, answered = TRUE, answered_at = $4,
                    script_id = COALESCE($5, script_id), script_version = $6, updated_at = $4
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant)
            .bind(call_id)
            .bind(status::IN_PROGRESS)
            .bind(at)
            .bind(script_id)
            .bind(script_version)
            .execute(&mut *conn)
            .await?;
        }
        WriteOp::Line {
            tenant,
            call_id,
            line,
        } => upsert_line(tenant, call_id, line)
            .execute(&mut *conn)
            .await
            .map(drop)?,
        WriteOp::Answer {
            tenant,
            call_id,
            slot,
            value,
        } => upsert_answer(tenant, call_id, slot, value)
            .execute(&mut *conn)
            .await
            .map(drop)?,
        WriteOp::DialFailed {
            tenant,
            call_id,
            attempt,
            disposition,
            error,
            retry_at,
            at,
            events,
        } => {
            let mut tx = conn.begin().await?;
            let (next_status, ended) = match retry_at {
                Some(_) => (status::QUEUED, None),
                None => (status::COMPLETED, Some(*at)),
            };
            sqlx::query(
                "UPDATE calls SET status = $3, not_before = COALESCE($4, not_before),
                    disposition = $5, last_error = $6, ended_at = $7, claimed_by = NULL,
                    lease_until = NULL, end_reason = CASE WHEN $7 IS NULL THEN NULL ELSE $5 END,
                    updated_at = $8
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant)
            .bind(call_id)
            .bind(next_status)
            .bind(retry_at)
            .bind(disposition)
            .bind(error)
            .bind(ended)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE call_attempts SET result = $4
                 WHERE tenant_id = $1 AND call_id = $2 AND attempt = $3",
            )
            .bind(tenant)
            .bind(call_id)
            .bind(attempt)
            .bind(disposition)
            .execute(&mut *tx)
            .await?;
            for event in events {
                insert_event(tenant, Some(call_id), event, *at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        WriteOp::Event {
            tenant,
            call_id,
            event,
            at,
        } => insert_event(tenant, Some(call_id), event, *at)
            .execute(&mut *conn)
            .await
            .map(drop)?,
        WriteOp::Ended(end) => ended(conn, end).await?,
    }
    Ok(())
}

pub(super) fn insert_call(c: &NewCall) -> Q<'_> {
    sqlx::query(
        "INSERT INTO calls (id, tenant_id, direction, transport, script_id, from_number,
            to_number, room, lead_id, external_refs, variables, time_zone, idempotency_key,
            status, queued_at, not_before, max_attempts, updated_at, transport_options,
            claimed_by, lease_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $15,
            $18, $19, $20)
         ON CONFLICT DO NOTHING",
    )
    .bind(&c.id)
    .bind(&c.tenant)
    .bind(c.direction.as_str())
    .bind(&c.transport)
    .bind(&c.script_id)
    .bind(&c.from_number)
    .bind(&c.to_number)
    .bind(&c.room)
    .bind(&c.lead_id)
    .bind(c.external_refs.to_string())
    .bind(c.variables.to_string())
    .bind(&c.time_zone)
    .bind(&c.idempotency_key)
    .bind(&c.status)
    .bind(c.queued_at)
    .bind(c.not_before)
    .bind(c.max_attempts)
    .bind(c.transport_options.to_string())
    .bind(&c.claimed_by)
    .bind(c.lease_until)
}

fn upsert_line<'a>(tenant: &'a str, call_id: &'a str, l: &'a LineRow) -> Q<'a> {
    sqlx::query(
        "INSERT INTO call_transcript (tenant_id, call_id, seq, speaker, text, start_ms, end_ms,
            interrupted, node, sentiment)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CAST($10 AS DOUBLE PRECISION))
         ON CONFLICT (call_id, seq) DO UPDATE SET text = excluded.text,
            end_ms = excluded.end_ms, interrupted = excluded.interrupted,
            sentiment = COALESCE(excluded.sentiment, call_transcript.sentiment)",
    )
    .bind(tenant)
    .bind(call_id)
    .bind(l.seq)
    .bind(&l.speaker)
    .bind(&l.text)
    .bind(l.start_ms)
    .bind(l.end_ms)
    .bind(l.interrupted)
    .bind(&l.node)
    .bind(float(l.sentiment))
}

/// Optional floats travel as text and are cast in SQL: sqlx 0.8's Any driver declares a
/// NULL double as float4 to Postgres, and the cached statement then refuses a real float8.
fn float(v: Option<f64>) -> Option<String> {
    v.map(|v| v.to_string())
}

fn upsert_answer<'a>(
    tenant: &'a str,
    call_id: &'a str,
    slot: &'a str,
    value: &'a serde_json::Value,
) -> Q<'a> {
    let kind = match value {
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "text",
        serde_json::Value::Null => "null",
        _ => "json",
    };
    sqlx::query(
        "INSERT INTO call_answers (tenant_id, call_id, slot, value_type, value)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (call_id, slot) DO UPDATE SET value_type = excluded.value_type,
            value = excluded.value",
    )
    .bind(tenant)
    .bind(call_id)
    .bind(slot)
    .bind(kind)
    .bind(value.to_string())
}

pub(super) fn insert_event<'a>(
    tenant: &'a str,
    call_id: Option<&'a str>,
    e: &'a OutboxEvent,
    at: i64,
) -> Q<'a> {
    sqlx::query(
        "INSERT INTO event_outbox (id, tenant_id, call_id, kind, payload, created_at,
            next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
    )
    .bind(&e.id)
    .bind(tenant)
    .bind(call_id)
    .bind(&e.kind)
    .bind(e.payload.to_string())
    .bind(at)
}

async fn ended(conn: &mut AnyConnection, end: &CallEnd) -> Result<(), StoreError> {
    let t = end.tenant.as_str();
    let id = end.call_id.as_str();
    let a = &end.assessment;
    let mut tx = conn.begin().await?;
    sqlx::query(
        "UPDATE calls SET status = $3, ended_at = $4, answered = $5, duration_ms = $6,
            disposition = $7, outcome = $8, end_reason = $9,
            sentiment_score = CAST($10 AS DOUBLE PRECISION),
            sentiment_confidence = CAST($11 AS DOUBLE PRECISION), summary = $12, interest_score = $13,
            script_id = COALESCE($14, script_id), script_version = COALESCE($15, script_version),
            recording_path = $16, claimed_by = NULL, lease_until = NULL, updated_at = $4
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(t)
    .bind(id)
    .bind(&end.status)
    .bind(end.ended_at)
    .bind(end.answered)
    .bind(end.duration_ms)
    .bind(&a.disposition)
    .bind(&a.outcome)
    .bind(&a.end_reason)
    .bind(float(a.sentiment.map(|s| s.0)))
    .bind(float(a.sentiment.map(|s| s.1)))
    .bind(&a.summary)
    .bind(a.interest_score)
    .bind(&end.script_id)
    .bind(&end.script_version)
    .bind(&end.recording_path)
    .execute(&mut *tx)
    .await?;
    for line in &end.transcript {
        upsert_line(t, id, line).execute(&mut *tx).await?;
    }
    for (slot, value) in &end.answers {
        upsert_answer(t, id, slot, value).execute(&mut *tx).await?;
    }
    for m in &end.metrics {
        sqlx::query(
            "INSERT INTO call_metrics (tenant_id, call_id, turn, end_of_utterance_ms, stt_ms,
                stt_wait_ms, llm_first_token_ms, tts_first_audio_ms, voice_to_voice_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        )
        .bind(t)
        .bind(id)
        .bind(m.turn)
        .bind(m.end_of_utterance_ms)
        .bind(m.stt_ms)
        .bind(m.stt_wait_ms)
        .bind(m.llm_first_token_ms)
        .bind(m.tts_first_audio_ms)
        .bind(m.voice_to_voice_ms)
        .execute(&mut *tx)
        .await?;
    }
    super::records::write(&mut tx, end).await?;
    let u = &end.usage;
    sqlx::query(
        "INSERT INTO call_usage (tenant_id, call_id, audio_in_ms, audio_out_ms,
            llm_prompt_tokens, llm_completion_tokens, characters_synthesised)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(t)
    .bind(id)
    .bind(u.audio_in_ms)
    .bind(u.audio_out_ms)
    .bind(u.llm_prompt_tokens)
    .bind(u.llm_completion_tokens)
    .bind(u.characters_synthesised)
    .execute(&mut *tx)
    .await?;
    for event in &end.events {
        insert_event(t, Some(id), event, end.ended_at)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
