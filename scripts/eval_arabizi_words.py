"""How well Arabizi words are read back into Arabic letters, word by word, on the launch articles.

    python scripts/eval_arabizi_words.py [--words scripts/data/arabizi_words.tsv] [--show-misses] [--json]

Each line of the word list is one word as customers type it in Latin letters ("3ayez",
"mashakil", "el3amil") with the Arabic spellings that are right for it; the word is read the way
a search reads an Arabizi question (``KnowledgeBase.read_arabizi``: the launch articles' words,
the dialect lexicon and the model tokenizer decide between the possible spellings), and counts
as right when the reading is one of them after the search's own normalization (hamza seats,
ة/ه, ى/ي do not matter).  Reported per dialect and for the two halves of the file: tune on the
first, report both.

This measures the reader alone; what a reading does to the search is measured by
``scripts/eval_helpcenter.py`` on ``helpcenter_arabizi.jsonl``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from eval_helpcenter import open_helpcenter  # noqa: E402
from eval_helpcenter import parts  # noqa: E402
from eval_helpcenter import share  # noqa: E402

from kb.text import normalize_arabic  # noqa: E402

DIALECTS = ("egy", "glf", "lev", "mgr")


def load_words(path: Path) -> list[dict]:
    """The word list, checked up front: a bad line fails with its line number."""
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        if reader.fieldnames != ["arabizi", "arabic", "dialect", "note"]:
            raise SystemExit(f"{path}: header must be arabizi, arabic, dialect, note (tab-separated)")
        for line, row in enumerate(reader, 2):
            if not row["arabizi"] or not row["arabic"] or row["dialect"] not in DIALECTS:
                raise SystemExit(f"{path}:{line}: needs an arabizi word, its arabic spellings and a dialect of {DIALECTS}")
            rows.append({**row, "line": line, "right": row["arabic"].split("|")})
    return rows


def squeeze(text: str) -> str:
    """A reading as the search compares words: normalized, without spaces a glued article leaves."""
    return normalize_arabic(text).replace(" ", "")


def read_all(kb, rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        reading = kb.read_arabizi(row["arabizi"], detect=False) or row["arabizi"]
        right = {squeeze(spelling) for spelling in row["right"]}
        out.append({**row, "reading": reading, "ok": squeeze(reading) in right})
    return out


def summary(rows: list[dict]) -> dict[str, dict]:
    """Per dialect and per half (``eval_helpcenter.parts``): how many words, the share read right."""
    return {name: {"words": len(part), "right": round(share(part, lambda row: row["ok"]), 3)}
            for name, part in parts(rows, ("dialect",)).items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=Path, default=ROOT / "scripts" / "data" / "arabizi_words.tsv")
    parser.add_argument("--articles", type=Path, default=ROOT / "articles")
    parser.add_argument("--work", type=Path, default=ROOT / "bench-data" / "eval-index" / "helpcenter")
    parser.add_argument("--show-misses", action="store_true", help="list the words read wrong")
    parser.add_argument("--json", action="store_true", help="print the summary and every word as JSON")
    args = parser.parse_args(argv)
    rows = load_words(args.words)
    kb = open_helpcenter(args.articles, args.work, False)
    read = read_all(kb, rows)
    result = summary(read)
    if args.json:
        print(json.dumps({"summary": result, "words": read}, ensure_ascii=False, indent=1))
        return 0
    print("| part | words | read right |\n|---|---|---|")
    for name, row in result.items():
        print(f"| {name} | {row['words']} | {row['right']:.3f} |")
    if args.show_misses:
        print()
        for row in read:
            if not row["ok"]:
                print(f"- {row['line']} [{row['dialect']}] {row['arabizi']} -> {row['reading']} (right: {row['arabic']}; {row['note']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
