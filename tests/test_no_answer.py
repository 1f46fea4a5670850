"""The calibrated "no answer" (kb.search.calibration), with the real model on the test articles."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from kb import KnowledgeBase
from kb.search import calibration
from kb.search import evidence
from kb.search import no_answer
from tests.conftest import make_settings

# Written for these tests (not from any evaluation set): nothing in a customer-service help center answers them.
OFFTOPIC = [
    "كم عدد أقمار كوكب زحل",
    "وصفة المقلوبة الفلسطينية بالزهرة",
    "شو أحسن فريق بالدوري الإسباني",
    "how tall is mount kilimanjaro",
    "qzxv plmok wertyu",
]
# Dialect questions the test articles answer, with the article that answers them.
IN_DOMAIN = [
    ("عميل معصب وش اسوي معاه", "handling-angry-customers"),
    ("ازاي ارد على زبون بيزعق في التليفون", "handling-angry-customers"),
    ("كيف بدي رد على حدا كتب تقييم سيء عنا", "responding-to-negative-reviews"),
    ("how do i answer a bad review", "responding-to-negative-reviews-en"),
]


def test_index_calibrates_a_threshold_between_offtopic_and_own_questions(session_kb):
    calibrated = calibration.Calibration.from_dict(session_kb._read_state().manifest.answer_calibration)
    assert calibrated is not None
    assert calibrated.fingerprint == session_kb.embedder.fingerprint
    assert calibrated.probes == len(calibration.load_probes()) >= 150
    assert calibrated.threshold == pytest.approx(min(calibrated.offtopic_quantile, calibrated.inside_quantile), abs=1e-4)
    assert 0 < calibrated.spread < 1


def test_health_reports_the_threshold_and_where_it_comes_from(client, session_kb):
    body = client.get("/api/v1/health").get_json()
    assert body["answer_threshold_source"] == "calibrated"
    assert body["answer_threshold"] == pytest.approx(session_kb.answer_cut().threshold, abs=1e-4)
    assert body["answer_calibration"]["probes"] >= 150


@pytest.mark.parametrize("question", OFFTOPIC)
def test_offtopic_question_gets_no_results_and_a_reason(client, question):
    body = client.get("/api/v1/search", query_string={"q": question}).get_json()
    assert body["results"] == [] and body["total"] == 0
    assert body["reason"] == "no_answer"


@pytest.mark.parametrize(("question", "slug"), IN_DOMAIN)
def test_dialect_question_still_gets_its_article(client, question, slug):
    body = client.get("/api/v1/search", query_string={"q": question}).get_json()
    assert body["reason"] is None
    assert slug in [hit["slug"] for hit in body["results"][:3]]


def test_result_count_is_the_articles_that_answer_not_the_collection(session_kb):
    page = session_kb.search_page("عميل معصب وش اسوي معاه")
    public = sum(1 for article in session_kb.catalog.articles.values() if article.is_public)
    assert 0 < page.total < public


def test_site_shows_the_no_results_page_with_contact_support(client):
    html = client.get("/search", query_string={"q": OFFTOPIC[0]}).get_data(as_text=True)
    assert 'class="no-results"' in html and 'class="no-answer"' in html
    assert "mailto:help@example.com" in html
    assert 'class="results"' not in html


def test_no_answer_counts_as_a_zero_result_search(app, client):
    client.get("/search", query_string={"q": OFFTOPIC[1]})
    zero = app.extensions["kb_analytics"].zero_result_queries(days=1)
    assert any(stat.query == OFFTOPIC[1] for stat in zero)


def test_suggest_says_why_it_has_nothing(client, app):
    from kb.store.apikeys import create_key

    secret = create_key(app.extensions["kb_db"].connection(), "no-answer test")[1]
    response = client.post("/api/v1/suggest", json={"message": OFFTOPIC[2]}, headers={"Authorization": f"Bearer {secret}"})
    body = response.get_json()
    assert body["suggestions"] == [] and body["reason"] == "no_answer"


def test_the_setting_overrides_the_calibration(session_kb):
    strict = KnowledgeBase(session_kb.articles_dir, session_kb.settings.index_dir,
                           session_kb.settings.with_overrides(answer_threshold=0.999), embedder=session_kb.embedder)
    assert strict.answer_cut().source == "setting"
    # (IN_DOMAIN[0]'s words are all in its article: that answers whatever the cosine, see test below)
    assert strict.search_page(IN_DOMAIN[1][0]).reason == "no_answer"
    lenient = KnowledgeBase(session_kb.articles_dir, session_kb.settings.index_dir,
                            session_kb.settings.with_overrides(answer_threshold=0.0), embedder=session_kb.embedder)
    assert lenient.search(OFFTOPIC[0])


def test_kb_index_prints_the_threshold(fresh_dir, session_kb, monkeypatch):
    from kb.cli import cli

    monkeypatch.chdir(fresh_dir)
    result = CliRunner().invoke(cli, ["--articles-dir", str(fresh_dir / "articles"), "--index-dir",
                                      str(fresh_dir / "index"), "--data-dir", str(fresh_dir / "data"), "index"])
    assert result.exit_code == 0, result.output
    assert f"no-answer threshold: {session_kb.answer_cut().threshold:.4f} (calibrated" in result.output
    landmarks = session_kb.answer_cut().landmarks
    assert f"no-answer landmarks: {len(landmarks.offtopic)} off-topic and everyday probes with their MSA readings, " \
           f"{len(landmarks.inside)} of the articles' own questions and their dialect wordings" in result.output


SECRET_WORD = "زنفليطوس"


def _hidden_article(kb: KnowledgeBase, name: str, front: str) -> None:
    path = kb.articles_dir / "orders" / f"{name}.md"
    path.write_text(f"---\ntitle: \"ملاحظات {name}\"\n{front}\n---\n\nكلمة {SECRET_WORD} تظهر هنا فقط. "
                    f"{SECRET_WORD} مع خدمة العملاء.\n", encoding="utf-8")
    kb.upsert(path)


def test_words_only_in_drafts_or_internal_articles_do_not_change_public_results(fresh_kb):
    """GIVEN public searches for a word the collection lacks (alone and with other words)
    WHEN a draft and an internal article with that word are added
    THEN the public results and their count stay exactly the same (none for the word alone),
    while a search that includes drafts and internal articles finds them."""
    questions = [SECRET_WORD, f"{SECRET_WORD} خدمة العملاء", f"ما معنى {SECRET_WORD} عند العميل الغاضب"]

    def public_results():
        return [(mode, {hit.slug for hit in page.hits}, page.total)
                for question in questions for mode in ("hybrid", "keyword")
                for page in [fresh_kb.search_page(question, mode=mode, limit=100)]]

    before = public_results()
    _hidden_article(fresh_kb, "draft-note", "status: draft")
    _hidden_article(fresh_kb, "internal-note", "audience: internal")
    assert public_results() == before
    assert fresh_kb.search_page(SECRET_WORD).total == 0
    found = {hit.slug for hit in fresh_kb.search(SECRET_WORD, include_drafts=True, include_internal=True)}
    assert {"draft-note", "internal-note"} <= found


def test_did_you_mean_never_offers_a_word_only_drafts_have(fresh_kb):
    _hidden_article(fresh_kb, "draft-note", "status: draft")
    typo = SECRET_WORD[:-1] + "ث"
    assert fresh_kb.search_page(typo).did_you_mean is None
    assert fresh_kb.search_page(typo, include_drafts=True).did_you_mean == SECRET_WORD


def test_keyword_evidence_counts_only_allowed_articles(fresh_kb):
    from kb.search import keyword

    _hidden_article(fresh_kb, "draft-note", "status: draft")
    state = fresh_kb._read_state()
    query = keyword.analyze_query(f"{SECRET_WORD} العميل", 500)
    with fresh_kb._searching(state) as searcher:
        public = evidence.keyword_evidence(searcher, query, keyword.Filters(), fresh_kb._segments.postings)
        everything = evidence.keyword_evidence(searcher, query, keyword.Filters(include_drafts=True),
                                                  fresh_kb._segments.postings)
    assert "draft-note" not in public.shares and public.best_rare == 0
    assert "draft-note" in everything.rare and everything.shares["draft-note"] > 0.5


def test_choose_threshold_stays_under_the_collections_own_questions():
    offtopic = np.linspace(0.70, 0.90, 101)
    covered = np.linspace(0.80, 0.95, 101)  # an encyclopedia: its own questions overlap the probes
    threshold, spread = calibration.choose_threshold(offtopic, covered)
    assert threshold == pytest.approx(np.quantile(covered, calibration.INSIDE_QUANTILE))
    apart = np.linspace(0.86, 0.95, 101)
    threshold, _ = calibration.choose_threshold(offtopic, apart)
    assert threshold == pytest.approx(np.quantile(offtopic, calibration.OFFTOPIC_QUANTILE))
    assert spread == pytest.approx(np.median(covered) - np.median(offtopic))


def test_a_pseudo_question_is_matched_against_articles_that_do_not_carry_it():
    """GIVEN an encyclopedia whose paragraphs share their page's title
    WHEN calibration matches the title (a pseudo-question) against "other" articles
    THEN every paragraph carrying that title is left out, not only the one it came from."""
    from pathlib import Path

    from kb.content.articles import Article
    from kb.search.vector import VectorIndex

    def paragraph(slug, title):
        return Article(slug=slug, title=title, body="نص", path=Path(f"{slug}.md"))

    articles = [paragraph("nile-1", "نهر النيل"), paragraph("nile-2", "نهر النيل"), paragraph("desert", "الصحراء الكبرى")]
    own = calibration.carriers(calibration.pseudo_questions(articles))
    assert own["نهر النيل"] == {"nile-1", "nile-2"} and own["الصحراء الكبرى"] == {"desert"}
    index = VectorIndex(2, "fp")
    index.add("nile-1", ["nile-1#s0"], np.array([[1.0, 0.0]], dtype=np.float32))
    index.add("nile-2", ["nile-2#s0"], np.array([[0.99, 0.141]], dtype=np.float32))
    index.add("desert", ["desert#s0"], np.array([[0.6, 0.8]], dtype=np.float32))
    query = np.array([[1.0, 0.0]], dtype=np.float32)
    assert calibration.best_cosines(index, query, [{"nile-1"}])[0] == pytest.approx(0.99)  # a sibling: a near copy
    assert calibration.best_cosines(index, query, [own["نهر النيل"]])[0] == pytest.approx(0.6)


def test_an_answered_question_keeps_articles_found_by_its_words_far_under_the_best_cosine():
    cut = no_answer.AnswerCut(0.80, 0.01, "calibrated")  # a small calibrated spread
    held = evidence.KeywordEvidence({"words": 0.9, "few": 0.2}, frozenset({"words"}))
    kept = no_answer.answering([("near", 0.90), ("close", 0.85), ("far", 0.83), ("words", 0.70)], held, cut)
    # the floor is at least DEFAULT_SPREAD wide (0.84, not 0.88); "words" holds the question's words
    assert kept == {"near", "close", "words"}


def test_answering_rules():
    cut = no_answer.AnswerCut(0.84, 0.03, "calibrated")
    common = evidence.KeywordEvidence({"a": 0.1, "b": 0.1}, frozenset())  # only words every article has
    assert no_answer.answering([("a", 0.83), ("b", 0.80)], common, cut) is None
    assert no_answer.answering([("a", 0.90), ("b", 0.85), ("c", 0.83)], common, cut) == {"a", "b"}  # floor: 2 margins
    assert no_answer.answering([("a", 0.85), ("b", 0.815), ("c", 0.80)], common, cut) == {"a", "b"}  # threshold - 1
    strong = evidence.KeywordEvidence({"a": 1.0, "c": 0.6}, frozenset({"a", "c"}))
    assert no_answer.answering([("a", 0.79), ("b", 0.74)], strong, cut) == {"a", "c"}  # needs 0.78, keeps from 0.75
    some = evidence.KeywordEvidence({"a": 0.4}, frozenset({"a"}))  # a few words in common: 0.4 margin
    assert no_answer.answering([("a", 0.82)], some, cut) is None
    assert no_answer.answering([("a", 0.829)], some, cut) == {"a"}
    assert no_answer.answering([], strong, cut) is None


def test_unknown_words_need_more_and_another_language_less():
    cut = no_answer.AnswerCut(0.84, 0.03, "calibrated")
    nothing = evidence.KeywordEvidence({}, frozenset(), known=False)
    assert no_answer.answering([("a", 0.86)], nothing, cut) is None  # noise: needs 0.87
    assert no_answer.answering([("a", 0.88)], nothing, cut) == {"a"}
    # Typo candidates are all it has (a misspelt question): half a margin more, 0.855.
    guessed = evidence.KeywordEvidence({"a": 0.3}, frozenset(), known=False)
    assert no_answer.answering([("a", 0.85)], guessed, cut) is None
    assert no_answer.answering([("a", 0.86)], guessed, cut) == {"a"}
    common = evidence.KeywordEvidence({"a": 0.1}, frozenset())
    assert no_answer.answering([("a", 0.82)], common, cut) is None
    assert no_answer.answering([("a", 0.82)], common, cut, cross_language=True) == {"a"}


def test_keyword_only_rules():
    cut = no_answer.AnswerCut(None, 0.03, "none")
    assert no_answer.answering(None, evidence.KeywordEvidence({"a": 0.1}, frozenset()), cut) is None
    both = evidence.KeywordEvidence({"a": 0.9, "b": 0.4, "c": 0.2}, frozenset())
    assert no_answer.answering(None, both, cut) == {"a", "b"}


def _evidence(kb: KnowledgeBase, question: str) -> evidence.KeywordEvidence:
    """The evidence the cut weighs for a public search: the forms the keyword search ran, over public articles."""
    from kb.search import coverage
    from kb.search import keyword
    from kb.search import spelling

    with kb._searching(kb._read_state()) as searcher:
        reader = searcher.reader()
        query = keyword.analyze_query(question, 500)
        expansions = spelling.typo_expansions(reader, query, kb._segments.vocabulary)
        clitics = spelling.clitic_forms(reader, query)
        profile = coverage.match_profile(reader, query, expansions, kb.synonyms())
        words = evidence.evidence_words(query, profile, expansions, clitics, kb.synonyms())
        return evidence.keyword_evidence(searcher, query, keyword.Filters(), kb._segments.postings, words)


REFUND = "سياسة-الاسترداد"


def test_synonyms_and_typos_are_evidence_but_weaker_than_the_word(session_kb):
    """GIVEN the refund article, which writes استرداد and never استرجاع (an editors' synonym)
    WHEN the question names it by the word, by its synonym, or with a typo (الاسترادد)
    THEN each way counts toward its share of the question, the word itself the most."""
    word = _evidence(session_kb, "الاسترداد").shares[REFUND]
    synonym = _evidence(session_kb, "استرجاع").shares.get(REFUND, 0.0)
    typo = _evidence(session_kb, "الاسترادد").shares.get(REFUND, 0.0)
    assert word > typo > 0 and word > synonym > 0
    assert min(typo, synonym) >= no_answer.KEYWORD_ONLY_SHARE  # enough for keyword mode to answer


def test_a_typo_candidate_that_every_article_has_is_little_evidence(session_kb):
    """A one-edit neighbour earns no more than the neighbour's own rarity here: an unknown
    word next to a common word says little about any article."""
    from kb.search import keyword

    with session_kb._searching(session_kb._read_state()) as searcher:
        reader = searcher.reader()
        articles = reader.doc_frequency("kind", "article")
        common = next(t for t in ("عميل", "خدمه", "طلب") if reader.doc_frequency("body", t) > articles / 3)
    query = keyword.analyze_query("x", 500)
    words = (evidence.EvidenceWord("غيرموجودة", ((("غيرموجودة",), 1.0, False), ((common,), 0.7, True))),)
    with session_kb._searching(session_kb._read_state()) as searcher:
        held = evidence.keyword_evidence(searcher, query, keyword.Filters(), session_kb._segments.postings, words)
    assert held.best < 0.25 and not held.rare
    assert not held.known  # a typo candidate alone is a guess, not a word the collection has


def test_articles_without_vectors_yet_are_judged_on_their_words():
    cut = no_answer.AnswerCut(0.84, 0.03, "calibrated")
    fresh = evidence.KeywordEvidence({"new": 0.9, "old": 0.1}, frozenset({"new"}))
    assert no_answer.answering([("old", 0.74)], fresh, cut) is None  # the dense side alone: no answer
    assert no_answer.answering([("old", 0.74)], fresh, cut, unembedded={"new"}) == {"new"}
    assert no_answer.answering([("old", 0.86)], fresh, cut, unembedded={"new"}) == {"old", "new"}
    assert no_answer.answering([], fresh, cut, unembedded={"new"}) == {"new"}
    weak = evidence.KeywordEvidence({"new": 0.1}, frozenset())
    assert no_answer.answering([("old", 0.80)], weak, cut, unembedded={"new"}) is None


def test_a_publish_whose_vectors_are_pending_is_found_first_in_hybrid(fresh_kb, monkeypatch):
    """GIVEN an article just published, searchable by keyword while its vectors are still pending
    WHEN a customer asks about its subject in the default hybrid mode
    THEN it answers, first: its missing dense score is unknown, not zero."""
    monkeypatch.setattr(fresh_kb, "start_vector_worker", lambda: None)  # the vectors stay pending
    path = fresh_kb.articles_dir / "orders" / "loyalty-points.md"
    path.write_text("---\ntitle: \"استبدال نقاط الولاء بقسائم الشراء\"\n---\n\n"
                    "تتحول نقاط الولاء إلى قسائم شراء من صفحة المكافآت: كل ألف نقطة قسيمة بعشرة دنانير.\n",
                    encoding="utf-8")
    fresh_kb.upsert(path)
    assert fresh_kb.index_status("loyalty-points") == "keyword_only"
    page = fresh_kb.search_page("كيف استبدل نقاط الولاء بقسيمة", mode="hybrid")
    assert page.reason is None and page.hits[0].slug == "loyalty-points"


def test_an_article_with_every_word_of_the_question_answers_whatever_the_cosine(session_kb):
    """GIVEN a dense threshold no cosine reaches
    WHEN every word of the question (as typed, its dialect reading, or an editors' synonym) is in an article
    THEN that article answers, in the default hybrid mode too."""
    strict = KnowledgeBase(session_kb.articles_dir, session_kb.settings.index_dir,
                           session_kb.settings.with_overrides(answer_threshold=0.999), embedder=session_kb.embedder)
    assert IN_DOMAIN[0][1] in {hit.slug for hit in strict.search(IN_DOMAIN[0][0])}  # عميل + معصب -> غاضب
    assert REFUND in {hit.slug for hit in strict.search("استرجاع")}  # the synonym of استرداد
    assert strict.search_page("استرجاع زحل").reason == "no_answer"  # one word no article has


def _publish(kb: KnowledgeBase, name: str) -> None:
    path = kb.articles_dir / "orders" / f"{name}.md"
    path.write_text(f"---\ntitle: \"كيف أتابع شحنة {name}؟\"\n---\n\nتتبع الشحنة من صفحة الطلبات، وإذا تأخرت "
                    "أكثر من ثلاثة أيام تواصل مع الدعم.\n", encoding="utf-8")
    kb.upsert(path)
    kb.catch_up_vectors()


def test_a_publish_is_in_the_calibration_once_its_vectors_are(fresh_kb):
    """The vector worker measures the calibration again once nothing is pending: the digest of
    the articles it was measured on follows each publish (kb index is not needed)."""
    before = fresh_kb._read_state().manifest.answer_calibration
    assert before["collection"] == calibration.collection_digest(fresh_kb._read_state().manifest.articles)
    _publish(fresh_kb, "tracking-one")
    after = fresh_kb._read_state().manifest.answer_calibration
    assert after["collection"] != before["collection"]
    assert after["collection"] == calibration.collection_digest(fresh_kb._read_state().manifest.articles)
    assert after["pseudo_questions"] == before["pseudo_questions"] + 1  # the new title


def test_a_sampled_collection_is_calibrated_again_by_kb_index_not_by_each_publish(fresh_kb, monkeypatch):
    """Above MAX_PSEUDO_QUESTIONS texts the calibration samples every n-th: a publish would
    shift the whole sample (hundreds of texts to embed), so only kb index and a start measure it."""
    monkeypatch.setattr("kb.indexer.MAX_PSEUDO_QUESTIONS", 5)
    before = fresh_kb._read_state().manifest.answer_calibration
    _publish(fresh_kb, "tracking-two")
    assert fresh_kb._read_state().manifest.answer_calibration["collection"] == before["collection"]
    fresh_kb.index()
    assert fresh_kb._read_state().manifest.answer_calibration["collection"] != before["collection"]


def test_a_short_number_is_no_evidence_a_long_one_is():
    """GIVEN a question with a quantity (one or two digits, Arabic or Latin) and a year
    THEN the quantity is not weighed as a word of the question (it says nothing of the
    subject), the year is (it, like an error code, can name what an article is about)."""
    from kb.search import keyword

    query = keyword.analyze_query("وصفة ١ كيكة تكفي 12 شخص سنة 2024", 500)
    stems = evidence.weighed_stems(query)
    assert "1" in query.stems and "12" in query.stems
    assert "1" not in stems and "12" not in stems
    assert "2024" in stems and len(stems) == len(query.unique_stems) - 2


@pytest.mark.parametrize("question", ["recipe 1", "alert(1)", "what is 1"])
def test_a_number_the_articles_hold_does_not_answer_an_offtopic_question(client, question):
    """GIVEN test articles that write the number 1 (steps, star ratings)
    WHEN a question is that number and words no article has
    THEN it has no answer: the number alone is no evidence."""
    body = client.get("/api/v1/search", query_string={"q": question}).get_json()
    assert body["results"] == [] and body["reason"] == "no_answer"


@pytest.mark.parametrize("question", ["ok", "hi", "hello"])
def test_a_chat_filler_alone_has_no_answer(client, question):
    """GIVEN an English test article that writes "OK" ("Is it OK to delete...")
    WHEN a visitor types only a chat filler
    THEN there is no answer (the filler carries no weight, kb/search/data/dialect_lexicon.yml)."""
    body = client.get("/api/v1/search", query_string={"q": question}).get_json()
    assert body["results"] == [] and body["reason"] == "no_answer"


def test_a_chat_filler_does_not_hide_the_question(client):
    body = client.get("/api/v1/search", query_string={"q": "ok so how do i answer a bad review"}).get_json()
    assert body["results"][0]["slug"] == "responding-to-negative-reviews-en"


@pytest.mark.parametrize("question", ["what's the weather", "how’s the weather", "who's the president", "s"])
def test_a_contraction_is_no_evidence(launch_kb, question):
    """GIVEN the launch articles, one of which writes "Let's"
    WHEN an everyday English question has a contraction ("what's": what, s)
    THEN it has no answer, as without the contraction: "s" is no word of the question
    (before, it was the rare word one article holds, and 27 articles answered)."""
    from kb.search import keyword

    assert "s" not in keyword.analyze_query(question, 500).stems
    page = launch_kb.search_page(question)
    assert page.total == 0 and page.hits == [] and page.reason == "no_answer"
    assert launch_kb.search_page(question.replace("'s", " is").replace("’s", " is")).total == 0


def test_a_contraction_does_not_hide_the_question(launch_kb):
    contracted = launch_kb.search_page("i'm so stressed, i can't handle the calls anymore")
    spelt_out = launch_kb.search_page("i am so stressed, i can not handle the calls anymore")
    assert contracted.total > 0 and contracted.hits[0].slug == spelt_out.hits[0].slug == "time-and-stress-management"
