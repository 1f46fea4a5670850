"""What :class:`kb.publishing.Publisher` hands back to the editor: the article it opened, the
result of a save, and the refusal of a save made on a stale version (:class:`Conflict`).

A conflict carries both texts (theirs: what is there now; yours: the refused edit, kept as a
``conflict`` revision) so the editor can show the difference and nothing is lost."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kb.content import revisions
from kb.content.articles import Article
from kb.content.editing import ArticleForm
from kb.errors import KbError


class Conflict(KbError):
    """Someone saved this article after the editor opened it."""

    def __init__(self, theirs: str, yours: str, token: str, revision_id: int, who: str | None):
        super().__init__("edit_conflict", "عدّل شخص آخر هذا المقال بعد أن فتحته.", status=409)
        self.theirs = theirs
        self.yours = yours
        self.token = token
        self.revision_id = revision_id
        self.who = who

    @property
    def diff(self) -> list[revisions.DiffLine]:
        return revisions.diff(self.theirs, self.yours)


@dataclass(frozen=True)
class Opened:
    """An article as the editor opens it: the file, and the pending edit if there is one."""

    slug: str
    path: Path
    file_text: str
    article: Article
    form: ArticleForm
    token: str
    pending: revisions.Revision | None


@dataclass(frozen=True)
class SaveResult:
    slug: str
    state: str  # draft | published | pending
    revision_id: int
    index_error: str | None = None  # the file is saved but not searchable yet (retried in the background)
    seconds: float = 0.0
    vectors_pending: bool = False  # searchable by keyword; semantic search catches up in the background
