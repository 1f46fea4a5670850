"""The model's reading of recent questions (kb.search.question_memo): asked again, a question
costs no pass of the model and finds exactly what it found the first time."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from kb.knowledge import KnowledgeBase
from kb.search.question_memo import QuestionMemo


class ReadingCounter:
    """The real model, counting the question texts it reads (vectors and latent terms)."""

    def __init__(self, real):
        self.real = real
        self.read: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def _count(self, kind: str, texts) -> None:
        with self._lock:
            self.read.extend((kind, text) for text in texts)

    def embed_query(self, text):
        self._count("vector", [text])
        return self.real.embed_query(text)

    def embed_query_batch(self, texts):
        self._count("vector", texts)
        return self.real.embed_query_batch(texts)

    def latent_terms(self, texts):
        self._count("terms", texts)
        return self.real.latent_terms(texts)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def counted_kb(launch_kb):
    """The launch articles' index, searched through a counting wrapper of the same model."""
    counter = ReadingCounter(launch_kb.embedder)
    knowledge = KnowledgeBase.from_settings(launch_kb.settings, embedder=counter)
    yield knowledge, counter
    knowledge.close()


def slugs_and_scores(page):
    return [(hit.slug, hit.score) for hit in page.hits], page.total, page.reason


def test_asking_again_reads_nothing_and_finds_the_same(counted_kb):
    knowledge, counter = counted_kb
    question = "العميل زعلان ومعصب من التأخير شو اعمل"  # Levantine and Gulf: read twice, as typed and in MSA
    first = knowledge.search_page(question)
    assert first.hits and first.hits[0].slug == "handling-angry-customers"
    kinds = sorted(kind for kind, _ in counter.read)
    assert kinds == ["terms", "vector", "vector"], counter.read  # its vectors (as typed, MSA reading) and terms

    counter.read.clear()
    again = knowledge.search_page(question)
    assert counter.read == []
    assert slugs_and_scores(again) == slugs_and_scores(first)

    # The next page and a filtered search of the same question read nothing either.
    knowledge.search_page(question, offset=3, limit=3)
    knowledge.search_page(question, category=knowledge.catalog.articles[first.hits[0].slug].category)
    assert counter.read == []

    # The health report says what the memo holds and answered: three readings made by the
    # model (two vectors, the terms), each then found kept by three more searches.
    assert knowledge.health()["question_memo"] == {"readings": 3, "max_readings": 2048, "hits": 9, "shared": False,
                                                  "shared_hits": 0, "misses": 3}


def test_another_question_is_read(counted_kb):
    knowledge, counter = counted_kb
    knowledge.search_page("كيف ارد على تقييم سلبي")
    counter.read.clear()
    knowledge.search_page("كيف ارد على تقييم سلبي في جوجل")
    assert {kind for kind, _ in counter.read} == {"vector", "terms"}


def test_another_model_never_reads_what_one_made():
    """The kind a search asks for names the model's fingerprint (kb.search.ranking, kb.search.latent)."""
    memo = QuestionMemo()
    made_by_one = memo.remembered(("query vector", "model one"), ["سؤال"], lambda texts: [np.ones(2)])
    made_by_other = memo.remembered(("query vector", "model two"), ["سؤال"], lambda texts: [np.zeros(2)])
    assert made_by_one[0].tolist() == [1.0, 1.0] and made_by_other[0].tolist() == [0.0, 0.0]


def test_readings_are_read_once_each_in_order_and_kept_read_only():
    memo = QuestionMemo(max_readings=10)
    calls: list[list[str]] = []

    def read(texts):
        calls.append(list(texts))
        return [np.full(2, len(text), dtype=np.float32) for text in texts]

    first = memo.remembered("v", ["a", "bb"], read)
    second = memo.remembered("v", ["ccc", "a", "ccc"], read)
    assert calls == [["a", "bb"], ["ccc"]]  # only what was missing, once each, in order
    assert [r.tolist() for r in second] == [[3, 3], [1, 1], [3, 3]]
    assert second[1] is first[0]
    with pytest.raises(ValueError):
        first[0][0] = 9.0  # a later search's reading must not be changed by this one
    assert memo.remembered("other kind", ["a"], read)[0].tolist() == [1, 1]
    assert calls[-1] == ["a"]


def test_the_memo_counts_what_it_answered_and_what_the_model_read():
    memo = QuestionMemo(max_readings=4)
    memo.remembered("v", ["a", "b"], lambda texts: [len(text) for text in texts])
    memo.remembered("v", ["a", "c", "a"], lambda texts: [len(text) for text in texts])
    assert memo.stats() == {"readings": 3, "max_readings": 4, "hits": 2, "shared": False, "shared_hits": 0, "misses": 3}


def test_the_least_recently_used_reading_goes_first():
    memo = QuestionMemo(max_readings=2)
    calls: list[str] = []

    def read(texts):
        calls.extend(texts)
        return [len(text) for text in texts]

    memo.remembered("v", ["a"], read)
    memo.remembered("v", ["bb"], read)
    memo.remembered("v", ["a"], read)  # "a" used again: "bb" is now the oldest
    memo.remembered("v", ["ccc"], read)
    assert len(memo) == 2
    calls.clear()
    memo.remembered("v", ["a", "ccc"], read)
    assert calls == []
    memo.remembered("v", ["bb"], read)
    assert calls == ["bb"]


def test_a_backend_without_the_reading_gives_none_and_a_zero_size_keeps_none():
    assert QuestionMemo().remembered("terms", ["a"], lambda texts: []) == []
    memo = QuestionMemo(max_readings=0)
    calls: list[str] = []
    memo.remembered("v", ["a"], lambda texts: calls.extend(texts) or [1])
    memo.remembered("v", ["a"], lambda texts: calls.extend(texts) or [1])
    assert calls == ["a", "a"] and len(memo) == 0
