"""What a search returns: ``Hit``, one per article, best first."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import fields


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
    listed after them as a related article.  ``internal``: an agents-only article (a search
    that includes them), so that an agent does not send its link to a customer.
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
    internal: bool = False  # for agents only: its url is not open to customers

    def to_dict(self) -> dict:
        """The fields in order, as ``dataclasses.asdict`` gives them (the FAQ entry and the
        translation links copied), without its recursive walk over every value: 21 µs a hit
        there, 1.6 µs here, and the API serializes five to fifty hits a request."""
        values = {name: getattr(self, name) for name in _FIELD_NAMES}
        values["faq"] = dict(self.faq) if self.faq is not None else None
        values["translations"] = tuple(dict(link) for link in self.translations)
        return values


_FIELD_NAMES = tuple(field.name for field in fields(Hit))
