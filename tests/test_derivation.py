"""Verbal nouns for the verbs customers ask with (kb.search.derivation), and their use by the
keyword side for a verb the articles never write (kb.search.spelling.typo_expansions)."""

from __future__ import annotations

import pytest

from kb.search.derivation import verbal_nouns
from kb.text import normalize_arabic
from test_keyword import article_file
from test_keyword import keyword_only_kb
from test_keyword import slugs
from test_keyword import typo_expansions_of


@pytest.mark.parametrize(("verb", "noun"), [
    ("اطور", "تطوير"),  # form II
    ("نعدل", "تعديل"),
    ("بيتغير", "تغيير"),  # with the Egyptian and Levantine ب-
    ("هنصعد", "تصعيد"),  # with the Egyptian future ه-
    ("نراجع", "مراجعة"),  # form III
    ("نتعامل", "تعامل"),  # form VI: the verb is its noun
    ("اتدرب", "تدريب"),
    ("نقترح", "اقتراح"),  # form VIII
    ("اهتم", "اهتمام"),
    ("نراجعها", "مراجعة"),  # an object suffix comes off
])
def test_a_verb_form_gives_its_verbal_noun(verb, noun):
    assert normalize_arabic(noun) in verbal_nouns(normalize_arabic(verb))


@pytest.mark.parametrize("word", ["العميل", "شكوى", "مع", "زبون", "الاخري"])
def test_nouns_and_short_words_give_nothing(word):
    assert verbal_nouns(normalize_arabic(word)) == []


def test_no_bare_root_is_offered():
    """حول "around", عدل "justice": a root is a word of its own, not the verb's noun."""
    assert "حول" not in verbal_nouns("نحول") and "عدل" not in verbal_nouns("نعدل")


def test_a_question_asked_with_a_verb_finds_the_article_that_names_the_action(tmp_path):
    knowledge = keyword_only_kb(tmp_path, {
        "skills.md": article_file("تطوير مهارات الموظف", "خطة تطوير مستمرة لمهارات فريق الدعم."),
        "shipping.md": article_file("الشحن", "مدة الشحن ثلاثة أيام."),
    })
    query, expansions = typo_expansions_of(knowledge, "اطور")
    assert expansions == {query.stems[0]: ["تطوير"]}  # not اطار "frame", one letter away
    assert slugs(knowledge, "اطور الفريق") == ["skills"]


def test_the_launch_article_on_developing_skills_answers_a_question_asked_with_the_verb(launch_kb):
    """Default search, real model: before, "اطور" was read as the typo of اطار and the article
    came third."""
    hits = launch_kb.search("ازاي اطور نفسي في خدمة العملاء", limit=3)
    assert hits[0].slug == "developing-customer-service-skills"


def test_a_verbal_noun_only_a_tag_holds_is_known(tmp_path):
    """A word an article has only in its tags (or title or a heading) is the article's word:
    the verb asked with finds it, and it is not taken for a typo of a word the text has."""
    knowledge = keyword_only_kb(tmp_path, {
        "culture.md": article_file("ثقافة الخدمة", "تقدير الموظفين وتحفيزهم خط الدفاع الأول.",
                                   tags="[تحفيز الموظفين]"),
        "shipping.md": article_file("الشحن", "مدة الشحن ثلاثة أيام."),
    })
    with knowledge._searching(knowledge._read_state()) as searcher:
        assert searcher.reader().doc_frequency("body", "تحفيز") == 0  # the text has تحفيزهم only
    query, expansions = typo_expansions_of(knowledge, "نحفز")
    assert expansions == {query.stems[0]: ["تحفيز"]}
    assert slugs(knowledge, "كيف نحفز الموظفين") == ["culture"]


def test_the_launch_article_on_service_culture_is_found_by_the_verb_for_motivating(launch_kb):
    """The culture article names motivation in its tag (تحفيز الموظفين) and as تحفيزهم in its
    text; before, "نحفز" was no word of it and the keyword side put the duties article first."""
    hits = launch_kb.search("ازاي نحفز الموظفين", mode="keyword", limit=3)
    assert hits[0].slug == "customer-service-culture"
