"""Search benchmark: build times, incremental update, query latency, embedding speed, memory.

    python scripts/make_corpus.py --out bench-data/corpus-1k --count 1000 --seed 1
    python scripts/make_corpus.py --out bench-data/corpus-10k --count 10000 --seed 1
    kb --articles-dir bench-data/corpus-10k --index-dir bench-data/index-10k index   # once: ~75k passages
    python scripts/bench_search.py --size 1k=bench-data/corpus-1k --size 10k=bench-data/corpus-10k

For each corpus it copies the articles and the prebuilt index (``bench-data/index-<name>``,
built here if missing; its embedding cache is kept between runs) into a scratch folder and
measures, in one process and one run:

- full keyword build time (Whoosh only) and full build with embeddings (at the sizes given
  with ``--full-embed``, from an empty embedding cache);
- embedding throughput (passages/s) on a sample of the corpus's passages;
- incremental update of one changed article (``KnowledgeBase.upsert``, five articles one
  after the other: median and slowest), how many passages each embedded, and the first
  search after it here and in a second reader that already held the index;
- keyword, query-embedding (what the dense side embeds: the question, and its MSA reading
  for a dialect question, in one batch, with their latent terms on a thread beside it) and hybrid latency p50/p95/p99 over distinct real questions
  (scripts/data/questions.jsonl and messages.jsonl), reused searcher, no result cache, each
  hybrid search a question the model has not read; then the same question searched again
  (the next page or a filter: the model's reading is remembered, ``kb.search.question_memo``);
- process memory (RSS) with the index loaded.

``--publish NAME=CORPUS`` measures the editor's publish instead (``Publisher.create`` of a
new 10-section article, five in a row, on a copy of the corpus and its prebuilt index
``bench-data/index-<NAME>``, or ``--publish-index``): the time to the acknowledgement,
until a keyword search finds the new article's word, and until its vectors are in the
index; then the same without the durability of issue 19 (no fsync of the Whoosh commit,
SQLite ``synchronous=NORMAL``), when the code has it, to show what durability costs.
The measurement uses only ``Publisher``, ``KnowledgeBase.search`` and the manifest, so
the script also runs against an older checkout (copy it into that tree's ``scripts/``).

Targets (issues 3 and 4) are printed beside the numbers with their ratios.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb import KnowledgeBase  # noqa: E402
from kb import load_settings  # noqa: E402
from kb.search.indexing import embedding_texts  # noqa: E402
from kb.search.passages import article_passages  # noqa: E402
from kb.search.indexing import load_vectors  # noqa: E402
from benchlib import load_questions  # noqa: E402
from benchlib import percentile  # noqa: E402
from benchlib import rss_mb  # noqa: E402
from benchlib import standin_warning  # noqa: E402

try:  # the dense side's model work, as a search does it
    from kb.search.question_reading import read_question  # noqa: E402
except ImportError:  # a checkout from before it (2026-12-07): no "embed" column
    read_question = None


UPSERTS = 5
PUBLISHES = 5
SECTION_WORDS = 80


class CountingEmbedder:
    """Wraps an embedder to count the passages it embeds."""

    def __init__(self, inner):
        self.inner = inner
        self.passages = 0
        for name in ("name", "fingerprint", "dim", "max_tokens", "batch_size"):
            setattr(self, name, getattr(inner, name, None))

    def embed_query(self, text):
        return self.inner.embed_query(text)

    def __getattr__(self, name):
        # Anything else the backend offers (embed_query_batch: a dialect question and its MSA
        # reading in one call), as kb would use it without the wrapper.
        return getattr(self.inner, name)

    def embed_passages(self, texts):
        self.passages += len(texts)
        return self.inner.embed_passages(texts)


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return (time.perf_counter() - start) * 1000, result


def latency_rows(knowledge: KnowledgeBase, questions: list[str]) -> dict[str, list[float]]:
    """Per question: keyword search, the dense side's model work alone, a hybrid search of a
    question the model has not read, and the same hybrid search again (the next page, a filter,
    the widget counting what it showed: the model's reading is remembered, kb.search.question_memo)."""
    embedder = knowledge.embedder
    rows: dict[str, list[float]] = {"keyword": [], "embed": [], "hybrid": [], "again": []}
    for question in questions[:5]:  # warm up: searcher, caches, model
        knowledge.search(question, mode="hybrid")
    lexicon = knowledge.dialect() if knowledge.settings.dense_msa_reading == "max" else None
    latent = getattr(knowledge, "latent_terms", lambda _: None)(embedder)  # older checkouts have none
    memo = getattr(knowledge, "question_memo", None)  # older checkouts have none
    for question in questions:
        rows["keyword"].append(timed(knowledge.search, question, mode="keyword")[0])
        if embedder is not None:
            if read_question is not None:
                # What the dense side asks of the model (kb.search.question_reading), without the memo.
                text = question[: knowledge.settings.max_query_chars].strip()
                rows["embed"].append(timed(lambda: read_question(text, embedder, lexicon, latent).terms())[0])
            if memo is not None:
                memo.clear()  # the hybrid search reads the question itself, as a new question does
            rows["hybrid"].append(timed(knowledge.search, question, mode="hybrid")[0])
            if memo is not None:
                rows["again"].append(timed(knowledge.search, question, mode="hybrid")[0])
    return rows


def bench_keyword_only(name: str, corpus: Path, prebuilt: Path, questions: list[str]) -> dict:
    """Keyword build, upsert and latency without embeddings (for sizes whose embedding
    would take hours here).  The posting cache is warmed with the agent messages first, as
    a running server's would be; the questions are then each asked once."""
    result: dict = {"size": name + " (keyword only)"}
    settings = load_settings({"data_dir": ROOT / "bench-data" / "data"}, environ={})
    with tempfile.TemporaryDirectory(dir=ROOT / "bench-data") as scratch:
        scratch = Path(scratch)
        articles = scratch / "articles"
        shutil.copytree(corpus, articles)
        ms, report = timed(KnowledgeBase(corpus, prebuilt, settings, embedder=False).index)  # up to date first
        if report.full:
            print(f"[{name}] rebuilt the prebuilt keyword index ({report.reason}) in {ms / 1000:.0f} s", flush=True)
        ms, report = timed(KnowledgeBase(articles, scratch / "kw-index", settings, embedder=False).index, full=True)
        result.update(keyword_build_s=ms / 1000, articles=report.articles, passages=report.passages)
        index = scratch / "index"
        shutil.copytree(prebuilt, index)
        knowledge = KnowledgeBase(articles, index, settings, embedder=False)
        target = sorted(knowledge.catalog.articles.values(), key=lambda a: a.slug)[len(knowledge.catalog.articles) // 2]
        target.path.write_text(target.path.read_text(encoding="utf-8") + "\n\nجملة جديدة للاختبار.\n", encoding="utf-8")
        result["upsert_ms"], _ = timed(knowledge.upsert, target.path)
        warm, timed_questions = questions[124:], questions[:124]
        for text in warm:
            knowledge.search(text, mode="keyword")
        values = [timed(knowledge.search, q, mode="keyword")[0] for q in timed_questions]
        for p in (50, 95, 99):
            result[f"keyword_p{p}_ms"] = percentile(values, p)
        result["queries"] = len(timed_questions)
        result["rss_mb"] = rss_mb()
    return result


def bench_size(name: str, corpus: Path, prebuilt: Path, full_embed: bool, questions: list[str],
               keyword_build: bool = True) -> dict:
    result: dict = {"size": name}
    warning = standin_warning(prebuilt)
    if warning:
        print(f"[{name}] {warning}", flush=True)
        result["standin_vectors"] = True
    settings = load_settings({"data_dir": ROOT / "bench-data" / "data"}, environ={})
    # Bring the prebuilt index up to date (a no-op when it is; the first time, or after a
    # format change, a rebuild that takes its embeddings from the cache where it can).
    ms, report = timed(KnowledgeBase(corpus, prebuilt, settings).index)
    if report.full or report.added or report.changed or report.deleted:
        print(f"[{name}] updated the prebuilt index at {prebuilt} ({report.reason or 'changes'}) in {ms / 1000:.0f} s", flush=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "bench-data") as scratch:
        scratch = Path(scratch)
        articles = scratch / "articles"
        shutil.copytree(corpus, articles)

        if keyword_build:
            ms, report = timed(KnowledgeBase(articles, scratch / "kw-index", settings, embedder=False).index, full=True)
            result["keyword_build_s"] = ms / 1000

        index = scratch / "index"
        shutil.copytree(prebuilt, index)
        knowledge = KnowledgeBase(articles, index, settings)
        embedder = CountingEmbedder(knowledge.embedder)
        knowledge = KnowledgeBase(articles, index, settings, embedder=embedder)
        ms, report = timed(knowledge.index)
        result["noop_reindex_s"] = ms / 1000
        result["noop_reindex_embedded"] = embedder.passages
        result["articles"], result["passages"], result["vectors"] = report.articles, report.passages, report.vectors
        live = load_vectors(knowledge.store.current())
        result["vector_index"] = live.kind if live is not None else "none"

        sample = random.Random(7).sample(sorted(knowledge.catalog.articles.values(), key=lambda a: a.slug), 20)
        texts = [t for a in sample for p in article_passages(a) for t in embedding_texts(a, p)][:200]
        ms, _ = timed(embedder.inner.embed_passages, texts)
        result["embed_passages_per_s"] = len(texts) / (ms / 1000)

        if full_embed:
            empty_cache = KnowledgeBase(articles, scratch / "full-index", settings, embedder=embedder.inner)
            ms, report = timed(empty_cache.index, full=True)
            result["full_build_with_embeddings_s"] = ms / 1000

        # Publish UPSERTS articles one after the other: each changes one section (one passage to
        # embed), then a search in this process (which reloads the changed index) and one in a
        # second process-like reader that already holds the index.
        reader = KnowledgeBase(articles, index, settings, embedder=embedder.inner)
        reader.search(questions[0], mode="hybrid")
        upserts, embedded, first_search, other_reader = [], [], [], []
        for number, target in enumerate(sample[:UPSERTS]):
            text = target.path.read_text(encoding="utf-8")
            target.path.write_text(text.replace("\n## ", f"\nجملة جديدة للاختبار رقم {number} عن سياسة الاسترداد.\n\n## ", 1),
                                   encoding="utf-8")
            before = embedder.passages
            upserts.append(timed(knowledge.upsert, target.path)[0])
            embedded.append(embedder.passages - before)
            first_search.append(timed(knowledge.search, questions[number + 1], mode="hybrid")[0])
            other_reader.append(timed(reader.search, questions[number + 1], mode="hybrid")[0])
        result["upsert_ms"] = statistics.median(upserts)
        result["upsert_max_ms"] = max(upserts)
        result["upsert_embedded"] = max(embedded)
        result["first_search_after_upsert_ms"] = statistics.median(first_search)
        result["other_reader_search_after_upsert_ms"] = statistics.median(other_reader)
        target = sample[0]
        result["upsert_article_passages"] = len(article_passages(KnowledgeBase(articles, index, settings, embedder=False).catalog.articles[target.slug]))

        rows = latency_rows(knowledge, questions)
        for mode, values in rows.items():
            if not values:  # "again": a checkout without the memo; "embed": without read_question
                continue
            for p in (50, 95, 99):
                result[f"{mode}_p{p}_ms"] = percentile(values, p)
        result["queries"] = len(questions)
        result["rss_mb"] = rss_mb()
    return result


def _new_article_body(corpus_texts: list[str], number: int, word: str) -> str:
    """Ten sections of real corpus prose (80 words each) plus a word no article holds."""
    rng = random.Random(number)
    sections = []
    for section in range(10):
        words = rng.choice(corpus_texts).split()
        start = rng.randrange(max(1, len(words) - SECTION_WORDS))
        sections.append(f"## القسم {section + 1}\n\n{' '.join(words[start:start + SECTION_WORDS])}")
    return "\n\n".join(sections) + f"\n\nكلمة الاختبار: {word}.\n"


def _publish_series(knowledge, publisher, corpus_texts: list[str], category: str, tag: str) -> dict[str, list[float]]:
    from kb.content.editing import ArticleForm
    from kb.search.indexing import Manifest

    times: dict[str, list[float]] = {"ack": [], "keyword": [], "semantic": []}
    for number in range(PUBLISHES):
        word = f"kbpub{tag}{'abcdefghij'[number]}"
        form = ArticleForm(title=f"مقال جديد للقياس {tag} {number}", slug=f"bench-{tag}-{number}", category=category,
                           body=_new_article_body(corpus_texts, number, word))
        started = time.perf_counter()
        result = publisher.create(form, "publish")
        times["ack"].append(time.perf_counter() - started)
        assert result.index_error is None, result.index_error
        while form.slug not in [hit.slug for hit in knowledge.search(word, mode="keyword")]:
            time.sleep(0.005)
        times["keyword"].append(time.perf_counter() - started)
        deadline = started + 600
        while time.perf_counter() < deadline:
            entry = (Manifest.load(knowledge.store.current()).articles.get(form.slug) or {})
            if entry.get("vectors", 0) > 0:
                break
            time.sleep(0.02)
        times["semantic"].append(time.perf_counter() - started)
    return times


def bench_publish(name: str, corpus: Path, prebuilt: Path) -> dict:
    """Publish new 10-section articles through the editor's Publisher (file, revision row, index)."""
    from kb.store.db import Database
    from kb.publishing import Publisher

    result: dict = {"size": name}
    warning = standin_warning(prebuilt)
    if warning:
        print(f"[{name}] {warning}", flush=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "bench-data") as scratch:
        scratch = Path(scratch)
        articles, index = scratch / "articles", scratch / "index"
        shutil.copytree(corpus, articles)
        shutil.copytree(prebuilt, index)
        settings = load_settings({"data_dir": scratch / "data"}, environ={})
        knowledge = KnowledgeBase(articles, index, settings)
        ms, report = timed(knowledge.index)
        if report.full or report.added or report.changed:
            print(f"[{name}] brought the index copy up to date in {ms / 1000:.0f} s ({report.reason or 'changes'})", flush=True)
        catalog = knowledge.catalog.articles.values()
        corpus_texts = [a.body for a in catalog if len(a.body.split()) > SECTION_WORDS]
        category = next(iter(catalog)).category
        publisher = Publisher(knowledge, Database.from_settings(settings).connection())
        knowledge.search("warm up", mode="keyword")
        result["articles"] = len(knowledge.catalog.articles)
        result["durable"] = _publish_series(knowledge, publisher, corpus_texts, category, "d")
        import kb.search.indexing
        import kb.publishing

        if hasattr(kb.publishing, "durable") and hasattr(kb.search.indexing, "fsync_files"):
            import contextlib

            kb.search.indexing.fsync_files = lambda folder: None
            kb.publishing.durable = lambda db: contextlib.nullcontext(db)
            result["not_durable"] = _publish_series(knowledge, publisher, corpus_texts, category, "n")
        close = getattr(knowledge, "close", None)
        if close is not None:
            close()
    return result


def print_publish_report(results: list[dict]) -> None:
    print()
    print("| collection | publishes | acknowledged p50 / max s | keyword-searchable p50 / max s | vectors in p50 / max s | "
          "acknowledged p50 without fsync / synchronous=FULL s |")
    print("|---|---|---|---|---|---|")
    for r in results:
        d = r["durable"]
        loose = r.get("not_durable")
        cells = [f"{statistics.median(d[k]):.3f} / {max(d[k]):.3f}" for k in ("ack", "keyword", "semantic")]
        loose_cell = f"{statistics.median(loose['ack']):.3f}" if loose else "–"
        print(f"| {r['size']} ({r['articles']} articles) | {len(d['ack'])} | {' | '.join(cells)} | {loose_cell} |")


def print_report(results: list[dict]) -> None:
    print()
    print("| size | articles | passages | vectors (index) | keyword build s | full build+embed s | embed passages/s | upsert ms, median of 5 (passages embedded / article passages) | first search after it ms (this process / another reader) | no-op reindex embedded | keyword p50/p95/p99 ms | query-embed p50/p95/p99 ms | hybrid p50/p95/p99 ms | hybrid, the same question again, p50/p95/p99 ms | RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if "embed_p50_ms" not in r:
            continue
        full = f"{r['full_build_with_embeddings_s']:.1f}" if "full_build_with_embeddings_s" in r else "-"
        again = f"{r['again_p50_ms']:.1f} / {r['again_p95_ms']:.1f} / {r['again_p99_ms']:.1f}" if "again_p50_ms" in r else "-"
        build = f"{r['keyword_build_s']:.1f}" if "keyword_build_s" in r else "-"
        print(
            f"| {r['size']}{' (stand-in vectors)' if r.get('standin_vectors') else ''} | {r['articles']} | {r['passages']} | "
            f"{r['vectors']} ({r['vector_index']}) | {build} | {full} | "
            f"{r['embed_passages_per_s']:.1f} | {r['upsert_ms']:.0f}, max {r['upsert_max_ms']:.0f} ({r['upsert_embedded']} / {r['upsert_article_passages']}) | "
            f"{r['first_search_after_upsert_ms']:.0f} / {r['other_reader_search_after_upsert_ms']:.0f} | "
            f"{r['noop_reindex_embedded']} | "
            f"{r['keyword_p50_ms']:.1f} / {r['keyword_p95_ms']:.1f} / {r['keyword_p99_ms']:.1f} | "
            f"{r['embed_p50_ms']:.1f} / {r['embed_p95_ms']:.1f} / {r['embed_p99_ms']:.1f} | "
            f"{r['hybrid_p50_ms']:.1f} / {r['hybrid_p95_ms']:.1f} / {r['hybrid_p99_ms']:.1f} | {again} | {r['rss_mb']:.0f} |"
        )
    keyword_only = [r for r in results if "embed_p50_ms" not in r]
    if keyword_only:
        print()
        print("| size | articles | passages | keyword build s | upsert ms | keyword p50/p95/p99 ms (queries) | RSS MB |")
        print("|---|---|---|---|---|---|---|")
        for r in keyword_only:
            print(f"| {r['size']} | {r['articles']} | {r['passages']} | {r['keyword_build_s']:.1f} | {r['upsert_ms']:.0f} | "
                  f"{r['keyword_p50_ms']:.1f} / {r['keyword_p95_ms']:.1f} / {r['keyword_p99_ms']:.1f} ({r['queries']}) | {r['rss_mb']:.0f} |")
    print()
    print("| size | target | measured | limit | ratio | met |")
    print("|---|---|---|---|---|---|")
    for r in results:
        if "embed_p50_ms" not in r:
            checks = [("keyword p95 <= 20 ms", r["keyword_p95_ms"], 20.0), ("upsert of one article <= 1000 ms", r["upsert_ms"], 1000.0)]
            for label, value, limit in checks:
                print(f"| {r['size']} | {label} | {value:.1f} | {limit:.1f} | {value / limit:.2f} | {'yes' if value <= limit else 'NO'} |")
            continue
        checks = [
            ("keyword p95 <= 20 ms", r["keyword_p95_ms"], 20.0),
            ("upsert of one article <= 1000 ms (slowest of 5)", r["upsert_max_ms"], 1000.0),
            ("hybrid p95 <= keyword p95 + embed p95 + 10 ms", r["hybrid_p95_ms"], r["keyword_p95_ms"] + r["embed_p95_ms"] + 10),
            ("RSS <= 1500 MB", r["rss_mb"], 1500.0),
            ("re-index embeds only the changed article", r["upsert_embedded"], float(r["upsert_article_passages"] + 0.5)),
        ]
        for label, value, limit in checks:
            print(f"| {r['size']} | {label} | {value:.1f} | {limit:.1f} | {value / limit:.2f} | {'yes' if value <= limit else 'NO'} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", action="append", default=[], metavar="NAME=CORPUS",
                        help="a corpus folder to measure, e.g. 10k=bench-data/corpus-10k (repeatable)")
    parser.add_argument("--keyword-only", action="append", default=[], metavar="NAME=CORPUS",
                        help="measure keyword search only (no embeddings) for this corpus, e.g. 10k=bench-data/corpus-10k; "
                             "its keyword index is kept in bench-data/kwindex-NAME")
    parser.add_argument("--full-embed", action="append", default=[], metavar="NAME",
                        help="also time a full build with embeddings from an empty cache for this size (e.g. 1k)")
    parser.add_argument("--no-keyword-build", action="append", default=[], metavar="NAME",
                        help="skip timing a keyword-only full build for this size (e.g. 10k: --keyword-only measures it)")
    parser.add_argument("--publish", action="append", default=[], metavar="NAME=CORPUS",
                        help="measure publish -> searchable through the editor's Publisher instead (repeatable)")
    parser.add_argument("--publish-index", action="append", default=[], metavar="NAME=INDEX",
                        help="the prebuilt index for a --publish collection (default bench-data/index-NAME)")
    args = parser.parse_args(argv)
    if args.publish:
        indexes = dict(spec.partition("=")[::2] for spec in args.publish_index)
        published = []
        for spec in args.publish:
            name, _, corpus = spec.partition("=")
            prebuilt = Path(indexes.get(name) or ROOT / "bench-data" / f"index-{name}")
            result = bench_publish(name, Path(corpus), prebuilt)
            print(json.dumps(result), flush=True)
            published.append(result)
        print_publish_report(published)
        return 0
    questions = load_questions()
    results = []
    for spec in args.size:
        name, _, corpus = spec.partition("=")
        prebuilt = ROOT / "bench-data" / f"index-{name}"
        result = bench_size(name, Path(corpus), prebuilt, name in args.full_embed, questions, name not in args.no_keyword_build)
        print(json.dumps(result), flush=True)
        results.append(result)
    for spec in args.keyword_only:
        name, _, corpus = spec.partition("=")
        result = bench_keyword_only(name, Path(corpus), ROOT / "bench-data" / f"kwindex-{name}", questions)
        print(json.dumps(result), flush=True)
        results.append(result)
    print_report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
