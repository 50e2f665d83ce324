-- Read-side view for the backend: seed 000's survey_responses columns (timestamps stay
-- epoch milliseconds in SQLite).

CREATE VIEW survey_responses AS
SELECT
    c.id AS id,
    c.tenant_id,
    json_extract(c.external_refs, '$.session_id') AS session_id,
    json_extract(c.external_refs, '$.end_user_id') AS end_user_id,
    json_extract(c.external_refs, '$.resolution_id') AS resolution_id,
    'ai_call' AS survey_method,
    COALESCE(json_extract(c.variables, '$.fallback_attempts'), 0) AS fallback_attempts,
    (SELECT json_extract(a.value, '$') FROM call_answers a
      WHERE a.call_id = c.id AND a.slot = 'problem_solved') AS problem_solved,
    (SELECT CAST(json_extract(a.value, '$') AS INTEGER) FROM call_answers a
      WHERE a.call_id = c.id AND a.slot = 'experience_rating') AS experience_rating,
    (SELECT json_extract(a.value, '$') FROM call_answers a
      WHERE a.call_id = c.id AND a.slot = 'would_recommend') AS would_recommend,
    (SELECT json_extract(a.value, '$') FROM call_answers a
      WHERE a.call_id = c.id AND a.slot = 'feedback_text') AS feedback_text,
    (c.answered AND NOT EXISTS (SELECT 1 FROM call_answers a
      WHERE a.call_id = c.id AND a.slot = 'experience_rating')) AS refused_to_rate,
    c.ended_at AS responded_at,
    c.duration_ms / 1000 AS call_duration_seconds,
    c.answered AS call_answered,
    c.recording_path AS call_recording_url,
    (c.outcome IS 'completed') AS survey_completed,
    c.queued_at AS created_at
FROM calls c
WHERE substr(c.script_id, 1, 7) = 'survey.';
