-- Per-minute rate limits shared by every server process and machine (kb.store.rate_limits):
-- one counter per limited key (a visitor's searches, an API key, a panel link) and minute.
-- Rows of finished minutes are deleted as requests come; nothing here is worth a backup.

CREATE TABLE IF NOT EXISTS rate_limit_hits (
    scope TEXT NOT NULL,                          -- what is limited: "search:<client hash>", "key:12"
    window_start BIGINT NOT NULL,                 -- Unix seconds at which the minute began (a multiple of 60)
    hits INTEGER NOT NULL,                        -- hits counted in that minute (never above the limit)
    PRIMARY KEY (scope, window_start)
);
CREATE INDEX IF NOT EXISTS rate_limit_hits_window ON rate_limit_hits (window_start);
