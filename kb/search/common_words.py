"""Common words: whether a word, as typed, is one people write, by its frequency in ``wordfreq``.

An index knows only its own articles' words.  A word it has never seen is either a typo
of one it has ("الماراة") or a real word the articles do not use ("لبس", "انام", "تكيس").
Edit distance cannot tell the two apart: a real word is often one letter from an index
word ("لبس" -> "ليس", "الاكل" -> "الاقل"), and "correcting" it turns a question the help
center has no answer for into one about its own vocabulary.  How often people write the
word can: ``wordfreq`` (Robyn Speer et al.) ships word frequencies of Arabic and English
from Wikipedia, subtitles, news, books, web text, Twitter and Reddit, so it holds dialect
words and chat spellings too, and typos rarely reach its lists (the Zipf scale: 3 is once
per million words; "لبس" 4.2, "تكيس" 2.7, the typo "العملا" 1.8, "الماراة" 0).

The data ships in the package (no download at run time); the first look-up in a language
loads its list (about 0.4 s), each one after costs about a microsecond.
"""

from __future__ import annotations

import re

import wordfreq

# A word at least this frequent (Zipf) is a real word, not a typo of a rarer-looking index word.
COMMON_ZIPF = 3.0
_ARABIC_LETTER = re.compile(r"[\u0600-\u06ff]")
# One joined letter in front: و "and", ف "so", ب "with", ل "for", ك "like".
_JOINED = ("و", "ف", "ب", "ل", "ك")


def zipf(word: str) -> float:
    """How often people write `word` as typed (Zipf: log10 of uses per billion words; 0 unknown),
    in Arabic for a word in Arabic letters, else in English."""
    return wordfreq.zipf_frequency(word, "ar" if _ARABIC_LETTER.search(word) else "en")


def is_common(word: str) -> bool:
    """True when `word` is a word people commonly write (see COMMON_ZIPF), or one with a
    joined conjunction or preposition in front ("بالحامل": الحامل, "ولونك": لونك)."""
    if zipf(word) >= COMMON_ZIPF:
        return True
    return len(word) >= 4 and word[0] in _JOINED and _ARABIC_LETTER.match(word) is not None \
        and zipf(word[1:]) >= COMMON_ZIPF


def is_common_latin(word: str) -> bool:
    """True when people commonly write `word` in English or in French (the European language
    of Maghrebi chat: "commentaire", "appel"), not only in some other language a multilingual
    tokenizer also knows ("nabi", "siyaset")."""
    return max(zipf(word), wordfreq.zipf_frequency(word, "fr")) >= COMMON_ZIPF


def warm_up() -> None:
    """Load the Arabic, English and French lists now rather than on the first look-up."""
    zipf("عميل")
    is_common_latin("customer")
