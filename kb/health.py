"""The health report: the one dictionary that says how the index and search stand, for the
agent API's ``/api/v1/health`` (what monitoring polls), the staff pages and the tests.

Apart from ``kb.knowledge`` because what the report holds, and what each field means, is
its own idea: ``KnowledgeBase.health`` gathers the live values (the read state, the model,
the vector worker) and :func:`health_report` turns them into the fields, a pure function
from values to a dictionary, so the fields' rules (when semantic search counts as caught
up, which reason for it being off wins) are in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kb.search.calibration import Calibration

if TYPE_CHECKING:
    from kb.search.no_answer import AnswerCut
    from kb.search.indexing import Manifest


def health_report(manifest: Manifest, vectors: int | None, cut: AnswerCut, *, embedding_backend: str,
                  semantic: bool, model_error: str | None, vectors_unusable: str | None,
                  background: dict, question_memo: dict) -> dict:
    """The report of an index whose manifest is `manifest`.

    `vectors`: how many passage vectors searches hold (None: none loaded); `semantic`: whether
    searches use them now; `model_error`: why this process has no model (it did not load, or
    is disabled); `vectors_unusable`: why the index's vectors cannot answer this process's
    queries (another model made them); `background`: the vector worker's status;
    `question_memo`: what the model's reading of recent questions holds and answered
    (``QuestionMemo.stats``, this process's)."""
    return {
        "status": "ok",
        "articles": len(manifest.articles),
        "passages": manifest.passages,
        "vectors": vectors or 0,
        "index_built_at": manifest.built_at,
        "index_updated_at": manifest.updated_at,
        "embedding_backend": embedding_backend,
        "embedding_model": manifest.embedder,
        "semantic": semantic,
        "semantic_error": model_error or vectors_unusable or manifest.semantic_error,
        "articles_without_vectors": len(manifest.pending_vectors),
        # Every indexed article has its vectors: semantic search has caught up with the publishes.
        "semantic_caught_up": not manifest.pending_vectors and not vectors_unusable and vectors is not None,
        "background": background,
        "question_memo": question_memo,
        **_answer_health(manifest, cut),
    }


def _answer_health(manifest: Manifest, cut: AnswerCut) -> dict:
    """The "no answer" cut searches use now, and the index's calibration it came from."""
    calibration = Calibration.from_dict(manifest.answer_calibration)
    landmarks = cut.landmarks
    return {"answer_threshold": None if cut.threshold is None else round(cut.threshold, 4),
            "answer_threshold_source": cut.source,
            "answer_calibration": calibration.to_dict() if calibration else None,
            # kb.search.landmarks: None when off, or not measured yet (an index calibrated before them)
            "answer_landmarks": {"probes": len(landmarks.offtopic), "own_questions": len(landmarks.inside),
                                 # their latent terms count too (no_answer.latent_raise)
                                 "latent_terms": landmarks.offtopic_terms is not None and cut.latent_weight > 0}
            if landmarks is not None else None}
