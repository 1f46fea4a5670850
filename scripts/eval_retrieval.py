"""Retrieval quality of KnowledgeBase.search on the Arabic benchmark in ../shared/eval.

    python scripts/eval_retrieval.py                       # all collections, all modes
    python scripts/eval_retrieval.py --collection arcd --mode keyword --queries queries_typos.jsonl

Prints Recall@1/5/10, MRR@10 and nDCG@10 for the first half of each collection's queries
(file order: the half we tune on), the second half (held out) and all queries, so that
over-fitting shows; each part also per dialect when the queries have a `dialect` field (dial2msa).
"no results" is the share of queries that got no result at all: a question from these collections
always has its answer there, so it must stay near 0.  Indexes are built once per collection under
bench-data/eval-index/ (the embedding cache there makes reruns fast).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb import KnowledgeBase  # noqa: E402
from kb import load_settings  # noqa: E402

DEFAULT_EVAL = Path(os.environ.get("KB_SHARED_DIR", ROOT.parent / "shared")) / "eval"


def metrics(ranked: list[str], gold: set[str]) -> dict[str, float]:
    """Binary-relevance metrics of one ranked list (as ../shared/eval/README.md defines them)."""
    def recall(k: int) -> float:
        return len(gold & set(ranked[:k])) / len(gold)

    rr = next((1.0 / (i + 1) for i, slug in enumerate(ranked[:10]) if slug in gold), 0.0)
    dcg = sum(1.0 / math.log2(i + 2) for i, slug in enumerate(ranked[:10]) if slug in gold)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(gold), 10)))
    return {"R@1": recall(1), "R@5": recall(5), "R@10": recall(10), "MRR@10": rr, "nDCG@10": dcg / ideal}


def average(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: sum(r[key] for r in rows) / len(rows) for key in rows[0]} if rows else {}


def load_queries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def open_collection(folder: Path, work: Path, rebuild: bool) -> KnowledgeBase:
    settings = load_settings({"articles_dir": folder / "articles", "index_dir": work / folder.name, "data_dir": work / "data"})
    kb = KnowledgeBase.from_settings(settings)
    started = time.monotonic()
    report = kb.index(full=rebuild, progress=_progress(folder.name))
    if report.added or report.changed or report.full:
        print(f"# indexed {folder.name}: {report.articles} articles, {report.vectors} vectors in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return kb


def _progress(name: str):
    last = [0.0]

    def show(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] > 5 or done == total:
            last[0] = now
            print(f"# {name} {stage} {done}/{total}", file=sys.stderr)

    return show


def evaluate(kb: KnowledgeBase, queries: list[dict], mode: str) -> tuple[list[dict], float]:
    rows = []
    started = time.monotonic()
    for query in queries:
        hits = kb.search(query["question"], mode=mode, limit=10, include_drafts=True, include_internal=True)
        rows.append({**metrics([h.slug for h in hits], set(query["gold"])), "no results": float(not hits)})
    return rows, (time.monotonic() - started) / max(1, len(queries))


def parts(queries: list[dict], rows: list[dict]) -> list[tuple[str, list[dict]]]:
    """First half (tuned on), second half (held out) and all; each also per dialect when queries name one."""
    half = len(rows) // 2
    spans = {"first": range(half), "second": range(half, len(rows)), "all": range(len(rows))}
    dialects = sorted({q["dialect"] for q in queries if q.get("dialect")})
    out = []
    for part, span in spans.items():
        out.append((part, [rows[i] for i in span]))
        out.extend((f"{part} {d}", [rows[i] for i in span if queries[i].get("dialect") == d]) for d in dialects)
    return [(part, part_rows) for part, part_rows in out if part_rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--collection", action="append", help="collection folder name (repeatable); default: all")
    parser.add_argument("--mode", action="append", choices=["keyword", "semantic", "hybrid"], help="default: all three")
    parser.add_argument("--queries", default="queries.jsonl", help="queries file name inside each collection")
    parser.add_argument("--work", type=Path, default=ROOT / "bench-data" / "eval-index")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the indexes from scratch")
    parser.add_argument("--half", choices=["first", "second", "all"], help="evaluate only one part")
    args = parser.parse_args(argv)

    collections = args.collection or sorted(p.name for p in args.eval_dir.iterdir() if (p / "articles").is_dir())
    modes = args.mode or ["keyword", "semantic", "hybrid"]
    print(f"| collection | queries | mode | part | nDCG@10 | MRR@10 | R@1 | R@5 | R@10 | no results | ms/query |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in collections:
        folder = args.eval_dir / name
        queries_path = folder / args.queries
        if not queries_path.exists():
            continue
        queries = load_queries(queries_path)
        kb = open_collection(folder, args.work, args.rebuild)
        for mode in modes:
            rows, seconds = evaluate(kb, queries, mode)
            for part, part_rows in parts(queries, rows):
                if args.half and part.split()[0] != args.half:
                    continue
                m = average(part_rows)
                print(
                    f"| {name} | {args.queries} | {mode} | {part} | {m['nDCG@10']:.3f} | {m['MRR@10']:.3f} | "
                    f"{m['R@1']:.3f} | {m['R@5']:.3f} | {m['R@10']:.3f} | {m['no results']:.3f} | {seconds * 1000:.1f} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
