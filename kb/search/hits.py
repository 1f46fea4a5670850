"""What a search returns: ``Hit``, one per article, best first."""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass


@dataclass(frozen=True)
class Hit:
    """One article found by a search, with the passage that answers.

    ``snippet`` is HTML-escaped text with matched words in ``<mark>``: safe to put into a
    page as it is.  ``section``/``section_url`` name the heading of the best passage (None
    when the best passage is the introduction).  ``faq`` is the matching FAQ entry, if the
    best passage was one of the article's FAQ answers.  ``translations`` are the other
    language versions of the article (``{lang, slug, url, title}``): a translated pair is
    one hit, in the reader's language, linking to the other (``kb.search.languages``).
    ``related``: the article does not answer the question as the first ones do, and is
    listed after them as a related article.
    """

    slug: str
    title: str
    url: str
    score: float
    snippet: str
    section: str | None
    section_url: str | None
    matched_by: str  # "keyword" | "semantic" | "both"
    faq: dict | None = None
    category: str = ""
    category_slug: str = ""
    summary: str = ""
    lang: str = "ar"
    translations: tuple[dict, ...] = ()
    related: bool = False  # listed after the articles that answer, as related (kb.search.tiers)

    def to_dict(self) -> dict:
        return asdict(self)
