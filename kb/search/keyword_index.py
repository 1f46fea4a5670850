"""The keyword index itself: its schema, the Whoosh documents of an article, opening it.

One index holds two kinds of documents with separate field names, so that each kind's
BM25F statistics (average field length, document frequency) stay its own: article
documents (``title``; ``headings`` with FAQ questions and tags, one a line; ``body`` with FAQ answers)
rank articles, passage documents (``p_title``, ``p_heading``, ``p_body``) pick the passage
that answers.  The analysis is kb.text's pipeline, the same one questions go through
(``kb.search.keyword.analyze_query``); a change to it bumps
``kb.search.keyword.ANALYZER_VERSION`` so that existing indexes are rebuilt.  Writers are
only opened by ``KnowledgeBase`` while it holds the index's write lock.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable
from typing import Iterable
from typing import TypeVar

from whoosh import index as whoosh_index
from whoosh.fields import ID
from whoosh.fields import KEYWORD
from whoosh.fields import STORED
from whoosh.fields import TEXT
from whoosh.fields import Schema

from kb.content.articles import Article
from kb.search import whoosh_fixes
from kb.search.keyword import KbTokenizer
from kb.search.passages import Passage
from kb.text import analyze as analyze_text

whoosh_fixes.apply()


# More than any phrase's slop (kb.search.keyword.article_query).
HEADING_GAP = 8


def make_schema() -> Schema:
    text = TEXT(analyzer=KbTokenizer(), phrase=True)
    return Schema(
        id=ID(unique=True, stored=True),
        kind=ID(stored=True),
        slug=ID(stored=True),
        lang=ID,
        audience=ID,
        status=ID,
        category=ID,
        tag=KEYWORD(commas=True),
        updated=ID,
        title=text,
        # One heading, FAQ question or tag a line: positions, so that a question naming one
        # ("رضا العملاء", a tag) earns the phrase bonus the title and body give.
        headings=TEXT(analyzer=KbTokenizer(line_gap=HEADING_GAP), phrase=True),
        body=TEXT(analyzer=KbTokenizer(), phrase=True),
        spell=TEXT(analyzer=KbTokenizer(stemming=False), phrase=False),
        p_title=TEXT(analyzer=KbTokenizer(), phrase=False),
        p_heading=TEXT(analyzer=KbTokenizer(), phrase=False),
        p_body=TEXT(analyzer=KbTokenizer(), phrase=True),
        passage=STORED,
    )


def create_index(path: Path):
    path.mkdir(parents=True, exist_ok=True)
    return whoosh_index.create_in(str(path), make_schema())


T = TypeVar("T")

# Whoosh removes the table of contents and segment files of the commit it replaces.  A
# reader that listed the folder just before a writer's commit can then find its files gone
# (FileNotFoundError: the crash test hit this under concurrent publishes, a 500 in the
# editor); opening again finds the newer commit.
OPEN_ATTEMPTS = 10


def opened_despite_commits(open_files: Callable[[], T]) -> T:
    """``open_files()``, tried again when a concurrent commit removed the files it was opening."""
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return open_files()
        except FileNotFoundError:
            if attempt == OPEN_ATTEMPTS - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


def open_index(path: Path):
    return opened_despite_commits(lambda: whoosh_index.open_dir(str(path)))


def _filter_fields(article: Article) -> dict:
    return {
        "slug": article.slug,
        "lang": article.lang,
        "audience": article.audience,
        "status": article.status,
        "category": article.category_slug,
        "tag": ",".join(t.replace(",", " ") for t in article.tags),
        "updated": article.updated.isoformat() if article.updated else "",
    }


def article_documents(article: Article, passages: list[Passage]) -> Iterable[dict]:
    """The Whoosh documents of one article: one for the article, one per passage."""
    common = _filter_fields(article)
    sections = [p for p in passages if p.kind == "section"]
    yield {
        **common,
        "id": "a:" + article.slug,
        "kind": "article",
        "title": article.title,
        "headings": "\n".join([*(p.heading for p in sections if p.heading), *(e.q for e in article.faq), *article.tags]),
        "body": "\n".join([article.summary, *(p.text for p in sections), *(e.a for e in article.faq)]),
        "spell": "\n".join([article.title, *article.tags, *(p.heading or "" for p in passages), *(p.text for p in passages)]),
    }
    for passage in passages:
        yield {
            **common,
            "id": "p:" + passage.id,
            "kind": "passage",
            "p_title": article.title,
            "p_heading": passage.context,
            "p_body": passage.text,
            "passage": {
                "id": passage.id,
                "kind": passage.kind,
                "heading": passage.heading,
                "anchor": passage.anchor,
                "path": list(passage.heading_path),
                "text": passage.text,
                "faq_index": passage.faq_index,
                # Index terms of heading path + text, so picking the best passage at query
                # time needs no text analysis.
                "terms": " ".join(analyze_text(" ".join(passage.heading_path) + " " + passage.text)),
            },
        }


def write_articles(writer, items: Iterable[tuple[Article, list[Passage]]], delete_slugs: Iterable[str] = ()) -> None:
    """Replace the documents of the given articles and delete the given slugs, in one writer."""
    for slug in delete_slugs:
        writer.delete_by_term("slug", slug)
    for article, passages in items:
        writer.delete_by_term("slug", article.slug)
        for document in article_documents(article, passages):
            writer.add_document(**document)
