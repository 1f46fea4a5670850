"""Each article's latent terms packed in one row of the embedding cache, keyed by its text.

A search scores a candidate article by its passage chunks' latent terms (``kb.search.latent``).
Finding those chunks means parsing the article's Markdown into passages again, about 8 ms an
article on the 1k benchmark corpus, paid the first time each article is a candidate in a
process: at 1k articles the hybrid search's p95 went from about 100 ms to 250 ms while the
process warmed up (``scripts/bench_search.py``).  So the index keeps each article's chunk
terms packed (``TermRows.to_bytes``) under a key of its text, written where the chunks'
terms are (``kb.search.indexing.VectorWork``), and a search reads one row.

The key is the article's checksum and how passages are chunked (the index schema and the
chunk sizes).  A change of the passage rules that keeps both would leave an article's terms
chunked the old way until its text changes: the same words, in other chunks, so its blended
score moves a little, nothing breaks.
"""

from __future__ import annotations

from typing import Sequence

from kb.content.articles import Article
from kb.search.cache import EmbeddingCache
from kb.search.cache import text_hash
from kb.search.store import SCHEMA_VERSION
from kb.search.term_rows import TermRows

CHUNKING = "schema {schema}, chunks of {words} words overlapping {overlap}"


def article_key(article: Article, chunk_words: int, chunk_overlap: int) -> str:
    return text_hash("\x1f".join([article.checksum, CHUNKING.format(schema=SCHEMA_VERSION, words=chunk_words,
                                                                     overlap=chunk_overlap)]))


def store_packed(cache: EmbeddingCache, articles: Sequence[tuple[str, list[str]]]) -> None:
    """Pack and keep each (key, chunk hashes) article's terms, where every chunk has terms and
    the article has no row yet."""
    have = cache.get_article_latent_many([key for key, _ in articles])
    wanted = [(key, hashes) for key, hashes in articles if key not in have and hashes]
    if not wanted:
        return
    terms = cache.get_latent_many(list(dict.fromkeys(h for _, hashes in wanted for h in hashes)))
    packed = {}
    for key, hashes in wanted:
        if all(h in terms for h in hashes) and (rows := TermRows.pack([terms[h] for h in hashes])) is not None:
            packed[key] = rows.to_bytes()
    if packed:
        cache.put_article_latent_many(packed)


def read_packed(cache: EmbeddingCache, key: str) -> TermRows | None:
    blob = cache.get_article_latent_many([key]).get(key)
    return TermRows.from_bytes(blob) if blob is not None else None
