"""The model's reading of a question: what the dense side asks of the model, in one place.

A search's question is read three ways by the model (``kb.search.ranking.dense_articles``):

- its query vector, as typed;
- for a dialect question, the query vector of its MSA reading too (``kb.search.dialect``):
  the bundled model reads MSA much better than dialect; both in one engine call;
- its latent terms, as typed only (``kb.search.latent``), on a thread of their own begun
  first, so that the two passes of the model run side by side on two cores.

The benchmarks time this same work as "the model's share of a search" (``scripts/bench_search.py``,
``scripts/bench_api.py``): it lives here so that a change to it is a change to all three.
With a memo (``kb.search.question_memo``) a text the model has read before is not read again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kb.search.dialect import DialectLexicon
from kb.search.dialect import msa_reading
from kb.search.embed import Embedder
from kb.search.embed import embed_queries
from kb.search.latent import LatentTerms
from kb.search.latent import PendingQuestion
from kb.search.question_memo import QuestionMemo


@dataclass(frozen=True)
class QuestionReading:
    """`readings`: the question as typed, then its MSA reading when the lexicon changed
    something; `vectors`: each reading's query vector, in that order.  The latent terms may
    still be on their way: :meth:`terms` waits for them."""

    readings: tuple[str, ...]
    vectors: tuple[np.ndarray, ...]
    pending_terms: PendingQuestion | None = None

    def terms(self) -> np.ndarray | None:
        """The latent terms of the question as typed (a dense unit vector over the features),
        or None when the search does not read them (no terms in the model, or none wanted)."""
        return self.pending_terms.result() if self.pending_terms is not None else None


def read_question(text: str, embedder: Embedder, lexicon: DialectLexicon | None = None,
                  latent: LatentTerms | None = None, memo: QuestionMemo | None = None) -> QuestionReading:
    """Reads `text`: its vectors now, its latent terms begun on a thread (with `latent`).

    `lexicon`: the dialect lexicon whose MSA reading is read too (None: the question as typed
    only, ``dense_msa_reading = "off"``).  The terms are of the question as typed only: its MSA
    reading's added a pass of the model (four concurrent agent messages: 130 -> 102 ms of CPU a
    request) and nothing on the first halves (``kb.search.latent``)."""
    reading = msa_reading(text, lexicon) if lexicon is not None else None
    readings = (text,) if reading is None else (text, reading)
    pending = latent.start_question(text) if latent is not None and latent.usable else None
    if memo is None:
        vectors = embed_queries(embedder, readings)
    else:
        vectors = memo.remembered(("query vector", embedder.fingerprint), readings,
                                  lambda texts: embed_queries(embedder, texts))
    return QuestionReading(readings, tuple(vectors), pending)
