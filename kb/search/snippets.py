"""Highlighted snippets: the reader's own words, with the matched ones marked.

Matching is on stems (``kb.text.analyze``); highlighting is on the original text, so
'بالعملاء' is marked when the query said 'العملاء'.  The output is HTML-escaped text with
``<mark>`` around matches: safe to insert into a page as it is.
"""

from __future__ import annotations

from html import escape

from kb.text import analyze_word
from kb.text import word_spans


def matched_spans(text: str, query_stems: set[str]) -> list[tuple[int, int]]:
    """Spans of the words of text whose stem is one of the query's stems."""
    spans = []
    for start, end in word_spans(text):
        if analyze_word(text[start:end]) in query_stems:
            spans.append((start, end))
    return spans


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
    text = " ".join(text.split())
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
