"""kb.search.vector_files: vector snapshot + journal on disk, crash safety, compaction."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from kb.search import vector_files
from kb.search.vector import VectorEntry
from kb.search.vector import VectorIndex
from kb.search.vector import build_vector_index
from kb.search.vector_files import VectorFiles
from kb.search.vector_files import decode_records
from kb.search.vector_files import encode_record

DIM = 8


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


@pytest.fixture
def base(tmp_path, rng) -> tuple[VectorFiles, dict[str, np.ndarray]]:
    """A snapshot of three articles, no journal yet."""
    vectors = {"a": unit(rng, 2), "b": unit(rng, 3), "ج": unit(rng, 1)}
    index = VectorIndex(DIM, "fp")
    for slug, matrix in vectors.items():
        index.add(slug, [f"{slug}#{i}" for i in range(len(matrix))], matrix)
    return VectorFiles.first(tmp_path, index), vectors


def contents(index: VectorIndex) -> dict[str, tuple[list[str], np.ndarray]]:
    return {slug: (ids, matrix) for slug, ids, matrix in index.items()}


def assert_same(left: VectorIndex, right: VectorIndex) -> None:
    a, b = contents(left), contents(right)
    assert a.keys() == b.keys()
    for slug in a:
        assert a[slug][0] == b[slug][0]
        assert np.allclose(a[slug][1], b[slug][1], atol=1e-6)


def test_record_round_trip_keeps_order_ids_and_vectors(rng):
    changes = [("مقالة", ["مقالة#1", "مقالة#2"], unit(rng, 2)), ("gone", [], np.zeros((0, 0), np.float32)), ("x", ["x#1"], unit(rng, 1))]
    data = encode_record(changes) + encode_record(changes[:1])
    records, used = decode_records(data, DIM)
    assert used == len(data) and len(records) == 2
    for (slug, ids, matrix), (slug2, ids2, matrix2) in zip(changes, records[0]):
        assert (slug, ids) == (slug2, ids2)
        assert matrix2.shape == (len(ids), DIM) and np.array_equal(matrix.reshape(len(ids), DIM), matrix2)


@pytest.mark.parametrize("cut", [1, 5, 13, -1])
def test_a_torn_record_is_never_applied(rng, cut):
    whole = encode_record([("a", ["a#1"], unit(rng, 1))])
    second = encode_record([("b", ["b#1"], unit(rng, 1))])
    records, used = decode_records(whole + second[:cut], DIM)
    assert len(records) == 1 and used == len(whole)


def test_a_record_with_a_flipped_byte_fails_its_checksum(rng):
    data = bytearray(encode_record([("a", ["a#1"], unit(rng, 1))]))
    data[-3] ^= 0xFF
    assert decode_records(bytes(data), DIM) == ([], 0)


def test_appended_changes_load_like_the_same_changes_made_in_memory(base, rng):
    """GIVEN a snapshot
    WHEN an article is changed, one added and one deleted, through the journal
    THEN loading snapshot + journal gives what the same changes give in memory, and the snapshot file was not rewritten."""
    files, _ = base
    snapshot_before = files.snapshot_path.stat()
    expected = files.load()
    first = [("b", ["b#0", "b#1"], unit(rng, 2)), ("d", ["d#0"], unit(rng, 1))]
    second = [("a", [], np.zeros((0, 0), np.float32))]
    for changes in (first, second):
        files = files.append(changes)
        expected.replace(changes)
    loaded = files.load()
    assert_same(loaded, expected)
    assert loaded.slugs() == {"b", "d", "ج"} and len(loaded) == 4
    after = files.snapshot_path.stat()
    assert (after.st_mtime_ns, after.st_ino, after.st_size) == (snapshot_before.st_mtime_ns, snapshot_before.st_ino, snapshot_before.st_size)


def test_bytes_past_the_committed_length_are_ignored_then_cut_off(base, rng):
    """A writer that crashed after appending but before its manifest: readers go by the
    committed length, and the next append replaces the torn tail."""
    files, vectors = base
    committed = files.append([("a", ["a#new"], unit(rng, 1))])
    with open(committed.journal_path, "ab") as handle:
        handle.write(encode_record([("b", [], np.zeros((0, 0), np.float32))])[:-4])  # crashed mid-write
    loaded = committed.load()
    assert "b" in loaded.slugs() and loaded.vectors_of("a").shape == (1, DIM)
    later = committed.append([("c", ["c#0"], unit(rng, 1))])
    records, used = decode_records(later.journal_path.read_bytes(), DIM)
    assert used == later.journal_bytes == later.journal_path.stat().st_size and len(records) == 2
    assert later.load().slugs() == {"a", "b", "ج", "c"}


def test_a_damaged_committed_record_is_an_error_that_says_what_to_do(base, rng):
    files = base[0].append([("a", ["a#new"], unit(rng, 1))])
    data = bytearray(files.journal_path.read_bytes())
    data[20] ^= 0xFF
    files.journal_path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="kb index --full"):
        files.load()


def test_applying_the_tail_to_a_held_index_matches_a_fresh_load(base, rng):
    files, _ = base
    held = files.load()
    position = files.journal_bytes
    for i in range(3):
        files = files.append([(f"n{i}", [f"n{i}#0"], unit(rng, 1)), ("b", [f"b#{i}"], unit(rng, 1))])
    assert files.apply_journal(held, position) == 3
    assert_same(held, files.load())


def test_compaction_folds_the_journal_into_the_next_snapshot(base, rng, monkeypatch):
    monkeypatch.setattr(vector_files, "COMPACT_MIN_BYTES", 0)
    files, _ = base
    assert not files.needs_compaction()
    grown = files
    while not grown.needs_compaction():
        grown = grown.append([("b", ["b#x"], unit(rng, 1))])
    expected = grown.load()
    folded = grown.write_snapshot(expected)
    assert (folded.snapshot, folded.journal_bytes) == ("vectors-2.bin", 0)
    assert_same(folded.load(), expected)
    # The previous snapshot stays (a reader may still be loading it); older ones go.
    assert files.snapshot_path.exists()
    again = folded.append([("z", ["z#0"], unit(rng, 1))]).write_snapshot(expected)
    assert again.snapshot == "vectors-3.bin"
    assert sorted(p.name for p in files.generation.glob("vectors*")) == ["vectors-2.bin", "vectors-2.journal", "vectors-3.bin"]


def test_ivf_index_takes_journal_records(tmp_path, rng):
    items = [(f"a{i}", [f"a{i}#0", f"a{i}#1"], unit(rng, 2)) for i in range(150)]
    index = build_vector_index(DIM, "fp", items, ann_threshold=100, nprobe=64)
    files = VectorFiles.first(tmp_path, index)
    fresh = unit(rng, 1)
    files = files.append([("a7", ["a7#new"], fresh), ("a8", [], np.zeros((0, 0), np.float32))])
    loaded = files.load()
    assert loaded.kind == "ivf" and len(loaded) == 300 - 2 + 1 - 2
    assert loaded.search(fresh[0], 1)[0][0] == VectorEntry("a7#new", "a7")
    assert "a8" not in loaded.slugs()


def test_searches_while_the_index_changes_see_whole_articles(rng):
    """Readers and one writer at once: no crash, and every hit maps to a held passage."""
    index = VectorIndex(DIM, "fp")
    for i in range(200):
        index.add(f"a{i}", [f"a{i}#0", f"a{i}#1"], unit(rng, 2))
    queries = unit(rng, 50)
    errors: list[BaseException] = []
    stop = threading.Event()

    def search() -> None:
        try:
            while not stop.is_set():
                for query in queries:
                    for entry, _ in index.search(query, 10):
                        assert entry.passage_id.startswith(entry.slug + "#")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=search) for _ in range(3)]
    for thread in threads:
        thread.start()
    changes = np.random.default_rng(3)
    for round_ in range(300):
        slug = f"a{round_ % 200}"
        index.replace([(slug, [f"{slug}#r{round_}"], unit(changes, 1))])
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(index) == 200  # every article rewritten to one vector
    assert index.vectors_of("a5").shape == (1, DIM) and index.count_of("a5") == 1
