"""Landmarks (kb.search.landmarks): a question nearer to an off-topic probe than to any of the
collection's own questions needs a closer passage to get results."""

from __future__ import annotations

import numpy as np
import pytest

from kb import KnowledgeBase
from kb.search import calibration
from kb.search import evidence
from kb.search import landmarks as landmarks_module
from kb.search import no_answer
from kb.search import renderings
from kb.search.indexing import Manifest
from kb.search.dialect import msa_reading
from kb.search.landmarks import EVERYDAY_PROBES_FILE
from kb.search.landmarks import FILE_NAME
from kb.search.landmarks import Landmarks
from kb.search.landmarks import landmark_texts
from kb.search.landmarks import read_questions
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


# More of them, of the kinds the everyday probes cover (the visitor's own devices, school,
# small talk, travel, religion, cars, prices, shopping); also written for these tests.
EVERYDAY_PERSONAL = [
    "شاشة الجوال انكسرت كم تكلف تصليحها",
    "الراوتر في البيت يفصل كل شوي",
    "ازاي انقل الواتساب من موبايل قديم لجديد",
    "بطارية اللابتوب ما عم تشحن",
    "امتى تبدا اجازة نص السنة للمدارس",
    "كيف اذاكر للامتحان النهائي في يومين",
    "ايه المجموع اللي يدخل كلية هندسة السنة دي",
    "شحال خاص من نقطة باش ندخل الطب",
    "احكيلي قصة قبل النوم",
    "انت ولد ولا بنت",
    "زهقانة قولي حاجة تضحكني",
    "شو اسمك يا بوت",
    "كم يوم تاخذ فيزا شنغن",
    "ايش احسن وقت للسفر لماليزيا",
    "كيفاش نجدد الباسبور",
    "وقت صلاة الفجر في جدة",
    "متى يبدا رمضان السنه الجايه",
    "زيت المحرك كل كم كيلو اغيره",
    "عربيتي بتسخن في الزحمة",
    "ابي اشتري سيارة مستعملة وش انصح",
    "سعر الدولار في السوق السودا النهارده",
    "كم سعر جرام الذهب عيار 21",
    "بدي جزمة رياضة مريحة للمشي",
    "وين القى فستان سهرة بسعر حلو",
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
    cut = no_answer.AnswerCut(0.84, 0.03, "calibrated")
    some = evidence.KeywordEvidence({"a": 0.2}, frozenset({"a"}))  # a little in common: needs 0.837
    best = [("a", 0.86), ("b", 0.84)]
    assert no_answer.answering(best, some, cut) == {"a", "b"}
    assert no_answer.answering(best, some, cut, contrast=0.05) == {"a", "b"}  # nearer to our own questions
    assert no_answer.answering(best, some, cut, contrast=-0.01) == {"a", "b"}  # needs 0.847
    assert no_answer.answering(best, some, cut, contrast=-0.03) is None  # needs 0.867
    # Answered, it keeps the articles the threshold alone would keep.
    assert no_answer.answering([("a", 0.90), ("b", 0.85)], some, cut, contrast=-0.03) == \
        no_answer.answering([("a", 0.90), ("b", 0.85)], some, cut) == {"a", "b"}


def test_a_question_whose_rare_words_are_in_one_article_is_not_judged_by_its_landmarks():
    cut = no_answer.AnswerCut(0.84, 0.03, "calibrated")
    named = evidence.KeywordEvidence({"a": no_answer.CONTRAST_RARE_SHARE}, frozenset({"a"}))
    assert no_answer.contrast_raise(-0.05, cut.margin, named.best_rare) == 0.0
    assert no_answer.answering([("a", 0.86)], named, cut, contrast=-0.05) == {"a"}


def test_a_question_in_another_language_than_its_nearest_article_is_not_judged_by_its_landmarks():
    """An English question is nearer to the English probes than to an Arabic collection's own
    questions whatever it asks: the landmarks would turn away every cross-language question."""
    cut = no_answer.AnswerCut(0.84, 0.03, "calibrated")
    some = evidence.KeywordEvidence({"a": 0.2}, frozenset({"a"}))
    assert no_answer.answering([("a", 0.86)], some, cut, contrast=-0.05) is None
    assert no_answer.answering([("a", 0.86)], some, cut, cross_language=True, contrast=-0.05) == {"a"}


def test_the_raise_scales_with_the_collections_margin():
    # An encyclopedia's probes are its own subjects (a small calibrated spread): they count for less.
    wide = no_answer.contrast_raise(-0.04, no_answer.DEFAULT_SPREAD / 2, 0.0)
    narrow = no_answer.contrast_raise(-0.04, 0.01, 0.0)
    assert wide == pytest.approx(0.04 * no_answer.CONTRAST_WEIGHT)
    assert narrow == pytest.approx(wide / 3)
    assert no_answer.contrast_raise(0.02, 0.03, 0.0) == 0.0


def test_index_keeps_the_landmarks_of_its_calibration(session_kb):
    state = session_kb._read_state()
    landmarks = Landmarks.load(state.generation)
    measured = calibration.Calibration.from_dict(state.manifest.answer_calibration)
    assert landmarks is not None
    lexicon = session_kb.dialect()
    readings = [probe for probe in calibration.load_probes() if msa_reading(probe, lexicon)]
    assert readings  # the probes are written in dialect too: their MSA readings are probes as well
    everyday = read_questions(EVERYDAY_PROBES_FILE)
    more_offtopic, _ = landmark_texts(calibration.load_probes(), [], lexicon)
    assert len(more_offtopic) > len(everyday) + len(readings)  # the everyday probes, and their readings too
    assert len(landmarks.offtopic) == measured.probes + len(more_offtopic)
    # The own questions, and each worded in the dialects (كيف -> ازاي، شلون، كيفو، كيفاش).
    assert measured.pseudo_questions < len(landmarks.inside) <= 5 * measured.pseudo_questions
    assert measured.inputs == calibration.calibration_inputs(lexicon)
    assert landmarks.inside.shape[1] == session_kb.embedder.dim
    assert session_kb.answer_cut().landmarks is not None


def test_health_says_whether_searches_use_landmarks(client, session_kb):
    body = client.get("/api/v1/health").get_json()
    measured = body["answer_calibration"]
    landmarks = session_kb.answer_cut().landmarks
    assert body["answer_landmarks"] == {"probes": len(landmarks.offtopic), "own_questions": len(landmarks.inside),
                                        "latent_terms": True}
    assert body["answer_landmarks"]["probes"] > measured["probes"]  # with the everyday probes and the MSA readings
    assert body["answer_landmarks"]["own_questions"] > measured["pseudo_questions"]  # worded in the dialects too


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


def test_an_index_calibrated_with_other_probes_or_lexicon_is_calibrated_again(fresh_kb):
    """GIVEN an index calibrated with other probe lists or another dialect lexicon (a kb
    upgrade that ships new ones, or the editors' _dialect.yml changed)
    WHEN ``kb index`` runs with no article changed
    THEN it measures the calibration again, with the landmarks of the probes and lexicon now."""
    generation = fresh_kb.store.current()
    manifest = Manifest.load(generation)
    manifest.answer_calibration = {**manifest.answer_calibration, "inputs": "probes of an older release"}
    manifest.save(generation)
    (generation / FILE_NAME).write_bytes(b"not the landmarks of these probes")
    older = KnowledgeBase.from_settings(fresh_kb.settings, embedder=fresh_kb.embedder)
    report = older.index()
    assert not report.full and report.added == report.changed == report.deleted == 0
    measured = calibration.Calibration.from_dict(Manifest.load(older.store.current()).answer_calibration)
    assert measured.inputs == calibration.calibration_inputs(older.dialect())
    assert older.answer_cut().landmarks is not None
    assert len(older.answer_cut().landmarks.inside) > measured.pseudo_questions


def test_the_everyday_probes_and_the_dialect_wordings_turn_away_more_everyday_questions(fresh_kb, monkeypatch):
    """GIVEN the launch articles' index with landmarks of the threshold's probes alone (no
    everyday probes, the own questions in MSA only: as before both existed)
    WHEN ``kb index`` measures them again with both
    THEN more of the everyday personal questions get no results, and the in-domain dialect
    questions are answered both ways."""

    def rejected(knowledge: KnowledgeBase) -> int:
        for question, slug in IN_DOMAIN:
            assert slug in [hit.slug for hit in knowledge.search(question)[:3]], question
        return sum(knowledge.search_page(question).reason == "no_answer" for question in EVERYDAY_PERSONAL)

    empty = fresh_kb.settings.index_dir.parent / "no_everyday_probes.txt"
    empty.write_text("# none\n", encoding="utf-8")
    monkeypatch.setattr(landmarks_module, "EVERYDAY_PROBES_FILE", empty)
    monkeypatch.setattr(calibration, "EVERYDAY_PROBES_FILE", empty)
    monkeypatch.setattr(renderings, "RENDERED_DIALECTS", ())
    (fresh_kb.store.current() / FILE_NAME).unlink()
    fresh_kb.index()
    before = fresh_kb.answer_cut().landmarks
    assert len(before.inside) == calibration.Calibration.from_dict(
        Manifest.load(fresh_kb.store.current()).answer_calibration).pseudo_questions
    rejected_before = rejected(fresh_kb)
    monkeypatch.undo()
    fresh_kb.index()  # the probe lists changed: calibrated again
    assert len(fresh_kb.answer_cut().landmarks.offtopic) > len(before.offtopic)
    assert rejected(fresh_kb) > rejected_before >= len(EVERYDAY_PERSONAL) // 2
