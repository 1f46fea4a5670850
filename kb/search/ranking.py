"""One search, start to end: both retrievers, fusion, grouping by article, best passage.

Each side fetches ``fusion_candidates`` articles (txtai's "fetch extra, then fuse"), the
filters apply on both sides before fusion, the first page is re-ordered by how close
together the question's words are in each article (``kb.search.proximity``), and the
passage that answers is the one the two sides agree on most.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kb.search import arabizi
from kb.search import common_words
from kb.search import coverage
from kb.search import evidence
from kb.search import fusion
from kb.search import keyword
from kb.search import languages
from kb.search import no_answer
from kb.search import proximity
from kb.search import second_look
from kb.search import spelling
from kb.search import tiers
from kb.search.dialect_files import load_builtin as load_dialect_lexicon
from kb.search.embed import word_pieces
from kb.search.latent import LatentTerms
from kb.search.latent import blend_latent
from kb.search.question_memo import QuestionMemo
from kb.search.question_reading import read_question
from kb.search.segments import SegmentCaches
from kb.search.synonyms import SynonymTable
from kb.search.synonyms import names_entry
from kb.text import is_arabic
from kb.text import is_stopword
from kb.text import stem

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kb.content.articles import Article
    from kb.config import Settings
    from kb.search.dialect import DialectLexicon
    from kb.search.embed import Embedder
    from kb.search.vector import VectorIndex


@dataclass(frozen=True)
class RankedArticle:
    slug: str
    score: float
    matched_by: str
    passage: dict | None = None  # a stored keyword passage (has the text)
    passage_id: str | None = None  # or only its id (semantic side)
    translations: tuple[str, ...] = ()  # its versions in other languages (kb.search.languages)


@dataclass(frozen=True)
class Ranked:
    query: keyword.AnalyzedQuery
    articles: list[RankedArticle]
    highlight_stems: set[str]
    answered: bool = True  # False: the cut found nothing here that answers (kb.search.no_answer)
    answers: int = 0  # the leading articles that answer; the rest are related (kb.search.tiers)
    read_as: str | None = None  # an Arabizi question as searched, in Arabic letters (kb.search.arabizi)


def semantic_articles(vectors: VectorIndex, query_vector, filters: keyword.Filters, catalog: dict[str, Article],
                      want: int) -> tuple[list[tuple[str, float]], dict[str, str]]:
    """(slug, best cosine) for the nearest allowed articles, and each one's best passage id."""
    # Articles have several passages each: ask for enough passages to cover `want` articles
    # in one search (a second, four times larger search costs more than a generous first one).
    per_article = len(vectors) / max(1, vectors.article_count)
    k = min(len(vectors), max(50, int(want * per_article * 2)))
    while True:
        best: dict[str, float] = {}
        best_passage: dict[str, str] = {}
        for slug, passage_id, score in vectors.nearest_articles(query_vector, k):
            article = catalog.get(slug)
            if article is None or not filters.allows(article):
                continue
            best[slug] = score
            best_passage[slug] = passage_id
            if len(best) >= want:
                break
        # A narrow filter can leave too few: look further, up to the whole index.
        if len(best) >= want or k >= len(vectors):
            break
        k = min(len(vectors), k * 4)
    ranking = sorted(best.items(), key=lambda item: -item[1])[:want]
    return ranking, best_passage


@dataclass(frozen=True)
class DenseSide:
    """What the dense side found: ``ranking``, the articles by their dense score (for fusion),
    ``passages``, each one's best passage id, and ``cosines``, the nearest articles by their
    best passage cosine alone (what the no-answer cut is calibrated on, ``kb.search.calibration``)."""

    ranking: list[tuple[str, float]]
    passages: dict[str, str]
    cosines: list[tuple[str, float]]
    query_vectors: tuple = ()  # the question's, and its MSA reading's when it has one
    query_terms: np.ndarray | None = None  # the latent terms of the question as typed (a dense unit vector), when the search read them
    # Most candidates are stored questions (``fusion.mostly_short``): the latent terms and the
    # second look leave them alone, the dense model alone is the better judge there.
    stored_questions: bool = False


def dense_articles(text: str, vectors: VectorIndex, embedder: Embedder, filters: keyword.Filters,
                   catalog: dict[str, Article], want: int, msa_reading: str = "max",
                   dialect: DialectLexicon | None = None, about_weight: float = 0.0,
                   latent: LatentTerms | None = None, latent_weight: float = 0.0, short_words: int = 0,
                   memo: QuestionMemo | None = None) -> DenseSide:
    """:func:`semantic_articles` for the question, and for a dialect question also for its MSA
    reading, each article scored by its best passage blended with its about vector.

    The bundled model reads MSA much better than dialect, the dialect lexicon knows what
    a customer's words mean in MSA: a question in which the lexicon replaced something
    (``kb.search.dialect.msa_reading``) is embedded twice, and each article keeps the better
    of its two cosines (``msa_reading="max"``); "off" embeds the question as written only.
    A question without dialect forms costs nothing more.

    The article's score is ``(passage + about_weight * about) / (1 + about_weight)``: its
    best passage cosine and the cosine of what the article says it is about (title, summary
    and tags, ``kb.search.passages.about_text``), each the better of the two readings.  See
    :func:`blend_about`.  Before that, with `latent`, the model's latent terms of the question
    as typed are blended in at `latent_weight` (``kb.search.latent``; standardized within
    each language, ``blend_latent``), unless most
    candidates are shorter than `short_words` (a collection of stored questions, as for the
    keyword weight in ``fusion.adaptive``: nsurl_q2q's first half lost 0.004 with them, the
    launch articles and every paragraph collection gain).  The cosines the no-answer cut is
    calibrated on stay the best passages' own.  With `latent`, the question's terms are read
    even at weight 0: the no-answer cut compares them with its landmarks' (``query_terms``).
    With `memo`, a text the model has read before is not read again (``kb.search.question_memo``).
    """
    lexicon = (dialect or load_dialect_lexicon()) if msa_reading == "max" else None
    question = read_question(text, embedder, lexicon, latent, memo)
    query_vectors = question.vectors
    ranking, passages = semantic_articles(vectors, query_vectors[0], filters, catalog, want)
    if len(query_vectors) > 1:  # a dialect question's MSA reading
        msa_ranking, msa_passages = semantic_articles(vectors, query_vectors[1], filters, catalog, want)
        best = dict(ranking)
        for slug, score in msa_ranking:
            if score > best.get(slug, -2.0):
                best[slug] = score
                passages[slug] = msa_passages[slug]
        ranking = sorted(best.items(), key=lambda item: (-item[1], item[0]))[:want]
    cosines = ranking
    candidates = [catalog[slug] for slug, _ in ranking if slug in catalog]
    stored_questions = fusion.mostly_short([article.word_count for article in candidates], short_words)
    query_terms = question.terms()
    if query_terms is not None and latent_weight > 0 and len(ranking) > 1 and not stored_questions:
        # Standardized within each language: the terms of a text are much its language's
        # (blend_latent).
        ranking = blend_latent(ranking, latent.scores(query_terms, candidates), latent_weight,
                               {article.slug: article.lang for article in candidates})
    about: dict[str, float] = {}
    if about_weight > 0 and ranking:
        slugs = [slug for slug, _ in ranking]
        for vector in query_vectors:
            for slug, score in vectors.about_cosines(vector, slugs).items():
                about[slug] = max(score, about.get(slug, -2.0))
    return DenseSide(blend_about(ranking, about, about_weight), {slug: passages[slug] for slug, _ in ranking}, cosines,
                     query_vectors, query_terms, stored_questions)


def blend_about(cosines: list[tuple[str, float]], about: dict[str, float], weight: float) -> list[tuple[str, float]]:
    """Articles by ``(best passage + weight * about) / (1 + weight)``, best first.

    An article without an about vector (no summary) is taken to be as far from the question
    as the others' about vectors are from their passages, on the median (the about text is
    general, its cosine runs lower than the best passage's: 0.024 lower on the help-center
    questions), so it neither gains nor loses against articles with a summary.  With no
    about vector among the candidates, the order is the passages' own.
    """
    if weight <= 0 or not about:
        return list(cosines)
    gap = float(np.median([score - about[slug] for slug, score in cosines if slug in about]))
    blended = {slug: (score + weight * about.get(slug, score - gap)) / (1 + weight) for slug, score in cosines}
    return sorted(blended.items(), key=lambda item: (-item[1], item[0]))


def telling_synonyms(synonyms: SynonymTable, stems: tuple[str, ...], terms: list[str]) -> SynonymTable:
    """The synonym groups worth expanding for this question: not those it names only with
    words most articles use (the stems ``keyword.prune_common_terms`` left out of `terms`).

    "خدمة العملاء" is in nearly every article of a customer-service help center, so the
    keyword query leaves it out; its group's other members ("دعم العملاء", "الدعم الفني",
    "customer service") were still added as phrases, and a phrase of two common words
    outscored the question's own rare words: every question naming customer service ranked
    the two articles with "الدعم" in the title first (help-center questions, hybrid: top-1
    0.754 -> 0.781, Egyptian 0.57 -> 0.67; no ../shared/eval collection has synonyms).  A
    question of common words only keeps every group (prune_common_terms keeps its words too).
    """
    kept = set(terms)

    def telling(group: tuple[tuple[str, ...], ...]) -> bool:
        named = [entry for entry in group if names_entry(stems, entry)]
        return not named or any(stem in kept for entry in named for stem in entry)

    groups = tuple(group for group in synonyms.groups if telling(group))
    return synonyms if len(groups) == len(synonyms.groups) else SynonymTable(groups, synonyms.words)


def rank_articles(query: str, mode: str, filters: keyword.Filters, searcher, vectors: VectorIndex | None,
                  embedder: Embedder | None, catalog: dict[str, Article], synonyms: SynonymTable,
                  settings: Settings, need: int, caches: SegmentCaches,
                  cut: no_answer.AnswerCut | None = None, dialect: DialectLexicon | None = None,
                  latent: LatentTerms | None = None, memo: QuestionMemo | None = None) -> Ranked:
    """Every article that answers, best first; `cut` decides which do (None: every match).
    `dialect` is the lexicon the keyword side reads dialect words with (None: the built-in one);
    `latent` the articles' latent terms (None: the dense side without them); `memo` the model's
    reading of recent questions (None: the model reads every question)."""
    read_as = arabizi_reading(query, searcher, caches, dialect, embedder, synonyms=synonyms)
    query = read_as or query
    analyzed = keyword.analyze_query(query, settings.max_query_chars, dialect)
    candidates = max(need, settings.fusion_candidates)
    keyword_ranking: list[tuple[str, float]] = []
    expansions: dict[str, list[str]] = {}
    clitics: dict[str, list[str]] = {}
    passage_terms: dict[str, float] = {}
    profile = coverage.MatchProfile()
    if mode in ("keyword", "hybrid") and analyzed.stems:
        reader = searcher.reader()
        expansions = spelling.typo_expansions(reader, analyzed, caches.vocabulary)
        profile = coverage.match_profile(reader, analyzed, expansions, synonyms,
                                         evidence.allowed_frequencies(searcher, filters, caches.postings))
        terms = keyword.prune_common_terms(reader, analyzed.unique_stems)
        clitics = spelling.clitic_forms(reader, analyzed)
        telling = telling_synonyms(synonyms, analyzed.stems, terms)
        article_query = keyword.article_query(analyzed, expansions, telling, terms, clitics)
        passage_terms = keyword.passage_terms(analyzed, expansions, telling, terms, clitics)
        if article_query is not None:
            keyword_ranking = keyword.search_articles(searcher, article_query, filters, candidates, caches.postings)
    dense = DenseSide([], {}, [])
    text = query[: settings.max_query_chars].strip()
    question_language = languages.detect_language(query)
    if mode in ("semantic", "hybrid") and embedder is not None and vectors is not None and analyzed.words:
        dense = dense_articles(text, vectors, embedder, filters, catalog, candidates, settings.dense_msa_reading,
                               dialect, settings.dense_about_weight, latent, settings.dense_latent_weight,
                               settings.fusion_short_words, memo)
    semantic_ranking, semantic_passages = dense.ranking, dense.passages
    reader = filters.lang or question_language
    # Every article this search can list is in one of the two rankings: their translated pairs,
    # looked up once (a walk over the catalog's links: about 0.5 ms at 10k articles).
    groups = languages.translation_groups(catalog, {slug for slug, _ in [*keyword_ranking, *semantic_ranking]})
    foreign = languages.without_reader_version([slug for slug, _ in semantic_ranking], reader, catalog, filters, groups)
    offset = cut.margin if cut is not None else no_answer.DEFAULT_SPREAD / 2
    semantic_ranking = languages.level_dense(semantic_ranking, foreign, offset)
    dense_ran = mode != "keyword" and embedder is not None and vectors is not None and bool(analyzed.words)
    # Articles published a moment ago are searchable by keyword before their vectors are in.
    unembedded = {slug for slug, _ in keyword_ranking if not vectors.count_of(slug)} if dense_ran else set()
    words = evidence.evidence_words(analyzed, profile, expansions, clitics, synonyms)
    landmarks = cut.landmarks if cut is not None and dense.query_vectors else None
    contrast = landmarks.contrast(dense.query_vectors) if landmarks is not None else None
    latent_contrast = landmarks.latent_contrast(dense.query_terms) if landmarks is not None and cut.latent_weight > 0 \
        else None
    cosines = languages.nearest_across_languages(dense.cosines, foreign, offset) if dense_ran else None
    answer = _answering(searcher, question_language, analyzed, filters, cosines, catalog,
                        caches, cut, words, unembedded, contrast, latent_contrast)

    paired = languages.pair_keyword_scores(keyword_ranking, catalog, groups) if mode == "hybrid" else keyword_ranking
    fused = _unknown_dense(_fuse(mode, paired, semantic_ranking, catalog, settings, profile), keyword_ranking,
                           unembedded)
    far: set[str] = set()
    unknown: set[str] = set()
    if mode == "hybrid":
        unknown = _unknown_to(foreign, _looked_up(profile), paired, groups)
        before = dict(fused)
        fused = _unknown_words(fused, semantic_ranking, unknown)
        far = _far_across_languages(fused, before, dense.cosines, unknown, offset)
    if answer is not None:
        fused = [(slug, score) for slug, score in fused if slug in answer]
    in_keyword = {slug for slug, _ in keyword_ranking}
    in_semantic = {slug for slug, _ in semantic_ranking}
    keyword_passages: dict[str, dict] = {}
    if passage_terms:
        looked_at = [slug for slug, _ in fused[:max(need, proximity.DEPTH)]]
        # A synonym counts as the word for proximity too, as in the keyword score: "complaint" is
        # in a passage that says شكوى, الزبون in one that says العميل; before, an English question
        # earned the proximity bonus only for the English articles (help-center sets, hybrid:
        # tuning top-1 first half +1, no other top-1 or top-3 moved; 44 English probe questions
        # about Arabic-only articles: top-1 30 -> 31, top-3 36 -> 37).
        alternatives = {stem: [*expansions.get(stem, ()), *clitics.get(stem, ()), *synonyms.one_word_synonyms(stem)]
                        for stem in analyzed.unique_stems}
        matches = keyword.match_passages(searcher, looked_at, passage_terms, caches.passages, analyzed.stems, alternatives)
        keyword_passages = matches.passages
        closer = mode != "semantic" and settings.proximity_weight > 0
        # The second look: not among stored questions (most of the dense side's candidates
        # short), as for the latent terms and the keyword weight.
        second = mode == "hybrid" and settings.second_look_weight > 0 and not dense.stored_questions
        near = _long_only(matches.coverage, catalog, settings.fusion_short_words) if closer or second else {}
        if closer:
            fused = proximity.rerank(fused, near, settings.proximity_weight)
        if second:
            fused = second_look.rescore(fused, semantic_ranking, _known_keyword(paired, semantic_ranking, unknown),
                                        near, settings.second_look_weight)
    ranked = []
    for slug, score in fused:
        matched_by = "both" if slug in in_keyword and slug in in_semantic else ("keyword" if slug in in_keyword else "semantic")
        passage = keyword_passages.get(slug)
        passage_id = None
        if slug in semantic_passages and (passage is None or mode == "semantic" or _prefer_semantic(passage, semantic_passages[slug])):
            passage, passage_id = None, semantic_passages[slug]
        ranked.append(RankedArticle(slug, score, matched_by, passage, passage_id))
    highlight = set(analyzed.stems)
    for near in [*expansions.values(), *clitics.values()]:
        highlight.update(near)
    for alternative in synonyms.expansions(analyzed.stems):
        highlight.update(alternative)
    grouped = languages.group_by_language(ranked, query, catalog, filters, reader, groups)
    answers = tiers.answer_count([item.score for item in grouped], mode == "semantic", offset,
                                 [item.slug in far for item in grouped])
    return Ranked(analyzed, grouped[:answers + tiers.RELATED_LIMIT], highlight, bool(ranked), answers, read_as)


def arabizi_reading(query: str, searcher, caches: SegmentCaches, dialect: DialectLexicon | None,
                    embedder: Embedder | None, detect: bool = True, synonyms: SynonymTable | None = None) -> str | None:
    """An Arabizi question in Arabic letters (``kb.search.arabizi``), None for any other
    (`detect` False: every Latin word is read, whether or not the text looks like Arabizi).

    A spelling counts as an Arabic word when the dialect lexicon or the articles use it (not
    a stop word: "call" is no كل); a Latin word as English when the articles use it, when
    the editors' synonyms name it ("escalation": a reading such as اسكلتين found nothing, the
    synonyms lead it to تصعيد), or when the model's tokenizer holds it whole and people write
    it in English or French; between spellings, how often people write each one decides
    (``kb.search.common_words``); any spelling the tokenizer holds whole, or a stop word, is
    a weaker Arabic guess.  In keyword
    mode without a model loaded, the lexicon, the articles and the word frequencies decide."""
    if detect and not arabizi.is_arabizi(query):
        return None
    in_articles = caches.vocabulary.holds(searcher.reader(), "spell")
    pieces = word_pieces(embedder)

    def common(word: str) -> bool:
        return pieces is not None and pieces(word) <= 1

    lexicon = (dialect or load_dialect_lexicon()).words
    return arabizi.arabic_reading(
        query,
        # A Latin word only through the lexicon: an editor's form in Latin letters ("3ayez").
        arabic=lambda word: not is_stopword(word) and (word in lexicon or (is_arabic(word) and in_articles(word))),
        # The tokenizer is multilingual: it holds "nabi" (Gulf "we want") and "siyaset" whole too,
        # so a Latin word is English (or the French of Maghrebi chat) only when people write it
        # in those languages (scripts/data/arabizi_words.tsv, first half 0.775 -> 0.785).
        latin=lambda word: in_articles(word) or (synonyms is not None and synonyms.holds(stem(word)))
        or (common(word) and common_words.is_common_latin(word)),
        weak=lambda word: is_stopword(word) or common(word),
        detect=detect,
        frequency=common_words.zipf,
    )


def _long_only(proximity_coverage: dict[str, float], catalog: dict[str, Article], short_words: int) -> dict[str, float]:
    """Proximity counts for paragraphs, not for short documents (a stored question), where
    every word is close to every other and the dense model is the better judge."""
    return {slug: value for slug, value in proximity_coverage.items()
            if slug in catalog and catalog[slug].word_count >= short_words}


def _prefer_semantic(keyword_passage: dict, semantic_passage_id: str) -> bool:
    """Same passage, or the keyword one is only the intro: let the dense side pick."""
    return keyword_passage["id"] == semantic_passage_id or (not keyword_passage["heading"] and keyword_passage["kind"] == "section")


def _answering(searcher, question_language: str | None, analyzed: keyword.AnalyzedQuery, filters: keyword.Filters,
               semantic_ranking, catalog: dict[str, Article], caches: SegmentCaches, cut: no_answer.AnswerCut | None,
               words: tuple[evidence.EvidenceWord, ...] | None = None, unembedded: set[str] = frozenset(),
               contrast: float | None = None, latent_contrast: float | None = None) -> set[str] | None:
    """The articles that answer (kb.search.no_answer), all of them without a cut; an empty
    set when nothing here answers.  Computed after the filters: a word of a draft or an
    internal article is no evidence for a public search.  `words`: what the keyword side
    searched for (the question's words and their typo, dialect, joined and synonym forms).
    `contrast`, `latent_contrast`: the question against the cut's landmarks (``kb.search.landmarks``)."""
    if cut is None:
        return None
    held = evidence.keyword_evidence(searcher, analyzed, filters, caches.postings, words)
    nearest = catalog.get(semantic_ranking[0][0]) if semantic_ranking else None
    cross_language = nearest is not None and question_language is not None and nearest.lang != question_language
    return no_answer.answering(semantic_ranking, held, cut, cross_language, unembedded, contrast,
                               latent_contrast) or set()


def _unknown_dense(fused: list[tuple[str, float]], keyword_ranking, unembedded: set[str]) -> list[tuple[str, float]]:
    """Fusion reads a missing dense score as 0; for an article without vectors yet it is
    unknown, not low: such an article is scored by its keyword standing alone (its keyword
    score over the best one), so a fresh publish the question names is not buried under
    articles the dense side merely finds near."""
    return _at_least(fused, fusion.scale_by_max(keyword_ranking) if unembedded else {}, unembedded)


def _unknown_words(fused: list[tuple[str, float]], semantic_ranking, foreign: set[str]) -> list[tuple[str, float]]:
    """Fusion reads a missing keyword score as 0; for an article in another language than
    the question (with no version in the question's language) it is unknown, not low: the
    question's words cannot occur in it.  Such an article keeps at least its dense standing
    (its min-max dense score), so an Arabic article that answers an English question is not
    buried under English articles that merely share the question's words."""
    return _at_least(fused, fusion.minmax(semantic_ranking) if foreign else {}, foreign)


def _known_keyword(keyword_ranking: list[tuple[str, float]], semantic_ranking,
                   unknown: set[str]) -> list[tuple[str, float]]:
    """The keyword ranking as the second look reads it: an article whose keyword score is
    unknown, not low (:func:`_unknown_to`: in another language than the question) stands at
    least its min-max dense standing times the best keyword score, as :func:`_unknown_words`
    keeps it in the fused order.  Read as 0, the second look lifted every English article
    over the Arabic one that answers an English question ("how can we tell whether customers
    are happy with our support" opened with the English article on positive language)."""
    if not unknown or not keyword_ranking:
        return keyword_ranking
    best = max(score for _, score in keyword_ranking)
    scores = dict(keyword_ranking)
    for slug, value in fusion.minmax(semantic_ranking).items():
        if slug in unknown:
            scores[slug] = max(scores.get(slug, 0.0), best * value)
    return list(scores.items())


def _unknown_to(foreign: set[str], looked_up: bool, keyword_ranking: list[tuple[str, float]],
                groups: Mapping[str, tuple[str, ...]]) -> set[str]:
    """The articles in the other language whose missing keyword score is unknown, not low
    (:func:`_unknown_words` keeps their dense standing).

    For a question of other words, every one of `foreign`.  For a look-up by name
    (:func:`_looked_up`: one or two words, every one found), a missing keyword score is low:
    when the keyword side singles one article out, none keeps its dense standing; when it
    finds several about equally (a name more articles share: "reputation", which the synonyms
    lead to السمعة in four Arabic articles; "live chat"), only the articles it found do, and
    the dense side orders those.  Before, every Arabic article kept its min-max dense standing
    for such a look-up, and e5 puts one English word about equally near every Arabic passage:
    "reputation" opened with the article on replying to requests and listed 29 of 33 articles
    as answers (now the four that name reputation, the articles on why service matters and
    on negative reviews among the first three), "live chat" 10 (now 5), "response time" 10
    (now 3).  No question of any help-center set moved (their look-ups by name are singled
    out or have no foreign articles)."""
    if not looked_up:
        return foreign
    if _singled_out(keyword_ranking, groups):
        return set()
    return foreign & {slug for slug, _ in keyword_ranking}


def _far_across_languages(fused: list[tuple[str, float]], before: Mapping[str, float], cosines, unknown: set[str],
                          margin: float) -> set[str]:
    """The articles that stand on their dense standing alone (:func:`_unknown_words` raised
    their fused score, `before`) and whose best passage is more than one `margin` under the
    nearest of the `unknown` articles: related to the question, not answering it
    (``tiers.answer_count``).

    An English question's min-max dense standing spreads cosines that lie within a few
    hundredths of each other over the whole range (the model reads English against Arabic
    passages coarsely), so half the Arabic articles scored above half the best and counted as
    answers: English questions of the help-center sets had a median of 9 answers in the first
    halves and 17 in the second, against 3 to 10 for Arabic ones.  The fused order is kept;
    only the count stops at the first such article.  `cosines`: the dense side's best passage
    cosines (slug, cosine)."""
    raised = {slug for slug, score in fused if slug in unknown and score > before.get(slug, 0.0)}
    nearest = {slug: cosine for slug, cosine in cosines if slug in unknown}
    if not raised or not nearest:
        return set()
    best = max(nearest.values())
    return {slug for slug in raised if nearest.get(slug, best) < best - margin}


# A question of at most this many weighted words, every one found (coverage.MatchProfile.found_whole),
# is a look-up by name ("refund", "negative reviews"): see _looked_up.
LOOKUP_WORDS = 2
# ... when its best keyword article scores at least this much more than the next article (a
# translated pair counted once): see _singled_out.
LOOKUP_LEAD = 1.25


def _looked_up(profile: coverage.MatchProfile) -> bool:
    """Whether the question names its subject in words the keyword side found, every one of them:
    then a missing keyword score is low, not unknown, even for an article in the other language.

    _unknown_words keeps a foreign article's min-max dense standing because a question's words
    cannot occur in another language.  For one or two words the dense side is nearly flat (e5
    puts a single English word about equally near every Arabic article: "negative review" 0.824,
    0.815, 0.814 ...) and min-max stretches that noise to 1.0, so an unrelated Arabic article
    came before the English article with those words in its title, and before the Arabic one
    the synonyms reach ("complaint" -> شكوى).  Only when the keyword side singles one article
    out (_singled_out).  Longer questions are left alone: there the dense side reads the
    question better than cross-language synonyms do (at three words, 2 of 44 English probe
    questions lost their first place and scripts/data/helpcenter_short.jsonl one; at two, no
    question of any help-center set moved and the probes gained)."""
    return len(profile.terms) <= LOOKUP_WORDS and profile.found_whole()


def _singled_out(keyword_ranking: list[tuple[str, float]], groups: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether the keyword side puts one article (or translated pair) clearly first: its score
    at least LOOKUP_LEAD times the next article's.

    A look-up by a name the articles share ("customer service" in a customer-service help
    center, "email") leaves the keyword side nearly level (43.1 and 39.7), and the dense side
    knows better which article is about the thing itself; "negative review" (56.9, then 7.2),
    "complaints" (18.1, 10.7) or "escalation" (5.5, 3.5) name one article.  `groups`:
    languages.translation_groups of the ranked articles."""
    if not keyword_ranking:
        return False
    first_slug, best = keyword_ranking[0]
    first = groups.get(first_slug, (first_slug,))
    following = next((score for slug, score in keyword_ranking[1:] if slug not in first), 0.0)
    return best >= LOOKUP_LEAD * following


def _at_least(fused: list[tuple[str, float]], standing: dict[str, float], slugs: set[str]) -> list[tuple[str, float]]:
    """The fused ranking with each of `slugs` scored at least its `standing`, re-sorted."""
    if not slugs or not fused:
        return fused
    scores = dict(fused)
    for slug in slugs & scores.keys():
        scores[slug] = max(scores[slug], standing.get(slug, 0.0))
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def _fusion_share(profile: coverage.MatchProfile | None) -> float:
    """The matched share the fusion weighs the keyword side by: none when the words it found
    are all common ones (coverage.MatchProfile.tells_apart)."""
    if profile is None:
        return 1.0
    return profile.matched_share() if profile.tells_apart() else 0.0


def _fuse(mode: str, keyword_ranking, semantic_ranking, catalog: dict[str, Article], settings: Settings,
          profile: coverage.MatchProfile | None = None) -> list[tuple[str, float]]:
    if mode == "keyword":
        return list(keyword_ranking)
    if mode == "semantic" or not keyword_ranking:
        return list(semantic_ranking)
    if not semantic_ranking:
        return list(keyword_ranking)
    if settings.fusion_method == "rrf":
        return fusion.rrf(keyword_ranking, semantic_ranking, settings.rrf_k)
    lengths = {slug: catalog[slug].word_count for slug, _ in [*keyword_ranking, *semantic_ranking] if slug in catalog}
    if settings.fusion_method == "coverage":
        return fusion.by_coverage(
            keyword_ranking, semantic_ranking, lengths, _fusion_share(profile),
            settings.fusion_keyword_weight, settings.fusion_short_keyword_weight, settings.fusion_short_words,
            settings.fusion_keyword_floor, settings.fusion_match_low, settings.fusion_match_full,
            dialect=profile.reads_dialect if profile else False,
        )
    if settings.fusion_method == "adaptive":
        return fusion.adaptive(
            keyword_ranking, semantic_ranking, lengths, settings.fusion_keyword_weight,
            settings.fusion_short_keyword_weight, settings.fusion_short_words,
        )
    return fusion.convex(keyword_ranking, semantic_ranking, settings.fusion_keyword_weight)
