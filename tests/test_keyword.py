"""Keyword search (issue 3): kb.search.keyword, synonyms and snippets, against real Whoosh indexes.

Most tests search the session index of tests/data/articles in keyword mode; tests that need
articles of their own build a small keyword-only index (no model) in tmp_path.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from whoosh.query import Every

from kb import KnowledgeBase
from kb.content.render import render_markdown
from kb.search import keyword
from kb.search import keyword_index
from kb.search import spelling
from kb.search.embed import word_pieces
from kb.search.vocabulary import Vocabulary
from kb.text import stem
from kb.search.snippets import best_window
from kb.search.snippets import make_snippet
from kb.search.snippets import matched_spans
from kb.search.synonyms import SynonymTable
from kb.search.synonyms import load_synonyms
from kb.search.synonyms import parse_synonyms
from kb.text import analyze
from kb.urls import article_url
from conftest import make_settings

REFUND = "سياسة-الاسترداد"
COMPLAINTS = "handling-customer-complaints"
ANGRY = "handling-angry-customers"
TIME = "time-and-stress-management"
REVIEWS_EN = "responding-to-negative-reviews-en"
DRAFT = "customer-service-kpis"
INTERNAL = "response-times-and-escalation-guide"


def slugs(knowledge: KnowledgeBase, query: str, **options) -> list[str]:
    return [hit.slug for hit in knowledge.search(query, mode="keyword", limit=100, **options)]


@pytest.fixture(scope="module")
def reader(session_kb):
    index = keyword_index.open_index(session_kb.store.current() / "whoosh")
    with index.reader() as opened:
        yield opened


def article_file(title: str, body: str, **fields: str) -> str:
    lines = "".join(f"{name}: {value}\n" for name, value in fields.items())
    return f'---\ntitle: "{title}"\n{lines}---\n{body}\n'


def typo_expansions_of(knowledge: KnowledgeBase, text: str) -> tuple[keyword.AnalyzedQuery, dict[str, list[str]]]:
    """The question as analyzed, and the readings the keyword side gives its unknown words."""
    query = keyword.analyze_query(text, 500)
    with knowledge._searching(knowledge._read_state()) as searcher:
        return query, spelling.typo_expansions(searcher.reader(), query, Vocabulary())


def keyword_only_kb(base: Path, files: dict[str, str]) -> KnowledgeBase:
    """A knowledge base of these files, indexed without a model (fast)."""
    for name, text in files.items():
        path = base / "articles" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    knowledge = KnowledgeBase.from_settings(make_settings(base), embedder=False)
    knowledge.build()
    return knowledge


# -- normalization and stemming make spelling variants meet --------------------------------------------


@pytest.mark.parametrize(
    "variants",
    [
        ("الشكاوى", "الشكاوي"),
        ("مهارات", "المهارات"),
        ("بالعملاء", "العملاء"),
        ("إدارة", "ادارة"),
        ("إدارة الوقت", "ادارة الوقت", "إِدَارَةُ الـــوَقْتِ", "\u200fإدارة\u200e الوقت"),
        ("الاسترداد", "استرداد", "والاسترداد"),
        ("١٤ يومًا", "14 يوما"),
    ],
)
def test_spelling_variants_find_the_same_articles(session_kb, variants):
    results = [slugs(session_kb, variant) for variant in variants]
    assert results[0], f"{variants[0]!r} finds nothing: the comparison would prove nothing"
    assert all(found == results[0] for found in results), dict(zip(variants, results))


def test_stop_words_alone_find_nothing(session_kb):
    assert slugs(session_kb, "في من على هل كيف ماذا") == []
    assert slugs(session_kb, "how do I the") == []


def test_an_article_typed_apart_is_joined_to_its_word(session_kb):
    """"ال عميل" (a space after the article) is العميل; a lone "ال" is no word at all: it
    matched whatever the stemmer cut down to it (الآلية)."""
    assert keyword.join_detached_articles(["ال", "عميل", "ال", "crm", "ال"]) == ["العميل", "crm"]
    assert keyword.analyze_query("ال عميل", 500).words == ("العميل",)
    assert slugs(session_kb, "ال") == []
    assert slugs(session_kb, "ال شكاوي") == slugs(session_kb, "الشكاوي")


def test_query_words_are_matched_through_their_stems(session_kb):
    """The article says 'الشكاوى'/'شكوى' forms; the customer writes 'شكاوي'."""
    assert slugs(session_kb, "شكاوي")[0] == COMPLAINTS


# -- synonyms -------------------------------------------------------------------------------------------


def test_synonym_finds_an_article_that_never_uses_the_word(session_kb):
    article = session_kb.catalog.articles[REFUND]
    text = article.title + article.body + " ".join(e.q + e.a for e in article.faq)
    assert "استرجاع" not in text
    assert REFUND in slugs(session_kb, "استرجاع")
    assert REFUND in slugs(session_kb, "أريد استرجاع")


def rewrite_synonyms(knowledge: KnowledgeBase, text: str) -> None:
    path = knowledge.articles_dir / "_synonyms.yml"
    path.write_text(text, encoding="utf-8")
    stamp = time.time() + 5  # a new mtime even on a coarse-grained file system
    os.utime(path, (stamp, stamp))


def test_synonyms_apply_at_query_time_without_reindexing(fresh_kb):
    """GIVEN the refund article (it says استرداد, never استرجاع) and the synonym group that joins them
    WHEN the group is removed from _synonyms.yml, and later a new group is added
    THEN the same index stops finding it for استرجاع, then finds it for the new word."""
    assert REFUND in slugs(fresh_kb, "استرجاع")
    original = (fresh_kb.articles_dir / "_synonyms.yml").read_text(encoding="utf-8")
    without = "\n".join(line for line in original.split("\n") if "استرجاع" not in line)
    rewrite_synonyms(fresh_kb, without)
    assert REFUND not in slugs(fresh_kb, "استرجاع")
    rewrite_synonyms(fresh_kb, without + "\n- [مصاري, استرداد]\n")
    assert REFUND in slugs(fresh_kb, "مصاري")


def test_broken_synonyms_file_logs_and_searches_without_synonyms(fresh_kb, caplog):
    rewrite_synonyms(fresh_kb, "- [unclosed\n")
    assert REFUND not in slugs(fresh_kb, "استرجاع")
    assert "synonyms" in caplog.text and "invalid YAML" in caplog.text
    assert slugs(fresh_kb, "استرداد")[0] == REFUND


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("- [unclosed\n", None, "invalid YAML at line 2"),
        ("a: b\n", None, "must be a list of groups"),
        ("- [وحيد]\n", "group 1", "at least two"),
        ("- [استرداد, استرجاع]\n- just text\n", "group 2", "at least two"),
        ("- [في, استرداد, استرجاع]\n", "group 1", "no searchable word"),
    ],
)
def test_synonym_problems_are_reported(text, field, reason):
    _, problems = parse_synonyms(text)
    assert [(p.file, p.field) for p in problems] == [("_synonyms.yml", field)]
    assert reason in problems[0].reason


def test_synonym_entries_are_analyzed_like_queries():
    table, problems = parse_synonyms("- [إرجاع المبلغ, استرداد, refund]\n- [الزبون, العميل]\n")
    assert problems == []
    assert table.expansions(tuple(analyze("أريد استرداد"))) == [tuple(analyze("ارجاع المبلغ")), ("refund",)]
    assert table.expansions(tuple(analyze("لزبون"))) == []  # لزبون is no form of الزبون
    assert table.expansions(tuple(analyze("الزبون غاضب"))) == [tuple(analyze("العميل"))]
    assert table.expansions(tuple(analyze("والإرجاع للمبلغ"))) == [("استرداد",), ("refund",)]
    assert SynonymTable().expansions(("x",)) == []


def test_groups_that_collapse_to_one_entry_are_dropped():
    table, _ = parse_synonyms("- [العميل, عميل, والعميل]\n")
    assert table.groups == ()


def test_load_synonyms_without_a_file(tmp_path):
    table, problems = load_synonyms(tmp_path)
    assert table.groups == () and problems == []


# -- typo tolerance and "did you mean" -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typo", "article", "suggestion"),
    [
        ("الاسترادد", REFUND, "الاسترداد"),  # two letters swapped
        ("التأقلن", TIME, "التاقلم"),  # one letter wrong
        ("reputaton", REVIEWS_EN, "reputation"),  # one letter missing
    ],
)
def test_one_typo_in_a_long_word_still_finds_the_article(session_kb, reader, typo, article, suggestion):
    [stem] = keyword.analyze_query(typo, 500).stems
    assert reader.doc_frequency("body", stem) == 0, "the typo must be unknown to the index"
    page = session_kb.search_page(typo, mode="keyword")
    assert article in [hit.slug for hit in page.hits]
    assert page.did_you_mean == suggestion


def _did_you_mean(reader, question: str, word_pieces=None) -> str | None:
    return spelling.did_you_mean(reader, question, keyword.analyze_query(question, 500), Vocabulary(), word_pieces)


def test_did_you_mean_keeps_the_rest_of_the_question_as_typed(reader):
    assert _did_you_mean(reader, "ما سياسة الاسترادد لعام 2026 ab؟") == "ما سياسة الاسترداد لعام 2026 ab؟"
    assert _did_you_mean(reader, "سياسة الاسترداد") is None


@pytest.mark.parametrize("question", ["متى ولد ابن خلدون", "سعر الفضة اليوم"])
def test_did_you_mean_leaves_real_words_the_articles_never_use(session_kb, reader, question):
    """A correctly spelt word the help center never uses is no typo: people write it often
    (kb.search.common_words), and the model's tokenizer holds it whole (kb.search.embed.word_pieces).
    Without those checks it was "corrected" into an unrelated index word (ولد -> ورد, سعر -> سار)."""
    pieces = word_pieces(session_kb.embedder)
    assert any(not reader.doc_frequency("spell", word) for word in keyword.analyze_query(question, 500).words), \
        "the index must lack a word of it"
    assert _did_you_mean(reader, question) is None
    assert _did_you_mean(reader, question, pieces) is None
    assert _did_you_mean(reader, "سياسة الاسترادد", pieces) == "سياسة الاسترداد"  # a typo still is one
    page = session_kb.search_page(question)
    assert page.total == 0 and page.did_you_mean is None


def test_a_suggestion_is_one_the_search_answers(session_kb):
    keyword_page = session_kb.search_page("الاسترادد", mode="keyword")
    assert keyword_page.did_you_mean == "الاسترداد"
    assert session_kb.search_page(keyword_page.did_you_mean, mode="keyword").total > 0


def test_no_suggestion_when_the_query_finds_plenty(session_kb):
    page = session_kb.search_page("خدمة العملاء", mode="keyword")
    assert page.total >= 3
    assert page.did_you_mean is None


def test_correct_words_are_not_expanded(reader):
    query = keyword.analyze_query("الاسترداد الاسترادد", 500)
    assert spelling.typo_expansions(reader, query, Vocabulary()) == {query.stems[1]: ["استرداد"]}


def test_a_typo_whose_stem_is_two_letters_is_looked_up_through_the_typed_word(tmp_path):
    """GIVEN an article about the language ("اللغة")
    WHEN the question mistypes it with a neighbouring key ("اللفة": light10 leaves "لف")
    THEN the typed word's one-edit neighbour is found, and so is the article."""
    knowledge = keyword_only_kb(tmp_path, {"language.md": article_file("تعلم اللغة", "دروس اللغة العربية للمبتدئين."),
                                           "shipping.md": article_file("الشحن", "مدة الشحن ثلاثة أيام.")})
    query, expansions = typo_expansions_of(knowledge, "اللفة")
    assert query.stems == ("لف",)
    assert expansions == {"لف": [stem("اللغه")]}
    assert slugs(knowledge, "اللفة") == ["language"]


def test_a_word_only_a_tag_holds_corrects_a_typo(tmp_path):
    """GIVEN an article whose tag alone names refunds (الاسترداد; its text says "نعيد المبلغ")
    WHEN a question mistypes the word, joined to a preposition (two letters swapped: "للاسترادد", so
    no word as typed is one edit from it, only its stem)
    THEN the tag's word is the correction, as a word of the text would be, and the article is found."""
    knowledge = keyword_only_kb(tmp_path, {
        "refunds.md": article_file("إعادة المبلغ", "نعيد المبلغ خلال سبعة أيام من الطلب.", tags="[الاسترداد]"),
        "shipping.md": article_file("الشحن", "مدة الشحن ثلاثة أيام."),
    })
    with knowledge._searching(knowledge._read_state()) as searcher:
        assert searcher.reader().doc_frequency("body", stem("الاسترداد")) == 0
    query, expansions = typo_expansions_of(knowledge, "للاسترادد")
    assert expansions == {query.stems[0]: [stem("الاسترداد")]}
    assert slugs(knowledge, "للاسترادد") == ["refunds"]


def test_a_joined_preposition_the_stemmer_keeps_is_tried_without_it(reader):
    """Light10 strips "بال"/"لل" but keeps a bare "ل"/"ب" glued to a word without the article."""
    query = keyword.analyze_query("لاسترداد مبلغ", 500)
    assert query.stems[0] == "لاسترداد"  # unknown to the index as it is
    assert spelling.typo_expansions(reader, query, Vocabulary()) == {"لاسترداد": ["استرداد"]}


def test_spoken_ala_joined_to_the_article_is_tried_without_it(tmp_path):
    """GIVEN an article about competitors and one about the world's markets
    WHEN a customer writes على as the spoken ع joined to the article ("عالمنافسين")
    THEN it is read as المنافسين; a word the index knows as written ("عالم") is left alone."""
    knowledge = keyword_only_kb(tmp_path, {
        "competition.md": article_file("المنافسة", "لماذا يذهب العملاء إلى المنافسين؟"),
        "world.md": article_file("الأسواق", "نبيع في كل أنحاء العالم."),
    })
    query, expansions = typo_expansions_of(knowledge, "عالمنافسين عالم")
    assert expansions == {query.stems[0]: [stem("المنافسين")]}
    assert slugs(knowledge, "عالمنافسين") == ["competition"]


def test_joined_preposition_forms_match_weakly_in_both_directions(tmp_path):
    """GIVEN an article that only writes "بجوجل" and one that writes "جوجل"
    WHEN customers search either form
    THEN both articles are found, and the one with the form they typed ranks first."""
    knowledge = keyword_only_kb(
        tmp_path,
        {
            "joined.md": article_file("ربط الحساب", "يمكنك تسجيل الدخول بجوجل من صفحة الحساب."),
            "bare.md": article_file("خدمات البريد", "حساب جوجل يعمل مع البريد."),
        },
    )
    assert slugs(knowledge, "جوجل") == ["bare", "joined"]
    assert slugs(knowledge, "بجوجل") == ["joined"]  # a known word is not stripped
    query = keyword.analyze_query("جوجل", 500)
    with knowledge._searching(knowledge._read_state()) as searcher:
        assert spelling.clitic_forms(searcher.reader(), query) == {"جوجل": ["بجوجل"]}


# -- filters ------------------------------------------------------------------------------------------


def test_category_filter(session_kb):
    assert slugs(session_kb, "الطلب", category="orders") == [REFUND]
    assert slugs(session_kb, "الطلب", category="no-such-category") == []


def test_tag_filter(session_kb):
    assert slugs(session_kb, "العملاء", tags=["الشكاوى"]) == [COMPLAINTS]
    assert slugs(session_kb, "العملاء", tags=["الشكاوى", "التصعيد"]) == [COMPLAINTS]
    assert slugs(session_kb, "العملاء", tags=["الشكاوى", "الصبر"]) == []


def test_language_filter(session_kb):
    assert slugs(session_kb, "complaint review", lang="en") == [REVIEWS_EN]
    assert REVIEWS_EN not in slugs(session_kb, "complaint review", lang="ar")


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_drafts_and_internal_articles_are_hidden_unless_asked_for(session_kb, mode):
    def found(query, **options):
        return [hit.slug for hit in session_kb.search(query, mode=mode, limit=100, **options)]

    assert DRAFT not in found("مؤشرات الأداء الرئيسية")
    assert DRAFT in found("مؤشرات الأداء الرئيسية", include_drafts=True)
    assert INTERNAL not in found("قائمة التصعيد وأهداف زمن الاستجابة")
    assert INTERNAL in found("قائمة التصعيد وأهداف زمن الاستجابة", include_internal=True)
    assert INTERNAL not in found("قائمة التصعيد وأهداف زمن الاستجابة", include_drafts=True)


@pytest.mark.parametrize(
    "filters",
    [
        keyword.Filters(),
        keyword.Filters(include_drafts=True),
        keyword.Filters(include_internal=True),
        keyword.Filters(include_drafts=True, include_internal=True),
        keyword.Filters(lang="en"),
        keyword.Filters(category="complaints-and-angry-customers"),
        keyword.Filters(tags=("التصعيد",)),
        keyword.Filters(tags=("وقت الاستجابة",), include_drafts=True, include_internal=True),
    ],
)
def test_index_filter_and_in_memory_filter_agree(session_kb, filters):
    """The semantic side filters in memory (allows), the keyword side in Whoosh (query)."""
    index = keyword_index.open_index(session_kb.store.current() / "whoosh")
    with index.searcher() as searcher:
        in_index = {hit["slug"] for hit in searcher.search(Every(), filter=filters.query("article"), limit=None)}
    in_memory = {slug for slug, article in session_kb.catalog.articles.items() if filters.allows(article)}
    assert in_index == in_memory
    assert in_index


# -- ranking, passages, snippets --------------------------------------------------------------------


def test_exact_phrase_ranks_higher(tmp_path):
    """GIVEN two articles with the same words, once as the phrase and once apart
    WHEN the phrase is searched
    THEN the article with the phrase ranks first."""
    knowledge = keyword_only_kb(
        tmp_path,
        {
            "apart.md": article_file("دليل أول", "المنتج يصل خلال أسبوع من الطلب. ويمكن بعدها طلب إرجاع عند الحاجة."),
            "phrase.md": article_file("دليل ثان", "يمكن إرجاع المنتج خلال أسبوع من الطلب. ثم ننظر في حالته عند الحاجة."),
        },
    )
    assert slugs(knowledge, "إرجاع المنتج") == ["phrase", "apart"]
    assert slugs(knowledge, "المنتج إرجاع")[0] == "phrase"  # slop 2 forgives the order


def test_a_phrase_in_a_tag_or_heading_ranks_like_one_in_the_title(tmp_path):
    """GIVEN an article that names the phrase only in a tag and a heading, and one that uses its
    words apart, more often, in its text
    WHEN the phrase is searched (a search-box query naming a tag)
    THEN the article with the tag ranks first (before, the headings field had no positions and
    earned no phrase bonus: "رضا العملاء" opened with an article that says the words in its body)."""
    knowledge = keyword_only_kb(
        tmp_path,
        {
            "tagged.md": article_file("كيف تقيس ما يراه عملاؤك", "## رضا العملاء\n\nاسأل بعد كل محادثة.",
                                      tags="[رضا العملاء, الاستبيانات]"),
            "apart.md": article_file("دليل الخدمة", "العملاء أولا. العملاء يسألون كثيرا، والرد السريع يبعث على الرضا "
                                     "عند العملاء وعند الفريق. رضا الموظف مهم أيضا."),
        },
    )
    assert slugs(knowledge, "رضا العملاء")[0] == "tagged"


def test_a_heading_phrase_does_not_run_into_the_next_tag():
    """Headings, FAQ questions and tags are one field, one a line: a phrase must not be found
    across two of them (the last word of one tag and the first of the next)."""
    def positions(tokenizer):
        return [token.pos for token in tokenizer("ضبط الوقت\nإدارة الفريق", positions=True)]

    _, last_of_first, first_of_next, _ = positions(keyword.KbTokenizer(line_gap=keyword_index.HEADING_GAP))
    assert first_of_next - last_of_first > 2  # beyond a phrase's slop
    assert positions(keyword.KbTokenizer()) == [0, 1, 2, 3]  # title and body: as before


def test_best_passage_gives_the_section_link(session_kb):
    hit = session_kb.search("بطاقة ائتمان محفظة إلكترونية", mode="keyword")[0]
    article = session_kb.catalog.articles[REFUND]
    assert hit.slug == REFUND
    assert hit.section == "مدة الاسترداد"
    assert hit.section_url == article_url(REFUND, "مدة-الاسترداد")
    assert 'id="مدة-الاسترداد"' in render_markdown(article.body).html
    assert hit.faq is None


def test_faq_hit_carries_the_entry(session_kb):
    hit = session_kb.search("كم يستغرق استرداد المبلغ", mode="keyword")[0]
    article = session_kb.catalog.articles[REFUND]
    assert hit.slug == REFUND
    assert hit.faq == article.faq[0].to_dict()
    assert hit.section == article.faq[0].q
    assert hit.section_url == article_url(REFUND, "faq")
    assert "<mark>المبلغ</mark>" in hit.snippet


def test_intro_passage_has_no_section(session_kb):
    hit = session_kb.search("iPhone Premium", mode="keyword")[0]
    assert hit.slug == REFUND
    assert hit.section is None and hit.section_url is None
    assert "<mark>iPhone</mark>" in hit.snippet


def test_highlight_marks_the_readers_own_words(session_kb):
    """The query says العملاء; the article says بالعملاء: that word is marked as written."""
    snippets = " ".join(hit.snippet for hit in session_kb.search("العملاء", mode="keyword", limit=20))
    assert "<mark>بالعملاء</mark>" in snippets
    assert "<mark>العملاء</mark>" in snippets


def test_snippet_is_html_escaped(tmp_path):
    knowledge = keyword_only_kb(
        tmp_path,
        {
            "tags.md": article_file(
                "الوسوم",
                "يكتب المحرر الوسم `<b>` للتغميق، والوسم `<script>` ممنوع.",
                faq='[{q: "كيف أغمق النص؟", a: "ضع النص بين <b> و </b> & لا تستخدم <script>alert(1)</script>"}]',
            )
        },
    )
    body_hit = knowledge.search("الوسم للتغميق", mode="keyword")[0]
    assert "&lt;b&gt;" in body_hit.snippet and "&lt;script&gt;" in body_hit.snippet
    faq_hit = knowledge.search("كيف أغمق النص", mode="keyword")[0]
    assert faq_hit.faq is not None
    assert "&lt;b&gt;" in faq_hit.snippet and "&amp;" in faq_hit.snippet
    for hit in (body_hit, faq_hit):
        assert "<b>" not in hit.snippet and "<script" not in hit.snippet
        assert hit.snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


@pytest.mark.parametrize(
    ("text", "query", "snippet"),
    [
        ("نقدم الخدمة بالعملاء أولا", "العملاء", "نقدم الخدمة <mark>بالعملاء</mark> أولا"),
        ("إِدارةُ الوقت مهمة", "ادارة", "<mark>إِدارةُ</mark> الوقت مهمة"),
        ("سلّم المنتج لمندوب الشحن", "سلم", "<mark>سلّم</mark> المنتج لمندوب الشحن"),
        ("خلال 14 يومًا", "يوما", "خلال 14 <mark>يومًا</mark>"),
        ("a <b> & c", "c", "a &lt;b&gt; &amp; <mark>c</mark>"),
        ("no match here", "zzz", "no match here"),
        ("  many   spaces\nand lines ", "lines", "many spaces and <mark>lines</mark>"),
    ],
)
def test_make_snippet(text, query, snippet):
    assert make_snippet(text, set(analyze(query))) == snippet


def test_long_text_snippet_is_a_window_around_the_matches():
    text = " ".join(["كلام"] * 200) + " الاسترداد هنا " + " ".join(["حشو"] * 200)
    snippet = make_snippet(text, set(analyze("استرداد")), width=100)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>الاسترداد</mark>" in snippet
    assert len(snippet) < 140


def test_best_window_picks_the_densest_run():
    text = "a x " * 50 + "b b b " + "c " * 50
    spans = matched_spans(text, {"b"})
    start, end = best_window(text, spans, 40)
    assert all(start <= s and e <= end for s, e in spans)


def test_analyze_query_caps_length_and_words():
    query = keyword.analyze_query("كلمة " * 50_000, 500)
    assert len(query.words) <= 64
    assert set(query.stems) == {"كلم"}
    assert keyword.analyze_query("x" * 10_000, 500).words == ("x" * 500,)


def test_articles_with_no_searchable_words_build_no_query():
    empty = keyword.analyze_query("في من على", 500)
    assert keyword.article_query(empty, {}, SynonymTable(), []) is None
    assert keyword.passage_terms(empty, {}, SynonymTable(), []) == {}


def test_vocabulary_prefix_lists_frequent_words_first(reader):
    words = spelling.vocabulary_prefix(reader, "الاستر", 5)
    assert "الاسترداد" in words
    assert all(word.startswith("الاستر") for word in words)


def test_indexes_written_by_earlier_versions_still_open(tmp_path):
    """Whoosh pickles the analyzer into the index's table of contents by its module path:
    kb.search.keyword.KbTokenizer is what every existing index names, so the class must stay
    there (moving it once made every index written before unreadable: AttributeError on open)."""
    import pickle
    import pickletools

    from kb.search import keyword_index

    index = keyword_index.create_index(tmp_path / "whoosh")
    index.writer().commit()
    toc = next((tmp_path / "whoosh").glob("_MAIN_*.toc")).read_bytes()
    schema_pickle = toc[toc.index(b"\x80"):]  # the schema, as Whoosh stores it
    names = {arg for op, arg, _ in pickletools.genops(schema_pickle) if op.name in ("GLOBAL", "SHORT_BINUNICODE", "BINUNICODE")}
    assert "kb.search.keyword KbTokenizer" in names or {"kb.search.keyword", "KbTokenizer"} <= names
    assert isinstance(pickle.loads(schema_pickle)["body"].analyzer, keyword.KbTokenizer)
    assert keyword_index.open_index(tmp_path / "whoosh").schema == index.schema
