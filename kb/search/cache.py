"""Embedding cache: vectors keyed by (model fingerprint, passage text hash).

Re-indexing embeds only passages whose text is new; changing the model changes the
fingerprint, so everything is embedded again (and the old model's vectors are never
mixed in).  SQLite gives us atomic, crash-safe writes for free.

The passages' latent terms (``kb.search.embed.latent_terms``) are kept here too, in a table
of their own: they are the index's only copy of them (searches read them back,
``kb.search.latent``), and like the vectors they follow from the articles, so a lost cache
is embedded again.  Stored as 16-bit feature ids (there are 16,384) and 16-bit weights:
the ranking they feed is a blend, not an exact score.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np

from kb.search.embed import LATENT_TERMS
from kb.search.embed import LatentTerms


# The table's name carries how many features a text keeps: another count is another table.
LATENT_TABLE = f"latent_{LATENT_TERMS}"
# Each article's chunk terms packed in one row (``kb.search.article_terms``), so that a
# search reads an article's terms without parsing its Markdown into passages again.
ARTICLE_LATENT_TABLE = f"articles_{LATENT_TABLE}"
# A fact the cache keeps about itself (table `facts`): every passage chunk that reached the
# vector index since the fill has its terms, and every article its packed row.  Set by
# ``Indexer.fill_latent_terms`` once it has filled them all; it stays true, because every way
# a chunk reaches the index since then computes its terms and packs its article
# (``VectorWork.embed``) or requires the terms and packs the article (``VectorWork.cached``).
LATENT_COMPLETE = f"{LATENT_TABLE} and {ARTICLE_LATENT_TABLE} complete"


def encode_latent(terms: LatentTerms) -> bytes:
    ids, weights = terms
    return np.asarray(ids, dtype=np.uint16).tobytes() + np.asarray(weights, dtype=np.float16).tobytes()


def decode_latent(blob: bytes) -> LatentTerms:
    half = len(blob) // 2
    return (np.frombuffer(blob[:half], dtype=np.uint16).astype(np.int32),
            np.frombuffer(blob[half:], dtype=np.float16).astype(np.float32))


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    def __init__(self, directory: Path, fingerprint: str, dim: int):
        directory.mkdir(parents=True, exist_ok=True)
        self.dim = dim
        self.fingerprint = fingerprint
        self.path = directory / f"embeddings-{fingerprint}.sqlite3"
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (hash TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {LATENT_TABLE} (hash TEXT PRIMARY KEY, terms BLOB NOT NULL)")
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {ARTICLE_LATENT_TABLE} (hash TEXT PRIMARY KEY, terms BLOB NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS facts (name TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def get_many(self, hashes: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), 500):
            chunk = hashes[start:start + 500]
            rows = self._db.execute(
                f"SELECT hash, vector FROM vectors WHERE hash IN ({','.join('?' * len(chunk))})", chunk
            )
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float32).copy()
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (hash, vector) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )

    def get_latent_many(self, hashes: list[str]) -> dict[str, LatentTerms]:
        return {key: decode_latent(blob) for key, blob in self._select(LATENT_TABLE, hashes)}

    def put_latent_many(self, items: dict[str, LatentTerms]) -> None:
        with self._db:
            self._db.executemany(
                f"INSERT OR REPLACE INTO {LATENT_TABLE} (hash, terms) VALUES (?, ?)",
                [(k, encode_latent(v)) for k, v in items.items()],
            )

    def get_article_latent_many(self, keys: list[str]) -> dict[str, bytes]:
        return {key: bytes(blob) for key, blob in self._select(ARTICLE_LATENT_TABLE, keys)}

    def put_article_latent_many(self, items: dict[str, bytes]) -> None:
        with self._db:
            self._db.executemany(f"INSERT OR REPLACE INTO {ARTICLE_LATENT_TABLE} (hash, terms) VALUES (?, ?)",
                                 list(items.items()))

    def _select(self, table: str, keys: list[str]):
        """(key, terms) rows of a terms table, 500 keys a query (SQLite's variable limit)."""
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            yield from self._db.execute(f"SELECT hash, terms FROM {table} WHERE hash IN ({','.join('?' * len(chunk))})",
                                        chunk)

    @property
    def latent_complete(self) -> bool:
        """Whether every chunk in the index has its latent terms here, and every article its
        packed row (see LATENT_COMPLETE)."""
        return self._db.execute("SELECT 1 FROM facts WHERE name = ?", (LATENT_COMPLETE,)).fetchone() is not None

    def mark_latent_complete(self) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO facts (name, value) VALUES (?, '1')", (LATENT_COMPLETE,))

    def close(self) -> None:
        self._db.close()
