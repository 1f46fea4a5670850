"""The model's reading of a question (kb.search.question_reading): what the dense side and the
benchmarks ask of the model, with the real model."""

from __future__ import annotations

import numpy as np

from kb.search.dialect import msa_reading
from kb.search.dialect_files import load_builtin
from kb.search.embed import embed_queries
from kb.search.question_memo import QuestionMemo
from kb.search.question_reading import read_question
from tests.test_question_memo import ReadingCounter

DIALECT = "العميل زعلان مرة وش اسوي"


def test_a_dialect_question_is_read_as_typed_and_in_msa(session_kb):
    lexicon = load_builtin()
    question = read_question(DIALECT, session_kb.embedder, lexicon)
    assert question.readings == (DIALECT, msa_reading(DIALECT, lexicon))
    expected = embed_queries(session_kb.embedder, list(question.readings))
    assert len(question.vectors) == 2
    for got, want in zip(question.vectors, expected):
        np.testing.assert_allclose(got, want, atol=1e-6)
    assert question.terms() is None  # no latent terms asked for


def test_without_a_lexicon_only_the_question_as_typed_is_read(session_kb):
    question = read_question(DIALECT, session_kb.embedder)
    assert question.readings == (DIALECT,) and len(question.vectors) == 1


def test_the_latent_terms_are_the_question_s_as_typed(session_kb):
    latent = session_kb.latent_terms(session_kb.embedder)
    question = read_question(DIALECT, session_kb.embedder, load_builtin(), latent)
    terms = question.terms()
    assert terms is not None and np.isclose(float(np.linalg.norm(terms)), 1.0, atol=1e-4)
    np.testing.assert_allclose(terms, latent.question(DIALECT), atol=1e-6)


def test_with_a_memo_a_question_read_before_is_not_read_again(session_kb):
    counter = ReadingCounter(session_kb.embedder)
    memo = QuestionMemo()
    first = read_question(DIALECT, counter, load_builtin(), memo=memo)
    read = len(counter.read)
    again = read_question(DIALECT, counter, load_builtin(), memo=memo)
    assert read == 2 and len(counter.read) == read  # both readings once, then none
    assert all(np.array_equal(a, b) for a, b in zip(first.vectors, again.vectors))
