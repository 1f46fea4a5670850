"""Typos in questions with no answer: the editors' synonyms as vocabulary, and a question in
Latin letters searched corrected ("Showing results for ...") when the correction answers.

With the bundled launch articles (Arabic, two English translations) and the real model."""

from __future__ import annotations

import pytest

from kb.search import keyword
from kb.search import keyword_index
from kb.search import spelling
from kb.search.embed import word_pieces
from kb.search.synonyms import parse_synonyms
from kb.search.vocabulary import Vocabulary


@pytest.fixture(scope="module")
def launch_reader(launch_kb):
    index = keyword_index.open_index(launch_kb.store.current() / "whoosh")
    with index.reader() as opened:
        yield opened


def test_the_synonym_table_keeps_the_words_of_its_valid_groups_as_written():
    table, problems = parse_synonyms("- [البريد الإلكتروني, Email, e-mail]\n- [alone]\n")
    assert {"email", "البريد", "الالكتروني"} <= table.words
    assert "alone" not in table.words  # a group of one is reported, not used
    assert [problem.field for problem in problems] == ["group 2"]


@pytest.mark.parametrize(("typed", "words", "expected"), [
    ("emial", {"email", "escalation"}, ["email"]),  # two letters swapped
    ("satisfacton", {"satisfaction"}, ["satisfaction"]),  # a letter dropped
    ("email", {"emails"}, ["emails"]),
    ("qwpoe", {"email", "escalation"}, []),
    ("emxyl", {"email"}, []),  # two letters wrong: no typo of it
])
def test_near_words_takes_one_likely_edit(typed, words, expected):
    assert spelling.near_words(typed, words) == expected


def test_a_word_only_the_synonyms_name_corrects_a_typo_and_is_none(launch_kb, launch_reader):
    """No launch article writes "email" (the Arabic ones say البريد الإلكتروني); the synonyms
    name it, so "emial" is its typo, and "email" itself is no typo."""
    words = launch_kb.synonyms().words
    pieces = word_pieces(launch_kb.embedder)

    def suggest(question, synonym_words):
        return spelling.did_you_mean(launch_reader, question, keyword.analyze_query(question, 500), Vocabulary(),
                                     pieces, synonym_words)

    assert not launch_reader.doc_frequency("spell", "email") and "email" in words
    assert suggest("emial support", ()) is None
    assert suggest("emial support", words) == "email support"
    assert suggest("email support", words) is None


@pytest.mark.parametrize(("typed", "corrected", "article"), [
    ("angry custmer", "angry customer", "handling-angry-customers"),
    ("emial support", "email support", "email-and-live-chat-support"),
])
def test_an_english_question_with_no_answer_is_searched_corrected(launch_kb, typed, corrected, article):
    assert launch_kb.search_page(corrected).total > 0
    page = launch_kb.search_page(typed)
    assert page.corrected == corrected
    assert page.did_you_mean is None and page.reason is None
    assert page.total > 0 and article in [hit.slug for hit in page.hits[:3]]


def test_an_arabic_typo_keeps_its_suggestion_and_is_not_searched_for_the_visitor(launch_kb):
    """Arabic corrections turn real words the articles do not use into others (تكيس -> تقيس):
    the visitor is offered the correction and chooses."""
    page = launch_kb.search_page("الايمل")
    assert page.total == 0 and page.reason == "no_answer" and page.corrected is None
    assert page.did_you_mean == "الايميل"
    assert launch_kb.search_page(page.did_you_mean).total > 0


@pytest.mark.parametrize("question", ["asdkjh qwpoe", "gold price today", "recipie for pancakes"])
def test_latin_questions_the_help_center_does_not_answer_stay_unanswered(launch_kb, question):
    page = launch_kb.search_page(question)
    assert page.total == 0 and page.hits == [] and page.corrected is None


def test_a_question_with_an_answer_is_never_replaced(launch_kb):
    page = launch_kb.search_page("angry customer")
    assert page.total > 0 and page.corrected is None and page.did_you_mean is None


def test_the_site_says_which_question_it_searched(client):
    """GIVEN the test articles WHEN a visitor searches "angry custmer" (no answer as typed)
    THEN the page says so, shows the corrected question's results, and counts them as its."""
    html = client.get("/en/search", query_string={"q": "angry custmer"}).get_data(as_text=True)
    assert "No results for “<bdi>angry custmer</bdi>”. Showing results for “<bdi>angry customer</bdi>”." in html
    assert "click?to=handling-angry-customers&amp;sid=1&amp;rank=1" in html  # the first result
    assert "result for “<bdi>angry customer</bdi>”" in html or "results for “<bdi>angry customer</bdi>”" in html
    assert "Did you mean" not in html
    arabic = client.get("/ar/search", query_string={"q": "angry custmer"}).get_data(as_text=True)
    assert "هذه نتائج «<bdi>angry customer</bdi>»" in arabic


def test_the_api_says_which_question_it_searched(client):
    body = client.get("/api/v1/search", query_string={"q": "angry custmer"}).get_json()
    assert body["corrected"] == "angry customer" and body["did_you_mean"] is None and body["reason"] is None
    assert body["total"] > 0 and body["results"][0]["slug"] == "handling-angry-customers"
    assert client.get("/api/v1/search", query_string={"q": "angry customer"}).get_json()["corrected"] is None
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["SearchResponse"]
    assert "corrected" in schema["required"] and "corrected" in schema["properties"]


def test_the_suggest_api_says_which_message_it_searched(client, app):
    """An agent pastes a misspelt English message with no answer as typed: the suggestions are
    the corrected message's, and the response says what was searched."""
    from kb.store.apikeys import create_key

    secret = create_key(app.extensions["kb_db"].connection(), "tests")[1]
    body = client.post("/api/v1/suggest", json={"message": "Hello,\nangry custmer\nThanks, Sara"},
                       headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert body["focused_query"] == "angry custmer" and body["corrected"] == "angry customer"
    assert body["suggestions"][0]["slug"] == "handling-angry-customers" and body["reason"] is None
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["SuggestResponse"]
    assert "corrected" in schema["required"]
