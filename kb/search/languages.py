"""One language at a time: the reader's language first, each translated article once.

A help center in two languages keeps an article and its translation side by side
(``translation_of`` in the front matter).  Both sides of a search find both of them: the
multilingual model puts a question and its translation close together, and synonym groups
that cross languages (``[العميل, customer]``) match words of either.  Left alone, an Arabic
question about an angry customer can open with the English translation's FAQ.  So, after
ranking (:func:`group_by_language`):

- the question's language is read from its script (:func:`detect_language`), unless the
  searcher asked for one language (the ``lang`` filter), which then wins;
- a translated pair shows once, in the reader's language, at the place and with the score of
  whichever of the two ranked better, and links to the other version (``translations``);
- articles in the other language that have no version in the reader's language are kept
  and compete on even terms: before fusion their dense cosines are raised by the margin a
  translation costs (:func:`level_dense`), after it their missing keyword score counts as
  unknown, not low (``ranking._unknown_words``); the merge then only breaks ties toward the
  reader's language (``OTHER_LANGUAGE_WEIGHT``).  Not dropped, and not put after every
  article in the reader's language: in an Arabic-first help center most articles have no
  English version, so an English question about one of those has its only answer in
  Arabic, while every article of the collection is a candidate (the no-answer cut decides
  whether a question is answered, not which articles answer it).  Put last, or held back
  by a fixed handicap, the Arabic answer would sit behind whatever the few English
  articles are about.

Pure functions over values: no index, no model.
"""

from __future__ import annotations

import re
from dataclasses import replace
from operator import attrgetter
from typing import TYPE_CHECKING

from kb.search.arabizi import is_arabizi_word
from kb.search.keyword import Filters
from kb.search.passages import article_passages
from kb.text import ARABIC_STOPWORDS
from kb.text import ENGLISH_STOPWORDS
from kb.text import normalize_arabic

if TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Mapping
    from collections.abc import Sequence

    from kb.content.articles import Article
    from kb.search.ranking import RankedArticle

_TRANSLATION_OF = attrgetter("translation_of")

# Arabic script: the Arabic block, its supplement and extended-A, and presentation forms.
_ARABIC_LETTER = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff"
_WORD = re.compile(rf"[{_ARABIC_LETTER}]+|[^\W_]+", re.UNICODE)
_ARABIC = re.compile(rf"[{_ARABIC_LETTER}]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
# A Latin word inside Arabic text is most often a product, brand or acronym ("iPhone",
# "WhatsApp", "CRM", "Zendesk"): capitalized or mixed case, it says less about the language.
_NAME_LIKE = re.compile(r"^(?:[A-Z][\w.+-]*|[a-z]+[A-Z][\w.+-]*)$")
# Function words frame a sentence: "كيف" or "how" says more about its language than a noun.
FUNCTION_WORD_WEIGHT = 2.0
NAME_WEIGHT = 0.5
# How much an article in the other language (with no version in the reader's) counts,
# against the reader's language, when the two are merged.  It was 0.9 while the cross-language
# handicap was not corrected before fusion; with level_dense and ranking._unknown_words the
# articles compete on even terms and any weight under 1 counts the handicap twice
# (help-center questions, no cut: English top-1 0.92 at 0.9 and 0.95, 1.0 at 1.0; all
# questions 0.886 -> 0.895; Arabic questions do not move).
OTHER_LANGUAGE_WEIGHT = 1.0


def detect_language(text: str) -> str | None:
    """``"ar"``, ``"en"``, or None when the text has no letters (digits, symbols, empty).

    Each word votes for its script: Arabic-script words (and Arabizi, Arabic written in
    Latin letters with digits) for Arabic, other Latin words for English; digits vote for
    nothing.  Function words ("هل", "كيف", "what", "the") count double, so the frame of
    the sentence decides; a capitalized Latin word inside Arabic text (a brand or product
    name) counts half.  A tie goes to Arabic: a reader who types Arabic words
    at all reads Arabic, while Arabic readers often type English terms.
    """
    arabic = english = 0.0
    words = _WORD.findall(text or "")
    has_arabic = any(_ARABIC.search(word) for word in words)
    for word in words:
        if word.isdigit():
            continue  # Western or Arabic-Indic digits: no language
        if _ARABIC.search(word):
            arabic += FUNCTION_WORD_WEIGHT if normalize_arabic(word) in ARABIC_STOPWORDS else 1.0
        elif is_arabizi_word(word.lower()):  # Arabic in Latin letters: "3ayez", "7aga" (kb.search.arabizi)
            arabic += 1.0
        elif _LATIN.search(word):
            if word.lower() in ENGLISH_STOPWORDS:
                english += FUNCTION_WORD_WEIGHT
            elif has_arabic and _NAME_LIKE.match(word):
                english += NAME_WEIGHT
            else:
                english += 1.0
    if not arabic and not english:
        return None
    return "ar" if arabic >= english else "en"


def translation_groups(catalog: Mapping[str, Article], slugs: Iterable[str] | None = None) -> dict[str, tuple[str, ...]]:
    """For each article (of `slugs`, or all) that has a version in another language: all
    its versions, sorted.

    Links go from a translation to its original (``translation_of``); a link to a missing
    article or to one in the same language makes no pair (``kb check`` reports the first).
    Only the linked articles are walked (``filter`` with ``attrgetter`` runs in C), so a
    search at 10k articles pays well under a millisecond.
    """
    translations: dict[str, list[str]] = {}
    for article in filter(_TRANSLATION_OF, catalog.values()):
        translations.setdefault(article.translation_of, []).append(article.slug)
    groups: dict[str, tuple[str, ...]] = {}
    for slug in catalog if slugs is None else slugs:
        article = catalog.get(slug)
        if article is None:
            continue
        original = catalog.get(article.translation_of or "")
        root = original if original is not None and original.lang != article.lang else article
        members = [root.slug, *(s for s in translations.get(root.slug, ()) if catalog[s].lang != root.lang)]
        if len(members) > 1 and slug in members:
            groups[slug] = tuple(sorted(members))
    return groups


def group_by_language(ranked: Sequence[RankedArticle], query: str, catalog: Mapping[str, Article],
                      filters: Filters, reader: str | None = None,
                      groups: Mapping[str, tuple[str, ...]] | None = None) -> list[RankedArticle]:
    """The ranked articles with each translated pair once, the reader's language first.

    Each article that has a version in another language carries the slugs of the versions
    the searcher may see (``translations``), for "also in English" links.  `reader`: the
    reader's language when the caller knows it already (else the filter's, or the query's).
    `groups`: :func:`translation_groups` of (at least) the ranked articles, when the caller
    has them already (one search asks for them once).
    """
    reader = reader or filters.lang or detect_language(query)
    if groups is None:
        groups = translation_groups(catalog, [item.slug for item in ranked])
    by_slug = {item.slug: item for item in ranked}
    visible = Filters(include_drafts=filters.include_drafts, include_internal=filters.include_internal)
    shown: set[tuple[str, ...]] = set()
    first: list[RankedArticle] = []
    later: list[RankedArticle] = []
    for item in ranked:
        group = groups.get(item.slug)
        if group is not None:
            if group in shown:
                continue  # the better-ranked version already stands for the pair
            shown.add(group)
            item = _in_language(item, group, reader, by_slug, catalog, filters)
            others = tuple(s for s in group if s != item.slug and s in catalog and visible.allows(catalog[s]))
            item = replace(item, translations=others)
        article = catalog.get(item.slug)
        in_reader_language = reader is None or article is None or article.lang == reader
        (first if in_reader_language else later).append(item)
    return _merge(first, later, OTHER_LANGUAGE_WEIGHT)


def pair_keyword_scores(ranking: Sequence[tuple[str, float]], catalog: Mapping[str, Article],
                        groups: Mapping[str, tuple[str, ...]] | None = None) -> list[tuple[str, float]]:
    """The keyword ranking with each version of a translated pair scored the best keyword
    score among the versions ranked, re-sorted (a version the keyword side did not find
    stays out: the filters may have dropped it).

    A pair shows once (:func:`group_by_language`), so its words are the pair's: the editors'
    cross-language synonyms often match the original better than the translation in the
    reader's language ("1 star review" finds تقييم in the Arabic original first).  Fusion
    divides keyword scores by the best one; left per version, the reader's version came
    into fusion at a fraction of the pair's keyword standing and fell behind an article
    the dense side merely found near (help-center questions, hybrid: English top-1 +1 in
    the first half of the held-out set and +1 in the second held-out set; no other question
    moved; no ../shared/eval collection has translations).
    """
    if groups is None:
        groups = translation_groups(catalog, [slug for slug, _ in ranking])
    if not groups:
        return list(ranking)
    best: dict[tuple[str, ...], float] = {}
    for slug, score in ranking:
        group = groups.get(slug)
        if group is not None:
            best[group] = max(score, best.get(group, score))
    shared = [(slug, best[groups[slug]] if slug in groups else score) for slug, score in ranking]
    return sorted(shared, key=lambda item: (-item[1], item[0]))


def without_reader_version(slugs: Iterable[str], reader: str | None, catalog: Mapping[str, Article],
                           filters: Filters, groups: Mapping[str, tuple[str, ...]] | None = None) -> set[str]:
    """Of `slugs`, the articles in another language than the reader's that have no version
    the reader may see in the reader's language: for them the question's language is a
    handicap, not a choice (see :func:`level_dense` and ``ranking._unknown_words``)."""
    if reader is None:
        return set()
    slugs = [slug for slug in slugs if slug in catalog and catalog[slug].lang != reader]
    if groups is None:
        groups = translation_groups(catalog, slugs)
    return {slug for slug in slugs
            if not any(catalog[s].lang == reader and filters.allows(catalog[s]) for s in groups.get(slug, ()) if s in catalog)}


def level_dense(ranking: Sequence[tuple[str, float]], foreign: set[str], offset: float) -> list[tuple[str, float]]:
    """The dense ranking with the cosines of `foreign` articles raised by `offset`, re-sorted.

    The model puts a question closer to a text in its own language than to the same text
    translated: an English question meets the English articles' cosines a margin higher
    than an Arabic article that answers it (the no-answer cut lowers its threshold by one
    margin for the same reason, ``kb.search.no_answer.answering``).  In an Arabic-first
    help center with a few English articles, an English question then found those few
    first whatever they were about.  Only articles with no version in the reader's language
    are raised: an Arabic question must not find the English side of a translated pair
    ahead of its Arabic side.  (English questions of scripts/data/helpcenter_questions.jsonl,
    with ``ranking._unknown_words``: top-1 9 -> 11 of 13; Arabic questions unchanged.)
    """
    if not foreign or offset <= 0:
        return list(ranking)
    raised = [(slug, score + offset if slug in foreign else score) for slug, score in ranking]
    return sorted(raised, key=lambda item: (-item[1], item[0]))


def nearest_across_languages(cosines: list[tuple[str, float]], foreign: set[str], offset: float) -> list[tuple[str, float]]:
    """The dense cosines with the nearest article in another language first when it is nearer
    than the nearest in the question's language once the margin a translation costs is counted
    (as :func:`level_dense` counts it for the ranking).  The cut then judges the
    question against that article, across languages (``kb.search.no_answer.answering`` lowers its
    threshold by that margin): an English question whose only answer is an Arabic article is
    not judged by the English article that merely shares its language."""
    if not foreign or not cosines or cosines[0][0] in foreign:
        return cosines
    nearest_foreign = next((item for item in cosines if item[0] in foreign), None)
    if nearest_foreign is None or nearest_foreign[1] + offset <= cosines[0][1]:
        return cosines
    return [nearest_foreign, *(item for item in cosines if item is not nearest_foreign)]


def _merge(first: list[RankedArticle], later: list[RankedArticle], weight: float) -> list[RankedArticle]:
    """Both lists in their own order; an item of `later` goes before the next of `first`
    only when its score times `weight` is higher (weight 0: all of `later` comes last)."""
    merged: list[RankedArticle] = []
    i = j = 0
    while i < len(first) and j < len(later):
        if later[j].score * weight > first[i].score:
            merged.append(later[j])
            j += 1
        else:
            merged.append(first[i])
            i += 1
    return merged + first[i:] + later[j:]


def _in_language(item: RankedArticle, group: tuple[str, ...], reader: str | None,
                 by_slug: Mapping[str, RankedArticle], catalog: Mapping[str, Article], filters: Filters) -> RankedArticle:
    """The pair's entry in the reader's language, with the better (this item's) score."""
    if reader is None or catalog[item.slug].lang == reader:
        return item
    version = next((s for s in group if s in catalog and catalog[s].lang == reader and filters.allows(catalog[s])), None)
    if version is None:
        return item
    ranked_too = by_slug.get(version)
    if ranked_too is not None:
        # Its own best passage answers in the reader's language; the pair's score and rank.
        return replace(ranked_too, score=item.score, matched_by=_joined(item.matched_by, ranked_too.matched_by))
    return replace(item, slug=version, passage=None, passage_id=_counterpart_passage(item, catalog[item.slug], catalog[version]))


def _joined(one: str, other: str) -> str:
    return one if one == other else "both"


def _counterpart_passage(item: RankedArticle, source: Article, version: Article) -> str | None:
    """The same passage in the other version, when the two are built alike (same sections
    and FAQ entries, as a translation usually is); else None (the summary is shown)."""
    passage_id = item.passage["id"] if item.passage else item.passage_id
    if not passage_id or "#" not in passage_id:
        return None
    kinds = [p.id.split("#", 1)[1] for p in article_passages(source)]
    if kinds != [p.id.split("#", 1)[1] for p in article_passages(version)]:
        return None
    return f"{version.slug}#{passage_id.split('#', 1)[1]}"


def translation_link(article: Article) -> dict:
    """What a hit says about another version of its article."""
    return {"lang": article.lang, "slug": article.slug, "url": article.url, "title": article.title}
