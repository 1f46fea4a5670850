"""What a search shows: the :class:`~kb.search.hits.Hit` for one ranked article (its snippet,
the section or FAQ entry that answered, the links to its translations) and the
:class:`SearchPage` of them with the total and the "did you mean".

Apart from ``kb.knowledge`` because turning a ranking into what the site, the agent API
and the widget display is its own idea: it reads the catalog and the stored passages,
never the index state, the model or the write side.  Ranking itself is
``kb.search.ranking``'s.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kb.content.articles import Article
from kb.search.hits import Hit
from kb.search.languages import translation_link
from kb.search.ranking import RankedArticle
from kb.search.segments import ArticlePassages
from kb.search.snippets import make_snippet
from kb.urls import article_url

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchPage:
    hits: list[Hit]
    total: int
    did_you_mean: str | None
    mode: str
    reason: str | None = None  # "no_answer": nothing in the collection answers (kb.search.calibration)
    related: int = 0  # related articles listed after the `total` that answer (kb.search.tiers)
    read_as: str | None = None  # an Arabizi question as searched, in Arabic letters (kb.search.arabizi)
    # A question in Latin letters with no answer, searched with its typos corrected because the
    # correction has one ("angry custmer" -> "angry customer"): the question as searched.
    corrected: str | None = None

    @property
    def listed(self) -> int:
        """Every article of the list, the related ones too: what the pages page through."""
        return self.total + self.related


def make_hit(articles: dict[str, Article], passages: ArticlePassages, searcher, item: RankedArticle,
             highlight_stems: set[str], related: bool = False) -> Hit | None:
    """The hit for a ranked article; None if its file is gone (deleted or renamed on disk
    and not re-indexed yet): it is dropped, and the watcher or the next start removes it.
    `articles` is the catalog's; `passages` finds the answering passage in `searcher`'s
    segments when the ranking did not carry it."""
    article = articles.get(item.slug)
    if article is None:
        logger.warning("search found %r, which is no longer in the articles folder: hit dropped", item.slug)
        return None
    passage = item.passage
    if passage is None and item.passage_id:
        passage = passages.find(searcher, item.slug, item.passage_id)
    # A heading with no text of its own (a '##' right before a '###') is a passage too.
    text = passage["text"] if passage and passage["text"] else (article.summary or article.title)
    faq = None
    section = None
    section_url = None
    if passage:
        if passage["kind"] == "faq":
            entry = article.faq[passage["faq_index"]] if passage["faq_index"] < len(article.faq) else None
            faq = entry.to_dict() if entry else None
            section_url = article_url(article.slug, "faq")
            section = passage["heading"]
        elif passage["heading"]:
            section = passage["heading"]
            section_url = article_url(article.slug, passage["anchor"])
    return Hit(
        slug=article.slug, title=article.title, url=article.url, score=round(float(item.score), 6),
        snippet=make_snippet(text, highlight_stems), section=section, section_url=section_url,
        matched_by=item.matched_by, faq=faq, category=article.category, category_slug=article.category_slug,
        summary=article.summary, lang=article.lang,
        translations=tuple(translation_link(articles[s]) for s in item.translations if s in articles),
        related=related, internal=article.audience != "public",
    )
