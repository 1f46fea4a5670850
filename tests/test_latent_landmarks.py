"""The no-answer landmarks in the model's latent terms (Landmarks.latent_contrast,
no_answer.latent_raise): a question whose terms are nearer to an off-topic probe's than to
any of the collection's own questions' needs a closer passage to get results."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from kb import KnowledgeBase
from kb.errors import KbError
from kb.search import evidence
from kb.search import no_answer
from kb.search.cache import LATENT_TABLE
from kb.search.calibration import calibration_inputs
from kb.search.landmarks import FILE_NAME
from kb.search.landmarks import Landmarks
from kb.search.latent import FEATURES
from kb.search.term_rows import TermRows
from kb.search.latent import question_vector
from tests.test_no_answer import IN_DOMAIN
from conftest import make_settings

# Written for these tests (not from any evaluation set, nor from the probes): everyday
# questions of the kinds whose pooled vector reads like a request for help (small talk, the
# visitor's own phone or connection, sport, papers, food), which no launch article answers.
EVERYDAY_TERMS = [
    "احكيلي نكتة عن المدرسة",
    "عندك نكتة حلوة اليوم",
    "ممكن تضحكني شوي",
    "tell me something funny",
    "تلفوني بيفصل شحن لوحده",
    "الموبايل سخن جدا وانا بلعب",
    "الايفون حقي علق على شعار ابل",
    "my phone screen is flickering",
    "مين كسب مباراة الاهلي امبارح",
    "شو نتيجة ماتش برشلونة",
    "وقتاش الماتش ديال الوداد",
    "ايش الاوراق المطلوبة لتجديد الهوية",
    "ازاي اطلع بطاقة رقم قومي بدل فاقد",
    "فين الاقي دكتور عيون شاطر",
    "ازاي اعمل كيكة شوكولاتة",
    "كيف ازرع نعناع بالبيت",
    "الكمبيوتر بطيء بعد التحديث",
    "النت عندي ضعيف بالليل",
]


def _terms(*pairs: tuple[list[int], list[float]]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.array(ids, dtype=np.int32), np.array(weights, dtype=np.float32)) for ids, weights in pairs]


# -- pure ---------------------------------------------------------------------------------------

def test_term_rows_score_a_question_by_their_best_row():
    rows = TermRows.pack(_terms(([1, 2], [1.0, 1.0]), ([3], [2.0]), ([], [])))
    assert len(rows.starts) == 2  # a text without terms is no row
    question = question_vector((np.array([3, 1]), np.array([1.0, 1.0], dtype=np.float32)))
    assert question.shape == (FEATURES,)
    assert rows.best(question) == pytest.approx(np.sqrt(0.5), abs=1e-3)  # the second row: one term of two
    assert TermRows.pack(_terms(([], []))) is None
    assert rows.widened().best(question) == rows.best(question)  # the same sums, in wider types


def test_latent_contrast_is_how_much_nearer_the_own_questions_terms_are_than_any_probe_s():
    landmarks = Landmarks(offtopic=np.eye(2, dtype=np.float32), inside=np.eye(2, dtype=np.float32),
                          offtopic_terms=TermRows.pack(_terms(([10], [1.0]), ([11], [1.0]))),
                          inside_terms=TermRows.pack(_terms(([20, 21], [1.0, 1.0]))))
    joke = question_vector((np.array([10]), np.array([1.0], dtype=np.float32)))
    refund = question_vector((np.array([20, 21]), np.array([1.0, 1.0], dtype=np.float32)))
    assert landmarks.latent_contrast(joke) == pytest.approx(-1.0, abs=1e-3)
    assert landmarks.latent_contrast(refund) == pytest.approx(1.0, abs=1e-3)
    assert landmarks.latent_contrast(None) is None  # a question whose terms were not read
    assert Landmarks(np.eye(2), np.eye(2)).latent_contrast(joke) is None  # landmarks without terms


def test_landmarks_keep_their_terms_on_disk_and_older_files_have_none(tmp_path):
    landmarks = Landmarks(offtopic=np.eye(2, dtype=np.float32), inside=np.eye(2, dtype=np.float32)[:1],
                          offtopic_terms=TermRows.pack(_terms(([10], [1.0]), ([11, 12], [0.5, 0.5]))),
                          inside_terms=TermRows.pack(_terms(([20], [1.0]))))
    landmarks.save(tmp_path)
    back = Landmarks.load(tmp_path, dim=2)
    question = question_vector((np.array([12]), np.array([1.0], dtype=np.float32)))
    assert back.latent_contrast(question) == pytest.approx(landmarks.latent_contrast(question), abs=1e-3)
    assert repr(back) == "Landmarks(probes=2, own_questions=1, with latent terms)"
    # Kept 16-bit on disk, widened once in memory (every search scores its question against them).
    with np.load(tmp_path / "answer_landmarks.npz") as stored:
        assert stored["inside_term_ids"].dtype == np.uint16 and stored["inside_term_weights"].dtype == np.float16
    assert back.inside_terms.ids.dtype == np.intp and back.inside_terms.weights.dtype == np.float32
    back.save(tmp_path)  # widened rows are stored 16-bit all the same
    with np.load(tmp_path / "answer_landmarks.npz") as stored:
        assert stored["offtopic_term_ids"].dtype == np.uint16 and stored["offtopic_term_weights"].dtype == np.float16
    Landmarks(landmarks.offtopic, landmarks.inside).save(tmp_path)  # as the previous release wrote them
    older = Landmarks.load(tmp_path, dim=2)
    assert older.offtopic_terms is None and older.latent_contrast(question) is None


def test_a_question_whose_terms_are_nearer_a_probe_needs_a_closer_passage():
    cut = no_answer.AnswerCut(0.84, 0.03, "calibrated", latent_weight=0.3)
    some = evidence.KeywordEvidence({"a": 0.2}, frozenset({"a"}))  # a little in common: needs 0.837
    best = [("a", 0.86), ("b", 0.84)]
    assert no_answer.answering(best, some, cut, contrast=-0.01) == {"a", "b"}  # the vectors' contrast: needs 0.847
    assert no_answer.answering(best, some, cut, contrast=-0.01, latent_contrast=0.1) == {"a", "b"}
    assert no_answer.answering(best, some, cut, contrast=-0.01, latent_contrast=-0.03) == {"a", "b"}  # 0.856
    assert no_answer.answering(best, some, cut, contrast=-0.01, latent_contrast=-0.05) is None  # 0.862
    assert no_answer.answering(best, some, cut, contrast=-0.01, latent_contrast=-0.2) is None  # 0.907
    # Not for a question in another language than its nearest article, as for the vectors' contrast.
    assert no_answer.answering(best, some, cut, cross_language=True, contrast=-0.01, latent_contrast=-0.2) == {"a", "b"}
    # Weight 0: the terms are left out.
    off = no_answer.AnswerCut(0.84, 0.03, "calibrated", latent_weight=0.0)
    assert no_answer.answering(best, some, off, contrast=-0.01, latent_contrast=-0.2) == {"a", "b"}


def test_the_latent_raise_scales_with_the_weight_and_the_margin_and_spares_named_subjects():
    assert no_answer.latent_raise(-0.1, 0.3, no_answer.DEFAULT_SPREAD / 2, 0.0) == pytest.approx(0.03)
    assert no_answer.latent_raise(-0.1, 0.3, no_answer.DEFAULT_SPREAD / 6, 0.0) == pytest.approx(0.01)
    assert no_answer.latent_raise(-0.1, 0.6, no_answer.DEFAULT_SPREAD / 2, 0.0) == pytest.approx(0.06)
    assert no_answer.latent_raise(0.05, 0.3, 0.03, 0.0) == 0.0
    assert no_answer.latent_raise(None, 0.3, 0.03, 0.0) == 0.0
    # The question's rare words are in one article: it names something the collection has.
    assert no_answer.latent_raise(-0.1, 0.3, 0.03, no_answer.CONTRAST_RARE_SHARE) == 0.0


def test_a_negative_latent_weight_is_refused(tmp_path):
    with pytest.raises(KbError) as raised:
        make_settings(tmp_path, answer_latent_weight=-0.1)
    assert raised.value.field == "answer_latent_weight"


# -- real model, real index -------------------------------------------------------------------

def test_the_calibration_keeps_every_landmark_s_terms(session_kb):
    landmarks = session_kb.answer_cut().landmarks
    assert landmarks.offtopic_terms is not None and landmarks.inside_terms is not None
    assert len(landmarks.offtopic_terms.starts) == len(landmarks.offtopic)
    assert len(landmarks.inside_terms.starts) == len(landmarks.inside)
    assert session_kb.answer_cut().latent_weight == session_kb.settings.answer_latent_weight > 0


def test_the_latent_terms_turn_away_everyday_questions_the_vectors_let_through(session_kb):
    """The same index with the setting at 0: fewer of these questions get "no answer", and
    the in-domain dialect questions are answered both ways."""
    without = KnowledgeBase(session_kb.articles_dir, session_kb.settings.index_dir,
                            session_kb.settings.with_overrides(answer_latent_weight=0.0), embedder=session_kb.embedder)

    def turned_away(knowledge: KnowledgeBase) -> int:
        for question, slug in IN_DOMAIN:
            assert slug in [hit.slug for hit in knowledge.search(question)[:3]], question
        return sum(knowledge.search_page(question).reason == "no_answer" for question in EVERYDAY_TERMS)

    assert turned_away(session_kb) > turned_away(without)


def test_with_both_weights_at_zero_searches_read_no_terms(session_kb):
    both_off = KnowledgeBase(session_kb.articles_dir, session_kb.settings.index_dir,
                             session_kb.settings.with_overrides(answer_latent_weight=0.0, dense_latent_weight=0.0),
                             embedder=session_kb.embedder)
    assert both_off.latent_terms(both_off.embedder) is None
    assert both_off.search(IN_DOMAIN[0][0])
    only_cut = KnowledgeBase(session_kb.articles_dir, session_kb.settings.index_dir,
                             session_kb.settings.with_overrides(dense_latent_weight=0.0), embedder=session_kb.embedder)
    assert only_cut.latent_terms(only_cut.embedder) is not None  # the cut still compares them


def test_an_index_whose_landmarks_have_no_terms_is_calibrated_again_with_them(fresh_kb):
    """GIVEN an index calibrated by the release before (landmarks without terms, other inputs)
    WHEN ``kb index`` runs with no article changed
    THEN the landmarks get their terms, from the embedding cache where it has them."""
    generation = fresh_kb.store.current()
    landmarks = Landmarks.load(generation)
    Landmarks(landmarks.offtopic, landmarks.inside).save(generation)
    manifest = fresh_kb._read_state().manifest
    manifest.answer_calibration = {**manifest.answer_calibration, "inputs": "the release before"}
    manifest.save(generation)
    older = KnowledgeBase.from_settings(fresh_kb.settings, embedder=fresh_kb.embedder)
    assert older.answer_cut().landmarks.offtopic_terms is None  # searches go on without them
    assert older.search(IN_DOMAIN[0][0])
    cache = fresh_kb.store.root / "embeddings" / f"embeddings-{fresh_kb.embedder.fingerprint}.sqlite3"
    with sqlite3.connect(cache) as db:
        stored = db.execute(f"SELECT COUNT(*) FROM {LATENT_TABLE}").fetchone()[0]
    report = older.index()
    assert not report.full and report.added == report.changed == report.deleted == 0
    again = older.answer_cut().landmarks
    assert again.offtopic_terms is not None and len(again.inside_terms.starts) == len(again.inside)
    with sqlite3.connect(cache) as db:  # the landmarks' terms were in the cache already: none computed again
        assert db.execute(f"SELECT COUNT(*) FROM {LATENT_TABLE}").fetchone()[0] == stored
    assert older._read_state().manifest.answer_calibration["inputs"] == calibration_inputs(older.dialect())
