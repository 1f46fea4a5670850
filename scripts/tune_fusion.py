"""Try hybrid fusion settings in seconds on rankings captured once per question.

    python scripts/tune_fusion.py --collect            # run every question once, keep the inputs of fusion
    python scripts/tune_fusion.py --collect --set dial2msa --set helpcenter   # only some sets
    python scripts/tune_fusion.py                      # compare the fusion variants below
    python scripts/tune_fusion.py --variant "old default (adaptive)" --variant "new default"

``--collect`` runs ``KnowledgeBase.search`` (hybrid) for every question of every collection
in ``../shared/eval`` (and the typo questions of arcd), and of the help-center questions
(scripts/data/helpcenter_questions.jsonl on articles/, searched as scripts/eval_helpcenter.py
does), and records what ``kb.search.ranking`` hands to fusion: the keyword ranking, the
semantic ranking, the article lengths, the question's match profile (``kb.search.coverage``:
each word's IDF and how it was found, so credits and ramps can be re-weighted offline), and
the proximity coverage of the first 30 fused articles (``kb.search.proximity``), and the
dense rankings of the question as written and, for a question the dialect lexicon changed,
of its MSA reading and of the two vectors' mean (``ranking.dense_articles``).  The
variants are then evaluated offline: nDCG@10 on the first half (tune on it), the second half
(held out) and all questions; for sets whose questions carry a group (dial2msa's and the
help center's ``dialect``) also nDCG@10 / top-1 / top-3 per group.  A collection with
translated pairs is grouped by language after fusion, as ``rank_articles`` ends
(``kb.search.languages``).  Only the order of the first page matters, so the current settings
give what eval_retrieval.py gives (a variant whose top 10 reaches beyond the current top 30
sees no proximity there); the no-answer cut is not applied (it decides whether a question is
answered, not the order).
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
from kb.search import keyword  # noqa: E402
from kb.search import languages  # noqa: E402
from kb.search import proximity  # noqa: E402
from kb.search import ranking  # noqa: E402

HELPCENTER = "helpcenter"  # the launch articles (articles/) and scripts/data/helpcenter_questions.jsonl
SETS = [("arcd", "queries.jsonl"), ("mlqa_ar_dev", "queries.jsonl"), ("nsurl_q2q", "queries.jsonl"),
        ("arcd", "queries_typos.jsonl"), ("dial2msa", "queries.jsonl"), (HELPCENTER, "helpcenter_questions.jsonl"),
        (HELPCENTER, "helpcenter_heldout.jsonl"), (HELPCENTER, "helpcenter_heldout2.jsonl")]


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
            if not (eval_dir / name / "articles").is_dir():
                # Indexing an empty folder would empty the collection's index: stop instead.
                raise SystemExit(f"{eval_dir / name / 'articles'} is not a folder: give --eval-dir")
            kb = open_collection(eval_dir / name, work, rebuild=False)
            queries_path, drafts = eval_dir / name / queries_file, True
        filters = keyword.Filters(include_drafts=drafts, include_internal=True)
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

        original_semantic = ranking.semantic_articles
        dense_calls: list[tuple] = []

        def capture_semantic(vectors, query_vector, filters, catalog, want):
            # The question's own ranking, then (a dialect question) its MSA reading's, and
            # for comparison the ranking of the two vectors' mean.
            found = original_semantic(vectors, query_vector, filters, catalog, want)
            dense_calls.append((query_vector, found[0]))
            if len(dense_calls) == 2:
                mean = dense_calls[0][0] + dense_calls[1][0]
                mean = mean / max(1e-12, float((mean * mean).sum()) ** 0.5)
                dense_calls.append((mean, original_semantic(vectors, mean, filters, catalog, want)[0]))
            return found

        ranking._fuse, proximity.rerank, proximity.DEPTH = capture, capture_coverage, 30
        ranking.semantic_articles = capture_semantic
        rows = []
        try:
            for query in load_queries(queries_path):
                captured.clear()
                dense_calls.clear()
                kb.search(query["question"], mode="hybrid", limit=10, include_drafts=drafts, include_internal=True)
                inputs = captured[0] if captured else {"keyword": [], "semantic": [], "lengths": {}, "coverage": {},
                                                       "profile": None}
                # Articles in another language than the question with no version in its language:
                # their keyword score is unknown, not low (ranking._unknown_words, after fusion).
                reader = filters.lang or languages.detect_language(query["question"])
                foreign = languages.without_reader_version([slug for slug, _ in inputs["semantic"]], reader,
                                                           kb.catalog.articles, filters)
                rows.append({**inputs, "gold": set(query["gold"]), "group": query.get("dialect"),
                             "question": query["question"], "dense": [found for _, found in dense_calls],
                             "foreign": foreign})
        finally:
            ranking._fuse, proximity.rerank, proximity.DEPTH = original_fuse, original_rerank, depth
            ranking.semantic_articles = original_semantic
        # A collection with translated pairs is grouped by language after ranking
        # (kb.search.languages), with the fused scores: keep what that needs.
        catalog = kb.catalog.articles if any(a.translation_of for a in kb.catalog.articles.values()) else None
        path = out / f"{name}-{queries_file.split('.')[0]}.pkl"
        path.write_bytes(pickle.dumps({"rows": rows, "catalog": catalog, "filters": filters}))
        print(f"# {path}: {len(rows)} questions", file=sys.stderr)


Fuse = Callable[[dict], list[tuple[str, float]]]


def settings_fuse(**overrides) -> Fuse:
    """Fusion and proximity re-ordering exactly as KnowledgeBase.search runs them, with some settings changed."""
    settings = load_settings(overrides)

    def fuse(row: dict) -> list[tuple[str, float]]:
        catalog = {slug: _Length(n) for slug, n in row["lengths"].items()}
        fused = ranking._fuse("hybrid", row["keyword"], row["semantic"], catalog, settings, row.get("profile"))
        fused = ranking._unknown_words(fused, row["semantic"], row.get("foreign", set()))
        if settings.proximity_weight <= 0:
            return fused
        coverage = ranking._long_only(row["coverage"], catalog, settings.fusion_short_words)
        return proximity.rerank(fused, coverage, settings.proximity_weight)

    return fuse


def trade_off(below: float = 0.8) -> Fuse:
    """The new default, but a question of which less than `below` matched counts as dialect for short documents."""
    settings = load_settings()

    def fuse(row: dict) -> list[tuple[str, float]]:
        profile = row.get("profile")
        if not row["keyword"] or not row["semantic"] or profile is None:
            return settings_fuse()(row)
        share = profile.matched_share()
        fused = fusion.by_coverage(
            row["keyword"], row["semantic"], row["lengths"], share, settings.fusion_keyword_weight,
            settings.fusion_short_keyword_weight, settings.fusion_short_words, settings.fusion_keyword_floor,
            settings.fusion_match_low, settings.fusion_match_full, dialect=profile.reads_dialect or share < below,
        )
        catalog = {slug: _Length(n) for slug, n in row["lengths"].items()}
        coverage = ranking._long_only(row["coverage"], catalog, settings.fusion_short_words)
        return proximity.rerank(fused, coverage, settings.proximity_weight)

    return fuse


class _Length:
    def __init__(self, words: int):
        self.word_count = words


def with_dense(choose: Callable[[list], list], fuse: Fuse | None = None) -> Fuse:
    """`fuse` (the current settings) on another semantic ranking: ``choose`` picks it from the
    captured dense rankings (the question's, its MSA reading's and their mean vector's, the
    last two only for a question the dialect lexicon changed)."""
    fuse = fuse or settings_fuse()

    def run(row: dict) -> list[tuple[str, float]]:
        dense = row.get("dense") or []
        return fuse({**row, "semantic": choose(dense)} if dense else row)

    return run


def variants() -> dict[str, Fuse]:
    return {
        # The default until 2026-12-05 (README "Search quality", docs/search-quality-history.md), as it was.
        "old default (adaptive)": settings_fuse(fusion_method="adaptive", fusion_short_words=12),
        "new default": settings_fuse(),
        # Reaches dial2msa >= 0.880, at a cost on nsurl_q2q (README, docs/search-quality-history.md): short documents also
        # get the long-document weight when less than 0.8 of the question matched.
        "trade-off: short docs below 0.8 matched": trade_off(),
        # The dense side of a dialect question (ranking.dense_articles, setting dense_msa_reading).
        "dense: question as written": with_dense(lambda dense: dense[0]),
        "dense: MSA reading only": with_dense(lambda dense: dense[1] if len(dense) > 1 else dense[0]),
        "dense: mean of the two vectors": with_dense(lambda dense: dense[2] if len(dense) > 2 else dense[0]),
        "convex 0.5": settings_fuse(fusion_method="convex", fusion_keyword_weight=0.5),
        "rrf": settings_fuse(fusion_method="rrf"),
        "reference": lambda row: fusion.convex(row["keyword"], row["semantic"], 0.5),
        "keyword": lambda row: list(row["keyword"]) or list(row["semantic"]),
        "semantic": lambda row: list(row["semantic"]),
    }


def ranked_slugs(fused: list[tuple[str, float]], row: dict, captured: dict) -> list[str]:
    """The first page's slugs, grouped by language as ``rank_articles`` ends (when the collection has translations)."""
    if captured["catalog"] is None:
        return [slug for slug, _ in fused[:10]]
    items = [ranking.RankedArticle(slug, score, "both") for slug, score in fused]
    grouped = languages.group_by_language(items, row["question"], captured["catalog"], captured["filters"])
    return [item.slug for item in grouped[:10]]


def scores(captured: dict, fuse: Fuse) -> list[dict[str, float]]:
    """Per question: nDCG@10, and whether a right article is first / in the first three."""
    out = []
    for row in captured["rows"]:
        found = ranked_slugs(fuse(row), row, captured)
        out.append({"nDCG@10": metrics(found, row["gold"])["nDCG@10"],
                    "top-1": float(bool(found[:1]) and found[0] in row["gold"]),
                    "top-3": float(bool(set(found[:3]) & row["gold"]))})
    return out


def parts(rows: list, groups: list[str | None]) -> dict[str, list]:
    """First half (tuned on), second half (held out), all, then each group (dialect) if any."""
    half = len(rows) // 2
    out = {"first": rows[:half], "second": rows[half:], "all": rows}
    for group in dict.fromkeys(g for g in groups if g):
        out[group] = [r for r, g in zip(rows, groups) if g == group]
    return out


def mean(rows: list[dict], key: str) -> float:
    return sum(r[key] for r in rows) / max(1, len(rows))


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
    print("nDCG@10, first half / second half / **all**\n")
    print("| variant | " + " | ".join(data) + " |")
    print("|---" * (len(data) + 1) + "|")
    results = {name: {set_name: scores(captured, table[name]) for set_name, captured in data.items()} for name in names}
    for name in names:
        cells = []
        for set_name in data:
            split = parts(results[name][set_name], [])
            cells.append(" / ".join(f"{mean(split[p], 'nDCG@10'):.4f}" for p in ("first", "second")) +
                         f" / **{mean(split['all'], 'nDCG@10'):.4f}**")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    for set_name, captured in data.items():
        groups = [row.get("group") for row in captured["rows"]]
        if not any(groups):
            continue
        print(f"\n{set_name}: nDCG@10 / top-1 / top-3 by part and group\n")
        headers = list(parts(groups, groups))
        print("| variant | " + " | ".join(headers) + " |")
        print("|---" * (len(headers) + 1) + "|")
        for name in names:
            split = parts(results[name][set_name], groups)
            cells = [f"{mean(split[h], 'nDCG@10'):.3f} / {mean(split[h], 'top-1'):.2f} / {mean(split[h], 'top-3'):.2f}"
                     for h in headers]
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
