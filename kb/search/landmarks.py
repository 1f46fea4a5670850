"""Landmarks: which known questions a new one resembles, off-topic probes or the collection's own.

The "no answer" cut (``kb.search.no_answer``, calibrated by ``kb.search.calibration``) judges a
question by how close its nearest passage comes.  With the bundled multilingual-e5, a short everyday question in dialect ("طريقة
الكبسه باللحم", "ايه اعراض نقص الحديد") lands as close to a help center's how-to articles as
many real customer questions do: its cosine says "how do I ...", not "about what".  What
does tell them apart is which *questions* it is nearest to.  The calibration already embeds
two sets of questions as queries: the off-topic probes (``data/offtopic_probes.txt``) and
the collection's pseudo-questions (titles, FAQ questions, headings).  A question nearer to
some probe than to any of the collection's own questions is probably one of the probes'
kind, and needs a closer passage to count as answered (``no_answer.answering``).

The landmarks are those query vectors, kept beside the index generation they were measured
on (``answer_landmarks.npz``): a few hundred rows, one matrix product per search.

Measured (scripts/eval_helpcenter.py, first halves; the rule in ``no_answer.answering``):
240 everyday off-topic questions rejected 0.637 -> 0.81 (with the probes' MSA readings,
``calibration.calibrate``), the encyclopedia-style off-topic set 0.963 -> 0.978, every
tuning question still answered.  Costs: 2 of 120 held-out
in-domain questions lose their results; arcd with one typo a question 0.832 -> 0.831;
no other benchmark collection moves.

Two more sets of landmarks (``landmark_texts``), measured together, with landmarks re-measured
on every collection:

* *everyday probes* (``data/everyday_probes.txt``, 172 personal questions in the four dialects,
  MSA and English: the visitor's own phone, exams, small talk, visas, cars, prices...), as
  landmarks only: in the threshold too they raised it, and tuning and held-out questions
  lost their results;
* *the own questions worded in each dialect* (``kb.search.renderings``).  Alone, the
  everyday probes turned away many everyday questions (0.825 -> 0.900 of the first half)
  but took every result from one tuning and one held-out first-half question, and from five
  of the second held-out set: e5 put those dialect questions nearer to a dialect probe on
  another topic than to any MSA title.  With the renderings that cost is gone from the first
  halves.

Everyday off-topic questions rejected 0.825 / 0.792 -> 0.892 / 0.883 (first / second half);
the tuning set, the held-out set and the encyclopedia-style off-topic set do not move; the
second held-out set (never tuned on) loses the results of 2 of 120 questions (with results
0.992 -> 0.975); arcd, arcd with typos, mlqa_ar_dev, nsurl_q2q and dial2msa do not move
(nDCG@10 and the share without results).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from kb.fsutil import atomic_write_bytes
from kb.search.dialect import DialectLexicon
from kb.search.dialect import msa_reading
from kb.search.term_rows import TermRows
from kb.search.renderings import backward_forms
from kb.search.renderings import dialect_renderings

logger = logging.getLogger(__name__)

FILE_NAME = "answer_landmarks.npz"
EVERYDAY_PROBES_FILE = Path(__file__).parent / "data" / "everyday_probes.txt"


def read_questions(path: Path) -> list[str]:
    """A list of questions: one a line, '#' comments and blank lines skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def landmark_texts(probes: Sequence[str], own_questions: Sequence[str], lexicon: DialectLexicon,
                   everyday: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """What the landmarks embed besides the threshold's probes and own questions themselves:
    (more off-topic texts, more own-question texts).

    Off-topic: the everyday probes (`everyday`, default ``data/everyday_probes.txt``: landmarks
    only, see its header) and the MSA reading of every dialect probe, as a dialect question is
    read both ways at search time.  Own: each own question worded in each dialect
    (``kb.search.renderings``), so that a dialect question meets both sides in its register."""
    everyday = read_questions(EVERYDAY_PROBES_FILE) if everyday is None else list(everyday)
    all_probes = [*probes, *everyday]
    readings = [reading for probe in all_probes if (reading := msa_reading(probe, lexicon))]
    forms = backward_forms(lexicon)
    renderings = [rendering for text in own_questions for rendering in dialect_renderings(text, forms)]
    return [*everyday, *readings], renderings


@dataclass(frozen=True, eq=False)
class Landmarks:
    """Query vectors of the off-topic probes and of the collection's pseudo-questions, as the
    calibration embedded them (one row each, unit length), and the same texts' latent terms
    when the model has them (``offtopic_terms``, ``inside_terms``; see :meth:`latent_contrast`)."""

    offtopic: np.ndarray
    inside: np.ndarray
    offtopic_terms: TermRows | None = None
    inside_terms: TermRows | None = None

    def contrast(self, query_vectors: Sequence[np.ndarray]) -> float:
        """How much nearer the question is to the collection's own questions than to any probe
        (cosine; negative: a probe is nearer).  Of several readings of one question (as typed,
        its MSA reading), the most favourable counts, as the dense side keeps the better one."""
        return max(float(np.max(self.inside @ vector) - np.max(self.offtopic @ vector)) for vector in query_vectors)

    def latent_contrast(self, question_terms: np.ndarray | None) -> float | None:
        """:meth:`contrast` in the model's latent terms (``kb.search.latent``): the question's
        terms (a dense unit vector over the features, of the question as typed) against the
        landmarks'.  None without terms on either side.

        Why a second contrast: the pooled vector of "قول لي نكته تضحك" or "جوالي صاير بطيء حيل"
        says "a request for help", and lies as near to the help center's own questions as to
        the probes; its terms say "joke", "phone", and those fire in the probes, not in the
        collection's questions.  First halves of the help-center sets, the contrast alone:
        in-domain questions have a median of 0.06 to 0.11, everyday off-topic ones -0.09, the
        encyclopedia-style ones -0.03 (the rule that uses it: ``no_answer.answering``)."""
        if self.offtopic_terms is None or self.inside_terms is None or question_terms is None:
            return None
        return self.inside_terms.best(question_terms) - self.offtopic_terms.best(question_terms)

    def __repr__(self) -> str:  # not the matrices: an AnswerCut in a log line stays one line
        terms = "" if self.offtopic_terms is None else ", with latent terms"
        return f"Landmarks(probes={len(self.offtopic)}, own_questions={len(self.inside)}{terms})"

    @property
    def usable(self) -> bool:
        return bool(len(self.offtopic)) and bool(len(self.inside)) and self.offtopic.shape[1] == self.inside.shape[1]

    def save(self, generation: Path) -> None:
        """Written atomically: a reader sees the old landmarks or the new ones, never a part."""
        buffer = io.BytesIO()
        terms = {}
        if self.offtopic_terms is not None and self.inside_terms is not None:
            for side, rows in (("offtopic", self.offtopic_terms), ("inside", self.inside_terms)):
                terms.update({f"{side}_term_ids": rows.ids.astype(np.uint16),
                              f"{side}_term_weights": rows.weights.astype(np.float16), f"{side}_term_starts": rows.starts})
        np.savez(buffer, offtopic=self.offtopic.astype(np.float32), inside=self.inside.astype(np.float32), **terms)
        atomic_write_bytes(generation / FILE_NAME, buffer.getvalue())

    @classmethod
    def load(cls, generation: Path, dim: int | None = None) -> Landmarks | None:
        """The generation's landmarks, or None when it has none (an index calibrated before they
        existed: the cut then works without them until the next ``kb index``) or they do not
        fit the model's vectors (`dim`)."""
        path = generation / FILE_NAME
        try:
            with np.load(path) as data:
                # Widened once here: every search scores its question against them (TermRows.widened).
                terms = [TermRows(data[f"{side}_term_ids"], data[f"{side}_term_weights"], data[f"{side}_term_starts"]).widened()
                         if f"{side}_term_ids" in data.files else None for side in ("offtopic", "inside")]
                landmarks = cls(np.asarray(data["offtopic"], dtype=np.float32), np.asarray(data["inside"], dtype=np.float32),
                                *terms)
        except FileNotFoundError:
            return None
        except (OSError, KeyError, ValueError) as exc:
            logger.warning("ignoring %s: %s", path, exc)
            return None
        if not landmarks.usable or (dim is not None and landmarks.inside.shape[1] != dim):
            return None
        return landmarks
