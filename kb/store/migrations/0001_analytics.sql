-- Help-center analytics: searches (with the clicked result), article views, helpful votes.
-- No raw IP addresses: "visitor" is an HMAC of a random id kept in the visitor's session.
-- Times are UTC, ISO 8601 text, so they sort and compare as strings.

CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    query TEXT NOT NULL,              -- as typed (trimmed, spaces collapsed, cut to 200 chars)
    normalized TEXT NOT NULL,         -- Arabic-normalized, lowercased: what reports group by
    result_count INTEGER NOT NULL,
    category TEXT,                    -- category filter (slug), if any
    source TEXT NOT NULL DEFAULT 'site',
    clicked_slug TEXT,                -- the first result the visitor opened
    clicked_rank INTEGER,             -- its 1-based position in the results
    clicked_at TEXT
);
CREATE INDEX IF NOT EXISTS searches_by_normalized ON searches (normalized);
CREATE INDEX IF NOT EXISTS searches_by_created ON searches (created_at);

CREATE TABLE IF NOT EXISTS article_views (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    slug TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS article_views_by_slug ON article_views (slug, created_at);
CREATE INDEX IF NOT EXISTS article_views_by_created ON article_views (created_at);

CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    slug TEXT NOT NULL,
    helpful INTEGER NOT NULL CHECK (helpful IN (0, 1)),
    comment TEXT CHECK (comment IS NULL OR length(comment) <= 1000),
    visitor TEXT NOT NULL,
    UNIQUE (slug, visitor)
);
CREATE INDEX IF NOT EXISTS votes_by_slug ON votes (slug);
