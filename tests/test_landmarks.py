"""Landmarks (kb.search.landmarks): a question nearer to an off-topic probe than to any of the
collection's own questions needs a closer passage to get results."""

from __future__ import annotations

import numpy as np
import pytest

from kb import KnowledgeBase
from kb.search import calibration
from kb.search import evidence
from kb.search.dialect import msa_reading
from kb.search.landmarks import FILE_NAME
from kb.search.landmarks import Landmarks
from tests.test_no_answer import IN_DOMAIN

# Written for these tests (not from any evaluation set, nor from the probes): everyday
# questions a visitor types into a help center's search box, which no article answers.
EVERYDAY = [
    "ايش افضل دوا للكحة",
    "بدي وصفة شوربة عدس",
    "واش كاين تمارين للظهر",
    "طريقة عمل المحشي بالرز",
    "كم سعر الفضة الحين",
    "how to make pancakes at home",
]


def _unit(*rows: list[float]) -> np.ndarray:
    matrix = np.array(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_contrast_is_how_much_nearer_the_own_questions_are_than_any_probe():
    landmarks = Landmarks(offtopic=_unit([1, 0, 0], [0.8, 0.6, 0]), inside=_unit([0, 1, 0], [0, 0.6, 0.8]))
    near_a_probe = _unit([1, 0.1, 0])[0]
    near_our_own = _unit([0, 1, 0.1])[0]
    assert landmarks.contrast([near_a_probe]) < 0 < landmarks.contrast([near_our_own])
    expected = float(np.max(landmarks.inside @ near_a_probe) - np.max(landmarks.offtopic @ near_a_probe))
    assert landmarks.contrast([near_a_probe]) == pytest.approx(expected)
    # Of two readings (as typed, in MSA), the one nearer the collection counts.
    assert landmarks.contrast([near_a_probe, near_our_own]) == pytest.approx(landmarks.contrast([near_our_own]))


def test_landmarks_are_saved_and_read_back_and_a_bad_file_is_ignored(tmp_path, caplog):
    landmarks = Landmarks(offtopic=_unit([1, 0], [0, 1]), inside=_unit([1, 1]))
    assert Landmarks.load(tmp_path) is None  # none yet: the cut works without them
    landmarks.save(tmp_path)
    back = Landmarks.load(tmp_path, dim=2)
    assert back is not None and np.allclose(back.offtopic, landmarks.offtopic) and np.allclose(back.inside, landmarks.inside)
    assert Landmarks.load(tmp_path, dim=384) is None  # another model's vectors
    assert repr(back) == "Landmarks(probes=2, own_questions=1)"
    (tmp_path / FILE_NAME).write_bytes(b"not numpy")
    assert Landmarks.load(tmp_path) is None
    assert FILE_NAME in caplog.text


def test_a_question_nearer_to_a_probe_needs_a_closer_passage():
    cut = calibration.AnswerCut(0.84, 0.03, "calibrated")
    some = evidence.KeywordEvidence({"a": 0.2}, frozenset({"a"}))  # a little in common: needs 0.837
    best = [("a", 0.86), ("b", 0.84)]
    assert calibration.answering(best, some, cut) == {"a", "b"}
    assert calibration.answering(best, some, cut, contrast=0.05) == {"a", "b"}  # nearer to our own questions
    assert calibration.answering(best, some, cut, contrast=-0.01) == {"a", "b"}  # needs 0.847
    assert calibration.answering(best, some, cut, contrast=-0.03) is None  # needs 0.867
    # Answered, it keeps the articles the threshold alone would keep.
    assert calibration.answering([("a", 0.90), ("b", 0.85)], some, cut, contrast=-0.03) == \
        calibration.answering([("a", 0.90), ("b", 0.85)], some, cut) == {"a", "b"}


def test_a_question_whose_rare_words_are_in_one_article_is_not_judged_by_its_landmarks():
    cut = calibration.AnswerCut(0.84, 0.03, "calibrated")
    named = evidence.KeywordEvidence({"a": calibration.CONTRAST_RARE_SHARE}, frozenset({"a"}))
    assert calibration.contrast_raise(-0.05, cut.margin, named.best_rare()) == 0.0
    assert calibration.answering([("a", 0.86)], named, cut, contrast=-0.05) == {"a"}


def test_a_question_in_another_language_than_its_nearest_article_is_not_judged_by_its_landmarks():
    """An English question is nearer to the English probes than to an Arabic collection's own
    questions whatever it asks: the landmarks would turn away every cross-language question."""
    cut = calibration.AnswerCut(0.84, 0.03, "calibrated")
    some = evidence.KeywordEvidence({"a": 0.2}, frozenset({"a"}))
    assert calibration.answering([("a", 0.86)], some, cut, contrast=-0.05) is None
    assert calibration.answering([("a", 0.86)], some, cut, cross_language=True, contrast=-0.05) == {"a"}


def test_the_raise_scales_with_the_collections_margin():
    # An encyclopedia's probes are its own subjects (a small calibrated spread): they count for less.
    wide = calibration.contrast_raise(-0.04, calibration.DEFAULT_SPREAD / 2, 0.0)
    narrow = calibration.contrast_raise(-0.04, 0.01, 0.0)
    assert wide == pytest.approx(0.04 * calibration.CONTRAST_WEIGHT)
    assert narrow == pytest.approx(wide / 3)
    assert calibration.contrast_raise(0.02, 0.03, 0.0) == 0.0


def test_index_keeps_the_landmarks_of_its_calibration(session_kb):
    state = session_kb._read_state()
    landmarks = Landmarks.load(state.generation)
    measured = calibration.Calibration.from_dict(state.manifest.answer_calibration)
    assert landmarks is not None
    lexicon = session_kb.dialect()
    readings = [probe for probe in calibration.load_probes() if msa_reading(probe, lexicon)]
    assert readings  # the probes are written in dialect too: their MSA readings are probes as well
    assert len(landmarks.offtopic) == measured.probes + len(readings)
    assert len(landmarks.inside) == measured.pseudo_questions
    assert landmarks.inside.shape[1] == session_kb.embedder.dim
    assert session_kb.answer_cut().landmarks is not None


def test_health_says_whether_searches_use_landmarks(client, session_kb):
    body = client.get("/api/v1/health").get_json()
    measured = body["answer_calibration"]
    landmarks = session_kb.answer_cut().landmarks
    assert body["answer_landmarks"] == {"probes": len(landmarks.offtopic), "own_questions": measured["pseudo_questions"]}
    assert body["answer_landmarks"]["probes"] > measured["probes"]  # with the MSA readings of dialect probes


@pytest.mark.parametrize("question", EVERYDAY)
def test_everyday_question_gets_no_results(session_kb, question):
    page = session_kb.search_page(question)
    assert page.hits == [] and page.reason == "no_answer"


def test_the_landmarks_are_what_turns_some_everyday_questions_away(session_kb):
    """The same index, the setting off: some of these questions get results again (the
    threshold alone lets them through), and the in-domain dialect questions are answered both ways."""
    without = KnowledgeBase(session_kb.articles_dir, session_kb.settings.index_dir,
                            session_kb.settings.with_overrides(answer_landmarks="off"), embedder=session_kb.embedder)
    assert without.answer_cut().landmarks is None
    assert any(without.search(question) for question in EVERYDAY)
    for question, slug in IN_DOMAIN:
        assert slug in [hit.slug for hit in without.search(question)[:3]]
        assert slug in [hit.slug for hit in session_kb.search(question)[:3]]


def test_an_index_calibrated_before_landmarks_gets_them_at_the_next_kb_index(fresh_kb):
    generation = fresh_kb.store.current()
    (generation / FILE_NAME).unlink()  # as an index the previous release calibrated
    older = KnowledgeBase.from_settings(fresh_kb.settings, embedder=fresh_kb.embedder)
    assert older.answer_cut().landmarks is None  # searches go on, on the threshold alone
    assert older.search(IN_DOMAIN[0][0])
    report = older.index()
    assert not report.full and report.added == report.changed == report.deleted == 0
    assert (generation / FILE_NAME).exists()
    assert older.answer_cut().landmarks is not None
