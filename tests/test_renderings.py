"""The own questions worded in each dialect (kb.search.renderings): the dialect lexicon read
backwards, for the "no answer" cut's landmarks."""

from __future__ import annotations

from kb.search.dialect_files import load_builtin
from kb.search.dialect_files import parse_lexicon
from kb.search.renderings import backward_forms
from kb.search.renderings import dialect_renderings

LEXICON = """
- msa: كيف
  egy: [ازاي, ازاى]
  glf: [شلون, كيف]
  lev: كيفو
  mgr: [كيفاش, كيفاه]
- msa: أريد
  any: [بدي]
  egy: عايز
- msa: من
  egy: مين
  glf: منو
- msa: الآن
  keep: true
  egy: دلوقتي
- weight: none
  any: [يعني]
- msa: ماذا حدث
  glf: وش صار
"""


def _forms():
    lexicon, problems = parse_lexicon(LEXICON)
    assert problems == []
    return backward_forms(lexicon)


def test_each_dialect_takes_its_first_form_and_a_missing_one_the_shared_form():
    forms = _forms()
    assert forms["كيف"] == {"egy": "ازاي", "glf": "شلون", "lev": "كيفو", "mgr": "كيفاش"}
    assert forms["اريد"] == {"egy": "عايز", "glf": "بدي", "lev": "بدي", "mgr": "بدي"}


def test_words_msa_mostly_uses_otherwise_are_not_rendered_back():
    """من is 'from' far more often than 'who'; a keep form is an MSA word itself; a form with
    no search weight has no MSA word; a multi-word MSA form matches no single word."""
    forms = _forms()
    assert "من" not in forms and "الان" not in forms and "ماذا" not in forms and "حدث" not in forms


def test_a_question_is_worded_in_each_dialect_keeping_its_other_words_and_punctuation():
    renderings = dialect_renderings("كيف أتعامل مع العميل الغاضب؟", _forms())
    assert renderings == ["ازاي أتعامل مع العميل الغاضب؟", "شلون أتعامل مع العميل الغاضب؟",
                          "كيفو أتعامل مع العميل الغاضب؟", "كيفاش أتعامل مع العميل الغاضب؟"]


def test_hamza_forms_match_and_identical_renderings_are_given_once():
    assert dialect_renderings("أريد رداً من الدعم", _forms()) == ["عايز رداً من الدعم", "بدي رداً من الدعم"]


def test_a_question_with_no_lexicon_word_has_no_rendering():
    assert dialect_renderings("How to handle angry customers", _forms()) == []
    assert dialect_renderings("مهارات التواصل الكتابي", _forms()) == []


def test_the_built_in_lexicon_words_the_launch_articles_question_words():
    forms = backward_forms(load_builtin())
    renderings = dialect_renderings("لماذا خدمة العملاء مهمة", forms)
    assert len(renderings) >= 3 and all(r.endswith("خدمة العملاء مهمة") for r in renderings)
    assert {r.split()[0] for r in renderings} >= {"ليه", "ليش", "علاش"}
