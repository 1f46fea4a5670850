"""Try hybrid fusion settings in seconds on rankings captured once per question.

    python scripts/tune_fusion.py --collect            # run every question once, keep the inputs of fusion
    python scripts/tune_fusion.py                      # compare the fusion variants below
    python scripts/tune_fusion.py --variant current --variant reference

``--collect`` runs ``KnowledgeBase.search`` (hybrid) for every question of every collection
in ``../shared/eval`` (and the typo questions of arcd), and records what ``kb.search.ranking``
hands to fusion: the keyword ranking, the semantic ranking and the article lengths, and the
proximity coverage of the first 30 fused articles (``kb.search.proximity``).  The variants
are then evaluated offline: nDCG@10 on the first half (tune on it), the second half (held
out) and all questions.  Only the order of the first page matters to nDCG, so the current
settings give what eval_retrieval.py gives (a variant whose top 10 reaches beyond the
current top 30 sees no proximity there).
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from eval_helpcenter import open_helpcenter  # noqa: E402
from eval_retrieval import DEFAULT_EVAL  # noqa: E402
from eval_retrieval import load_queries  # noqa: E402
from eval_retrieval import metrics  # noqa: E402
from eval_retrieval import open_collection  # noqa: E402

from kb.config import load_settings  # noqa: E402
from kb.search import fusion  # noqa: E402
from kb.search import proximity  # noqa: E402
from kb.search import ranking  # noqa: E402

HELPCENTER = "helpcenter"  # the launch articles (articles/) and scripts/data/helpcenter_questions.jsonl
SETS = [("arcd", "queries.jsonl"), ("mlqa_ar_dev", "queries.jsonl"), ("nsurl_q2q", "queries.jsonl"),
        ("arcd", "queries_typos.jsonl"), ("dial2msa", "queries.jsonl"), (HELPCENTER, "helpcenter_questions.jsonl")]


def collect(eval_dir: Path, work: Path, out: Path, only: list[str] | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, queries_file in SETS:
        if only and name not in only:
            continue
        if name == HELPCENTER:
            # As scripts/eval_helpcenter.py searches: the launch articles, published ones, internal included.
            kb = open_helpcenter(ROOT / "articles", work / HELPCENTER, rebuild=False)
            queries_path, drafts = ROOT / "scripts" / "data" / queries_file, False
        else:
            kb = open_collection(eval_dir / name, work, rebuild=False)
            queries_path, drafts = eval_dir / name / queries_file, True
        captured: list[dict] = []
        original_fuse, original_rerank, depth = ranking._fuse, proximity.rerank, proximity.DEPTH

        def capture(mode, keyword_ranking, semantic_ranking, catalog, settings, profile=None):
            lengths = {slug: catalog[slug].word_count for slug, _ in [*keyword_ranking, *semantic_ranking] if slug in catalog}
            captured.append({"keyword": list(keyword_ranking), "semantic": list(semantic_ranking), "lengths": lengths,
                             "coverage": {}, "profile": profile})
            return original_fuse(mode, keyword_ranking, semantic_ranking, catalog, settings, profile)

        def capture_coverage(fused, coverage, weight, depth=depth):
            captured[-1]["coverage"] = dict(coverage)
            return original_rerank(fused, coverage, weight, depth)

        ranking._fuse, proximity.rerank, proximity.DEPTH = capture, capture_coverage, 30
        rows = []
        try:
            for query in load_queries(queries_path):
                captured.clear()
                kb.search(query["question"], mode="hybrid", limit=10, include_drafts=drafts, include_internal=True)
                inputs = captured[0] if captured else {"keyword": [], "semantic": [], "lengths": {}, "coverage": {},
                                                       "profile": None}
                rows.append({**inputs, "gold": set(query["gold"]), "group": query.get("dialect")})
        finally:
            ranking._fuse, proximity.rerank, proximity.DEPTH = original_fuse, original_rerank, depth
        path = out / f"{name}-{queries_file.split('.')[0]}.pkl"
        path.write_bytes(pickle.dumps(rows))
        print(f"# {path}: {len(rows)} questions", file=sys.stderr)


Fuse = Callable[[dict], list[tuple[str, float]]]


def settings_fuse(**overrides) -> Fuse:
    """Fusion and proximity re-ordering exactly as KnowledgeBase.search runs them, with some settings changed."""
    settings = load_settings(overrides)

    def fuse(row: dict) -> list[tuple[str, float]]:
        catalog = {slug: _Length(n) for slug, n in row["lengths"].items()}
        fused = ranking._fuse("hybrid", row["keyword"], row["semantic"], catalog, settings, row.get("profile"))
        if settings.proximity_weight <= 0:
            return fused
        coverage = ranking._long_only(row["coverage"], catalog, settings.fusion_short_words)
        return proximity.rerank(fused, coverage, settings.proximity_weight)

    return fuse


class _Length:
    def __init__(self, words: int):
        self.word_count = words


def variants() -> dict[str, Fuse]:
    return {
        "current": settings_fuse(),
        "no proximity": settings_fuse(proximity_weight=0),
        "proximity 0.05": settings_fuse(proximity_weight=0.05),
        "proximity 0.15": settings_fuse(proximity_weight=0.15),
        "reference": lambda row: fusion.convex(row["keyword"], row["semantic"], 0.5),
        "keyword": lambda row: list(row["keyword"]) or list(row["semantic"]),
        "semantic": lambda row: list(row["semantic"]),
    }


def evaluate(rows: list[dict], fuse: Fuse) -> tuple[float, float, float]:
    scores = [metrics([slug for slug, _ in fuse(row)[:10]], row["gold"])["nDCG@10"] for row in rows]
    half = len(scores) // 2
    mean = lambda xs: sum(xs) / max(1, len(xs))  # noqa: E731
    return mean(scores[:half]), mean(scores[half:]), mean(scores)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--work", type=Path, default=ROOT / "bench-data" / "eval-index")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench-data" / "fusion-cache")
    parser.add_argument("--collect", action="store_true", help="run every question once and keep the fusion inputs")
    parser.add_argument("--variant", action="append", help="variant name (repeatable); default: all")
    parser.add_argument("--set", action="append", help="with --collect: only these collections (repeatable)")
    args = parser.parse_args(argv)
    if args.collect:
        collect(args.eval_dir, args.work, args.cache, args.set)
    data = {path.stem: pickle.loads(path.read_bytes()) for path in sorted(args.cache.glob("*.pkl"))}
    table = variants()
    names = args.variant or list(table)
    print("| variant | " + " | ".join(data) + " |")
    print("|---" * (len(data) + 1) + "|")
    for name in names:
        cells = []
        for rows in data.values():
            first, second, whole = evaluate(rows, table[name])
            cells.append(f"{first:.4f} / {second:.4f} / **{whole:.4f}**")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
