"""What the latent terms (kb.search.latent) cost: search latency, embedding time, memory.

    python scripts/bench_latent.py                      # the launch articles, the help-center questions
    python scripts/bench_latent.py --articles bench-data/corpus-1k --index bench-data/bench-latent-1k

Measures in one process and one run, the two settings alternated question by question so
that the machine's noise falls on both:

- hybrid search latency p50/p95 without latent terms (``dense_latent_weight`` and
  ``answer_latent_weight`` 0), with them on the dense side only (``answer_latent_weight`` 0)
  and at the defaults (the no-answer cut compares them with its landmarks' too), over
  distinct real questions (scripts/data: the help-center questions and agent messages),
  reused searcher, no result cache; the ratios to the first;
- what a question costs the model: its query vector, and its latent terms;
- what a passage costs at index time: passage vectors and latent terms per second, on a
  sample of the corpus's chunks (one batch call for the vectors, one text at a time for
  the terms, as ``VectorWork`` does);
- memory the terms take once every article has been read, per article and per term.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from kb import KnowledgeBase  # noqa: E402
from kb import load_settings  # noqa: E402
from kb.search.embed import latent_terms  # noqa: E402
from kb.search.indexing import passage_chunks  # noqa: E402
from kb.search.passages import article_passages  # noqa: E402

QUESTIONS = (ROOT / "scripts" / "data" / "helpcenter_questions.jsonl", ROOT / "scripts" / "data" / "messages.jsonl")


def read_questions(paths) -> list[str]:
    seen: dict[str, None] = {}
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                seen.setdefault(row.get("question") or row.get("message") or row.get("text"), None)
    return [text for text in seen if text]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, default=ROOT / "articles")
    parser.add_argument("--index", type=Path, default=ROOT / "bench-data" / "bench-latent" / "index")
    parser.add_argument("--questions", type=Path, action="append", default=[])
    parser.add_argument("--rounds", type=int, default=3, help="passes over the questions (default 3)")
    parser.add_argument("--sample", type=int, default=64, help="passage chunks for the embedding rates")
    args = parser.parse_args(argv)

    base = {"articles_dir": args.articles, "index_dir": args.index, "data_dir": args.index.parent / "data"}
    with_terms = KnowledgeBase.from_settings(load_settings(base, environ={}))
    started = time.monotonic()
    with_terms.index()
    print(f"# index ready in {time.monotonic() - started:.1f} s", file=sys.stderr)
    without = KnowledgeBase.from_settings(load_settings({**base, "dense_latent_weight": 0.0, "answer_latent_weight": 0.0},
                                                        environ={}), embedder=with_terms.embedder)
    dense_only = KnowledgeBase.from_settings(load_settings({**base, "answer_latent_weight": 0.0}, environ={}),
                                             embedder=with_terms.embedder)
    embedder = with_terms.embedder
    terms_of = latent_terms(embedder)
    if terms_of is None:
        print("this embedder has no latent terms: nothing to measure")
        return 1
    questions = read_questions(args.questions or QUESTIONS)
    settings = with_terms.settings
    runs = [("no latent terms (both weights 0)", without),
            (f"dense side only (dense_latent_weight {settings.dense_latent_weight})", dense_only),
            (f"dense side and no-answer cut (answer_latent_weight {settings.answer_latent_weight})", with_terms)]
    for _, knowledge in runs:  # warm: every article's terms read once, every code path run
        for question in questions:
            knowledge.search(question, mode="hybrid")

    timings: dict[str, list[float]] = {name: [] for name, _ in runs}
    names = list(timings)
    for round_number in range(args.rounds):
        for i, question in enumerate(questions):
            shift = (i + round_number) % len(runs)  # each setting first, second and last in turn
            for name, knowledge in runs[shift:] + runs[:shift]:
                t = time.perf_counter()
                knowledge.search(question, mode="hybrid")
                timings[name].append((time.perf_counter() - t) * 1000)

    model: dict[str, list[float]] = {"query vector": [], "latent terms": []}
    for question in questions:
        for name, call in (("query vector", lambda q: embedder.embed_query(q)), ("latent terms", lambda q: terms_of([q]))):
            t = time.perf_counter()
            call(question)
            model[name].append((time.perf_counter() - t) * 1000)

    chunks = [text for article in with_terms.catalog.articles.values()
              for _, text in passage_chunks(article, article_passages(article))][: args.sample]
    t = time.perf_counter()
    embedder.embed_passages(chunks)
    vector_rate = len(chunks) / (time.perf_counter() - t)
    t = time.perf_counter()
    terms_of(chunks)
    terms_rate = len(chunks) / (time.perf_counter() - t)

    latent = with_terms.latent_terms(embedder)
    articles = len(with_terms.catalog.articles)
    print(f"{len(questions)} questions x {args.rounds} rounds, {articles} articles ({args.articles})\n")
    print("| hybrid search | p50 ms | p95 ms |")
    print("|---|---|---|")
    for name, values in timings.items():
        print(f"| {name} | {statistics.median(values):.1f} | {percentile(values, 0.95):.1f} |")
    for name in names[1:]:
        ratio = statistics.median(timings[name]) / statistics.median(timings[names[0]])
        print(f"\np50 ratio, {name} / no latent terms: {ratio:.2f}")
    print()
    print("| per question | p50 ms | p95 ms |")
    print("|---|---|---|")
    for name, values in model.items():
        print(f"| {name} | {statistics.median(values):.1f} | {percentile(values, 0.95):.1f} |")
    print(f"\nindex time, {len(chunks)} chunks: vectors {vector_rate:.1f}/s, latent terms {terms_rate:.1f}/s "
          f"(terms take {vector_rate / terms_rate:.2f}x the vectors' time)")
    print(f"memory of the terms read: {latent.nbytes / 1e6:.2f} MB for {articles} articles "
          f"({latent.nbytes / max(1, articles) / 1e3:.1f} kB an article)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
