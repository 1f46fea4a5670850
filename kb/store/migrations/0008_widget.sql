-- The help widget (/widget.js): the sites allowed to embed it.  Its API answers a browser
-- only for these origins (CORS); every other origin gets a 403 and no CORS headers.

CREATE TABLE IF NOT EXISTS widget_origins (
    origin TEXT PRIMARY KEY,                      -- scheme://host[:port], lower case, no path
    note TEXT NOT NULL DEFAULT '',                -- what the admin wrote about it ("shop")
    added_by TEXT,                                -- staff e-mail
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
