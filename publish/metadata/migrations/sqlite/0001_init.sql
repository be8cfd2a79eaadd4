-- bic metadata schema, version 1 (SQLite).

CREATE TABLE environments (
    name             TEXT PRIMARY KEY,
    kind             TEXT NOT NULL DEFAULT 'persistent', -- persistent | preview
    base             TEXT,                                -- the environment a preview starts from
    current_revision BIGINT REFERENCES revisions(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED, -- NULL before the first apply
    expires_at       TEXT,                         -- previews only
    created_at       TEXT NOT NULL
);

CREATE TABLE revisions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
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
    applied_at    TEXT NOT NULL,
    UNIQUE (env, number)
);

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
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (revision_id, job_key)
);
CREATE INDEX jobs_status ON jobs (status, created_at);

CREATE TABLE artifacts (
    content_hash TEXT PRIMARY KEY,
    storage_key  TEXT NOT NULL,
    size         BIGINT NOT NULL,
    rows         BIGINT,
    created_at   TEXT NOT NULL
);

CREATE TABLE cache_entries (
    input_key    TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL REFERENCES artifacts(content_hash),
    rows         BIGINT,
    computed_at  TEXT NOT NULL
);

CREATE TABLE alert_state (
    env               TEXT NOT NULL REFERENCES environments(name) ON DELETE CASCADE,
    alert             TEXT NOT NULL,
    state             TEXT NOT NULL,  -- ok | firing | no_data | error
    last_value        REAL,
    firing_since      TEXT,
    last_evaluated_at TEXT,
    last_notified_at  TEXT,
    PRIMARY KEY (env, alert)
);

CREATE TABLE alert_history (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    env     TEXT NOT NULL,
    alert   TEXT NOT NULL,
    at      TEXT NOT NULL,
    state   TEXT NOT NULL,
    value   REAL,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_history_alert ON alert_history (env, alert, at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    token_hash   TEXT NOT NULL UNIQUE,   -- sha256 of the token; the token itself is never stored
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);

CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    env    TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
