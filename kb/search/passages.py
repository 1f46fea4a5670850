"""Passages: the parts of an article that search ranks and quotes.

One passage per section (the introduction, then each ##/###/#### heading) and one per FAQ
entry.  The keyword index and the vector index use the same passages and the same ids,
so both sides of a hybrid search talk about the same unit (as MkDocs indexes one entry per
heading section).
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.articles import Article
from kb.render import split_sections


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
    """Every passage of an article: its sections, then its FAQ entries."""
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
        for section in split_sections(article.body)
        if section.text or section.heading
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
