-- bic metadata schema, version 5 (PostgreSQL): schedules and alerts.
--
-- schedule_ticks is the ledger of scheduled runs: one row per
-- (env, kind, name, tick), inserted by the one runner that claims the tick
-- (every runner computes it; the primary key lets one win). enqueued_at is
-- set once the tick's message is on the queue, done_at once a worker ran it.
-- A claimed tick without enqueued_at is published again by a later tick of
-- any runner's scheduler.
CREATE TABLE schedule_ticks (
    env         TEXT NOT NULL REFERENCES environments(name) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('alert', 'report', 'refresh')),
    name        TEXT NOT NULL,
    tick        TIMESTAMPTZ NOT NULL,
    revision    INTEGER NOT NULL,
    dry_run     BOOLEAN NOT NULL DEFAULT FALSE,
    claimed_at  TIMESTAMPTZ NOT NULL,
    enqueued_at TIMESTAMPTZ,
    done_at     TIMESTAMPTZ,
    PRIMARY KEY (env, kind, name, tick)
);
CREATE INDEX schedule_ticks_unenqueued ON schedule_ticks (claimed_at) WHERE enqueued_at IS NULL;

-- Every evaluation names its tick (NULL for one run by hand, such as bic
-- alerts test): a tick is recorded once.
ALTER TABLE alert_state ADD COLUMN tick TIMESTAMPTZ;
ALTER TABLE alert_state ADD COLUMN dry_run BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE alert_history ADD COLUMN tick TIMESTAMPTZ;
ALTER TABLE alert_history ADD COLUMN previous DOUBLE PRECISION;
ALTER TABLE alert_history ADD COLUMN notified BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE alert_history ADD COLUMN dry_run BOOLEAN NOT NULL DEFAULT FALSE;
CREATE UNIQUE INDEX alert_history_tick ON alert_history (env, alert, tick) WHERE tick IS NOT NULL;

-- deliveries is the notifier's ledger: one row per notification (key) and
-- channel, so that a redelivered message does not notify a channel twice.
CREATE TABLE deliveries (
    key      TEXT NOT NULL,
    channel  TEXT NOT NULL,
    status   TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error    TEXT NOT NULL DEFAULT '',
    at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (key, channel)
);
