"""kb.search.vector: the faiss index of passage vectors, its id map and its file."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from kb.search.indexing import load_vectors
from kb.search.vector import FILE_NAME
from kb.search.vector import VectorEntry
from kb.search.vector import VectorIndex
from kb.search.vector import build_vector_index
from kb.search.vector import fit_vector_index
from kb.search.vector import ivf_nprobe

DIM = 16


def unit_vectors(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def small(rng) -> tuple[VectorIndex, dict[str, np.ndarray]]:
    """Three articles with 2, 3 and 1 passage vectors."""
    index = VectorIndex(DIM, "fp-test")
    vectors = {"أ": unit_vectors(rng, 2), "b": unit_vectors(rng, 3), "c": unit_vectors(rng, 1)}
    for slug, matrix in vectors.items():
        index.add(slug, [f"{slug}#s{i}" for i in range(len(matrix))], matrix)
    return index, vectors


def test_search_finds_each_vector_first(small):
    index, vectors = small
    assert len(index) == 6 and index.kind == "flat"
    for slug, matrix in vectors.items():
        for i, vector in enumerate(matrix):
            entry, score = index.search(vector, 1)[0]
            assert entry == VectorEntry(f"{slug}#s{i}", slug)
            assert score == pytest.approx(1.0, abs=1e-5)


def test_search_is_best_first_and_bounded(small):
    index, vectors = small
    results = index.search(vectors["b"][0], 100)
    assert len(results) == 6
    scores = [score for _, score in results]
    assert scores == sorted(scores, reverse=True)
    assert len(index.search(vectors["b"][0], 2)) == 2
    assert index.search(vectors["b"][0], 0) == []


def test_remove_drops_every_vector_of_one_article(small):
    index, vectors = small
    assert index.remove("b") == 3
    assert len(index) == 3
    assert index.slugs() == {"أ", "c"}
    assert all(entry.slug != "b" for entry, _ in index.search(vectors["b"][0], 10))
    assert index.remove("b") == 0
    assert index.remove("never-added") == 0


def test_update_replaces_old_vectors(small, rng):
    """An edited article: remove its vectors, add new ones; the old ones are never found again."""
    index, vectors = small
    new = unit_vectors(rng, 2)
    index.remove("c")
    index.add("c", ["c#s0", "c#s1"], new)
    assert len(index) == 7
    assert index.search(new[1], 1)[0][0] == VectorEntry("c#s1", "c")
    old_best = index.search(vectors["c"][0], 1)[0]
    assert old_best[1] < 0.999  # the old vector itself is gone
    assert np.allclose(index.vectors_of("c"), new, atol=1e-6)


def test_ids_are_never_reused_after_a_removal(small, rng):
    index, _ = small
    before = index.next_id
    index.remove("أ")
    index.add("d", ["d#s0"], unit_vectors(rng, 1))
    assert index.next_id == before + 1
    assert sorted(index.entries) == sorted(set(index.entries))
    assert len(index.entries) == len(index)


def test_empty_index_and_empty_additions(rng):
    index = VectorIndex(DIM, "fp")
    assert len(index) == 0
    assert index.search(unit_vectors(rng, 1)[0], 5) == []
    index.add("x", [], np.zeros((0, DIM), np.float32))
    assert len(index) == 0 and index.slugs() == set()
    assert index.vectors_of("x").shape == (0, DIM)


def test_save_and_load_round_trip(small, tmp_path, rng):
    index, vectors = small
    index.remove("c")  # a removal must survive the round trip too
    index.save(tmp_path)
    loaded = VectorIndex.load(tmp_path)
    assert (loaded.dim, loaded.fingerprint, loaded.next_id) == (DIM, "fp-test", index.next_id)
    assert loaded.entries == index.entries
    assert loaded.slugs() == {"أ", "b"}
    for query in unit_vectors(rng, 5):
        assert loaded.search(query, 4) == index.search(query, 4)
    loaded.add("e", ["e#s0"], vectors["c"])  # and it keeps working as an index
    assert loaded.search(vectors["c"][0], 1)[0][0] == VectorEntry("e#s0", "e")
    assert not list(tmp_path.glob("*.tmp"))


def test_load_without_a_file_is_none(tmp_path):
    assert VectorIndex.load(tmp_path) is None


def test_load_refuses_a_foreign_file(tmp_path):
    (tmp_path / FILE_NAME).write_bytes(b"not a vector file")
    with pytest.raises(ValueError, match="not a kb vector file"):
        VectorIndex.load(tmp_path)


def test_large_collections_use_an_ivf_index_that_can_remove(rng, tmp_path):
    items = [(f"a{i}", [f"a{i}#s0", f"a{i}#s1"], unit_vectors(rng, 2)) for i in range(150)]
    index = build_vector_index(DIM, "fp", items, ann_threshold=100, nprobe=64)
    assert index.kind == "ivf"
    assert len(index) == 300
    target = items[42][2][1]
    assert index.search(target, 1)[0][0] == VectorEntry("a42#s1", "a42")
    assert index.remove("a42") == 2
    assert all(entry.slug != "a42" for entry, _ in index.search(target, 20))
    index.save(tmp_path)
    loaded = VectorIndex.load(tmp_path)
    assert loaded.kind == "ivf" and len(loaded) == 298
    assert faiss.downcast_index(loaded.index).nprobe == 64  # saved with the index
    assert loaded.search(items[7][2][0], 1)[0][0].slug == "a7"


@pytest.mark.parametrize(("nlist", "nprobe"), [(1, 1), (10, 10), (100, 25), (447, 111)])
def test_ivf_searches_a_quarter_of_its_lists_and_at_least_16(nlist, nprobe):
    assert ivf_nprobe(nlist) == nprobe


def test_an_index_that_crosses_the_threshold_changes_kind_without_losing_anything(rng):
    items = [(f"a{i}", [f"a{i}#s0", f"a{i}#s1"], unit_vectors(rng, 2)) for i in range(60)]
    exact = build_vector_index(DIM, "fp", items, ann_threshold=1000)
    assert fit_vector_index(exact, ann_threshold=1000) is exact
    ivf = fit_vector_index(exact, ann_threshold=100)
    assert ivf.kind == "ivf" and len(ivf) == 120
    assert sorted(ivf.items(), key=lambda item: item[0])[5][:2] == ("a13", ["a13#s0", "a13#s1"])
    assert ivf.search(items[13][2][1], 1)[0][0] == VectorEntry("a13#s1", "a13")
    back = fit_vector_index(ivf, ann_threshold=1000)
    assert back.kind == "flat" and len(back) == 120
    assert np.allclose(back.vectors_of("a7"), items[7][2], atol=1e-6)


def test_small_collections_stay_exact(rng):
    items = [("a", ["a#s0"], unit_vectors(rng, 1))]
    assert build_vector_index(DIM, "fp", items, ann_threshold=100).kind == "flat"


def test_session_vectors_round_trip_with_real_embeddings(session_kb, tmp_path):
    """GIVEN the session index's real vectors
    WHEN they are saved elsewhere and loaded again
    THEN a real query gets the same passages with the same scores."""
    original = load_vectors(session_kb.store.current())
    assert len(original) == session_kb.health()["vectors"] > 0
    original.save(tmp_path)
    loaded = VectorIndex.load(tmp_path)
    query = session_kb.embedder.embed_query("كم يستغرق استرداد المبلغ؟")
    assert loaded.search(query, 10) == original.search(query, 10)
    assert loaded.search(query, 1)[0][0].slug == "سياسة-الاسترداد"


def test_counts_and_about_cosines_follow_every_change(small, rng):
    """GIVEN an index whose vector counts and about vectors a search has already read (and the
    index keeps between changes)
    WHEN an article is added, replaced, given an about vector and removed
    THEN every read after a change sees it, as one under the lock each time would."""
    index, vectors = small
    about = unit_vectors(rng, 2)
    assert [index.count_of(slug) for slug in ("أ", "b", "c", "d")] == [2, 3, 1, 0]
    assert index.about_cosines(about[0], ["أ", "b", "d"]) == {}
    index.add("d", ["d#s0", "d#about"], np.vstack([vectors["c"], about[:1]]))
    assert index.count_of("d") == 2
    assert index.about_cosines(about[0], ["b", "d"])["d"] == pytest.approx(1.0, abs=1e-5)
    index.replace([("b", ["b#s0", "b#about"], np.vstack([vectors["b"][:1], about[1:]]))])
    assert index.count_of("b") == 2
    scores = index.about_cosines(about[1], ["d", "b", "c"])
    assert list(scores) == ["d", "b"] and scores["b"] == pytest.approx(1.0, abs=1e-5)
    assert scores["d"] == pytest.approx(float(about[0] @ about[1]), abs=1e-5)
    index.remove("d")
    assert index.count_of("d") == 0 and list(index.about_cosines(about[1], ["d", "b"])) == ["b"]


def test_an_about_vector_is_no_passage_but_is_kept_scored_and_saved(small, tmp_path, rng):
    """GIVEN an article stored with its passages and an about vector (title, summary, tags)
    WHEN the index is searched, scored for about vectors, saved, loaded and the article replaced
    THEN passage searches never return the about vector, about_cosines scores it (and only for
    articles that have one), it survives the round trip, and replacing the article replaces it."""
    index, vectors = small
    about = unit_vectors(rng, 1)
    index.replace([("b", ["b#s0", "b#s1", "b#s2", "b#about"], np.vstack([vectors["b"], about]))])
    assert index.count_of("b") == 4
    found = index.search(about[0], 100)
    assert len(found) == 6 and all(not entry.passage_id.endswith("#about") for entry, _ in found)
    nearest = list(index.nearest_articles(about[0], 100))
    assert {passage for _, passage, _ in nearest} <= {"أ#s0", "أ#s1", "b#s0", "b#s1", "b#s2", "c#s0"}
    scores = index.about_cosines(about[0], ["أ", "b", "c", "missing"])
    assert list(scores) == ["b"] and scores["b"] == pytest.approx(1.0, abs=1e-5)

    index.save(tmp_path)
    loaded = VectorIndex.load(tmp_path)
    assert loaded.about_cosines(about[0], ["b"])["b"] == pytest.approx(1.0, abs=1e-5)
    assert all(not passage.endswith("#about") for _, passage, _ in loaded.nearest_articles(about[0], 100))

    loaded.replace([("b", ["b#s0"], vectors["b"][:1])])  # the summary was removed
    assert loaded.about_cosines(about[0], ["b"]) == {}
    loaded.remove("b")
    assert loaded.about_cosines(about[0], ["b"]) == {} and loaded.count_of("b") == 0
