"""kb import: bring existing documents (plain text, Markdown, HTML) in as draft articles.

Documents people already have are mostly copies of web pages: they carry tables of
contents, share and subscribe boxes, vendor call-to-action buttons, comment threads and
page footers, and copy-paste has flattened their headings and lists into plain lines.  The
pipeline is the same for every kind:

    text -> blocks (HTML parser, or line heuristics for text/Markdown)
         -> drop boilerplate (whole lines, blocks, then single sentences)
         -> FAQ pairs (س: … / ج: …) out of the body -> proposed title -> Markdown

Everything up to the Markdown is pure (:func:`convert_document`); :func:`import_files`
adds the I/O: reading, a slug that collides with nothing, and an atomic, never-overwriting
write to ``articles/imported/<slug>.md`` with ``status: draft``, in a category that
``_categories.yml`` lists.  A file imported before is recognized (``imported/_sources.yml``)
and skipped, or updates its own draft while nobody has edited it.

This package re-exports the public API; the stages live in private modules:
``_blocks`` (the Block unit, shared line shapes), ``_text`` and ``_html`` (input -> blocks),
``_boilerplate`` (line, block and sentence removal), ``_faq`` (Q/A pairs), ``_markdown``
(blocks -> Markdown), ``_convert`` (the pure pipeline: title, summary, language),
``_files`` (kind, reading, slugs, front matter, atomic writes), ``_categories`` (which
category drafts go into) and ``_sources`` (the record of imported files).
"""

from __future__ import annotations

from ._blocks import Block
from ._boilerplate import clean_lines
from ._boilerplate import drop_boilerplate_blocks
from ._boilerplate import is_boilerplate_line
from ._categories import DEFAULT_CATEGORY
from ._categories import CategoryChoice
from ._categories import add_category
from ._categories import choose_category
from ._convert import KINDS
from ._convert import SUMMARY_MAX
from ._convert import ImportedDocument
from ._convert import convert_document
from ._convert import guess_lang
from ._convert import make_summary
from ._convert import take_title
from ._faq import extract_faq
from ._files import ACTIONS
from ._files import IMPORT_FOLDER
from ._files import SLUG_MAX
from ._files import ImportResult
from ._files import article_text
from ._files import detect_kind
from ._files import import_file
from ._files import import_files
from ._files import make_slug
from ._files import taken_slugs
from ._html import html_to_blocks
from ._markdown import render_blocks
from ._sources import SOURCES_FILE
from ._sources import SourceLog
from ._text import text_to_blocks

__all__ = [
    "ACTIONS",
    "DEFAULT_CATEGORY",
    "IMPORT_FOLDER",
    "KINDS",
    "SLUG_MAX",
    "SOURCES_FILE",
    "SUMMARY_MAX",
    "Block",
    "CategoryChoice",
    "ImportResult",
    "ImportedDocument",
    "SourceLog",
    "add_category",
    "article_text",
    "choose_category",
    "clean_lines",
    "convert_document",
    "detect_kind",
    "drop_boilerplate_blocks",
    "extract_faq",
    "guess_lang",
    "html_to_blocks",
    "import_file",
    "import_files",
    "is_boilerplate_line",
    "make_slug",
    "make_summary",
    "render_blocks",
    "take_title",
    "taken_slugs",
    "text_to_blocks",
]
