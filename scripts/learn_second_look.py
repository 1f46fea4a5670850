"""Learn the second look's weights (kb/search/second_look.py) from the sets' first halves.

    python scripts/learn_second_look.py                      # the sets the shipped weights were learnt on
    python scripts/learn_second_look.py --collection mlqa_ar_dev --learn-on helpcenter,dial2msa,arcd

Every question is searched in hybrid mode with the second look off; what the second look would
have seen (the first ten fused articles and their scores, both sides' rankings, the passage
coverage) is recorded at its call.  A pairwise logistic regression (the first right article
against each other article of the first ten, features: fused score over the best one, dense z,
keyword score over the best, coverage; L2, C = 1) is fitted on the first halves of the sets
named by --learn-on, and the weights are printed divided by the fused score's, as
second_look.py keeps them.  Then, per set and half, what re-ordering the first ten by them
gives: top-1 (help-center sets) and nDCG@10 (every set), before -> after.  A re-ordering
only, on the questions the second look sees (both sides found something; not among stored
questions): the answer count and the search around it are the real search's
(eval_helpcenter.py and eval_retrieval.py measure those, with the setting on).

Indexes as the two eval scripts keep them (bench-data/eval-index); a collection index is
built the first time (minutes to an hour on 2 cores: see README, "Benchmarks").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import eval_helpcenter  # noqa: E402
import eval_retrieval  # noqa: E402

from kb.search import second_look  # noqa: E402

HELPCENTER = "helpcenter"  # --learn-on name for the help-center sets that may be tuned on
TUNABLE = ("helpcenter_questions.jsonl", "helpcenter_heldout.jsonl", "helpcenter_arabizi.jsonl",
           "helpcenter_short.jsonl", "helpcenter_english.jsonl")
NAMES = ("fused", "dense z", "keyword", "coverage")


def features(head, dense, keyword, coverage) -> list[tuple[str, np.ndarray]]:
    """The first ten articles with what the second look reads of each (second_look.rescore's inputs)."""
    top = max(score for _, score in head) or 1.0
    found = second_look.standings([slug for slug, _ in head], dense, keyword, coverage)
    return [(slug, np.array([score / top, *found[slug]])) for slug, score in head]


def recorded(search, questions: list[dict]) -> list[tuple[dict, list[tuple[str, np.ndarray]]]]:
    """(question, features of its first ten) for every question the second look would see."""
    seen: list = []
    real = second_look.rescore

    def record(ranking, dense, keyword, coverage, weight, depth=second_look.DEPTH):
        if ranking and dense and keyword:
            seen.append(features(list(ranking)[:depth], dense, keyword, coverage))
        return list(ranking)  # the search goes on as with the setting at 0

    second_look.rescore = record
    try:
        out = []
        for question in questions:
            seen.clear()
            search(question["question"])
            if seen:
                out.append((question, seen[-1]))
        return out
    finally:
        second_look.rescore = real


def fit(pairs: np.ndarray, labels: np.ndarray, c: float = 1.0) -> np.ndarray:
    """L2-regularized logistic regression without intercept, by Newton's method (no scikit-learn here)."""
    weights = np.zeros(pairs.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-(pairs @ weights)))
        gradient = pairs.T @ (p - labels) + weights / c
        hessian = (pairs * (p * (1 - p))[:, None]).T @ pairs + np.eye(len(weights)) / c
        weights -= np.linalg.solve(hessian, gradient)
    return weights


def training_pairs(rows) -> tuple[np.ndarray, np.ndarray]:
    pairs, labels = [], []
    for question, head in rows:
        gold = set(question["gold"])
        right = [vector for slug, vector in head if slug in gold][:1]
        for positive in right:
            for slug, vector in head:
                if slug not in gold:
                    pairs += [positive - vector, vector - positive]
                    labels += [1, 0]
    return np.array(pairs), np.array(labels, dtype=float)


def report(name: str, rows, weights: np.ndarray) -> None:
    middle = len(rows) // 2
    cells = []
    for part in (rows[:middle], rows[middle:]):
        before = [[slug for slug, _ in head] for _, head in part]
        after = [[slug for slug, _ in sorted(head, key=lambda item: -float(item[1] @ weights))] for _, head in part]
        golds = [set(question["gold"]) for question, _ in part]
        first = [sum(order[0] in gold for order, gold in zip(orders, golds)) for orders in (before, after)]
        scores = [sum(eval_retrieval.metrics(order, gold)["nDCG@10"] for order, gold in zip(orders, golds)) / max(1, len(part)) for orders in (before, after)]
        cells.append(f"top-1 {first[0]} -> {first[1]} of {len(part)}, nDCG@10 {scores[0]:.4f} -> {scores[1]:.4f}")
    print(f"| {name} | {cells[0]} | {cells[1]} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", action="append", default=None,
                        help="a ../shared/eval collection (repeatable; default: dial2msa, arcd)")
    parser.add_argument("--learn-on", default="helpcenter,dial2msa,arcd",
                        help="sets whose first halves the weights are learnt on (helpcenter: its tunable sets)")
    parser.add_argument("--work", type=Path, default=eval_retrieval.ROOT / "bench-data" / "eval-index")
    args = parser.parse_args(argv)
    learn_on = set(args.learn_on.split(","))

    sets: dict[str, list] = {}
    helpcenter = eval_helpcenter.open_helpcenter(eval_retrieval.ROOT / "articles", args.work / "helpcenter", False)
    try:
        for path in eval_helpcenter.IN_DOMAIN:
            questions = eval_helpcenter.load_set(path, True)
            sets[path.name] = recorded(lambda text: helpcenter.search_page(
                text, mode="hybrid", limit=10, include_drafts=False, include_internal=True), questions)
    finally:
        helpcenter.close()
    for name in args.collection or ["dial2msa", "arcd"]:
        folder = eval_retrieval.DEFAULT_EVAL / name
        collection = eval_retrieval.open_collection(folder, args.work, False)
        try:
            questions = eval_retrieval.load_queries(folder / "queries.jsonl")
            sets[name] = recorded(lambda text: collection.search(
                text, mode="hybrid", limit=10, include_drafts=True, include_internal=True), questions)
        finally:
            collection.close()

    learnt = [name for name in sets if name in learn_on or (HELPCENTER in learn_on and name in TUNABLE)]
    pairs, labels = zip(*(training_pairs(sets[name][:len(sets[name]) // 2]) for name in learnt))
    weights = fit(np.vstack(pairs), np.concatenate(labels))
    print("learnt on the first halves of: " + ", ".join(learnt))
    print("weights over the fused score's: " + ", ".join(f"{n} {w / weights[0]:.3f}" for n, w in zip(NAMES, weights)))
    print(f"shipped: dense z {second_look.DENSE_WEIGHT}, keyword {second_look.KEYWORD_WEIGHT}, "
          f"coverage {second_look.COVERAGE_WEIGHT}\n")
    print("| set | first half | second half |\n|---|---|---|")
    for name, rows in sets.items():
        report(name, rows, weights)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
