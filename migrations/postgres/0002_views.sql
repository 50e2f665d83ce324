-- Read-side views for the backend: seed 000's survey_responses columns, and calls with real
-- timestamps.

CREATE VIEW survey_responses AS
SELECT
    c.id AS id,
    c.tenant_id,
    c.external_refs::jsonb ->> 'session_id' AS session_id,
    c.external_refs::jsonb ->> 'end_user_id' AS end_user_id,
    c.external_refs::jsonb ->> 'resolution_id' AS resolution_id,
    'ai_call'::text AS survey_method,
    COALESCE((c.variables::jsonb ->> 'fallback_attempts')::int, 0) AS fallback_attempts,
    (SELECT CASE WHEN a.value_type = 'boolean' THEN a.value::boolean END FROM call_answers a
      WHERE a.call_id = c.id AND a.slot = 'problem_solved') AS problem_solved,
    (SELECT CASE WHEN a.value_type = 'number' THEN round(a.value::numeric)::int END
      FROM call_answers a
      WHERE a.call_id = c.id AND a.slot = 'experience_rating') AS experience_rating,
    (SELECT CASE WHEN a.value_type = 'boolean' THEN a.value::boolean END FROM call_answers a
      WHERE a.call_id = c.id AND a.slot = 'would_recommend') AS would_recommend,
    (SELECT a.value::jsonb #>> '{}' FROM call_answers a
      WHERE a.call_id = c.id AND a.slot = 'feedback_text') AS feedback_text,
    (c.answered AND NOT EXISTS (SELECT 1 FROM call_answers a
      WHERE a.call_id = c.id AND a.slot = 'experience_rating')) AS refused_to_rate,
    to_timestamp(c.ended_at / 1000.0) AS responded_at,
    (c.duration_ms / 1000)::int AS call_duration_seconds,
    c.answered AS call_answered,
    c.recording_path AS call_recording_url,
    (c.outcome IS NOT DISTINCT FROM 'completed') AS survey_completed,
    to_timestamp(c.queued_at / 1000.0) AS created_at
FROM calls c
WHERE substr(c.script_id, 1, 7) = 'survey.';

CREATE VIEW call_overview AS
SELECT
    c.*,
    to_timestamp(c.queued_at / 1000.0) AS queued_ts,
    to_timestamp(c.dialled_at / 1000.0) AS dialled_ts,
    to_timestamp(c.answered_at / 1000.0) AS answered_ts,
    to_timestamp(c.ended_at / 1000.0) AS ended_ts
FROM calls c;
