-- Secrets every process and node must share (kb.store.secrets): the key that signs session
-- cookies, so a staff member signed in through one node stays signed in on the others.
-- Made once by whichever process asks first (INSERT ... ON CONFLICT DO NOTHING, then read).
CREATE TABLE IF NOT EXISTS shared_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL
);
