-- bic metadata schema, version 4 (SQLite): access tokens of bic serve
-- --auth token. A token reads one environment; only its sha256 is kept
-- (the token is shown once, when it is made). The active ones are
-- published to storage as the allow-list the server reads.
-- (api_tokens of version 1 was never used; it stays for compatibility.)

CREATE TABLE access_tokens (
    id         TEXT PRIMARY KEY,        -- public: derived from the hash, shown in lists and links
    env        TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,    -- sha256 of the token, hex; the token itself is never stored
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    expires_at TEXT,                    -- NULL: until revoked
    revoked_at TEXT
);
CREATE INDEX access_tokens_env ON access_tokens (env);
