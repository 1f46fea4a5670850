"""kb.search.fusion: pure fusion of two fixed rankings (no index, no model)."""

from __future__ import annotations

import math

import pytest

from kb.search import fusion

KEYWORD = [("a", 12.0), ("b", 6.0), ("c", 2.0)]
SEMANTIC = [("c", 0.91), ("d", 0.80), ("a", 0.71)]


def approx_items(items):
    return [(key, pytest.approx(score)) for key, score in items]


# -- minmax -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ranking", "expected"),
    [
        ([], {}),
        ([("a", 5.0)], {"a": 1.0}),
        ([("a", 3.0), ("b", 3.0)], {"a": 1.0, "b": 1.0}),
        ([("a", 10.0), ("b", 5.0), ("c", 0.0)], {"a": 1.0, "b": 0.5, "c": 0.0}),
        ([("a", -1.0), ("b", -3.0)], {"a": 1.0, "b": 0.0}),
        ([("a", 0.9), ("b", 0.9 + 1e-15)], {"a": 1.0, "b": 1.0}),
    ],
)
def test_minmax(ranking, expected):
    assert fusion.minmax(ranking) == pytest.approx(expected)


def test_minmax_stays_in_unit_interval():
    scores = fusion.minmax([(str(i), math.sin(i) * 100) for i in range(50)])
    assert min(scores.values()) == 0.0 and max(scores.values()) == 1.0


# -- convex -------------------------------------------------------------------------------------------


def test_convex_half_and_half():
    # keyword minmax: a 1, b 0.4, c 0; semantic minmax: c 1, d 0.45, a 0.
    assert convex_scores(0.5) == pytest.approx({"a": 0.5, "b": 0.2, "c": 0.5, "d": 0.225})
    # ties (a and c at 0.5) are broken by key, so the order is stable
    assert [key for key, _ in fusion.convex(KEYWORD, SEMANTIC, 0.5)] == ["a", "c", "d", "b"]


def convex_scores(weight: float) -> dict[str, float]:
    return dict(fusion.convex(KEYWORD, SEMANTIC, weight))


@pytest.mark.parametrize(
    ("weight", "order"),
    [
        (1.0, ["a", "b", "c", "d"]),  # keyword only (d: 0, then by key)
        (0.0, ["c", "d", "a", "b"]),  # semantic only
        (0.8, ["a", "b", "c", "d"]),
        (0.2, ["c", "d", "a", "b"]),
    ],
)
def test_convex_weight_moves_toward_one_side(weight, order):
    assert [key for key, _ in fusion.convex(KEYWORD, SEMANTIC, weight)] == order


def test_convex_key_missing_from_one_side_scores_zero_there():
    fused = dict(fusion.convex([("only-keyword", 5.0), ("x", 1.0)], [("only-semantic", 0.9), ("x", 0.1)], 0.5))
    assert fused == pytest.approx({"only-keyword": 0.5, "only-semantic": 0.5, "x": 0.0})


def test_convex_with_an_empty_side():
    assert fusion.convex(KEYWORD, [], 0.5) == approx_items([("a", 0.5), ("b", 0.2), ("c", 0.0)])
    assert fusion.convex([], [], 0.5) == []


def test_convex_ignores_the_scale_of_each_side():
    """BM25 scores in the tens and cosines below one weigh the same after min-max."""
    scaled = [(key, score * 1000) for key, score in KEYWORD]
    assert fusion.convex(scaled, SEMANTIC, 0.5) == approx_items(fusion.convex(KEYWORD, SEMANTIC, 0.5))


# -- rrf ------------------------------------------------------------------------------------------------


def test_rrf_sums_reciprocal_ranks():
    fused = dict(fusion.rrf(KEYWORD, SEMANTIC, k=60))
    assert fused == pytest.approx(
        {"a": 1 / 61 + 1 / 63, "b": 1 / 62, "c": 1 / 63 + 1 / 61, "d": 1 / 62}
    )
    assert [key for key, _ in fusion.rrf(KEYWORD, SEMANTIC, k=60)] == ["a", "c", "b", "d"]


def test_rrf_ignores_scores_only_ranks_count():
    assert fusion.rrf([("x", 1e9), ("y", -5.0)], [], k=1) == approx_items([("x", 0.5), ("y", 1 / 3)])


@pytest.mark.parametrize("k", [1, 10, 60, 1000])
def test_rrf_agreement_beats_a_single_first_place(k):
    """A key ranked second by both sides beats a key ranked first by one side only."""
    fused = [key for key, _ in fusion.rrf([("solo", 9.0), ("both", 8.0)], [("other", 0.9), ("both", 0.8)], k=k)]
    assert fused[0] == "both"


def test_rrf_of_empty_rankings():
    assert fusion.rrf([], [], k=60) == []


# -- adaptive -------------------------------------------------------------------------------------------


def test_scale_by_max_keeps_ratios():
    assert fusion.scale_by_max([("a", 10.0), ("b", 5.0), ("c", 0.0)]) == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert fusion.scale_by_max([]) == {}


@pytest.mark.parametrize(
    ("keyword", "semantic"),
    [(KEYWORD, SEMANTIC), ([], SEMANTIC), (KEYWORD, []), ([("a", 1.0)], [("a", 0.5)]), ([], [])],
)
def test_adaptive_keeps_every_key(keyword, semantic):
    fused = fusion.adaptive(keyword, semantic, {}, 0.6, 0.1, 30)
    assert {key for key, _ in fused} == {key for key, _ in [*keyword, *semantic]}
    assert [score for _, score in fused] == sorted((score for _, score in fused), reverse=True)


def test_adaptive_trusts_the_dense_side_for_short_documents():
    """GIVEN two stored questions, one sharing words with the query, one meaning the same
    WHEN the documents are short (FAQ-like)
    THEN the dense side decides; with long documents the keyword side does."""
    keyword = [("same-words", 20.0), ("same-meaning", 4.0)]
    semantic = [("same-meaning", 0.95), ("same-words", 0.85)]
    short = {"same-words": 8, "same-meaning": 9}
    long = {"same-words": 300, "same-meaning": 300}
    assert fusion.adaptive(keyword, semantic, short, 0.6, 0.1, 30)[0][0] == "same-meaning"
    assert fusion.adaptive(keyword, semantic, long, 0.6, 0.1, 30)[0][0] == "same-words"


def test_a_stub_among_articles_shares_its_standing_with_the_keyword_side_as_they_do():
    """GIVEN articles the keyword side found, and a one-line stub the dense side puts a little
    under the best article and the keyword side not at all
    WHEN most of the candidates are articles (long documents)
    THEN the stub is fused with the articles' keyword weight and stays behind the articles the
    question's words are in; among stored questions (most candidates short) it keeps the
    short-document weight."""
    keyword = [("angry", 60.0), ("replies", 10.0), ("empathy", 8.0)]
    semantic = [("angry", 0.86), ("empathy", 0.85), ("stub", 0.83), ("replies", 0.82), ("far", 0.70)]
    articles = {"angry": 900, "replies": 700, "empathy": 800, "far": 600, "stub": 6}
    fused = [key for key, _ in fusion.adaptive(keyword, semantic, articles, 0.6, 0.02, 10)]
    assert fused.index("stub") > fused.index("empathy") and fused.index("stub") > fused.index("replies")
    questions = {key: 8 for key in articles}
    before = dict(fusion.adaptive(keyword, semantic, {**questions, "far": 900}, 0.6, 0.02, 10))
    assert before["stub"] == pytest.approx(0.98 * (0.83 - 0.70) / (0.86 - 0.70))


# -- coverage: keyword weight by how much of the question matched -----------------------------------------


@pytest.mark.parametrize(
    ("share", "expected"),
    [(0.0, 0.2), (0.3, 0.2), (0.55, 0.4), (0.8, 0.6), (1.0, 0.6)],
)
def test_matched_weight_ramps_from_the_floor_to_the_full_weight(share, expected):
    assert fusion.matched_weight(share, 0.6, 0.2, 0.3, 0.8) == pytest.approx(expected)


def test_matched_weight_never_raises_a_weight_below_the_floor():
    """Short documents' keyword weight (0.02) is below the floor: matching less keeps it, never raises it."""
    assert fusion.matched_weight(0.0, 0.02, 0.2, 0.3, 0.8) == pytest.approx(0.02)
    assert fusion.matched_weight(1.0, 0.02, 0.2, 0.3, 0.8) == pytest.approx(0.02)


def test_matched_weight_with_a_step_instead_of_a_ramp():
    assert fusion.matched_weight(0.49, 0.6, 0.2, 0.5, 0.5) == pytest.approx(0.2)
    assert fusion.matched_weight(0.5, 0.6, 0.2, 0.5, 0.5) == pytest.approx(0.6)


def test_by_coverage_of_a_fully_matched_question_is_adaptive_fusion():
    lengths = {"a": 300, "b": 300, "c": 5, "d": 300}
    assert fusion.by_coverage(KEYWORD, SEMANTIC, lengths, 1.0, 0.6, 0.02, 12, 0.2, 0.3, 0.8) == approx_items(
        fusion.adaptive(KEYWORD, SEMANTIC, lengths, 0.6, 0.02, 12))


def test_by_coverage_lets_the_dense_side_lead_when_little_of_the_question_matched():
    """GIVEN an article sharing only the question's common words (first on the keyword side)
    and the article the question means (first on the dense side)
    WHEN most of the question's weight was matched THEN the keyword side decides;
    WHEN little was (a dialect question) THEN the dense side does."""
    keyword = [("shares-common-words", 10.0), ("means-the-same", 6.0), ("other", 1.0)]
    semantic = [("means-the-same", 0.90), ("shares-common-words", 0.86), ("other", 0.80)]
    lengths = dict.fromkeys(["shares-common-words", "means-the-same", "other"], 400)

    def first(share: float) -> str:
        return fusion.by_coverage(keyword, semantic, lengths, share, 0.6, 0.02, 12, 0.2, 0.3, 0.8)[0][0]

    assert first(1.0) == "shares-common-words"
    assert first(0.2) == "means-the-same"


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_by_coverage_keeps_every_key_best_first(share):
    fused = fusion.by_coverage(KEYWORD, SEMANTIC, {}, share, 0.6, 0.02, 12, 0.2, 0.3, 0.8)
    assert {key for key, _ in fused} == {"a", "b", "c", "d"}
    assert [score for _, score in fused] == sorted((score for _, score in fused), reverse=True)


def test_by_coverage_gives_short_documents_the_long_weight_for_a_dialect_question():
    """GIVEN short documents (stored sentences), one sharing the question's rare words, one the dense side prefers
    WHEN the question is MSA THEN the dense side decides (short-document rule);
    WHEN it is dialect read through the lexicon THEN the keyword side counts as for long documents."""
    keyword = [("shares-rare-words", 9.0), ("dense-favourite", 1.0)]
    semantic = [("dense-favourite", 0.90), ("shares-rare-words", 0.88), ("other", 0.80)]
    lengths = {"shares-rare-words": 9, "dense-favourite": 8, "other": 10}

    def first(dialect: bool) -> str:
        return fusion.by_coverage(keyword, semantic, lengths, 0.9, 0.6, 0.02, 12, 0.2, 0.3, 0.8, dialect=dialect)[0][0]

    assert first(False) == "dense-favourite"
    assert first(True) == "shares-rare-words"


# -- the dense side's article score: best passage and about vector ---------------------------

def test_blend_about_averages_passage_and_about_and_reorders():
    from kb.search.ranking import blend_about
    cosines = [("steps", 0.86), ("overview", 0.85)]  # a section of "steps" matches a little better ...
    about = {"steps": 0.80, "overview": 0.84}  # ... but "overview" says it is about the question
    assert blend_about(cosines, about, 1.0) == [("overview", pytest.approx(0.845)), ("steps", pytest.approx(0.83))]
    assert blend_about(cosines, about, 0.0) == cosines
    assert blend_about(cosines, {}, 1.0) == cosines


def test_an_article_without_about_vector_is_taken_at_the_median_gap():
    from kb.search.ranking import blend_about
    cosines = [("a", 0.90), ("b", 0.88), ("no-summary", 0.87)]
    about = {"a": 0.86, "b": 0.86}  # gaps 0.04 and 0.02: median 0.03
    blended = dict(blend_about(cosines, about, 1.0))
    assert blended["no-summary"] == pytest.approx((0.87 + 0.84) / 2)
    assert blended["a"] == pytest.approx(0.88) and blended["b"] == pytest.approx(0.87)


def test_an_article_in_another_language_keeps_at_least_its_dense_standing():
    from kb.search.ranking import _unknown_words
    fused = [("english-faq", 0.9), ("arabic-answer", 0.4), ("other", 0.3)]
    semantic = [("arabic-answer", 0.86), ("english-faq", 0.85), ("other", 0.80)]
    assert _unknown_words(fused, semantic, {"arabic-answer"})[0] == ("arabic-answer", 1.0)
    assert _unknown_words(fused, semantic, set()) == fused
    assert dict(_unknown_words(fused, semantic, {"other"}))["other"] == 0.3  # its dense standing is 0


def test_a_short_question_found_whole_is_a_look_up():
    from kb.search.coverage import MatchProfile
    from kb.search.coverage import TermMatch
    from kb.search.ranking import _looked_up
    found = TermMatch("review", 2.0, "exact")
    assert _looked_up(MatchProfile((found, TermMatch("negative", 1.5, "synonym")), 33))
    assert not _looked_up(MatchProfile((found, TermMatch("reveiw", 1.5, "typo")), 33))  # a guess
    assert not _looked_up(MatchProfile((found, TermMatch("love", 3.0, "missing")), 33))
    assert not _looked_up(MatchProfile((found,) * 3, 33))  # three words: the dense side reads it
    assert not _looked_up(MatchProfile((), 33))  # keyword side did not run


def test_a_look_up_keeps_the_dense_standing_only_for_the_articles_the_keyword_side_found():
    from kb.search.ranking import _unknown_to
    foreign = {"trust", "matters", "replies", "culture"}
    level = [("matters", 9.1), ("culture", 8.4), ("trust", 7.9)]  # "reputation": several name it
    assert _unknown_to(foreign, False, level, {}) == foreign  # not a look-up: every one
    assert _unknown_to(foreign, True, level, {}) == {"matters", "culture", "trust"}  # "replies" is not found
    assert _unknown_to(foreign, True, [("matters", 20.0), ("culture", 4.0)], {}) == set()  # singled out


def test_an_article_raised_by_its_dense_standing_far_under_the_nearest_is_only_related():
    from kb.search.ranking import _far_across_languages
    before = {"english": 0.9, "near": 0.2, "far": 0.1, "found": 0.8}
    fused = [("english", 0.9), ("near", 0.95), ("found", 0.8), ("far", 0.6)]  # after _unknown_words
    cosines = [("english", 0.86), ("near", 0.83), ("found", 0.79), ("far", 0.79)]
    unknown = {"near", "far", "found"}
    # "far" was raised and lies 0.04 under the nearest Arabic article, more than the 0.03 margin;
    # "found" lies as far but kept its own (keyword) score; "english" is in the question's language
    assert _far_across_languages(fused, before, cosines, unknown, 0.03) == {"far"}
    assert _far_across_languages(fused, before, cosines, unknown, 0.05) == set()
    assert _far_across_languages(fused, before, cosines, set(), 0.03) == set()


def test_a_look_up_needs_the_keyword_side_to_single_an_article_out():
    from kb.search.ranking import _singled_out
    no_pairs = {}
    assert _singled_out([("reviews", 56.9), ("language", 7.2)], no_pairs)
    assert not _singled_out([("social-media", 43.1), ("tools", 39.7)], no_pairs)
    assert _singled_out([("only", 3.0)], no_pairs)
    assert not _singled_out([], no_pairs)
    # A translated pair is one article: its other version is not "the next one".
    pair = ("reviews", "reviews-en")
    paired = [("reviews-en", 56.9), ("reviews", 56.9), ("language", 7.2)]
    assert _singled_out(paired, {"reviews": pair, "reviews-en": pair})
    assert not _singled_out(paired, no_pairs)


def test_words_most_articles_use_do_not_tell_articles_apart():
    from kb.search.coverage import MatchProfile
    from kb.search.coverage import TermMatch
    from kb.search.coverage import idf
    from kb.search.ranking import _fusion_share
    common, rare = idf(33, 30), idf(33, 3)  # in 30 of 33 articles; in 3
    everywhere = MatchProfile((TermMatch("خدم", common, "exact"), TermMatch("عميل", common, "dialect")), 33)
    assert not everywhere.tells_apart() and _fusion_share(everywhere) == 0.0
    named = MatchProfile((TermMatch("خدم", common, "exact"), TermMatch("غضب", rare, "exact")), 33)
    assert named.tells_apart() and _fusion_share(named) == named.matched_share() == 1.0
    unknown = MatchProfile((TermMatch("خدم", common, "exact"), TermMatch("xyz", 3.0, "missing")), 33)
    assert not unknown.tells_apart()  # the missing word is not a word found
    assert MatchProfile((), 33).tells_apart() and _fusion_share(None) == 1.0


def test_proximity_takes_a_synonym_for_the_word():
    from kb.search.synonyms import parse_synonyms
    table, problems = parse_synonyms("- [شكوى, complaint, complaints]\n- [خدمة العملاء, customer service]\n")
    assert not problems
    (arabic,), (english,) = table.groups[0]  # "complaints" stems to "complaint"
    assert table.one_word_synonyms(english) == [arabic] and table.one_word_synonyms(arabic) == [english]
    assert table.one_word_synonyms("service") == []  # only within phrases: coverage matches words one at a time


def test_the_second_look_reads_a_foreign_article_s_keyword_score_as_unknown_not_low():
    """An article in another language than the question (no version in the question's
    language) stands at least its min-max dense standing times the best keyword score in the
    keyword ranking the second look reads; the question's words cannot occur in it."""
    from kb.search.ranking import _known_keyword

    keyword = [("english", 8.0), ("arabic-with-synonym", 2.0)]
    semantic = [("arabic-answer", 0.86), ("arabic-with-synonym", 0.84), ("english", 0.80)]
    known = dict(_known_keyword(keyword, semantic, {"arabic-answer", "arabic-with-synonym"}))
    assert known["arabic-answer"] == pytest.approx(8.0)  # the dense side's best: the best keyword score
    assert known["arabic-with-synonym"] == pytest.approx(8.0 * (0.84 - 0.80) / (0.86 - 0.80))
    assert known["english"] == 8.0
    assert _known_keyword(keyword, semantic, set()) == keyword
