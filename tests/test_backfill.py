"""kb.backfill: the vector worker embeds what a publish left pending, one process at a time.

Real index, real model (``fresh_kb``), and a real second process holding ``vectors.lock``.
"""

from __future__ import annotations

from test_fsutil import other_process_holding


def test_pending_vectors_are_left_to_the_process_holding_the_vectors_lock(fresh_kb, monkeypatch):
    """GIVEN an article published with its vectors pending (searchable by keyword only)
    WHEN another process's worker holds ``vectors.lock`` THEN this process's pass embeds nothing
    (the passages are not embedded twice) and the article stays keyword-only;
    WHEN that process lets go THEN the next pass embeds it and it is searchable both ways."""
    monkeypatch.setattr(fresh_kb, "start_vector_worker", lambda: None)  # passes run here, by hand
    path = fresh_kb.articles_dir / "orders" / "loyalty-points.md"
    path.write_text("---\ntitle: \"استبدال نقاط الولاء بقسائم الشراء\"\n---\n\n"
                    "تتحول نقاط الولاء إلى قسائم شراء من صفحة المكافآت.\n", encoding="utf-8")
    fresh_kb.upsert(path)
    assert fresh_kb.index_status("loyalty-points") == "keyword_only"
    with other_process_holding(fresh_kb.store.root / "vectors.lock"):
        assert fresh_kb.vector_worker.run_once() == 0
        assert fresh_kb.index_status("loyalty-points") == "keyword_only"
    assert fresh_kb.vector_worker.run_once() == 1
    assert fresh_kb.index_status("loyalty-points") == "searchable"
