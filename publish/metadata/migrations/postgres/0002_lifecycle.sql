-- bic metadata schema, version 2 (PostgreSQL): an explicit lifecycle.
-- States are checked by the database; an environment records its live
-- revision beside its current one; a job row carries what to compute
-- (state, state key, as_of), when it may run, and what it waits for.

ALTER TABLE environments ADD COLUMN live_revision BIGINT REFERENCES revisions(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE environments ADD CONSTRAINT environments_kind_check CHECK (kind IN ('persistent', 'preview'));

ALTER TABLE revisions ADD CONSTRAINT revisions_status_check CHECK (status IN ('pending', 'live', 'failed', 'superseded'));

ALTER TABLE jobs ADD COLUMN id BIGSERIAL UNIQUE;
ALTER TABLE jobs ADD COLUMN state_key TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN state TEXT;                 -- the normalised filter state, JSON
ALTER TABLE jobs ADD COLUMN as_of TIMESTAMPTZ;          -- relative windows resolve against it
ALTER TABLE jobs ADD COLUMN run_at TIMESTAMPTZ;         -- not claimable before: a retry's time or a claim's lease
UPDATE jobs SET as_of = created_at, run_at = created_at;
ALTER TABLE jobs ALTER COLUMN as_of SET NOT NULL;
ALTER TABLE jobs ALTER COLUMN run_at SET NOT NULL;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check CHECK (status IN ('pending', 'dispatched', 'running', 'done', 'failed'));
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
