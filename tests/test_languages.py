"""One language at a time: kb.search.languages, then the launch articles with the real model."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.content.articles import Article
from kb.content.articles import FaqEntry
from kb.search.keyword import SYNONYM_BOOST
from kb.search.keyword import Filters
from kb.search.keyword import analyze_query
from kb.search.keyword import passage_terms
from kb.search.languages import detect_language
from kb.search.languages import group_by_language
from kb.search.languages import level_dense
from kb.search.languages import nearest_across_languages
from kb.search.languages import pair_keyword_scores
from kb.search.languages import translation_groups
from kb.search.languages import without_reader_version
from kb.search.ranking import RankedArticle
from kb.search.synonyms import CROSS_SCRIPT_WEIGHT
from kb.search.synonyms import parse_synonyms
from kb.text import analyze




@pytest.mark.parametrize(("text", "expected"), [
    ("كيف أتعامل مع عميل غاضب؟", "ar"),
    ("العميل متنرفز وعمال يزعق، اعمل ايه", "ar"),
    ("how do I handle an angry customer?", "en"),
    ("Customer keeps shouting at me", "en"),
    # Latin brand names, product names and acronyms inside Arabic text
    ("ما الفرق بين Zendesk و Freshdesk؟", "ar"),
    ("ما هو CRM وكيف أستخدمه مع WhatsApp", "ar"),
    ("عايز اعمل refund للاوردر", "ar"),
    ("refund ازاي", "ar"),
    # Arabic words inside an English sentence
    ("what does العميل mean in Arabic", "en"),
    ("How do I say شكرا to a customer", "en"),
    # Arabizi: Arabic in Latin letters with digits
    ("3ayez a3mel refund", "ar"),
    # digits vote for nothing; English with version numbers stays English
    ("طلبي رقم ٥٥٢١٠٠ تأخر 3 أيام", "ar"),
    ("my order 12345 is late, mp3 player on win7", "en"),
    # diacritics and tatweel
    ("كَيْفَ أُرْضِي العـــميل", "ar"),
    # nothing to go on
    ("12345", None),
    ("٥٥٢١٠٠", None),
    ("", None),
    ("?!…", None),
])
def test_detect_language(text, expected):
    assert detect_language(text) == expected


def _article(slug: str, lang: str = "ar", translation_of: str | None = None, **fields) -> Article:
    return Article(slug=slug, title=slug, body=fields.pop("body", "text"), path=Path(f"{slug}.md"), lang=lang,
                   translation_of=translation_of, **fields)


def _catalog(*articles: Article) -> dict[str, Article]:
    return {a.slug: a for a in articles}


CATALOG = _catalog(
    _article("angry"), _article("angry-en", "en", "angry"),
    _article("reviews"), _article("reviews-en", "en", "reviews"),
    _article("tone"), _article("english-only", "en"), _article("draft-en", "en", "tone", status="draft"),
)


def _ranked(*slugs: str) -> list[RankedArticle]:
    return [RankedArticle(slug, 1.0 - i / 10, "both", passage_id=f"{slug}#s1") for i, slug in enumerate(slugs)]


def test_translation_groups_pair_each_article_with_its_other_language_versions():
    groups = translation_groups(CATALOG)
    assert groups["angry"] == groups["angry-en"] == ("angry", "angry-en")
    assert groups["tone"] == ("draft-en", "tone")
    assert "english-only" not in groups


def test_translation_groups_ignore_missing_and_same_language_links():
    catalog = _catalog(_article("a"), _article("b", "ar", "a"), _article("c", "en", "gone"))
    assert translation_groups(catalog) == {}


def test_an_arabic_question_shows_the_pair_once_in_arabic_with_the_better_score():
    """GIVEN the English translation ranked first and its Arabic original third
    WHEN an Arabic question is grouped
    THEN the Arabic original takes the first place and score, linking to the English one."""
    result = group_by_language(_ranked("angry-en", "tone", "angry"), "عميل غاضب", CATALOG, Filters())
    assert [r.slug for r in result] == ["angry", "tone"]
    assert result[0].score == pytest.approx(1.0)
    assert result[0].passage_id == "angry#s1"  # its own passage, not the translation's
    assert result[0].translations == ("angry-en",)


def test_an_english_question_gets_the_english_version_first():
    result = group_by_language(_ranked("angry", "reviews", "angry-en"), "angry customer", CATALOG, Filters())
    assert [r.slug for r in result] == ["angry-en", "reviews-en"]
    assert result[0].translations == ("angry",)
    assert result[1].translations == ("reviews",)


def test_a_version_missing_from_the_ranking_stands_in_for_its_pair():
    """The reader's version was not among the candidates: it takes the pair's place, and
    the translation's passage maps to the same passage of an article built alike."""
    catalog = _catalog(
        _article("faq", faq=(FaqEntry("س؟", "ج"), FaqEntry("س٢؟", "ج٢"))),
        _article("faq-en", "en", "faq", faq=(FaqEntry("q?", "a"), FaqEntry("q2?", "a2"))),
    )
    ranked = [RankedArticle("faq-en", 0.9, "semantic", passage_id="faq-en#f1")]
    [item] = group_by_language(ranked, "سؤال", catalog, Filters())
    assert (item.slug, item.score, item.passage_id, item.translations) == ("faq", 0.9, "faq#f1", ("faq-en",))


def test_other_language_articles_without_a_pair_keep_their_place_and_ties_go_to_the_reader():
    """Their handicap is corrected before fusion (level_dense, ranking._unknown_words): the
    merge keeps the fused order and only breaks a tie toward the reader's language."""
    ranked = [RankedArticle("english-only", 1.0, "both"), RankedArticle("tone", 0.95, "both"),
              RankedArticle("reviews", 0.5, "both")]
    result = group_by_language(ranked, "كيف ارد", CATALOG, Filters())
    assert [r.slug for r in result] == ["english-only", "tone", "reviews"]
    tied = [RankedArticle("english-only", 0.9, "both"), RankedArticle("tone", 0.9, "both")]
    assert [r.slug for r in group_by_language(tied, "كيف ارد", CATALOG, Filters())] == ["tone", "english-only"]


def test_only_articles_with_no_version_in_the_readers_language_are_foreign():
    """An English reader: an Arabic article with an English translation is not handicapped
    (its translation stands for it), an Arabic article without one is; an Arabic reader: the
    English article without an Arabic version.  A draft translation counts only when drafts are shown."""
    slugs = ["angry", "angry-en", "tone", "english-only", "reviews"]
    assert without_reader_version(slugs, "en", CATALOG, Filters()) == {"tone"}
    assert without_reader_version(slugs, "en", CATALOG, Filters(include_drafts=True)) == set()
    assert without_reader_version(slugs, "ar", CATALOG, Filters()) == {"english-only"}
    assert without_reader_version(slugs, None, CATALOG, Filters()) == set()


def test_level_dense_raises_only_the_foreign_articles_and_reorders():
    ranking = [("english-faq", 0.86), ("arabic-answer", 0.84), ("arabic-other", 0.80)]
    assert level_dense(ranking, {"arabic-answer", "arabic-other"}, 0.03) == [
        ("arabic-answer", pytest.approx(0.87)), ("english-faq", 0.86), ("arabic-other", pytest.approx(0.83))]
    assert level_dense(ranking, set(), 0.03) == ranking
    assert level_dense(ranking, {"arabic-answer"}, 0.0) == ranking


def test_both_versions_of_a_pair_take_the_pairs_best_keyword_score():
    """GIVEN cross-language synonyms that matched the Arabic original better than its English
    translation WHEN the keyword ranking goes into fusion THEN the translation carries the
    pair's score; a version the keyword side did not find, and unpaired articles, are unchanged."""
    ranking = [("angry", 30.0), ("english-only", 25.0), ("angry-en", 12.0), ("tone", 5.0)]
    assert pair_keyword_scores(ranking, CATALOG) == [
        ("angry", 30.0), ("angry-en", 30.0), ("english-only", 25.0), ("tone", 5.0)]
    assert "draft-en" not in dict(pair_keyword_scores(ranking, CATALOG))
    unpaired = [("english-only", 3.0), ("tone", 2.0)]
    assert pair_keyword_scores(unpaired, CATALOG) == unpaired


def test_the_cut_meets_the_other_language_article_when_it_is_nearer_by_the_translation_margin():
    """The no-answer cut judges a question by its nearest article; an article that can only
    answer across languages is that much further (level_dense), so it counts as nearest once
    that margin is added, with its own cosine (the cut lowers its threshold for it)."""
    cosines = [("english-faq", 0.84), ("arabic-answer", 0.83), ("arabic-other", 0.80)]
    assert nearest_across_languages(cosines, {"arabic-answer", "arabic-other"}, 0.03) == [
        ("arabic-answer", 0.83), ("english-faq", 0.84), ("arabic-other", 0.80)]
    # Not nearer once the margin is counted, no foreign article, or already first: unchanged.
    assert nearest_across_languages(cosines, {"arabic-other"}, 0.03) == cosines
    assert nearest_across_languages(cosines, set(), 0.03) == cosines
    assert nearest_across_languages(cosines, {"english-faq"}, 0.03) == cosines
    assert nearest_across_languages([], {"arabic-answer"}, 0.03) == []


def test_an_english_question_answered_only_in_arabic_gets_results_when_an_english_article_is_nearer(launch_kb):
    """GIVEN an English question whose answer exists only in Arabic, while one of the two English
    articles (about other subjects) is nearer to it than any Arabic article as the model measures
    WHEN it is searched
    THEN it is answered (the cut judged it by the English article alone and left it without
    results) and the Arabic article is among the first three."""
    slugs = [h.slug for h in launch_kb.search("how to keep calm when I have too many tickets", limit=10)]
    assert "time-and-stress-management" in slugs[:3], slugs


def test_an_other_language_article_far_ahead_stays_ahead():
    """An English question whose only answer is an Arabic article (most have no English
    version) still gets that answer first."""
    ranked = [RankedArticle("tone", 1.0, "both"), RankedArticle("english-only", 0.4, "both")]
    result = group_by_language(ranked, "how to keep a friendly tone", CATALOG, Filters())
    assert [r.slug for r in result] == ["tone", "english-only"]


def test_with_no_weight_other_language_articles_come_last(monkeypatch):
    monkeypatch.setattr("kb.search.languages.OTHER_LANGUAGE_WEIGHT", 0.0)
    result = group_by_language(_ranked("english-only", "tone", "reviews"), "كيف ارد", CATALOG, Filters())
    assert [r.slug for r in result] == ["tone", "reviews", "english-only"]


def test_drafts_are_neither_shown_nor_linked_unless_asked_for():
    ranked = _ranked("tone")
    [item] = group_by_language(ranked, "tone of voice", CATALOG, Filters())
    assert (item.slug, item.translations) == ("tone", ())
    [item] = group_by_language(ranked, "tone of voice", CATALOG, Filters(include_drafts=True))
    assert (item.slug, item.translations) == ("draft-en", ("tone",))


def test_an_explicit_language_filter_wins_over_the_question():
    """lang=ar with an English question: the Arabic versions, still linking to English."""
    ranked = _ranked("angry", "reviews")  # what a lang=ar search can return
    result = group_by_language(ranked, "angry customer", CATALOG, Filters(lang="ar"))
    assert [(r.slug, r.translations) for r in result] == [("angry", ("angry-en",)), ("reviews", ("reviews-en",))]


def test_a_question_without_letters_keeps_the_order_and_folds_pairs_into_the_better_one():
    result = group_by_language(_ranked("angry-en", "tone", "angry", "english-only"), "12345", CATALOG, Filters())
    assert [r.slug for r in result] == ["angry-en", "tone", "english-only"]


# -- synonyms that cross languages ---------------------------------------------------------

SYNONYMS = """
- [العميل, الزبون, customer, client]
- [استرجاع, استرداد, refund]
- [وقت الاستجابة, response time]
"""


def _expansions(question: str) -> dict[str, float]:
    table, problems = parse_synonyms(SYNONYMS)
    assert not problems
    return {" ".join(entry): weight for entry, weight in table.weighted_expansions(tuple(analyze(question)))}


def test_latin_synonyms_count_less_for_an_arabic_question():
    weights = _expansions("العميل يريد استرجاع المبلغ")
    assert weights[analyze("الزبون")[0]] == 1.0
    assert weights[analyze("customer")[0]] == weights[analyze("refund")[0]] == CROSS_SCRIPT_WEIGHT < 1.0
    assert " ".join(analyze("response time")) not in weights  # a group the question did not name


def test_arabic_synonyms_stay_whole_for_an_english_question():
    """Most articles of an Arabic-first help center exist only in Arabic: the Arabic members
    are an English question's way to them."""
    weights = _expansions("the customer wants a refund")
    assert weights[analyze("العميل")[0]] == weights[analyze("استرجاع")[0]] == weights[analyze("client")[0]] == 1.0


def test_a_question_naming_a_group_in_both_scripts_gets_both():
    weights = _expansions("العميل customer")
    assert set(weights.values()) == {1.0}


def test_keyword_queries_carry_the_synonym_weights():
    table, _ = parse_synonyms(SYNONYMS)
    query = analyze_query("العميل غاضب", 500)
    terms = passage_terms(query, {}, table, query.unique_stems)
    assert terms[analyze("الزبون")[0]] == SYNONYM_BOOST
    assert terms[analyze("customer")[0]] == pytest.approx(SYNONYM_BOOST * CROSS_SCRIPT_WEIGHT)


# -- the launch articles, the real model ----------------------------------------------------

PAIRS = {"responding-to-negative-reviews": "responding-to-negative-reviews-en", "positive-language": "positive-language-en"}


@pytest.mark.parametrize("question", [
    "كيف أرد على تقييم سلبي على الإنترنت؟",
    "واحد كتب ريفيو سلبي عنا في تويتر شو نعمل",
    "ايش الكلمات اللي ما لازم أقولها للعميل",
    "ازاي ارد على العميل بلغة ايجابية",
])
def test_an_arabic_question_ranks_arabic_articles_and_shows_each_pair_once(launch_kb, question):
    hits = launch_kb.search(question, limit=10)
    slugs = [h.slug for h in hits]
    assert not any(s in PAIRS.values() for s in slugs), "an English translation in an Arabic question's results"
    assert all(h.lang == "ar" for h in hits)
    for hit in hits:
        if hit.slug in PAIRS:
            assert [t["slug"] for t in hit.translations] == [PAIRS[hit.slug]]
            assert hit.translations[0]["lang"] == "en" and hit.translations[0]["url"].endswith(PAIRS[hit.slug])
    assert slugs[0] in PAIRS  # the question is about one of the translated articles


@pytest.mark.parametrize(("question", "expected"), [
    ("How do I respond to a negative review online?", "responding-to-negative-reviews-en"),
    ("should I delete bad comments about our company", "responding-to-negative-reviews-en"),
    ("which words should I avoid when replying to a customer", "positive-language-en"),
    ("a customer left us a one star review, what should i do", "responding-to-negative-reviews-en"),
])
def test_an_english_question_gets_the_english_article_first(launch_kb, question, expected):
    hits = launch_kb.search(question, limit=10)
    assert hits[0].slug == expected
    assert [t["lang"] for t in hits[0].translations] == ["ar"]
    assert not {h.slug for h in hits} & set(PAIRS)  # the Arabic originals are folded into them


@pytest.mark.parametrize(("question", "expected"), [
    ("how can we tell whether customers are happy with our support", "measuring-satisfaction-and-customer-feedback"),
    ("what should a support agent do all day", "customer-service-agent-duties"),
    ("tips to stay calm with a stressful workload in a call center", "time-and-stress-management"),
])
def test_an_english_question_finds_the_arabic_article_when_no_english_one_answers(launch_kb, question, expected):
    """GIVEN an Arabic-first help center whose two English articles are about other subjects
    WHEN an English question is about an article that exists only in Arabic
    THEN that Arabic article is among the first two, ahead of every English article (which
    merely share the question's language and words)."""
    slugs = [h.slug for h in launch_kb.search(question, limit=10)]
    assert expected in slugs[:2], slugs
    assert all(slugs.index(expected) < slugs.index(english) for english in PAIRS.values() if english in slugs), slugs


@pytest.mark.parametrize(("question", "expected"), [
    ("negative review", "responding-to-negative-reviews-en"),
    ("review", "responding-to-negative-reviews-en"),
    ("complaints", "handling-customer-complaints"),
    ("escalation", "response-times-and-escalation-guide"),
    ("empathy", "showing-empathy-to-customers"),
])
def test_a_look_up_by_name_in_english_opens_with_the_article_it_names(launch_kb, question, expected):
    """GIVEN one or two English words the articles (or the synonyms, into Arabic) all have
    WHEN a visitor searches for them
    THEN the article they name comes first, not an Arabic article the nearly flat dense side
    happens to put a hair ahead (before: "negative review" and "complaints" opened with the
    article on replying to requests)."""
    hits = launch_kb.search(question, limit=10, include_internal=True)
    assert hits and hits[0].slug == expected, [h.slug for h in hits]


# The Arabic articles that name السمعة (an English reader gets the reviews article's English version).
REPUTATION = {"why-customer-service-matters", "what-is-customer-service", "customer-service-culture",
              "responding-to-negative-reviews", "responding-to-negative-reviews-en"}


def test_a_look_up_by_a_name_several_articles_share_answers_with_those_articles(launch_kb):
    """GIVEN four Arabic articles that speak of reputation (السمعة, which the launch synonyms call
    "reputation") and no English article about it
    WHEN a visitor searches for "reputation"
    THEN the answers are those articles, not most of the collection: before, every Arabic
    article kept its stretched dense standing, the article on replying to requests came first
    and 29 of 33 articles counted as answers."""
    page = launch_kb.search_page("reputation", limit=10)
    answers = [hit.slug for hit in page.hits[:page.total]]
    assert answers and set(answers) <= REPUTATION, answers
    assert page.related > 0  # the rest are still listed, as related


def test_an_english_question_counts_as_answers_only_the_arabic_articles_near_it(launch_kb):
    """GIVEN Arabic articles an English question reaches only through the dense side
    WHEN an English visitor asks which tools small shops use
    THEN the tools article comes first and the count stops where the Arabic articles fall
    more than a margin under the nearest one (before: 14 answers)."""
    page = launch_kb.search_page("what tools do small shops use for support tickets", limit=10)
    assert page.hits[0].slug == "customer-service-tools"
    assert 1 <= page.total <= 5, [hit.slug for hit in page.hits]


@pytest.mark.parametrize("question", ["customer service", "what is customer service"])
def test_a_look_up_by_a_name_every_article_shares_keeps_the_dense_reading(launch_kb, question):
    """The keyword side finds "customer service" nearly everywhere (through the synonyms), so
    the article about what customer service is stays first."""
    assert launch_kb.search(question, limit=10)[0].slug == "what-is-customer-service"


@pytest.mark.parametrize("question", ["رضا العملاء", "انتقال العملاء", "survey", "customer feedback"])
def test_a_search_for_a_tag_opens_with_the_article_it_tags(launch_kb, question):
    """GIVEN the satisfaction article, tagged رضا العملاء and آراء العملاء (which the launch synonyms
    also call "survey" and "customer feedback"), and articles that use those words in their text
    WHEN a visitor types the tag, or its English name, in the search box
    THEN the tagged article comes first: a phrase in a tag, heading or FAQ question earns the
    phrase bonus a title does (before: what-is-customer-service, why-customer-service-matters,
    how-to-reply-to-customer-requests or the English reviews article came first)."""
    assert launch_kb.search(question, limit=10)[0].slug == "measuring-satisfaction-and-customer-feedback"


def test_an_english_question_earns_proximity_in_arabic_through_the_synonyms(launch_kb):
    """"customer" and "representative" have one-word Arabic synonyms (العميل, الوكيل); the Arabic
    passages now count them for proximity, as the English articles' passages count the English
    words (before: the article on what customer service is came first)."""
    assert launch_kb.search("job description customer service representative")[0].slug == "customer-service-agent-duties"


def test_the_language_filter_wins_over_the_question_and_still_links_the_other(launch_kb):
    hits = launch_kb.search("How do I respond to a negative review online?", lang="ar", limit=5)
    assert hits and all(h.lang == "ar" for h in hits)
    assert hits[0].slug == "responding-to-negative-reviews"
    assert hits[0].translations[0]["slug"] == "responding-to-negative-reviews-en"
    hits = launch_kb.search("كيف أرد على تقييم سلبي على الإنترنت؟", lang="en", limit=5)
    assert hits and all(h.lang == "en" for h in hits)
    assert hits[0].slug == "responding-to-negative-reviews-en"
    assert hits[0].translations[0]["slug"] == "responding-to-negative-reviews"


def test_a_reference_list_is_never_the_answering_section(launch_kb):
    """The launch articles end with "## المصادر" lists: never the passage or the snippet,
    while the articles stay findable by their other sections."""
    questions = [
        "ما هي خدمة العملاء", "زبون معصب شو بعمل", "خدمة العملاء على وسائل التواصل الاجتماعي",
        "Harvard Business Review customer experience", "مصادر عن خدمة العملاء", "المصادر",
        "AI customer service task complexity", "Forbes future of customer service",
    ]
    seen = set()
    for question in questions:
        for hit in launch_kb.search(question, limit=10):
            seen.add(hit.slug)
            assert hit.section != "المصادر", (question, hit.slug)
            assert "Harvard Business Review" not in hit.snippet and "MIS Quarterly" not in hit.snippet
    assert {"what-is-customer-service", "social-media-customer-service"} <= seen


def test_the_site_shows_a_translated_pair_once_with_a_link_to_the_other_language(client):
    page = client.get("/search", query_string={"q": "كيف أرد على تقييم سلبي على الإنترنت؟"}).get_data(as_text=True)
    assert page.count('href="/articles/responding-to-negative-reviews-en"') == 1  # the link, not a result
    assert 'hreflang="en"' in page and "Also in English" in page
    english = client.get("/search", query_string={"q": "How do I respond to a negative review?"}).get_data(as_text=True)
    assert 'hreflang="ar"' in english and "متوفر بالعربية" in english


@pytest.mark.parametrize("slug", ["positive-language-en", "positive-language", "responding-to-negative-reviews-en"])
def test_an_articles_related_list_leaves_out_its_own_translation(launch_kb, slug):
    """A translation is its original's nearest neighbour, so "Related articles" on an English
    page listed the Arabic original first, the pair twice on one page (the page links it as
    "also in Arabic" already)."""
    own = set(translation_groups(launch_kb.catalog.articles, [slug])[slug])
    related = [article.slug for article in launch_kb.related(slug)]
    assert related and not own & set(related)
