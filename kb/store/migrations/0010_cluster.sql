-- Nodes that stay in step (kb.store.changes, kb.replication): the published collection in the
-- database, an append-only change log every node applies in order, and where each node is.
-- Written in the portable subset (kb.store.db): timestamps come from Python, booleans are 0/1.

-- Every file of the collection, by its path under articles/: articles (and their copies in
-- _trash/), _categories.yml, _synonyms.yml, _dialect.yml and the images under _media/.
CREATE TABLE IF NOT EXISTS collection_files (
    path TEXT PRIMARY KEY,                        -- relative to articles/, '/' separated
    content TEXT NOT NULL,                        -- the file: UTF-8 text, or base64 of its bytes
    encoding TEXT NOT NULL CHECK (encoding IN ('text', 'base64')),
    checksum TEXT NOT NULL,                       -- SHA-256 of the file's bytes; '' once deleted
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    seq INTEGER NOT NULL,                         -- the change that left it so
    updated_at TEXT NOT NULL
);

-- One row a change, in commit order (writers hold the publish lock: a later seq never commits first).
CREATE TABLE IF NOT EXISTS collection_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('write', 'delete')),
    checksum TEXT NOT NULL,                       -- of the written bytes; '' for a delete
    origin TEXT NOT NULL,                         -- the node that made it (its node_id)
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS collection_changes_by_path ON collection_changes (path, seq);

-- Once: the first node with articles copied its folder in (kb.store.changes.seed).
CREATE TABLE IF NOT EXISTS collection_state (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Where each node (a machine's articles and index folders) is in the change log: the health lag.
CREATE TABLE IF NOT EXISTS cluster_nodes (
    node_id TEXT PRIMARY KEY,
    applied_seq INTEGER NOT NULL DEFAULT 0,
    applied_at TEXT,                              -- when the last applied change was made
    last_seen TEXT NOT NULL
);
