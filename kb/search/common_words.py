"""Common words: whether a word, as typed, is one people write, by its frequency in ``wordfreq``.

An index knows only its own articles' words.  A word it has never seen is either a typo
of one it has ("الماراة") or a real word the articles do not use ("لبس", "انام", "تكيس").
Edit distance cannot tell the two apart: a real word is often one letter from an index
word ("لبس" -> "ليس", "الاكل" -> "الاقل"), and "correcting" it turns a question the help
center has no answer for into one about its own vocabulary.  How often people write the
word can: ``wordfreq`` (Robyn Speer et al.) ships word frequencies of Arabic, English and
French from Wikipedia, subtitles, news, books, web text, Twitter and Reddit, so it holds
dialect words and chat spellings too, and typos rarely reach its lists (the Zipf scale: 3 is
once per million words; "لبس" 4.2, "تكيس" 2.7, the typo "العملا" 1.8, "الماراة" 0).

The data ships in the package (no download at run time).  Each list is read once, on first
use (``warm_up`` at start), into a :class:`FrequencyTable`: wordfreq's own look-up keeps a
dict of every word, 150 MB for the Arabic, English and French lists a search reads (the
whole server used about 300 MB); the table keeps a 64-bit hash and two bytes a word, about
7 MB, at a few microseconds a look-up.  Arabic uses the large list (words down to Zipf 1:
the Arabizi reading weighs rare spellings too), English and French the small one (down to
Zipf 3, all that is asked of them).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import wordfreq

from kb.text import CLITIC_LETTERS
from kb.text import is_arabic
from kb.text import strip_marks

# A word at least this frequent (Zipf) is a real word, not a typo of a rarer-looking index word.
COMMON_ZIPF = 3.0
# One joined letter in front: و "and", and the prepositions ب ل ك ف the light stemmer keeps.
_JOINED = ("و", *CLITIC_LETTERS)
_LISTS = {"ar": "large", "en": "small", "fr": "small"}


class FrequencyTable:
    """One wordfreq list as sorted 64-bit string hashes with each word's frequency in
    centibels (wordfreq's own unit: a word at -c cB occurs 10^(-c/100) of the time).

    Python's string hash is fixed for the life of the process, and the table is built in
    the process that reads it, so no hash is ever compared across runs; with under a
    million words, a collision between two of them is a one-in-ten-million chance."""

    def __init__(self, buckets: list[list[str]]):
        hashes = np.fromiter((hash(word) for bucket in buckets for word in bucket), dtype=np.int64)
        centibels = np.fromiter((c for c, bucket in enumerate(buckets) for _ in bucket), dtype=np.uint16)
        order = np.argsort(hashes, kind="stable")
        self._hashes = hashes[order]
        self._centibels = centibels[order]

    def zipf(self, word: str) -> float:
        """The word's Zipf frequency (9 + log10 of its share of words), 0.0 when the list lacks it."""
        key = hash(word)
        i = int(np.searchsorted(self._hashes, key))
        if i < len(self._hashes) and self._hashes[i] == key:
            return round(9.0 - int(self._centibels[i]) / 100, 2)
        return 0.0

    def __len__(self) -> int:
        return len(self._hashes)


@lru_cache(maxsize=len(_LISTS))
def _table(lang: str) -> FrequencyTable:
    """The language's table, read once per process (``warm_up`` reads them all at start)."""
    return FrequencyTable(wordfreq.read_cBpack(wordfreq.available_languages(_LISTS[lang])[lang]))


def zipf(word: str) -> float:
    """How often people write `word` as typed (Zipf: log10 of uses per billion words; 0 unknown),
    in Arabic for a word in Arabic letters, else in English (whose list stops at Zipf 3)."""
    lowered = strip_marks(word.lower())  # the lists hold words without marks
    return _table("ar" if is_arabic(lowered) else "en").zipf(lowered)


def is_common(word: str) -> bool:
    """True when `word` is a word people commonly write (see COMMON_ZIPF), or one with a
    joined conjunction or preposition in front ("بالحامل": الحامل, "ولونك": لونك)."""
    if zipf(word) >= COMMON_ZIPF:
        return True
    return len(word) >= 4 and word[0] in _JOINED and zipf(word[1:]) >= COMMON_ZIPF


def is_common_latin(word: str) -> bool:
    """True when people commonly write `word` in English or in French (the European language
    of Maghrebi chat: "commentaire", "appel"), not only in some other language a multilingual
    tokenizer also knows ("nabi", "siyaset")."""
    lowered = word.lower()
    return max(_table("en").zipf(lowered), _table("fr").zipf(lowered)) >= COMMON_ZIPF


def warm_up() -> None:
    """Read the Arabic, English and French lists now rather than on the first look-up."""
    for lang in _LISTS:
        _table(lang)
