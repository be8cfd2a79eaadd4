-- bic metadata schema, version 1 (PostgreSQL).

CREATE TABLE environments (
    name             TEXT PRIMARY KEY,
    kind             TEXT NOT NULL DEFAULT 'persistent', -- persistent | preview
    base             TEXT,                                -- the environment a preview starts from
    current_revision BIGINT,                              -- revisions.id, NULL before the first apply
    expires_at       TIMESTAMPTZ,                         -- previews only
    created_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE revisions (
    id            BIGSERIAL PRIMARY KEY,
    env           TEXT NOT NULL REFERENCES environments(name) ON DELETE CASCADE,
    number        INTEGER NOT NULL,              -- 1, 2, 3 … per environment
    status        TEXT NOT NULL,                 -- pending | live | failed
    source        TEXT NOT NULL,                 -- apply | rollback | preview
    rollback_of   INTEGER,                       -- the number a rollback restored
    manifest_hash TEXT NOT NULL,
    manifest      TEXT NOT NULL,                 -- the compiled manifest, JSON
    git_commit    TEXT NOT NULL DEFAULT '',
    git_author    TEXT NOT NULL DEFAULT '',
    applied_by    TEXT NOT NULL DEFAULT '',
    applied_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (env, number)
);

ALTER TABLE environments ADD FOREIGN KEY (current_revision) REFERENCES revisions(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;

-- Objects are stored once per content hash; revisions list the ones they hold.
CREATE TABLE objects (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    id   TEXT NOT NULL,  -- kind/name, chart/DASHBOARD/CHART
    spec TEXT NOT NULL   -- canonical JSON
);

CREATE TABLE revision_objects (
    revision_id BIGINT NOT NULL REFERENCES revisions(id) ON DELETE CASCADE,
    object_id   TEXT NOT NULL,
    hash        TEXT NOT NULL REFERENCES objects(hash),
    PRIMARY KEY (revision_id, object_id)
);
CREATE INDEX revision_objects_hash ON revision_objects (hash);

-- The transactional outbox: written with the revision, dispatched to NATS after.
CREATE TABLE jobs (
    revision_id BIGINT NOT NULL REFERENCES revisions(id) ON DELETE CASCADE,
    job_key     TEXT NOT NULL,   -- also the NATS message id, so duplicates are dropped
    kind        TEXT NOT NULL,   -- query | csv | thumbnail | schedule | publish
    object_id   TEXT NOT NULL,
    inputs_hash TEXT NOT NULL,
    status      TEXT NOT NULL,   -- pending | dispatched | running | done | failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (revision_id, job_key)
);
CREATE INDEX jobs_status ON jobs (status, created_at);

CREATE TABLE artifacts (
    content_hash TEXT PRIMARY KEY,
    storage_key  TEXT NOT NULL,
    size         BIGINT NOT NULL,
    rows         BIGINT,
    created_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE cache_entries (
    input_key    TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL REFERENCES artifacts(content_hash),
    rows         BIGINT,
    computed_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE alert_state (
    env               TEXT NOT NULL REFERENCES environments(name) ON DELETE CASCADE,
    alert             TEXT NOT NULL,
    state             TEXT NOT NULL,  -- ok | firing | no_data | error
    last_value        DOUBLE PRECISION,
    firing_since      TIMESTAMPTZ,
    last_evaluated_at TIMESTAMPTZ,
    last_notified_at  TIMESTAMPTZ,
    PRIMARY KEY (env, alert)
);

CREATE TABLE alert_history (
    id      BIGSERIAL PRIMARY KEY,
    env     TEXT NOT NULL,
    alert   TEXT NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    state   TEXT NOT NULL,
    value   DOUBLE PRECISION,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_history_alert ON alert_history (env, alert, at);

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    token_hash   TEXT NOT NULL UNIQUE,   -- sha256 of the token; the token itself is never stored
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

CREATE TABLE audit_log (
    id     BIGSERIAL PRIMARY KEY,
    at     TIMESTAMPTZ NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    env    TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
