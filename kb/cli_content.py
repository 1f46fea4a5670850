"""``kb check`` and ``kb import``: the articles folder as files, validated or filled from documents.

``check`` reports every problem (articles, categories, synonyms, dialect words, images on another
site, a missing embedding back end) and exits 1 on errors; ``import`` turns text, Markdown and
HTML files into draft articles and never overwrites an editor's change.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kb.cli_support import gettext
from kb.cli_support import handle_errors
from kb.cli_support import problem_text
from kb.cli_support import reasons
from kb.cli_support import settings_from
from kb.cli_support import tr
from kb.cli_support import word
from kb.errors import errors_in


@click.command(help="Validate every article, _categories.yml, _synonyms.yml and _dialect.yml; exit 1 on errors.")
@click.pass_context
@handle_errors
def check(ctx: click.Context) -> None:
    from kb.content.articles import load_articles
    from kb.config import missing_backend
    from kb.errors import Problem
    from kb.search.dialect_files import load_local as load_dialect
    from kb.search.synonyms import load_synonyms

    settings = settings_from(ctx)
    catalog = load_articles(settings.articles_dir, settings.max_article_bytes)
    _, synonym_problems = load_synonyms(settings.articles_dir)
    _, dialect_problems = load_dialect(settings.articles_dir)
    problems = catalog.problems + synonym_problems + dialect_problems + _external_image_problems(catalog, settings)
    backend_problem = missing_backend(settings)
    if backend_problem:  # would turn semantic search off at the next start
        problems.insert(0, Problem("settings", "embedding_backend", backend_problem))
    for problem in problems:
        click.echo(gettext("%(severity)s: %(problem)s", severity=word(problem.severity), problem=problem_text(problem)),
                   err=problem.severity == "error")
    errors = errors_in(problems)
    click.echo(gettext("%(articles)d articles, %(errors)d errors, %(warnings)d warnings",
                       articles=len(catalog.articles), errors=len(errors), warnings=len(problems) - len(errors)))
    if errors:
        sys.exit(1)


def _external_image_problems(catalog, settings) -> list:
    """A warning per image on another site: the page shows a link instead (kb.content.render)."""
    from kb.errors import Problem
    from kb.content.render import external_image_urls
    from kb.translation import N_

    root = settings.articles_dir
    return [
        Problem(str(a.path.relative_to(root)) if a.path.is_relative_to(root) else str(a.path), "body",
                N_("image %(url)s is on another site: readers see a link, not the image (upload it in the editor, or "
                   "copy it under the articles folder)", url=url), severity="warning")
        for a in catalog.articles.values() for url in external_image_urls(a.body)
    ]


@click.command("import", help="Import text, Markdown or HTML files as draft articles (a file imported before is "
                             "skipped, or updates its draft if nobody edited it; never overwrites an edit).")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--category", help="Name or slug of a category in _categories.yml (default: عام, added to the list if "
                                 "missing).")
@click.pass_context
@handle_errors
def import_command(ctx: click.Context, files: tuple[Path, ...], category: str | None) -> None:
    from collections import Counter

    from kb.content.importer import import_files

    settings = settings_from(ctx)
    results = import_files(files, settings.articles_dir, category=category)
    for result in results:
        if result.action == "failed":
            click.echo(gettext("failed: %(file)s: %(reason)s", file=result.source, reason=reasons(result.problems)),
                       err=True)
            continue
        if result.action in ("unchanged", "kept"):
            click.echo(gettext("skipped: %(file)s: %(reason)s", file=result.source, reason=reasons(result.notes)))
            continue
        click.echo(gettext("%(action)s: %(path)s (slug %(slug)s, title: %(title)s, category: %(category)s)",
                           action=word(result.action), path=result.path, slug=result.slug, title=result.title,
                           category=result.category))
        for problem in result.problems:
            click.echo("  " + gettext("warning: %(problem)s", problem=problem))
        for note in result.notes:
            click.echo(f"  {tr(note)}")
    count = Counter(result.action for result in results)
    skipped = count["unchanged"] + count["kept"]
    summary = [gettext("%(count)d imported as drafts", count=count["created"])]
    if count["updated"]:
        summary.append(gettext("%(count)d updated", count=count["updated"]))
    if skipped:
        summary.append(gettext("%(count)d skipped (imported before)", count=skipped))
    summary.append(gettext("%(count)d failed", count=count["failed"]))
    click.echo(gettext(", ").join(summary))
    if count["failed"]:
        sys.exit(1)
