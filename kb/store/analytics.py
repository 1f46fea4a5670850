"""Help-center analytics in the database: what customers search for, read, and find helpful.

The site records; the staff reports read.  Tables come from ``kb/store/migrations/0001_analytics.sql``.
No raw IP address is ever stored: votes carry a keyed hash of a random per-browser id
(``kb.web.security.visitor_key``), searches and views carry nothing about the visitor.

Every report takes ``days`` (look-back window; None for all time) and ``limit``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.store.db import Connection
from kb.store.db import Database
from kb.store.db import utc_timestamp
from kb.store.db import window_start
from kb.text import normalize_arabic

MAX_QUERY_CHARS = 200
MAX_COMMENT_CHARS = 500
# Control characters are dropped from what visitors type before it is stored: they mean nothing
# in a report, and PostgreSQL's text cannot hold a NUL at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def normalize_query(query: str) -> str:
    """The form searches are grouped by: Arabic-normalized, lowercased, single spaces."""
    return re.sub(r"\s+", " ", normalize_arabic(query).lower()).strip()[:MAX_QUERY_CHARS]


@dataclass(frozen=True)
class QueryStat:
    """One normalized query in a report: how often, how many results on average, clicks."""

    query: str  # an example of how customers typed it
    normalized: str
    searches: int
    avg_results: float
    clicks: int
    last_searched: str

    @property
    def click_rate(self) -> float:
        return self.clicks / self.searches if self.searches else 0.0


@dataclass(frozen=True)
class ArticleVotes:
    """An article's helpful votes, with the comments customers left."""

    slug: str
    helpful: int
    not_helpful: int
    comments: tuple[tuple[str, bool, str], ...] = ()  # (created_at, helpful, comment), newest first

    @property
    def votes(self) -> int:
        return self.helpful + self.not_helpful

    @property
    def helpful_ratio(self) -> float:
        return self.helpful / self.votes if self.votes else 0.0


@dataclass(frozen=True)
class ArticleViews:
    slug: str
    views: int


@dataclass(frozen=True)
class SourceStat:
    """Searches from one place customers search: "site", "widget" (the help widget), "api"."""

    source: str
    searches: int
    without_results: int
    clicks: int


class Analytics:
    """Record and report help-center events; one instance per app, safe across threads."""

    def __init__(self, db: Database):
        self.db = db

    @property
    def _conn(self) -> Connection:
        return self.db.connection()

    # -- recording -------------------------------------------------------------------------

    def record_search(self, query: str, result_count: int, category: str | None = None, source: str = "site") -> int | None:
        """Log one search; returns its id (for :meth:`record_click`), None for an empty query."""
        shown = re.sub(r"\s+", " ", _CONTROL.sub("", query)).strip()[:MAX_QUERY_CHARS]
        normalized = normalize_query(shown)
        if not normalized:
            return None
        return self._conn.execute(
            "INSERT INTO searches (query, normalized, result_count, category, source) VALUES (?, ?, ?, ?, ?) RETURNING id",
            (shown, normalized, int(result_count), _CONTROL.sub("", category or "") or None, source),
        ).fetchone()[0]

    def record_click(self, search_id: int, slug: str, rank: int) -> bool:
        """Note which result a search led to (the first click only counts)."""
        cursor = self._conn.execute(
            "UPDATE searches SET clicked_slug = ?, clicked_rank = ?, clicked_at = ? WHERE id = ? AND clicked_slug IS NULL",
            (slug, int(rank), utc_timestamp(), int(search_id)),
        )
        return cursor.rowcount == 1

    def record_view(self, slug: str) -> None:
        self._conn.execute("INSERT INTO article_views (slug) VALUES (?)", (slug,))

    def record_vote(self, slug: str, visitor: str, helpful: bool, comment: str | None = None) -> bool:
        """One vote per visitor per article; False if this visitor already voted on it."""
        cursor = self._conn.execute(
            "INSERT INTO votes (slug, helpful, comment, visitor) VALUES (?, ?, ?, ?) ON CONFLICT (slug, visitor) DO NOTHING",
            (slug, 1 if helpful else 0, _clean_comment(comment), visitor),
        )
        return cursor.rowcount == 1

    def add_comment(self, slug: str, visitor: str, comment: str) -> bool:
        """Attach a comment to the visitor's earlier vote (once; an existing comment is kept)."""
        cleaned = _clean_comment(comment)
        if not cleaned:
            return False
        cursor = self._conn.execute(
            "UPDATE votes SET comment = ? WHERE slug = ? AND visitor = ? AND comment IS NULL",
            (cleaned, slug, visitor),
        )
        return cursor.rowcount == 1

    def vote_of(self, slug: str, visitor: str) -> dict | None:
        """This visitor's vote on an article: {"helpful": bool, "comment": str|None}, or None."""
        row = self._conn.execute("SELECT helpful, comment FROM votes WHERE slug = ? AND visitor = ?", (slug, visitor)).fetchone()
        return {"helpful": bool(row["helpful"]), "comment": row["comment"]} if row else None

    # -- reports ---------------------------------------------------------------------------

    def top_queries(self, days: int | None = 30, limit: int = 20) -> list[QueryStat]:
        """The most frequent searches."""
        return self._query_stats("", days, limit)

    def zero_result_queries(self, days: int | None = 30, limit: int = 20) -> list[QueryStat]:
        """Frequent searches that found nothing: the content gaps."""
        return self._query_stats("AND result_count = 0", days, limit)

    def zero_result_query_count(self, days: int | None = 30) -> int:
        """How many different searches found nothing (the report lists the most frequent)."""
        row = self._conn.execute(
            "SELECT COUNT(DISTINCT normalized) AS queries FROM searches WHERE created_at >= ? AND result_count = 0",
            (window_start(days),),
        ).fetchone()
        return int(row["queries"] or 0)

    def _query_stats(self, condition: str, days: int | None, limit: int) -> list[QueryStat]:
        rows = self._conn.execute(
            f"""SELECT normalized, MAX(query) AS query, COUNT(*) AS searches, AVG(result_count) AS avg_results,
                       COUNT(clicked_slug) AS clicks, MAX(created_at) AS last_searched
                FROM searches WHERE created_at >= ? {condition}
                GROUP BY normalized ORDER BY searches DESC, last_searched DESC LIMIT ?""",
            (window_start(days), int(limit)),
        ).fetchall()
        return [
            QueryStat(row["query"], row["normalized"], row["searches"], float(row["avg_results"] or 0), row["clicks"],
                      row["last_searched"])
            for row in rows
        ]

    def searches_by_source(self, days: int | None = 30) -> list[SourceStat]:
        """How many searches came from each source, with those that found nothing and the clicks."""
        rows = self._conn.execute(
            """SELECT source, COUNT(*) AS searches, SUM(CASE WHEN result_count = 0 THEN 1 ELSE 0 END) AS without_results,
                      COUNT(clicked_slug) AS clicks
               FROM searches WHERE created_at >= ? GROUP BY source ORDER BY searches DESC, source""",
            (window_start(days),),
        ).fetchall()
        return [SourceStat(row["source"], row["searches"], row["without_results"] or 0, row["clicks"]) for row in rows]

    def most_viewed_articles(self, days: int | None = 30, limit: int = 10) -> list[ArticleViews]:
        rows = self._conn.execute(
            """SELECT slug, COUNT(*) AS views FROM article_views WHERE created_at >= ?
               GROUP BY slug ORDER BY views DESC, slug LIMIT ?""",
            (window_start(days), int(limit)),
        ).fetchall()
        return [ArticleViews(row["slug"], row["views"]) for row in rows]

    def least_helpful_articles(self, days: int | None = 90, limit: int = 20, min_votes: int = 1,
                               comments_per_article: int = 10) -> list[ArticleVotes]:
        """Articles with the most "not helpful" votes relative to all votes, with their comments."""
        since = window_start(days)
        rows = self._conn.execute(
            """SELECT slug, CAST(SUM(helpful) AS INTEGER) AS helpful, CAST(SUM(1 - helpful) AS INTEGER) AS not_helpful
               FROM votes WHERE created_at >= ? GROUP BY slug HAVING COUNT(*) >= ? AND SUM(1 - helpful) > 0
               ORDER BY CAST(SUM(1 - helpful) AS DOUBLE PRECISION) / COUNT(*) DESC, not_helpful DESC, slug LIMIT ?""",
            (since, int(min_votes), int(limit)),
        ).fetchall()
        result = []
        for row in rows:
            comments = self._conn.execute(
                """SELECT created_at, helpful, comment FROM votes
                   WHERE slug = ? AND created_at >= ? AND comment IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT ?""",
                (row["slug"], since, int(comments_per_article)),
            ).fetchall()
            result.append(ArticleVotes(
                row["slug"], row["helpful"], row["not_helpful"],
                tuple((c["created_at"], bool(c["helpful"]), c["comment"]) for c in comments),
            ))
        return result

    def article_votes(self, slug: str) -> ArticleVotes:
        row = self._conn.execute(
            "SELECT CAST(COALESCE(SUM(helpful), 0) AS INTEGER) AS helpful, CAST(COALESCE(SUM(1 - helpful), 0) AS INTEGER) "
            "AS not_helpful FROM votes WHERE slug = ?",
            (slug,),
        ).fetchone()
        return ArticleVotes(slug, row["helpful"], row["not_helpful"])


def _clean_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    cleaned = _CONTROL.sub("", comment).strip()[:MAX_COMMENT_CHARS]
    return cleaned or None
