"""Passages: the parts of an article that search ranks and quotes.

One passage per section (the introduction, then each ##/###/#### heading) and one per FAQ
entry.  The keyword index and the vector index use the same passages and the same ids,
so both sides of a hybrid search talk about the same unit (as MkDocs indexes one entry per
heading section).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.content.articles import Article
from kb.content.render import Section
from kb.content.render import split_sections
from kb.text import normalize_arabic


@dataclass(frozen=True)
class Passage:
    id: str  # "<slug>#s<n>" for sections, "<slug>#f<n>" for FAQ entries
    slug: str
    kind: str  # "section" | "faq"
    heading: str | None
    anchor: str | None
    heading_path: tuple[str, ...]
    text: str
    faq_index: int | None = None

    @property
    def context(self) -> str:
        """Heading path (or FAQ question) as one line, for indexing with the text."""
        return " › ".join(self.heading_path)


def article_passages(article: Article) -> list[Passage]:
    """Every passage of an article: its sections, then its FAQ entries.

    Sections that point elsewhere instead of answering (sources, "read also", link lists,
    a table of contents: see :func:`is_reference_section`) are left out, so they are never
    offered as the passage that answers, nor indexed as the article's words (an English
    reference title would otherwise match English questions to an Arabic article).  Their
    ids are skipped, not reused: the other passages keep theirs.  An article that is only
    such sections (a page of links) keeps them: they are what it has to say.
    """
    sections = [section for section in split_sections(article.body) if section.text or section.heading]
    answering = [section for section in sections if not is_reference_section(section)]
    passages = [
        Passage(
            id=f"{article.slug}#s{section.index}",
            slug=article.slug,
            kind="section",
            heading=section.heading,
            anchor=section.anchor,
            heading_path=section.path,
            text=section.text,
        )
        for section in (answering or sections)
    ]
    for i, entry in enumerate(article.faq):
        passages.append(
            Passage(
                id=f"{article.slug}#f{i}",
                slug=article.slug,
                kind="faq",
                heading=entry.q,
                anchor="faq",
                heading_path=(entry.q,),
                text=entry.a,
                faq_index=i,
            )
        )
    if not passages:
        passages.append(Passage(f"{article.slug}#s0", article.slug, "section", None, None, (), article.summary or article.title))
    return passages


# -- what the article says it is about --------------------------------------------------

# Passage id suffix of an article's "about" vector: its title, summary and tags embedded as
# one text.  Not a passage (nothing to quote), so it is never the passage that answers: the
# vector index keeps it apart (``VectorIndex.about_cosines``) and the dense side blends it
# into the article's score (``kb.search.ranking.dense_articles``).
ABOUT = "about"


def about_id(slug: str) -> str:
    return f"{slug}#{ABOUT}"


def is_about(passage_id: str) -> bool:
    return passage_id.endswith(f"#{ABOUT}")


def about_text(article: Article) -> str | None:
    """The article's own statement of what it answers: title, summary and tags, or None
    when it has no summary.

    A help-center question names the situation ("my team all answer differently"), and
    the article that answers it says so in its summary, while each of its sections is about
    one step.  A section alone often matches a neighbouring article's step as well; the
    summary tells the two articles apart (help-center questions, dense side blended at
    equal weight: top-1 0.77 -> 0.83, first half 0.77 -> 0.84).  Without a summary there is
    nothing the sections do not already say: a title alone (an encyclopedia's paragraphs
    under one page title) lost arcd 0.874 -> 0.866, so such an article has no about vector.
    """
    summary = " ".join(article.summary.split())
    if not summary:
        return None
    return "\n".join(part for part in (article.title.strip(), summary, "، ".join(article.tags)) if part)


# -- sections that point elsewhere -------------------------------------------------------

# Headings of sections that list where to read more rather than answer, compared after
# normalize_arabic, lower case and without numbering or closing punctuation.
_REFERENCE_HEADINGS_RAW = """
المصادر|مصادر|المراجع|مراجع|المصادر والمراجع|المراجع والمصادر|مصادر ومراجع|مراجع ومصادر|قائمة المصادر|قائمة المراجع
المصادر والقراءات|مصادر إضافية|مراجع إضافية|مصادر خارجية|المصادر الخارجية|روابط خارجية|روابط مفيدة|روابط ذات صلة|روابط
اقرأ أيضا|اقرأ أيضًا|اقرأ كذلك|اقرأ المزيد|انظر أيضا|انظر أيضًا|راجع أيضا|مقالات ذات صلة|مقالات مشابهة|مواضيع ذات صلة
موضوعات ذات صلة|للاستزادة|للمزيد|قراءات إضافية|لمزيد من القراءة|الهوامش|الحواشي|المحتويات|جدول المحتويات|فهرس المحتويات
محتويات المقال|محتويات المقالة|في هذا المقال|في هذه المقالة
references|reference|sources|source|bibliography|works cited|citations|further reading|see also|read also|read more
related articles|related links|related topics|related reading|useful links|helpful links|external links|links|resources
additional resources|further resources|notes and references|footnotes|table of contents|contents|in this article|on this page
"""
_NUMBERING = re.compile(r"^[\s\d\u0660-\u0669.)\-–—:#*]+|[\s:.؛;!?؟…\-–—*]+$")


def _heading_key(heading: str) -> str:
    return _NUMBERING.sub("", normalize_arabic(heading).lower()).strip()


REFERENCE_HEADINGS = frozenset(
    _heading_key(h) for line in _REFERENCE_HEADINGS_RAW.strip().split("\n") for h in line.split("|") if h.strip()
)

_LIST_MARKER = re.compile(r"^\s*(?:[-*+•]|\d+[.)]|[\u0660-\u0669]+[.)])\s+")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]*)(?:\s+\"[^\"]*\")?\)|<(?:https?://|mailto:)[^>]+>")
_BARE_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# What a citation looks like: "(2020).", "(٢٠١٧)،", "et al.", "20(4), 363-390", a DOI or
# ISBN, "Retrieved from", "تمت الزيارة", "متاح على", or "Publisher – “Title”".
_CITATION = re.compile(
    r"\((?:1[89]|20)\d\d[a-z]?\)|\([\u0660-\u0669]{4}\)|\bet al\b|\b\d+\s?\(\d+\),\s?\d+\s?[-–]\s?\d+"
    r"|\bdoi\b|\bisbn\b|\bretrieved (?:from|on)\b|\baccessed (?:on )?\d|تمت الزيار|تاريخ الزيار|متاح[ةه]? (?:على|عبر|في)"
    r"|^[^\n“”\"«»]{2,80}\s[–—-]\s?[“\"«][^”\"»]+[”\"»]",
    re.IGNORECASE,
)
# A line that is a link with at most a few words of its own ("للمزيد: [title](url)").
_LINK_LINE_WORDS = 4
# Share of a section's words in lines that point elsewhere, for it to be a reference list.
REFERENCE_SHARE = 0.6


def is_reference_section(section: Section) -> bool:
    """A section that points elsewhere instead of answering.

    Either its heading (or a heading above it) is one of a known set in Arabic and English
    ("المصادر", "اقرأ أيضًا", "References", "See also", "Contents" ...; exact, so "مقاييس
    ورد ذكرها في المصادر" stays), or its content is structurally a list of pointers: at
    least two lines that point elsewhere, and most of its words in such lines: links with
    hardly a word of their own (a table of contents, a link list) or citations.
    """
    if any(_heading_key(heading) in REFERENCE_HEADINGS for heading in section.path):
        return True
    lines = [line for line in (section.markdown or section.text).split("\n") if line.strip()]
    pointing = [line for line in lines if _points_elsewhere(line)]
    if len(pointing) < 2:
        return False
    # Weighed by words: a real paragraph followed by a short "contents" list still answers.
    return _word_count(pointing) >= REFERENCE_SHARE * _word_count(lines)


def _word_count(lines: list[str]) -> int:
    return sum(len(line.split()) for line in lines)


def _points_elsewhere(line: str) -> bool:
    if line.lstrip().startswith("|"):
        return False  # a table row is content
    item = _LIST_MARKER.sub("", line, count=1)
    if _CITATION.search(item):
        return True
    if _MD_LINK.search(item) or _BARE_URL.search(item):
        own_words = _BARE_URL.sub(" ", _MD_LINK.sub(" ", item))
        return len(re.findall(r"[^\W\d_]{2,}", own_words)) <= _LINK_LINE_WORDS
    return False


def split_words(text: str, max_words: int, overlap: int) -> list[str]:
    """Cut a long text into windows of at most max_words words, overlapping by `overlap`."""
    words = text.split()
    if len(words) <= max_words:
        return [text]
    step = max(1, max_words - overlap)
    chunks = []
    for start in range(0, len(words), step):
        chunks.append(" ".join(words[start:start + max_words]))
        if start + max_words >= len(words):
            break
    return chunks
