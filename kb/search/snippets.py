"""Highlighted snippets: the reader's own words, with the matched ones marked.

Matching is on stems (``kb.text.analyze``); highlighting is on the original text, so
'بالعملاء' is marked when the query said 'العملاء'.  The output is HTML-escaped text with
``<mark>`` around matches: safe to insert into a page as it is.
"""

from __future__ import annotations

from array import array
from functools import lru_cache
from html import escape

from kb.text import analyze_word
from kb.text import word_spans

# Passage texts kept with their words analyzed (about 2.6 KB each on the 1k benchmark's
# passages: some 5.4 MB).  The articles on first pages keep coming back; analyzing a
# passage's words anew (a cached stem lookup per word) was 36 of the 43 µs a snippet took,
# five to ten snippets a search; kept, a snippet takes 4-10 µs (54 the first time).
ANALYZED_TEXTS = 2048


def matched_spans(text: str, query_stems: set[str]) -> list[tuple[int, int]]:
    """Spans of the words of text whose stem is one of the query's stems."""
    terms, bounds = _analyzed_words(text)
    return [(bounds[2 * i], bounds[2 * i + 1]) for i, term in enumerate(terms) if term in query_stems]


@lru_cache(maxsize=ANALYZED_TEXTS)
def _analyzed_words(text: str) -> tuple[tuple[str | None, ...], array]:
    """The index term of every word of the text (None: a stop word), and their spans, flat."""
    spans = word_spans(text)
    return tuple(analyze_word(text[start:end]) for start, end in spans), array("I", [i for span in spans for i in span])


@lru_cache(maxsize=ANALYZED_TEXTS)
def _folded_spaces(text: str) -> str:
    """The text with every run of white space one space (the same string object each time,
    so the analyzed words above are found by a hash the string keeps)."""
    return " ".join(text.split())


def best_window(text: str, spans: list[tuple[int, int]], width: int) -> tuple[int, int]:
    """The [start, end) window of about `width` characters holding the most matches."""
    if len(text) <= width:
        return 0, len(text)
    best_start, best_count = 0, -1
    for i, (start, _) in enumerate(spans):
        count = sum(1 for s, _ in spans[i:] if s < start + width)
        if count > best_count:
            best_start, best_count = start, count
    if best_count <= 0:
        best_start = 0
    # Start a little before the first match, on a word boundary.
    start = max(0, best_start - width // 5)
    if start > 0:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space != -1 and start - space < 30 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    return start, end


def make_snippet(text: str, query_stems: set[str], width: int = 240) -> str:
    """An escaped excerpt of text around the densest run of matches, matches in <mark>."""
    text = _folded_spaces(text)
    spans = matched_spans(text, query_stems) if query_stems else []
    start, end = best_window(text, spans, width)
    out = ["…" if start > 0 else ""]
    cursor = start
    for s, e in spans:
        if s < start or e > end:
            continue
        out.append(escape(text[cursor:s]))
        out.append("<mark>" + escape(text[s:e]) + "</mark>")
        cursor = e
    out.append(escape(text[cursor:end]))
    if end < len(text):
        out.append("…")
    return "".join(out)
