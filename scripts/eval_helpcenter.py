"""Search quality on the help center's own launch articles, as customers and agents type questions.

    python scripts/eval_helpcenter.py                    # default search mode, every set below
    python scripts/eval_helpcenter.py --mode all         # keyword, semantic and hybrid side by side
    python scripts/eval_helpcenter.py --show-misses      # misses, and off-topic questions that got results
    python scripts/eval_helpcenter.py --json > run.json  # everything, per question, for machines
    python scripts/eval_helpcenter.py --questions scripts/data/helpcenter_heldout.jsonl --off-topic my.jsonl

Nine sets from scripts/data (described in scripts/data/README.md), all read by default:
- in-domain (`--questions`, repeatable): helpcenter_questions.jsonl (the set settings are tuned on),
  helpcenter_heldout.jsonl (its first half is a development set, its second half is never tuned on),
  helpcenter_heldout2.jsonl (nobody tunes on it) and helpcenter_arabizi.jsonl (dialect typed in Latin
  letters and digits; first half a development set) and helpcenter_short.jsonl (search-box queries of one to four
  words, written blind to the search code) and helpcenter_english.jsonl (English questions in everyday wording,
  written blind to the search code; first half a development set); questions about the launch articles, each
  with the articles that answer it.  Reported per file: top-1, top-3, top-10 (a right article among the first
  k) and the share of questions that got any result, per dialect, per kind and for the first half, second half
  and all.
- off-topic (`--off-topic`, repeatable): offtopic_questions.jsonl (mostly encyclopedia questions),
  everyday_offtopic.jsonl (short everyday questions) and arabizi_offtopic.jsonl (everyday, in Arabizi).  Reported per file: the share with NO results, per
  source, dialect and topic (whichever the file has) and per half.

A summary table first gives each file's headline numbers as first half / second half / all.  `--json` prints,
per mode, `in_domain_sets` and `off_topic_sets` (file name -> path, summary, rows); `in_domain`, `off_topic`,
`in_domain_rows` and `off_topic_rows` are the first file of each kind, as when the script read one of each.

Searches as the agent suggest API does (published articles, internal ones included): agents see the
internal guide, and a customer-facing search differs only by hiding that one article.  The index of
articles/ is built once under bench-data/eval-index/helpcenter, reused (incremental) on later runs and
opened once for every set.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_retrieval import ROOT, _progress  # noqa: E402

from kb import KnowledgeBase, load_settings  # noqa: E402

DATA = ROOT / "scripts" / "data"
MODES = ("keyword", "semantic", "hybrid")
TOP = (1, 3, 10)
IN_DOMAIN = (DATA / "helpcenter_questions.jsonl", DATA / "helpcenter_heldout.jsonl", DATA / "helpcenter_heldout2.jsonl",
             DATA / "helpcenter_arabizi.jsonl", DATA / "helpcenter_short.jsonl", DATA / "helpcenter_english.jsonl")
OFF_TOPIC = (DATA / "offtopic_questions.jsonl", DATA / "everyday_offtopic.jsonl", DATA / "arabizi_offtopic.jsonl")
# Fields a set is broken down by, when its rows have them.  In-domain dialects keep their bare names
# ("gulf", "kind agent") as the one-file report had them; off-topic groups are named "field value".
IN_DOMAIN_GROUPS = ("dialect", "kind")
OFF_TOPIC_GROUPS = ("source", "dialect", "topic")
HALVES = ("first half", "second half", "all")


class SetError(ValueError):
    """A question file the eval cannot use; the message names the file, the line and what is wrong."""


@dataclass(frozen=True)
class QuestionSet:
    name: str  # what the report calls it: the file name, or the path when two files share a name
    path: Path
    in_domain: bool
    questions: list[dict]


def load_set(path: Path, in_domain: bool) -> list[dict]:
    """The questions of one file, checked up front so that a bad line fails before the index is opened,
    not half-way through a long run.  An off-topic row with `gold` is an in-domain file given to the
    wrong option: counting it as off-topic would report a wrong "no results" share silently."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SetError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    questions, seen = [], set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SetError(f"{where}: not JSON: {exc.msg}") from exc
        if not isinstance(row, dict):
            raise SetError(f"{where}: expected a JSON object, got {type(row).__name__}")
        for field in ("id", "question"):
            if not isinstance(row.get(field), str) or not row[field].strip():
                raise SetError(f"{where}: field {field!r} must be a non-empty string")
        if row["id"] in seen:
            raise SetError(f"{where}: id {row['id']!r} appears twice")
        seen.add(row["id"])
        gold = row.get("gold")
        if in_domain and (not isinstance(gold, list) or not gold or not all(isinstance(g, str) for g in gold)):
            raise SetError(f"{where}: field 'gold' must be a non-empty list of article slugs")
        if not in_domain and gold is not None:
            raise SetError(f"{where}: an off-topic question has 'gold'; pass in-domain files with --questions")
        for field in IN_DOMAIN_GROUPS + OFF_TOPIC_GROUPS:
            if field in row and not isinstance(row[field], str):
                raise SetError(f"{where}: field {field!r} must be a string")
        questions.append(row)
    if not questions:
        raise SetError(f"{path}: no questions")
    return questions


def load_sets(in_domain: list[Path], off_topic: list[Path]) -> list[QuestionSet]:
    """Every file, in-domain ones first, each in the order given."""
    paths = [(path, True) for path in in_domain] + [(path, False) for path in off_topic]
    resolved = [path.resolve() for path, _ in paths]
    for path, real in zip(paths, resolved):
        if resolved.count(real) > 1:
            raise SetError(f"{path[0]}: given more than once")
    names = [path.name for path, _ in paths]
    return [QuestionSet(path.name if names.count(path.name) == 1 else str(path), path, domain, load_set(path, domain))
            for path, domain in paths]


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
        page = kb.search_page(question["question"], mode=mode, limit=10, include_drafts=False, include_internal=True)
        hits = page.hits
        slugs = [hit.slug for hit in hits]
        gold = set(question.get("gold", ()))
        rank = next((i + 1 for i, slug in enumerate(slugs) if slug in gold), None)
        rows.append({**question, "mode": mode, "found": slugs, "scores": [round(hit.score, 4) for hit in hits], "rank": rank,
                     "answers": page.total})
    return rows


def halves(rows: list[dict]) -> dict[str, list[dict]]:
    """File order: the first half is the one we tune on, the second is held out."""
    middle = len(rows) // 2
    return dict(zip(HALVES, (rows[:middle], rows[middle:], rows)))


def parts(rows: list[dict], fields: tuple[str, ...], bare: tuple[str, ...] = ()) -> dict[str, list[dict]]:
    """The rows per value of each field the rows have (field by field, values sorted), then the halves.
    Parts without rows (the first half of a one-question file) are left out rather than reported as 0."""
    groups: dict[str, list[dict]] = {}
    for field in fields:
        by_value: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            if field in row:
                by_value[row[field] if field in bare else f"{field} {row[field]}"].append(row)
        groups |= dict(sorted(by_value.items()))
    return {name: part for name, part in (groups | halves(rows)).items() if part}


def share(part: list[dict], test) -> float:
    return sum(1 for row in part if test(row)) / len(part)


def in_domain_summary(rows: list[dict]) -> dict[str, dict]:
    return {
        name: {"questions": len(part), "with results": share(part, lambda r: bool(r["found"]))}
        | {f"top-{k}": share(part, lambda r, k=k: r["rank"] is not None and r["rank"] <= k) for k in TOP}
        # How many articles the search says answer (kb.search.tiers), and how often the right one is among them.
        | {"answers (median)": statistics.median(r["answers"] for r in part),
           "right answers": share(part, lambda r: r["rank"] is not None and r["rank"] <= r["answers"])}
        for name, part in parts(rows, IN_DOMAIN_GROUPS, bare=("dialect",)).items()
    }


def off_topic_summary(rows: list[dict]) -> dict[str, dict]:
    return {
        name: {"questions": len(part), "no results": share(part, lambda r: not r["found"])}
        for name, part in parts(rows, OFF_TOPIC_GROUPS).items()
    }


def evaluate(kb: KnowledgeBase, sets: list[QuestionSet], mode: str) -> dict:
    """One mode over every set.  The first file of each kind also fills the keys the one-file report had."""
    result: dict = {"in_domain_sets": {}, "off_topic_sets": {}}
    for question_set in sets:
        rows = run(kb, question_set.questions, mode)
        kind = "in_domain" if question_set.in_domain else "off_topic"
        summary = in_domain_summary(rows) if question_set.in_domain else off_topic_summary(rows)
        result[f"{kind}_sets"][question_set.name] = {"path": str(question_set.path), "summary": summary, "rows": rows}
        if kind not in result:
            result[kind], result[f"{kind}_rows"] = summary, rows
    return result


def split(summary: dict[str, dict], measure: str) -> str:
    """first half / second half / all, with "-" for a half the file is too short to have."""
    return " / ".join(f"{summary[part][measure]:.3f}" if part in summary else "-" for part in HALVES)


def print_summary(results: dict[str, dict]) -> None:
    print("### Summary (first half / second half / all)\n")
    print("| mode | in-domain set | questions | top-1 | top-3 | top-10 | with results | right one answers | answering articles (median) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for mode, result in results.items():
        for name, found in result["in_domain_sets"].items():
            m = found["summary"]
            medians = " / ".join(f"{m[part]['answers (median)']:g}" if part in m else "-" for part in HALVES)
            print(f"| {mode} | {name} | {m['all']['questions']} | {split(m, 'top-1')} | {split(m, 'top-3')} | "
                  f"{split(m, 'top-10')} | {split(m, 'with results')} | {split(m, 'right answers')} | {medians} |")
    print("\n| mode | off-topic set | questions | no results |")
    print("|---|---|---|---|")
    for mode, result in results.items():
        for name, found in result["off_topic_sets"].items():
            m = found["summary"]
            print(f"| {mode} | {name} | {m['all']['questions']} | {split(m, 'no results')} |")


def print_tables(results: dict[str, dict]) -> None:
    first = next(iter(results.values()))
    for name in first["in_domain_sets"]:
        print(f"\n### In-domain, {name} (right article among the first k; share with any result)\n")
        print("| mode | part | questions | top-1 | top-3 | top-10 | with results |")
        print("|---|---|---|---|---|---|---|")
        for mode, result in results.items():
            for part, m in result["in_domain_sets"][name]["summary"].items():
                print(f"| {mode} | {part} | {m['questions']} | {m['top-1']:.3f} | {m['top-3']:.3f} | "
                      f"{m['top-10']:.3f} | {m['with results']:.3f} |")
    for name in first["off_topic_sets"]:
        print(f"\n### Off-topic, {name} (share with no results)\n")
        print("| mode | part | questions | no results |")
        print("|---|---|---|---|")
        for mode, result in results.items():
            for part, m in result["off_topic_sets"][name]["summary"].items():
                print(f"| {mode} | {part} | {m['questions']} | {m['no results']:.3f} |")


def labels(row: dict) -> str:
    return ", ".join(row[field] for field in ("dialect", "source", "topic") if field in row)


def print_misses(results: dict[str, dict]) -> None:
    for mode, result in results.items():
        for name, found in result["in_domain_sets"].items():
            misses = [row for row in found["rows"] if row["rank"] is None or row["rank"] > 3]
            print(f"\n### Misses, {mode}, {name}: right article not in the top 3 ({len(misses)})\n")
            for row in misses:
                first = row["found"][0] if row["found"] else "(no results)"
                rank = row["rank"] or "-"
                print(f"- {row['id']} [{labels(row)}] {row['question']}\n"
                      f"  gold {', '.join(row['gold'])} at rank {rank}; first: {first}")
        for name, found in result["off_topic_sets"].items():
            answered = [row for row in found["rows"] if row["found"]]
            print(f"\n### Off-topic with results, {mode}, {name} ({len(answered)})\n")
            for row in answered:
                count = f"{len(row['found'])} result{'s' if len(row['found']) > 1 else ''}"
                print(f"- {row['id']} [{labels(row)}] {row['question']}\n"
                      f"  {count}; first: {row['found'][0]} (score {row['scores'][0]})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=[*MODES, "all"], help="default: the configured search mode")
    parser.add_argument("--articles", type=Path, default=ROOT / "articles")
    parser.add_argument("--questions", type=Path, action="append", metavar="JSONL",
                        help="in-domain questions with gold articles (repeatable; default: "
                             + ", ".join(path.name for path in IN_DOMAIN) + ")")
    parser.add_argument("--off-topic", type=Path, action="append", metavar="JSONL",
                        help="questions no article answers (repeatable; default: "
                             + ", ".join(path.name for path in OFF_TOPIC) + ")")
    parser.add_argument("--work", type=Path, default=ROOT / "bench-data" / "eval-index" / "helpcenter")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the index from scratch")
    parser.add_argument("--show-misses", action="store_true",
                        help="list in-domain questions whose right article is not in the top 3, "
                             "and off-topic questions that got results")
    parser.add_argument("--json", action="store_true", help="print one JSON document (summaries and every question)")
    args = parser.parse_args(argv)

    try:
        sets = load_sets(args.questions or list(IN_DOMAIN), args.off_topic or list(OFF_TOPIC))
    except SetError as exc:
        parser.error(str(exc))
    kb = open_helpcenter(args.articles, args.work, args.rebuild)
    try:
        modes = MODES if args.mode == "all" else [args.mode or kb.settings.search_mode]
        results = {mode: evaluate(kb, sets, mode) for mode in modes}
    finally:
        kb.close()
    if args.json:
        json.dump(results, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    print_summary(results)
    print_tables(results)
    if args.show_misses:
        print_misses(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
