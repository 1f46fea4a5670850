"""The unit every stage works on (:class:`Block`) and the line shapes and inline helpers they share.

Reading (text or HTML), boilerplate removal, FAQ extraction, the title and the rendering all
pass lists of blocks along, and all of them need to see a line the way a reader does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.text import normalize_arabic


@dataclass(frozen=True)
class Block:
    """One unit of a document: heading, paragraph, list item, table, raw Markdown or a bare line.

    ``line`` is a plain-text line whose role (heading or paragraph) is not decided yet.
    ``level`` is the heading level, or the nesting depth of a list item; ``indent`` is the
    item's original indentation, from which the depth is derived.
    """

    kind: str
    text: str = ""
    level: int = 0
    number: int | None = None
    rows: tuple[tuple[str, ...], ...] = ()
    indent: int = 0
    after_gap: bool = False


# List markers, sentence ends: how a line is recognized as an item or a finished sentence.
_BULLET = re.compile(r"^(?P<indent>[ \t]*)[-•*·▪◦●○■□➢►✓✔–]\s+(?P<text>\S.*)$")
_NUMBERED = re.compile(r"^(?P<indent>[ \t]*)(?P<number>[0-9٠-٩۰-۹]{1,3})(?:[.)]\s*|[-–]\s+)(?P<text>[^\d\s.].*)$")
_SENTENCE_BREAK = re.compile(r"(?<=[.!؟?])\s+")
_TERMINAL = (".", "!", "،", ",", ";", "؛", "…")


def _norm(text: str) -> str:
    """The form the boilerplate patterns match: plain, Arabic-normalized, lowercased, no leading symbols."""
    text = " ".join(normalize_arabic(_plain_inline(text)).lower().split())
    return re.sub(r"^[^\w]+", "", text)


def _plain_inline(text: str) -> str:
    """Markdown inline markup -> the text a reader sees ([t](u) -> t, **b** -> b, <url> -> url)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<(https?://[^>\s]+)>", r"\1", text)
    return text.replace("**", "").replace("\\", "").replace("*", "")


def _clean_heading(text: str) -> str:
    return _plain_inline(text).strip().rstrip(".:：").strip()
