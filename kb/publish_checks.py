"""What a save accepts: the editor form's file text, checked before anything is written.

:class:`kb.publishing.Publisher` turns a form into the article file's text and refuses it
with every field's error at once (:class:`kb.content.editing.ValidationFailed`): the form's
own fields (:func:`kb.content.editing.field_errors`), a link another article has, a file over
``max_article_bytes``, and what the article parser the loader uses finds in the text.  These
checks read no database and write nothing: the Publisher passes in what it knows (whether a
link is in use, here or on another node; the size limit).  Their messages are ``N_``
messages, which the staff pages show in the staff UI's language.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from kb.content.articles import parse_article
from kb.content.editing import ArticleForm
from kb.content.editing import ValidationFailed
from kb.content.editing import build_text
from kb.content.editing import field_errors
from kb.errors import KbError
from kb.errors import errors_in
from kb.translation import N_

# What a save may do with the article: keep it a draft (or a published article's pending edit), or publish it.
ACTIONS = ("draft", "publish")


def check_action(action: str) -> None:
    """Refuse an action other than the editor's buttons'."""
    if action not in ACTIONS:
        raise KbError("bad_action", N_("The action must be one of: %(actions)s.", actions=", ".join(ACTIONS)),
                      field="action")


def validated_text(form: ArticleForm, status: str, path: Path, slug_in_use: Callable[[str], bool],
                   max_bytes: int, errors: dict[str, str] | None = None) -> str:
    """The file text of ``form`` (to be saved at ``path`` with ``status``), or ValidationFailed
    with every field's error.  ``errors``: the ones the caller found already (the category's);
    ``max_bytes``: the ``max_article_bytes`` setting (0: no limit)."""
    errors = {**field_errors(form), **(errors or {})}
    if "slug" not in errors and slug_in_use(form.slug):
        errors["slug"] = N_("This link is used by another article.")
    text = build_text(form, status, path)
    size = len(text.encode("utf-8"))
    if max_bytes and size > max_bytes:
        errors["body"] = N_("The article is larger than allowed (%(size)s MB, the limit is %(limit)s): split it "
                            "into several articles.", size=f"{size / 1e6:.1f}", limit=f"{max_bytes / 1e6:.1f}")
    if not errors:
        _, problems = parse_article(text, path, str(path.name))
        for problem in errors_in(problems):
            errors.setdefault(problem.field or "body", problem.reason)
    if errors:
        raise ValidationFailed(errors)
    return text
