-- bic metadata schema, version 2 (SQLite): an explicit lifecycle.
-- States are checked by the database; an environment records its live
-- revision beside its current one; a job row carries what to compute
-- (state, state key, as_of), when it may run, and what it waits for.
--
-- SQLite cannot add a CHECK to a table. jobs, which no table references,
-- is rebuilt with its CHECK and an id; environments and revisions are
-- referenced with ON DELETE CASCADE (dropping them would delete every
-- revision), so triggers check their states instead.

ALTER TABLE environments ADD COLUMN live_revision BIGINT REFERENCES revisions(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;

CREATE TRIGGER environments_kind_insert BEFORE INSERT ON environments
WHEN NEW.kind NOT IN ('persistent', 'preview')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: environments_kind_check'); END;
CREATE TRIGGER environments_kind_update BEFORE UPDATE OF kind ON environments
WHEN NEW.kind NOT IN ('persistent', 'preview')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: environments_kind_check'); END;

CREATE TRIGGER revisions_status_insert BEFORE INSERT ON revisions
WHEN NEW.status NOT IN ('pending', 'live', 'failed', 'superseded')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: revisions_status_check'); END;
CREATE TRIGGER revisions_status_update BEFORE UPDATE OF status ON revisions
WHEN NEW.status NOT IN ('pending', 'live', 'failed', 'superseded')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: revisions_status_check'); END;

CREATE TABLE jobs_v2 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    revision_id BIGINT NOT NULL REFERENCES revisions(id) ON DELETE CASCADE,
    job_key     TEXT NOT NULL,   -- also the NATS message id, so duplicates are dropped
    kind        TEXT NOT NULL,   -- chart_data | thumbnail | schedule | publish
    object_id   TEXT NOT NULL,
    inputs_hash TEXT NOT NULL,
    state_key   TEXT NOT NULL DEFAULT '',
    state       TEXT,            -- the normalised filter state, JSON
    as_of       TEXT NOT NULL,   -- relative windows resolve against it
    run_at      TEXT NOT NULL,   -- not claimable before: a retry's time or a claim's lease
    status      TEXT NOT NULL CONSTRAINT jobs_status_check CHECK (status IN ('pending', 'dispatched', 'running', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (revision_id, job_key)
);
INSERT INTO jobs_v2 (revision_id, job_key, kind, object_id, inputs_hash, as_of, run_at, status, attempts, last_error, created_at, updated_at)
    SELECT revision_id, job_key, kind, object_id, inputs_hash, created_at, created_at, status, attempts, last_error, created_at, updated_at FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_v2 RENAME TO jobs;
CREATE INDEX jobs_status ON jobs (status, created_at);
CREATE INDEX jobs_key ON jobs (job_key);
CREATE INDEX jobs_runnable ON jobs (status, run_at);

-- A job runs once every job it depends on, of the same revision, is done.
CREATE TABLE job_dependencies (
    revision_id BIGINT NOT NULL,
    job_key     TEXT NOT NULL,
    depends_on  TEXT NOT NULL,
    PRIMARY KEY (revision_id, job_key, depends_on),
    FOREIGN KEY (revision_id, job_key) REFERENCES jobs (revision_id, job_key) ON DELETE CASCADE,
    FOREIGN KEY (revision_id, depends_on) REFERENCES jobs (revision_id, job_key) ON DELETE CASCADE
);
CREATE INDEX job_dependencies_on ON job_dependencies (revision_id, depends_on);
