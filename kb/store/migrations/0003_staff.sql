-- Staff: accounts, sign-in throttling, article revisions, pending drafts, trash, redirects, audit log.
-- Times are UTC, ISO 8601 text (as in 0001), so they sort and compare as strings.

CREATE TABLE IF NOT EXISTS staff_users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('editor', 'admin')),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    session_version INTEGER NOT NULL DEFAULT 1,   -- bumped on disable / password reset: ends old sessions
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    last_login_at TEXT
);

-- Failed sign-ins, for throttling; rows older than the window are purged.
CREATE TABLE IF NOT EXISTS login_failures (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL COLLATE NOCASE,
    client TEXT NOT NULL,                         -- HMAC of the address, never the raw IP
    at REAL NOT NULL                              -- unix time
);
CREATE INDEX IF NOT EXISTS login_failures_by_email ON login_failures (email, at);
CREATE INDEX IF NOT EXISTS login_failures_by_client ON login_failures (client, at);

-- Every save of an article: the whole file text as saved.
-- state: draft | published (written to the file), pending (an unpublished edit of a
-- published article, kept only here), unpublished, deleted, restored, conflict (a save
-- refused because someone else saved first: kept so nothing typed is lost).
CREATE TABLE IF NOT EXISTS revisions (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL,
    state TEXT NOT NULL,
    text TEXT NOT NULL,
    checksum TEXT NOT NULL,
    user_id INTEGER,
    user_email TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS revisions_by_slug ON revisions (slug, id);

-- Deleted articles moved to articles/_trash/.
CREATE TABLE IF NOT EXISTS trash (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    original_path TEXT NOT NULL,                  -- relative to articles/
    trash_path TEXT NOT NULL,                     -- relative to articles/
    deleted_by TEXT,
    deleted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- Permanent redirects left by slug and category renames (paths decoded, as Flask sees them).
CREATE TABLE IF NOT EXISTS redirects (
    old_path TEXT PRIMARY KEY,
    new_path TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    user_id INTEGER,
    user_email TEXT,                              -- kept as text: survives the user's removal
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}'            -- JSON
);
CREATE INDEX IF NOT EXISTS audit_log_by_created ON audit_log (created_at);
