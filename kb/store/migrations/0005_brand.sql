-- The help center's brand (kb/brand.py): one JSON row of settings (colour, names per
-- language, footer links, category icons, asset hashes, version) and the uploaded logo and
-- favicon.  In the database so every server process sees a change on its next request.

CREATE TABLE IF NOT EXISTS brand_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL                           -- JSON
);

CREATE TABLE IF NOT EXISTS brand_assets (
    name TEXT PRIMARY KEY,                        -- "logo" or "favicon"
    mime TEXT NOT NULL,                           -- image/png or image/svg+xml (sanitized)
    data BLOB NOT NULL,
    sha256 TEXT NOT NULL,                         -- first 16 hex digits, part of the asset's URL
    updated_at REAL NOT NULL                      -- unix time
);
