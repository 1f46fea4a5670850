"""kb.search.coverage: the per-question match profile, on fixed document frequencies (no index)."""

from __future__ import annotations

import math

import pytest

from kb.search import coverage
from kb.search.keyword import AnalyzedQuery
from kb.search.synonyms import parse_synonyms
from kb.text import stem
from kb.text import tokenize

ARTICLES = 100


class FixedReader:
    """Answers doc_frequency from a table: {(field, term): documents}; "spell" holds surface words."""

    def __init__(self, body: dict[str, int], spell: set[str] = frozenset()):
        self.body = body
        self.spell = spell

    def doc_frequency(self, field: str, term: str) -> int:
        if field == "kind":
            return ARTICLES if term == "article" else 0
        if field == "spell":
            return 1 if term in self.spell else 0
        return self.body.get(term, 0) if field == "body" else 0


def query(*words: str, from_lexicon=(), alternatives=()) -> AnalyzedQuery:
    """As analyze_query builds it, without the dialect lexicon: normalized words and their stems."""
    words = tuple(tokenize(" ".join(words)))
    return AnalyzedQuery(words, tuple(stem(w) for w in words), frozenset(stem(w) for w in tokenize(" ".join(from_lexicon))),
                         tuple(alternatives))


def stem_of(word: str) -> str:
    return stem(tokenize(word)[0])


def hows(profile: coverage.MatchProfile) -> dict[str, str]:
    return {term.stem: term.how for term in profile.terms}


def test_each_way_of_finding_a_word_is_told_apart():
    """GIVEN a question with a word as typed, one only by its stem, one with a joined preposition,
    one with a typo candidate, one with a synonym in the articles, and one the articles never use
    THEN each gets its own kind."""
    synonyms, problems = parse_synonyms("- [زبون, عميل]\n")
    assert not problems
    reader = FixedReader(
        body={"سياس": 5, "استرداد": 3, "جزير": 2, "تذكر": 4, "عميل": 60},
        spell={"سياسه"},
    )
    analyzed = query("سياسة", "الاسترداد", "لجزيرة", "تدكرة", "زبون", "معصب")
    expansions = {stem_of("لجزيرة"): ["جزير"], stem_of("تدكرة"): ["تذكر"]}
    profile = coverage.match_profile(reader, analyzed, expansions, synonyms)
    assert hows(profile) == {
        "سياس": "exact",
        stem_of("الاسترداد"): "stem",
        stem_of("لجزيرة"): "clitic",
        stem_of("تدكرة"): "typo",
        stem_of("زبون"): "synonym",
        stem_of("معصب"): "missing",
    }


def test_dialect_words_mapped_by_the_lexicon_count_as_dialect():
    reader = FixedReader(body={"غاضب": 3, "هاتف": 7}, spell={"غاضب"})
    analyzed = query("غاضب", "جوال", from_lexicon=("غاضب", "جوال"), alternatives=((stem_of("جوال"), ("هاتف",)),))
    profile = coverage.match_profile(reader, analyzed, {}, parse_synonyms("")[0])
    assert hows(profile) == {"غاضب": "dialect", stem_of("جوال"): "dialect"}
    assert profile.reads_dialect
    assert not coverage.match_profile(reader, query("غاضب"), {}, parse_synonyms("")[0]).reads_dialect


def test_weights_are_idf_here_and_a_missing_word_weighs_less_than_the_rarest():
    reader = FixedReader(body={"سياس": 1, "عميل": 90}, spell={"سياسه", "عميل"})
    profile = coverage.match_profile(reader, query("سياسة", "عميل", "يتحلطم"), {}, parse_synonyms("")[0])
    weights = {term.stem: term.weight for term in profile.terms}
    assert weights["سياس"] == pytest.approx(math.log(1 + 99.5 / 1.5))
    assert weights["عميل"] == pytest.approx(math.log(1 + 10.5 / 90.5))
    assert weights[stem_of("يتحلطم")] == pytest.approx(coverage.MISSING_WEIGHT * weights["سياس"])


def test_an_unknown_word_of_two_letters_weighs_little():
    """GIVEN an MSA question with a mistyped particle ("وا" for "ما") whose other words the articles use
    THEN the stray token barely lowers the matched share: the keyword side keeps its weight."""
    reader = FixedReader(body={"اسم": 20, "عام": 30}, spell={"الاسم", "العامه"})
    profile = coverage.match_profile(reader, query("وا", "الاسم", "العامة"), {}, parse_synonyms("")[0])
    weights = {term.stem: term.weight for term in profile.terms}
    rarest = coverage.idf(ARTICLES, 1)
    assert weights["وا"] == pytest.approx(coverage.SHORT_MISSING_WEIGHT * rarest)
    assert profile.matched_share() > 0.5 > coverage.MatchProfile(
        (*profile.terms[1:], coverage.TermMatch("وا", coverage.MISSING_WEIGHT * rarest, "missing")), ARTICLES).matched_share()


def test_a_repeated_word_counts_once():
    reader = FixedReader(body={"سياس": 5}, spell={"سياسه"})
    profile = coverage.match_profile(reader, query("سياسة", "سياسة"), {}, parse_synonyms("")[0])
    assert len(profile.terms) == 1


def test_matched_share_weighs_words_by_idf_and_kind():
    profile = coverage.MatchProfile((
        coverage.TermMatch("a", 3.0, "exact"),
        coverage.TermMatch("b", 1.0, "typo"),
        coverage.TermMatch("c", 2.0, "missing"),
    ), ARTICLES)
    credits = coverage.CREDITS
    assert profile.matched_share() == pytest.approx((3.0 + credits["typo"] * 1.0) / 6.0)
    assert profile.matched_share({"exact": 1.0}) == pytest.approx(0.5)
    assert profile.kinds() == pytest.approx({"exact": 0.5, "typo": 1 / 6, "missing": 1 / 3})


def test_a_question_found_only_through_common_words_has_a_small_share():
    """GIVEN a dialect question of which only the word every article uses was found
    THEN its matched share is small, though one word of three matched."""
    reader = FixedReader(body={"عميل": 95}, spell={"عميل"})
    profile = coverage.match_profile(reader, query("عميل", "معصب", "مره"), {}, parse_synonyms("")[0])
    assert profile.matched_share() < 0.05


def test_credits_order_kinds_from_the_word_itself_down_to_nothing():
    credits = coverage.CREDITS
    assert credits["exact"] == 1.0 and credits["missing"] == 0.0
    assert credits["exact"] >= credits["stem"] >= credits["clitic"] >= credits["dialect"] >= credits["typo"] > 0
    assert credits["dialect"] >= credits["synonym"] > 0


@pytest.mark.parametrize("profile", [coverage.MatchProfile(), coverage.MatchProfile((coverage.TermMatch("x", 0.0, "missing"),))])
def test_a_question_with_no_weighted_word_counts_as_matched(profile):
    assert profile.matched_share() == 1.0


def test_matched_rarity_is_high_for_rare_words_and_low_for_common_ones():
    reader = FixedReader(body={"سياس": 1, "عميل": 90}, spell={"سياسه", "عميل"})
    rare = coverage.match_profile(reader, query("سياسة"), {}, parse_synonyms("")[0])
    common = coverage.match_profile(reader, query("عميل"), {}, parse_synonyms("")[0])
    assert rare.matched_rarity() > 0.9 > 0.1 > common.matched_rarity()
    assert coverage.MatchProfile((coverage.TermMatch("x", 2.0, "missing"),), ARTICLES).matched_rarity() == 0.0
