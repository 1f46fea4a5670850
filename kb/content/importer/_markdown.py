"""Blocks -> Markdown: ##/### headings, nested '- '/'1. ' lists, pipe tables, escaped paragraphs."""

from __future__ import annotations

import re

from ._blocks import Block
from ._blocks import _clean_heading


def _escape_paragraph(text: str) -> str:
    """Keep a paragraph a paragraph: a leading '#', '>', '- ' or '1. ' would change its role."""
    if re.match(r"^(#|>|[-+*]\s|=+$|-+$)", text):
        return "\\" + text
    return re.sub(r"^(\d+)([.)]\s)", r"\1\\\2", text)


def _render_table(rows: tuple[tuple[str, ...], ...]) -> str:
    width = max(len(row) for row in rows)
    padded = [list(row) + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(padded[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(row) + " |" for row in padded[1:]]
    return "\n".join(lines)


def render_blocks(blocks: list[Block]) -> str:
    """Markdown for the blocks: ##/### headings, nested '- '/'1. ' lists, pipe tables."""
    parts: list[str] = []
    previous: Block | None = None
    depth = -1
    for block in blocks:
        if block.kind == "heading":
            text = "#" * min(max(block.level, 2), 4) + " " + _clean_heading(block.text)
        elif block.kind == "item":
            depth = min(block.level, depth + 1) if previous is not None and previous.kind == "item" else 0
            marker = f"{block.number}. " if block.number is not None else "- "
            text = "    " * depth + marker + block.text
        elif block.kind == "table":
            text = _render_table(block.rows)
        elif block.kind == "raw":
            text = block.text
        else:
            text = _escape_paragraph(block.text)
        separator = "\n" if previous is not None and previous.kind == block.kind == "item" else "\n\n"
        parts.append((separator if parts else "") + text)
        previous = block
    return "".join(parts).strip() + "\n" if parts else ""
