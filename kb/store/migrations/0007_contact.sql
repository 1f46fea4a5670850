-- Contact-form deflection (kb/contact.py): the questions customers typed on /contact, the
-- articles shown and opened for them, the messages they still sent, and where those go.
-- Times are UTC, ISO 8601 text (as in 0001), so they sort and compare as strings.

-- Where sent messages go: one JSON row (mode off | email | webhook, SMTP and webhook fields).
CREATE TABLE IF NOT EXISTS contact_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL                           -- JSON
);

-- One row per visit of the contact form that typed a question ("asked").  The token is
-- random and only the visitor's page knows it: nobody else can add to their record.
CREATE TABLE IF NOT EXISTS contact_asks (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,              -- sha256 hex of the token the page holds
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    question TEXT NOT NULL,                       -- the latest text the articles were found for
    lang TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'site',          -- site | widget
    shown TEXT NOT NULL DEFAULT '[]',             -- JSON list of slugs shown, first shown first
    opened TEXT NOT NULL DEFAULT '[]',            -- JSON list of slugs the visitor opened
    sent_at TEXT                                  -- set when the visitor sent the message anyway
);
CREATE INDEX IF NOT EXISTS contact_asks_by_created ON contact_asks (created_at);

-- Messages sent: stored before any delivery attempt, so none is lost when SMTP or the
-- webhook is down.  status: pending (waiting for an attempt), sending (claimed by a worker
-- until lease_until), sent, failed (attempts used up: staff re-send it).
CREATE TABLE IF NOT EXISTS contact_messages (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    ask_id INTEGER REFERENCES contact_asks (id),
    name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL,
    message TEXT NOT NULL,
    lang TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'site',
    shown TEXT NOT NULL DEFAULT '[]',             -- JSON list of {slug, title, url} shown before sending
    opened TEXT NOT NULL DEFAULT '[]',            -- JSON list of slugs opened before sending
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    destination TEXT NOT NULL DEFAULT '',         -- where it went: "email:a@b" or "webhook:https://host/..."
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,      -- unix time
    lease_until REAL NOT NULL DEFAULT 0,          -- unix time; a crashed worker's claim runs out
    last_error TEXT NOT NULL DEFAULT '',
    sent_at TEXT
);
CREATE INDEX IF NOT EXISTS contact_messages_by_status ON contact_messages (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS contact_messages_by_created ON contact_messages (created_at);
