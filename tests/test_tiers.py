"""Which articles answer and which are only related (kb.search.tiers): the count a search
shows is the number of articles that answer, not the size of the collection."""

from __future__ import annotations

import re

import pytest

from kb.search import tiers

# Written for these tests (not from any evaluation set), each with the article that answers it.
QUESTIONS = [
    ("عميل معصب وش اسوي معاه", "handling-angry-customers"),
    ("ازاي ارد على زبون بيزعق في التليفون", "handling-angry-customers"),
    ("كيف بدي رد على حدا كتب تقييم سيء عنا", "responding-to-negative-reviews"),
    ("كيف بعرف اذا الزباين مبسوطين من خدمتنا", "measuring-satisfaction-and-customer-feedback"),
]


# -- the rule, on fixed scores ---------------------------------------------------------------------


def test_articles_answer_down_to_half_the_best_score():
    assert tiers.answer_count([1.0, 0.8, 0.51, 0.49, 0.6]) == 3  # the first under half ends the answers
    assert tiers.answer_count([0.4, 0.2, 0.19]) == 2
    assert tiers.answer_count([2.0]) == 1


def test_semantic_scores_are_cosines_and_answer_within_one_margin():
    # 0.80 is more than half of 0.85, but a cosine 0.05 under the best is far for e5
    assert tiers.answer_count([0.85, 0.83, 0.80], semantic_only=True, margin=0.03) == 2


def test_an_article_the_ranking_knows_to_be_only_related_ends_the_answers():
    # 0.7 is more than half the best, but the ranking flagged it (an article in the other
    # language standing on its stretched dense score alone): it and what follows are related
    assert tiers.answer_count([1.0, 0.9, 0.7, 0.6], related=[False, False, True, False]) == 2
    assert tiers.answer_count([1.0, 0.9], related=[True, False]) == 1  # never fewer than one
    assert tiers.answer_count([1.0, 0.9, 0.8], related=[False]) == 3  # no flag: as before


def test_there_is_always_one_answer_when_there_are_results_and_none_without():
    assert tiers.answer_count([]) == 0
    assert tiers.answer_count([0.0, 0.0]) == 2
    assert tiers.answer_count([-0.2, -0.5]) == 1


# -- searches with the real model -------------------------------------------------------------------


@pytest.mark.parametrize(("question", "slug"), QUESTIONS)
def test_the_right_article_answers_and_the_count_is_not_the_collection(session_kb, question, slug):
    page = session_kb.search_page(question, limit=100)
    answers = [hit.slug for hit in page.hits if not hit.related]
    assert slug in answers
    assert len(answers) == page.total < len(session_kb.catalog.articles) - 1  # not all of them
    assert [hit.related for hit in page.hits] == [False] * page.total + [True] * page.related
    assert page.related <= tiers.RELATED_LIMIT


def test_the_ranking_is_the_same_list_with_the_related_articles_after(session_kb):
    """Labelling does not reorder: the first ten are what they were (the benchmarks read them)."""
    question = QUESTIONS[0][0]
    listed = session_kb.search(question, limit=100)
    first = session_kb.search_page(question, limit=2)
    rest = session_kb.search_page(question, limit=100, offset=2)
    assert [hit.slug for hit in first.hits + rest.hits] == [hit.slug for hit in listed]
    assert first.total == rest.total and first.related == rest.related
    assert [hit.related for hit in rest.hits] == [hit.related for hit in listed[2:]]


def test_the_api_counts_the_answers_and_flags_the_related_ones(client):
    body = client.get("/api/v1/search", query_string={"q": QUESTIONS[0][0], "limit": 50}).get_json()
    flags = [hit["related"] for hit in body["results"]]
    assert flags == [False] * body["total"] + [True] * body["related"]
    assert body["total"] >= 1 and QUESTIONS[0][1] in [hit["slug"] for hit in body["results"][: body["total"]]]


def test_the_site_says_how_many_answer_and_lists_the_related_ones_apart(client, session_kb):
    question = QUESTIONS[0][0]
    page = session_kb.search_page(question, limit=10)
    assert page.related, "the test needs a question with related articles"
    html = client.get("/en/search", query_string={"q": question}).get_data(as_text=True)
    count = re.search(r'<p class="result-count" role="status">(.*?)</p>', html, re.S).group(1)
    assert re.match(rf"{page.total} results? for", count), count  # the answers, not all that is listed
    assert "Related articles" in html
    answers, related = html.split('id="related-title"', 1)
    assert answers.count('<li class="result">') == page.total
    assert related.count('<li class="result">') == min(page.related, 10 - page.total)
    start = re.search(r'<ol class="results results--related" start="(\d+)">', related).group(1)
    assert int(start) == page.total + 1  # the ranks go on, for the click reports


def test_a_question_nothing_answers_has_neither_answers_nor_related_articles(session_kb):
    page = session_kb.search_page("كم عدد أقمار كوكب زحل", limit=100)
    assert (page.total, page.related, page.hits, page.reason) == (0, 0, [], "no_answer")


def test_the_widget_flags_the_related_articles(client, session_kb):
    question = QUESTIONS[0][0]
    page = session_kb.search_page(question, limit=6, lang="ar")  # the widget searches the page's language
    body = client.get("/api/widget/search", query_string={"q": question}).get_json()
    assert [(hit["slug"], hit["related"]) for hit in body["results"]] == [(hit.slug, hit.related) for hit in page.hits]
    assert any(hit["related"] for hit in body["results"]) and not body["results"][0]["related"]
