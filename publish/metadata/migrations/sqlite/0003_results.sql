-- bic metadata schema, version 3 (SQLite): what runners record.
-- A cache entry maps an input key to its chart data JSON and, for chart
-- data, the CSV written in the same pass; an input claim lets one runner
-- ask the warehouse while the others wait for its entry; a job row keeps
-- its outcome and how long each phase took, for bic status --slow.
--
-- SQLite adds a column with its own CHECK; a CHECK across columns would
-- need jobs rebuilt again, so the done-only rule for cache_hit is a trigger.

ALTER TABLE cache_entries ADD COLUMN csv_hash TEXT REFERENCES artifacts(content_hash);

-- Held by one owner (a runner's job attempt) until expires_at.
CREATE TABLE input_claims (
    input_key  TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

ALTER TABLE jobs ADD COLUMN started_at   TEXT;  -- the last attempt's start (MarkRunning)
ALTER TABLE jobs ADD COLUMN finished_at  TEXT;  -- the last attempt's end (Complete, Fail)
ALTER TABLE jobs ADD COLUMN queue_ms     INTEGER CONSTRAINT jobs_queue_ms_check CHECK (queue_ms >= 0);
ALTER TABLE jobs ADD COLUMN warehouse_ms INTEGER CONSTRAINT jobs_warehouse_ms_check CHECK (warehouse_ms >= 0);
ALTER TABLE jobs ADD COLUMN encode_ms    INTEGER CONSTRAINT jobs_encode_ms_check CHECK (encode_ms >= 0);
ALTER TABLE jobs ADD COLUMN upload_ms    INTEGER CONSTRAINT jobs_upload_ms_check CHECK (upload_ms >= 0);
ALTER TABLE jobs ADD COLUMN cache_hit    INTEGER CONSTRAINT jobs_cache_hit_check CHECK (cache_hit IN (0, 1)); -- NULL: the job looked nothing up
ALTER TABLE jobs ADD COLUMN rows         INTEGER CONSTRAINT jobs_rows_check CHECK (rows >= 0);
ALTER TABLE jobs ADD COLUMN input_key    TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_input_key ON jobs (input_key);

-- A job's result may only be recorded once it is done.
CREATE TRIGGER jobs_cache_hit_insert BEFORE INSERT ON jobs
WHEN NEW.cache_hit IS NOT NULL AND NEW.status <> 'done'
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: jobs_cache_hit_check'); END;
CREATE TRIGGER jobs_cache_hit_update BEFORE UPDATE OF cache_hit, status ON jobs
WHEN NEW.cache_hit IS NOT NULL AND NEW.status <> 'done'
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: jobs_cache_hit_check'); END;
