-- Staff e-mail addresses in one case (kb.store.users.normalize_email), so they match on
-- PostgreSQL, which has no COLLATE NOCASE, as they did on SQLite.  Before this, an address was
-- kept as typed ("Admin@Example.com") and found in any case through the column's NOCASE
-- collation; from now on it is stored with A-Z lowered and compared as stored.  SQLite's
-- lower() folds only A-Z, as normalize_email does.  The unique NOCASE column means no two
-- addresses can collide here.  No "WHERE email != lower(email)": under a case-insensitive
-- collation (PostgreSQL's kb_nocase) that comparison is never true.
UPDATE staff_users SET email = lower(email);
UPDATE login_failures SET email = lower(email);
