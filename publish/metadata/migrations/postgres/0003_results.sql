-- bic metadata schema, version 3 (PostgreSQL): what runners record.
-- A cache entry maps an input key to its chart data JSON and, for chart
-- data, the CSV written in the same pass; an input claim lets one runner
-- ask the warehouse while the others wait for its entry; a job row keeps
-- its outcome and how long each phase took, for bic status --slow.

ALTER TABLE cache_entries ADD COLUMN csv_hash TEXT REFERENCES artifacts(content_hash);

-- Held by one owner (a runner's job attempt) until expires_at.
CREATE TABLE input_claims (
    input_key  TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

ALTER TABLE jobs ADD COLUMN started_at   TIMESTAMPTZ;  -- the last attempt's start (MarkRunning)
ALTER TABLE jobs ADD COLUMN finished_at  TIMESTAMPTZ;  -- the last attempt's end (Complete, Fail)
ALTER TABLE jobs ADD COLUMN queue_ms     BIGINT CONSTRAINT jobs_queue_ms_check CHECK (queue_ms >= 0);
ALTER TABLE jobs ADD COLUMN warehouse_ms BIGINT CONSTRAINT jobs_warehouse_ms_check CHECK (warehouse_ms >= 0);
ALTER TABLE jobs ADD COLUMN encode_ms    BIGINT CONSTRAINT jobs_encode_ms_check CHECK (encode_ms >= 0);
ALTER TABLE jobs ADD COLUMN upload_ms    BIGINT CONSTRAINT jobs_upload_ms_check CHECK (upload_ms >= 0);
ALTER TABLE jobs ADD COLUMN cache_hit    BOOLEAN;      -- NULL: the job looked nothing up
ALTER TABLE jobs ADD COLUMN rows         BIGINT CONSTRAINT jobs_rows_check CHECK (rows >= 0);
ALTER TABLE jobs ADD COLUMN input_key    TEXT NOT NULL DEFAULT '';
-- A job's result may only be recorded once it is done.
ALTER TABLE jobs ADD CONSTRAINT jobs_cache_hit_check CHECK (cache_hit IS NULL OR status = 'done');
CREATE INDEX jobs_input_key ON jobs (input_key);
