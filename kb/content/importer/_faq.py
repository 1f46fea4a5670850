"""FAQ pairs: 'س: … / ج: …' (also س/ ج/, سؤال: جواب:, Q: A:) out of the body into FAQ entries."""

from __future__ import annotations

import re

from kb.content.articles import FaqEntry

from ._blocks import Block
from ._blocks import _norm
from ._blocks import _plain_inline

# Matches _norm(text), like the boilerplate patterns: written in normalized form.
_FAQ_TITLE = re.compile(r"^(الاسئله الشائعه|اسئله شائعه|الاسئله المتكرره|اسئله متكرره|اسئله واجوبه|الاسئله والاجوبه"
                        r"|سوال وجواب|faq|frequently asked questions)\b.{0,30}$")

_Q = re.compile(r"^\s*(?:\*\*)?(?:س|سؤال|السؤال|Q|Question)\s*[0-9٠-٩]*\s*[:/：.)-]\s*(?:\*\*)?\s*(?P<text>\S.*)$", re.I)
_A = re.compile(r"^\s*(?:\*\*)?(?:ج|جواب|الجواب|الإجابة|الاجابة|إجابة|اجابة|A|Answer)\s*[0-9٠-٩]*\s*[:/：.)-]"
                r"\s*(?:\*\*)?\s*(?P<text>\S.*)$", re.I)
_A_INLINE = re.compile(r"(?<=[?؟])\s+(?:ج|جواب|الجواب|A)\s*[0-9٠-٩]*\s*[:/：]\s*")


def _is_faq_marker(text: str) -> bool:
    return bool(_Q.match(text) or _A.match(text))


def extract_faq(blocks: list[Block]) -> tuple[list[Block], tuple[FaqEntry, ...]]:
    """Move 'س: … / ج: …' (also س/ ج/, سؤال: جواب:, Q: A:) pairs out of the body into FAQ entries."""
    kept: list[Block] = []
    faq: list[FaqEntry] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        question = _Q.match(block.text) if block.kind in ("heading", "paragraph", "item") else None
        if question:
            inline = _A_INLINE.split(question.group("text"), maxsplit=1)
            if len(inline) == 2 and inline[1].strip():
                faq.append(FaqEntry(_plain_inline(inline[0]).strip(), inline[1].strip()))
                i += 1
                continue
            answer = _A.match(blocks[i + 1].text) if i + 1 < len(blocks) else None
            if answer:
                faq.append(FaqEntry(_plain_inline(question.group("text")).strip(), answer.group("text").strip()))
                i += 2
                continue
        kept.append(block)
        i += 1
    if faq:
        kept = [b for i, b in enumerate(kept) if not _is_empty_faq_title(i, kept)]
    return kept, tuple(faq)


def _is_empty_faq_title(i: int, blocks: list[Block]) -> bool:
    """A 'الأسئلة الشائعة' title whose questions moved to the front matter is left with nothing."""
    block = blocks[i]
    if block.kind not in ("heading", "paragraph") or not _FAQ_TITLE.match(_norm(block.text)):
        return False
    following = blocks[i + 1] if i + 1 < len(blocks) else None
    if following is None:
        return True
    return following.kind == "heading" and (block.kind == "paragraph" or following.level <= block.level)
