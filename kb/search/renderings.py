"""The collection's own questions as a customer in each dialect would word them.

Why: the "no answer" cut's landmarks (``kb.search.landmarks``) ask whether a question is
nearer to an off-topic probe or to one of the collection's own questions (titles, FAQ
questions, headings).  The own questions are in Modern Standard Arabic; most customers, and
many probes, write in dialect.  multilingual-e5 puts two questions in one dialect close
whatever they are about (two Moroccan questions that both start with كيفاش meet at 0.91), so
a Gulf question about a customer who does not believe the agent came out nearer to everyday
questions about family and perfume than to any MSA title: by its wording, not its topic.
Worded in each dialect too, the own questions meet dialect questions in their register, and
the contrast measures the topic.

A rendering reads the dialect lexicon backwards: each MSA word that the lexicon maps a
dialect form to becomes that dialect's first form (كيف: ازاي، شلون، كيفو، كيفاش).  The Arabic
is rough, but renderings are only landmarks compared by embedding, never shown or searched.
"""

from __future__ import annotations

from kb.search.dialect import DialectLexicon
from kb.text import normalize_arabic
from kb.text import tokenize
from kb.text import word_spans

RENDERED_DIALECTS = ("egy", "glf", "lev", "mgr")
# MSA words that mostly mean something other than the dialect word the lexicon maps to them:
# من is "from" far more often than "who" (مين، منو).
_NOT_RENDERED = frozenset({"من"})


def backward_forms(lexicon: DialectLexicon) -> dict[str, dict[str, str]]:
    """MSA word -> {dialect code: that dialect's first form for it}: the lexicon read backwards.

    Left out: multi-word MSA forms, ``keep`` entries (their form is an MSA word too) and forms
    with no search weight (they have no MSA word).  A dialect with no form of its own in an
    entry takes the entry's first ``any`` form.  The first entry for an MSA word wins (built-in
    entries come before the editors')."""
    forms: dict[str, dict[str, str]] = {}
    for entry in lexicon.entries:
        if not entry.msa or entry.keep:
            continue
        words = tokenize(entry.msa[0])
        if len(words) != 1 or words[0] in _NOT_RENDERED:
            continue
        per_dialect = forms.setdefault(words[0], {})
        shared = entry.forms_of("any")
        for code in RENDERED_DIALECTS:
            own = entry.forms_of(code) or shared
            if own:
                per_dialect.setdefault(code, own[0])
    return forms


def dialect_renderings(text: str, forms: dict[str, dict[str, str]]) -> list[str]:
    """`text` worded in each dialect with `forms` (:func:`backward_forms`): the distinct
    renderings that differ from it, none when the lexicon maps none of its words."""
    spans = word_spans(text)
    keys = [normalize_arabic(text[start:end]).lower() for start, end in spans]
    renderings: list[str] = []
    for code in RENDERED_DIALECTS:
        rendered, end_of_last = [], 0
        for (start, end), key in zip(spans, keys):
            form = forms.get(key, {}).get(code)
            if form is not None:  # the words around it and the punctuation stay as written
                rendered += [text[end_of_last:start], form]
                end_of_last = end
        if rendered:
            rendering = "".join(rendered) + text[end_of_last:]
            if rendering not in renderings:
                renderings.append(rendering)
    return renderings
