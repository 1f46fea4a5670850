"""An install upgraded from the previous release keeps working on the files it has.

tests/fixtures/previous-release holds two articles and the index the previous release
(commit a9b8517, ANALYZER_VERSION 8) built of them.  The suite otherwise builds every index
fresh, so nothing else would notice a change that makes an existing index unreadable: Whoosh
pickles the analyzer's module path into the index, and moving that class once made every
index written before the move fail to open.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from kb import KnowledgeBase
from kb.search import keyword
from conftest import make_settings

FIXTURE = Path(__file__).parent / "fixtures" / "previous-release"


def test_the_previous_release_s_index_opens_answers_and_is_rebuilt_once(tmp_path, session_kb):
    """GIVEN the articles folder and index of the previous release
    WHEN today's kb opens them
    THEN it answers from the old index at once, and its first index run rebuilds it for
    today's analyzer (the manifest says which), after which it answers the same."""
    shutil.copytree(FIXTURE, tmp_path, dirs_exist_ok=True)
    manifest = json.loads((tmp_path / "index" / "gen-1" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["analyzer_version"] < keyword.ANALYZER_VERSION

    knowledge = KnowledgeBase.from_settings(make_settings(tmp_path), embedder=session_kb.embedder)
    assert [hit.slug for hit in knowledge.search("استرداد المبلغ", mode="keyword")][:1] == ["refunds"]
    assert [hit.slug for hit in knowledge.search("shipping times", mode="keyword")][:1] == ["shipping"]

    report = knowledge.index()
    assert report.full  # a new analyzer: every article is analyzed again
    current = (tmp_path / "index" / "CURRENT").read_text(encoding="utf-8").strip()
    rebuilt = json.loads((tmp_path / "index" / current / "manifest.json").read_text(encoding="utf-8"))
    assert rebuilt["analyzer_version"] == keyword.ANALYZER_VERSION
    assert [hit.slug for hit in knowledge.search("كيف أسترد المبلغ", mode="hybrid")][:1] == ["refunds"]
    assert knowledge.index().full is False  # once
