-- Switchboard schema, SQLite dialect (the embedded default store). Kept column-for-column
-- identical to the Postgres dialect so both stores share every query (booleans are INTEGER
-- 0/1: sqlx's Any driver cannot decode SQLite BOOLEAN; see store::flag).

CREATE TABLE calls (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL,
    direction            TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    transport            TEXT NOT NULL,
    transport_options    TEXT NOT NULL DEFAULT '{}',
    script_id            TEXT,
    script_version       TEXT,
    from_number          TEXT,
    to_number            TEXT,
    room                 TEXT,
    lead_id              TEXT,
    external_refs        TEXT NOT NULL DEFAULT '{}',
    variables            TEXT NOT NULL DEFAULT '{}',
    time_zone            TEXT,
    idempotency_key      TEXT,
    status               TEXT NOT NULL,
    refusal_reason       TEXT,
    queued_at            BIGINT NOT NULL,
    not_before           BIGINT NOT NULL,
    dialled_at           BIGINT,
    answered_at          BIGINT,
    ended_at             BIGINT,
    answered             INTEGER NOT NULL DEFAULT 0,
    duration_ms          BIGINT,
    disposition          TEXT,
    outcome              TEXT,
    end_reason           TEXT,
    sentiment_score      REAL CHECK (sentiment_score BETWEEN -1 AND 1),
    sentiment_confidence REAL,
    summary              TEXT,
    interest_score       BIGINT,
    recording_path       TEXT,
    attempts             BIGINT NOT NULL DEFAULT 0,
    max_attempts         BIGINT NOT NULL DEFAULT 3,
    claimed_by           TEXT,
    lease_until          BIGINT,
    last_error           TEXT,
    updated_at           BIGINT NOT NULL
);
CREATE UNIQUE INDEX calls_idempotency ON calls (tenant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX calls_tenant_queued ON calls (tenant_id, queued_at DESC);
CREATE INDEX calls_due ON calls (status, not_before);

CREATE TABLE call_transcript (
    tenant_id   TEXT NOT NULL,
    call_id     TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    speaker     TEXT NOT NULL CHECK (speaker IN ('agent', 'caller', 'human')),
    text        TEXT NOT NULL,
    start_ms    BIGINT NOT NULL,
    end_ms      BIGINT NOT NULL,
    interrupted INTEGER NOT NULL DEFAULT 0,
    node        TEXT,
    sentiment   REAL,
    PRIMARY KEY (call_id, seq)
);
CREATE INDEX call_transcript_tenant ON call_transcript (tenant_id, call_id);

CREATE TABLE call_answers (
    tenant_id  TEXT NOT NULL,
    call_id    TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    slot       TEXT NOT NULL,
    value_type TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (call_id, slot)
);

CREATE TABLE call_metrics (
    tenant_id               TEXT NOT NULL,
    call_id                 TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    turn                    BIGINT NOT NULL,
    end_of_utterance_ms     BIGINT NOT NULL,
    stt_ms                  BIGINT NOT NULL,
    stt_wait_ms             BIGINT NOT NULL,
    llm_first_token_ms      BIGINT,
    tts_first_audio_ms      BIGINT,
    voice_to_voice_ms       BIGINT,
    PRIMARY KEY (call_id, turn)
);

CREATE TABLE escalations (
    tenant_id           TEXT NOT NULL,
    call_id             TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    seq                 BIGINT NOT NULL,
    kind                TEXT NOT NULL,
    reason              TEXT,
    priority            TEXT,
    within_hours        INTEGER,
    meeting_url         TEXT,
    agent_joined_at     BIGINT,
    detail              TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    PRIMARY KEY (call_id, seq)
);

CREATE TABLE scheduled_actions (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    call_id     TEXT REFERENCES calls (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('call', 'sms', 'email')),
    due_at      BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    status      TEXT NOT NULL DEFAULT 'pending',
    detail      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX scheduled_actions_due ON scheduled_actions (status, due_at);

CREATE TABLE call_attempts (
    tenant_id  TEXT NOT NULL,
    call_id    TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    attempt    BIGINT NOT NULL,
    to_number  TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    result     TEXT,
    PRIMARY KEY (call_id, attempt)
);
CREATE INDEX call_attempts_number ON call_attempts (tenant_id, to_number, started_at);

CREATE TABLE dnc_numbers (
    tenant_id      TEXT NOT NULL,
    number         TEXT NOT NULL,
    source_call_id TEXT,
    added_at       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, number)
);

CREATE TABLE consents (
    tenant_id   TEXT NOT NULL,
    number      TEXT NOT NULL,
    granted     INTEGER NOT NULL,
    source      TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, number)
);

CREATE TABLE call_usage (
    tenant_id              TEXT NOT NULL,
    call_id                TEXT PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
    audio_in_ms            BIGINT NOT NULL,
    audio_out_ms           BIGINT NOT NULL,
    llm_prompt_tokens      BIGINT NOT NULL,
    llm_completion_tokens  BIGINT NOT NULL,
    characters_synthesised BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL,
    rate_per_min BIGINT NOT NULL DEFAULT 600,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);

CREATE TABLE webhook_endpoints (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE event_outbox (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    call_id         TEXT,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT,
    last_error      TEXT
);
CREATE INDEX event_outbox_due ON event_outbox (delivered_at, next_attempt_at);
