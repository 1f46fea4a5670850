"""Search quality on the help center's own launch articles, as customers and agents type questions.

    python scripts/eval_helpcenter.py                    # default search mode
    python scripts/eval_helpcenter.py --mode all         # keyword, semantic and hybrid side by side
    python scripts/eval_helpcenter.py --show-misses      # questions whose right article is not in the top 3
    python scripts/eval_helpcenter.py --json > run.json  # everything, per question, for machines

Two sets from scripts/data (described in scripts/data/README.md):
- helpcenter_questions.jsonl: dialect, English and Maghrebi questions about the launch articles, each with the
  articles that answer it.  Reported: top-1, top-3, top-10 (a right article among the first k) and the share
  of questions that got any result, per dialect, per kind and for the first half (tuned on), second half
  (held out) and all.
- offtopic_questions.jsonl: questions no launch article answers.  Reported: the share with NO results.

Searches as the agent suggest API does (published articles, internal ones included): agents see the
internal guide, and a customer-facing search differs only by hiding that one article.  The index of
articles/ is built once under bench-data/eval-index/helpcenter and reused (incremental) on later runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_retrieval import ROOT, _progress, load_queries  # noqa: E402

from kb import KnowledgeBase, load_settings  # noqa: E402

DATA = ROOT / "scripts" / "data"
MODES = ("keyword", "semantic", "hybrid")
TOP = (1, 3, 10)


def open_helpcenter(articles: Path, work: Path, rebuild: bool) -> KnowledgeBase:
    """The launch articles indexed in a folder of their own, so the eval never touches the live index."""
    settings = load_settings({"articles_dir": articles, "index_dir": work / "index", "data_dir": work / "data"})
    kb = KnowledgeBase.from_settings(settings)
    report = kb.index(full=rebuild, progress=_progress("helpcenter"))
    if report.added or report.changed or report.full:
        print(f"# indexed helpcenter: {report.articles} articles, {report.vectors} vectors", file=sys.stderr)
    return kb


def run(kb: KnowledgeBase, questions: list[dict], mode: str) -> list[dict]:
    """One row per question: the slugs found (best first), their scores (for calibrating a "no answer" cut)
    and, for in-domain questions, the rank of the first right article."""
    rows = []
    for question in questions:
        hits = kb.search(question["question"], mode=mode, limit=10, include_drafts=False, include_internal=True)
        slugs = [hit.slug for hit in hits]
        gold = set(question.get("gold", ()))
        rank = next((i + 1 for i, slug in enumerate(slugs) if slug in gold), None)
        rows.append({**question, "mode": mode, "found": slugs, "scores": [round(hit.score, 4) for hit in hits], "rank": rank})
    return rows


def halves(rows: list[dict]) -> dict[str, list[dict]]:
    """File order: the first half is the one we tune on, the second is held out."""
    middle = len(rows) // 2
    return {"first half": rows[:middle], "second half": rows[middle:], "all": rows}


def in_domain_summary(rows: list[dict]) -> dict[str, dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row["dialect"]].append(row)
        groups[f"kind {row['kind']}"].append(row)
    groups = dict(sorted(groups.items())) | halves(rows)

    def share(part: list[dict], test) -> float:
        return sum(1 for row in part if test(row)) / len(part)

    return {
        name: {"questions": len(part), "with results": share(part, lambda r: bool(r["found"]))}
        | {f"top-{k}": share(part, lambda r, k=k: r["rank"] is not None and r["rank"] <= k) for k in TOP}
        for name, part in groups.items()
    }


def off_topic_summary(rows: list[dict]) -> dict[str, dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[f"source {row['source']}"].append(row)
    groups = dict(sorted(groups.items())) | halves(rows)
    return {
        name: {"questions": len(part), "no results": sum(1 for row in part if not row["found"]) / len(part)}
        for name, part in groups.items()
    }


def print_tables(results: dict[str, dict]) -> None:
    print("### In-domain (right article among the first k; share with any result)\n")
    print("| mode | part | questions | top-1 | top-3 | top-10 | with results |")
    print("|---|---|---|---|---|---|---|")
    for mode, result in results.items():
        for part, m in result["in_domain"].items():
            print(f"| {mode} | {part} | {m['questions']} | {m['top-1']:.3f} | {m['top-3']:.3f} | "
                  f"{m['top-10']:.3f} | {m['with results']:.3f} |")
    print("\n### Off-topic (share with no results)\n")
    print("| mode | part | questions | no results |")
    print("|---|---|---|---|")
    for mode, result in results.items():
        for part, m in result["off_topic"].items():
            print(f"| {mode} | {part} | {m['questions']} | {m['no results']:.3f} |")


def print_misses(results: dict[str, dict]) -> None:
    for mode, result in results.items():
        misses = [row for row in result["in_domain_rows"] if row["rank"] is None or row["rank"] > 3]
        print(f"\n### Misses, {mode}: right article not in the top 3 ({len(misses)})\n")
        for row in misses:
            first = row["found"][0] if row["found"] else "(no results)"
            rank = row["rank"] or "-"
            print(f"- {row['id']} [{row['dialect']}] {row['question']}\n"
                  f"  gold {', '.join(row['gold'])} at rank {rank}; first: {first}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=[*MODES, "all"], help="default: the configured search mode")
    parser.add_argument("--articles", type=Path, default=ROOT / "articles")
    parser.add_argument("--questions", type=Path, default=DATA / "helpcenter_questions.jsonl")
    parser.add_argument("--off-topic", type=Path, default=DATA / "offtopic_questions.jsonl")
    parser.add_argument("--work", type=Path, default=ROOT / "bench-data" / "eval-index" / "helpcenter")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the index from scratch")
    parser.add_argument("--show-misses", action="store_true", help="list questions whose right article is not in the top 3")
    parser.add_argument("--json", action="store_true", help="print one JSON document (summaries and every question)")
    args = parser.parse_args(argv)

    kb = open_helpcenter(args.articles, args.work, args.rebuild)
    modes = MODES if args.mode == "all" else [args.mode or kb.settings.search_mode]
    questions, off_topic = load_queries(args.questions), load_queries(args.off_topic)
    results = {}
    for mode in modes:
        in_rows, off_rows = run(kb, questions, mode), run(kb, off_topic, mode)
        results[mode] = {"in_domain": in_domain_summary(in_rows), "off_topic": off_topic_summary(off_rows),
                         "in_domain_rows": in_rows, "off_topic_rows": off_rows}
    if args.json:
        json.dump(results, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    print_tables(results)
    if args.show_misses:
        print_misses(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
