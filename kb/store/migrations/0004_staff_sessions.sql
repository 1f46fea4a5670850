-- Staff sessions kept on the server, so that signing out, a password change, a role change
-- or disabling an account ends them in every server process (the cookie only carries a
-- random session id; a copied cookie stops working the moment its row is gone).
-- staff_users.session_version (0003) is superseded by this table and dropped.

CREATE TABLE IF NOT EXISTS staff_sessions (
    id_hash TEXT PRIMARY KEY,                     -- sha256 hex of the id in the cookie (never the id itself)
    user_id INTEGER NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    created_at REAL NOT NULL,                     -- unix time
    expires_at REAL NOT NULL                      -- unix time; expired rows are purged at sign-in
);
CREATE INDEX IF NOT EXISTS staff_sessions_by_user ON staff_sessions (user_id);

ALTER TABLE staff_users DROP COLUMN session_version;
