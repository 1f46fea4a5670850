"""A help center with no article yet (a fresh install), with its first one, or with every article deleted.

Whoosh reads an index with no segment through an EmptyReader that has no segment of its
own; every search of such a help center used to fail with an internal error
(``kb.search.leaves``).  Real model, real Whoosh and faiss, Flask's test client.
"""

from __future__ import annotations

import shutil

import pytest

from conftest import DATA
from conftest import make_settings
from kb.store.apikeys import create_key
from kb.web import create_app

ARTICLE = DATA / "articles" / "complaints-and-angry-customers" / "handling-angry-customers.md"


@pytest.fixture
def empty_app(tmp_path):
    (tmp_path / "articles").mkdir()
    app = create_app(make_settings(tmp_path), test_config={"TESTING": True})
    app.extensions["kb"].start()
    return app


@pytest.fixture
def key(empty_app) -> str:
    return create_key(empty_app.extensions["kb_db"].connection(), "tests")[1]


def _searches_answer_nothing(client, key: str) -> None:
    page = client.get("/search?q=عميل غاضب")
    assert page.status_code == 200
    assert "تواصل مع الدعم" in page.get_data(as_text=True)
    api = client.get("/api/v1/search?q=عميل غاضب")
    assert api.status_code == 200
    assert api.get_json()["results"] == [] and api.get_json()["reason"] == "no_answer"
    suggest = client.post("/api/v1/suggest", json={"message": "العميل معصب جدا شو اعمل"},
                          headers={"Authorization": f"Bearer {key}"})
    assert suggest.status_code == 200
    assert suggest.get_json()["suggestions"] == []
    assert client.get("/search/suggest?q=عمي").status_code == 200


def test_a_help_center_without_articles_serves_its_pages_and_answers_nothing(empty_app, key):
    client = empty_app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/faq").status_code == 200
    assert client.get("/api/v1/health").status_code == 200
    _searches_answer_nothing(client, key)


def test_the_first_article_is_found_and_the_last_deleted_one_is_gone(empty_app, key, tmp_path):
    client = empty_app.test_client()
    knowledge = empty_app.extensions["kb"]
    target = tmp_path / "articles" / ARTICLE.name
    shutil.copy(ARTICLE, target)
    knowledge.upsert(target)
    knowledge.catch_up_vectors()
    found = client.get("/api/v1/search?q=كيف اتعامل مع عميل غاضب").get_json()
    assert [hit["slug"] for hit in found["results"]][:1] == ["handling-angry-customers"]

    target.unlink()
    assert knowledge.delete("handling-angry-customers")
    _searches_answer_nothing(client, key)


def test_a_help_center_with_one_article_still_says_nothing_here(empty_app, key, tmp_path):
    """With one article the calibration has no other article to match its own questions
    against: the off-topic probes alone set the threshold (kb.search.calibration), instead of
    no threshold and every question answered, keyboard noise included."""
    client = empty_app.test_client()
    knowledge = empty_app.extensions["kb"]
    target = tmp_path / "articles" / ARTICLE.name
    shutil.copy(ARTICLE, target)
    knowledge.upsert(target)  # as a publish does: keyword first, vectors from the worker, then the calibration
    knowledge.catch_up_vectors()
    health = client.get("/api/v1/health").get_json()
    assert health["answer_threshold_source"] == "calibrated" and health["articles"] == 1
    for question in ("العميل معصب مرة ويصارخ علي، وش اسوي؟", "my customer is furious, how do I calm him down"):
        found = client.get("/api/v1/search", query_string={"q": question}).get_json()
        assert [hit["slug"] for hit in found["results"]] == ["handling-angry-customers"], question
    for question in ("asdkjh qwpoe", "كم سعر كيلو الطماطم اليوم", "who won the football world cup"):
        nothing = client.get("/api/v1/search", query_string={"q": question}).get_json()
        assert nothing["results"] == [] and nothing["reason"] == "no_answer", question
