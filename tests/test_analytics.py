"""kb.store.analytics on a real database: SQLite (WAL, migrations) in tmp_path and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from kb.store.analytics import MAX_COMMENT_CHARS
from kb.store.analytics import Analytics
from kb.store.analytics import normalize_query
from kb.store.db import Database
from kb.store.db import table_columns


@pytest.fixture
def database(database_url) -> Database:
    return Database(database_url)


@pytest.fixture
def analytics(database) -> Analytics:
    return Analytics(database)


def test_database_is_wal_and_migrated(tmp_path):
    conn = Database(tmp_path / "kb.sqlite3").connection()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert "0001_analytics" in {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}


def test_no_column_can_hold_an_ip_address(database):
    conn = database.connection()
    for table in ("searches", "article_views", "votes"):
        columns = set(table_columns(conn, table))
        assert not {"ip", "ip_address", "remote_addr", "user_agent"} & columns


@pytest.mark.parametrize("raw, normalized", [
    ("  كيف   أسترد  المبلغ؟ ", "كيف استرد المبلغ؟"),
    ("إرجاع الطلب", "ارجاع الطلب"),
    ("مُشكلة", "مشكله"),
    ("Refund POLICY", "refund policy"),
    ("", ""),
])
def test_normalize_query(raw, normalized):
    assert normalize_query(raw) == normalized


def test_top_queries_group_spelling_variants(analytics):
    for query in ("إرجاع الطلب", "ارجاع الطلب", "ارجاع  الطلب", "عميل غاضب"):
        analytics.record_search(query, 5)
    top = analytics.top_queries()
    assert [(s.normalized, s.searches) for s in top] == [("ارجاع الطلب", 3), ("عميل غاضب", 1)]
    assert top[0].avg_results == 5.0


def test_empty_queries_are_not_recorded(analytics):
    assert analytics.record_search("   ", 0) is None
    assert analytics.top_queries() == []


def test_zero_result_queries_are_the_content_gaps(analytics):
    analytics.record_search("شحن دولي", 0)
    analytics.record_search("شحن  دولي", 0)
    analytics.record_search("استرداد", 4)
    gaps = analytics.zero_result_queries()
    assert [(g.normalized, g.searches) for g in gaps] == [("شحن دولي", 2)]


def test_only_the_first_click_of_a_search_counts(analytics):
    search_id = analytics.record_search("استرداد", 3)
    assert analytics.record_click(search_id, "refund-policy", 1)
    assert not analytics.record_click(search_id, "other", 2)
    (stat,) = analytics.top_queries()
    assert stat.clicks == 1 and stat.click_rate == 1.0


def test_most_viewed_articles(analytics):
    for slug in ("a", "b", "b", "c", "c", "c"):
        analytics.record_view(slug)
    assert [(v.slug, v.views) for v in analytics.most_viewed_articles(limit=2)] == [("c", 3), ("b", 2)]


def test_one_vote_per_visitor_per_article(analytics):
    assert analytics.record_vote("a", "visitor-1", helpful=False)
    assert not analytics.record_vote("a", "visitor-1", helpful=True)
    assert analytics.record_vote("a", "visitor-2", helpful=True)
    assert analytics.record_vote("b", "visitor-1", helpful=True)
    votes = analytics.article_votes("a")
    assert (votes.helpful, votes.not_helpful, votes.helpful_ratio) == (1, 1, 0.5)
    assert analytics.vote_of("a", "visitor-1") == {"helpful": False, "comment": None}
    assert analytics.vote_of("a", "visitor-3") is None


def test_comment_is_added_once_and_cut_to_the_limit(analytics):
    analytics.record_vote("a", "v", helpful=False)
    assert analytics.add_comment("a", "v", "  " + "ن" * (MAX_COMMENT_CHARS + 50) + "\x00 ")
    assert not analytics.add_comment("a", "v", "again")
    assert not analytics.add_comment("a", "nobody", "no vote, no comment")
    assert analytics.vote_of("a", "v")["comment"] == "ن" * MAX_COMMENT_CHARS


def test_least_helpful_articles_with_comments(analytics):
    analytics.record_vote("bad", "v1", helpful=False, comment="ينقصها مثال")
    analytics.record_vote("bad", "v2", helpful=False)
    analytics.record_vote("bad", "v3", helpful=True, comment="جيدة")
    analytics.record_vote("meh", "v1", helpful=False)
    analytics.record_vote("meh", "v2", helpful=True)
    analytics.record_vote("good", "v1", helpful=True)
    report = analytics.least_helpful_articles()
    assert [(r.slug, r.helpful, r.not_helpful) for r in report] == [("bad", 1, 2), ("meh", 1, 1)]
    assert {c[2] for c in report[0].comments} == {"ينقصها مثال", "جيدة"}
    assert [r.slug for r in analytics.least_helpful_articles(min_votes=3)] == ["bad"]


def test_reports_respect_the_time_window(analytics, database):
    analytics.record_search("قديم", 0)
    database.connection().execute("UPDATE searches SET created_at = '2000-01-01T00:00:00Z'")
    analytics.record_search("جديد", 0)
    assert [s.normalized for s in analytics.zero_result_queries(days=30)] == ["جديد"]
    assert {s.normalized for s in analytics.zero_result_queries(days=None)} == {"قديم", "جديد"}


def test_recording_from_many_threads(analytics):
    def work():
        for _ in range(25):
            analytics.record_view("busy")
            analytics.record_search("سؤال", 1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert analytics.most_viewed_articles()[0].views == 100
    assert analytics.top_queries()[0].searches == 100
