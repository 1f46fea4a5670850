-- Analytics placeholder: the site issue defines searches, views, votes here.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
