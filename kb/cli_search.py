"""``kb index`` and ``kb search``: build the search indexes, and ask them from the terminal.

``index`` says what it did in the CLI's language: rebuilds and their reason, the counts, the
articles still waiting for vectors and how the no-answer cut was set.
"""

from __future__ import annotations

import json

import click

from kb.cli_support import ProgressPrinter
from kb.cli_support import gettext
from kb.cli_support import handle_errors
from kb.cli_support import problem_text
from kb.cli_support import settings_from
from kb.cli_support import word


@click.command(help="Build or update the search indexes (only changed articles, or --full).")
@click.option("--full", is_flag=True, help="Rebuild everything into a new index generation.")
@click.pass_context
@handle_errors
def index(ctx: click.Context, full: bool) -> None:
    from kb.knowledge import KnowledgeBase

    settings = settings_from(ctx)
    knowledge = KnowledgeBase.from_settings(settings)
    if knowledge.semantic_error:
        click.echo(gettext("warning: semantic search is off, keyword index only: %(reason)s",
                           reason=knowledge.semantic_error), err=True)
    for problem in knowledge.catalog.errors:
        click.echo(gettext("skipped: %(problem)s", problem=problem_text(problem)), err=True)
    report = knowledge.index(full=full, progress=ProgressPrinter())
    if report.reason:
        if report.full:
            click.echo(gettext("full rebuild: %(reason)s", reason=report.reason))
        else:
            click.echo(gettext("vectors re-embedded: %(reason)s", reason=report.reason))
    click.echo(gettext("%(articles)d articles, %(passages)d passages, %(vectors)d vectors (added %(added)d, changed "
                 "%(changed)d, deleted %(deleted)d) in %(seconds).1f s; semantic search %(semantic)s",
                 articles=report.articles, passages=report.passages, vectors=report.vectors, added=report.added,
                 changed=report.changed, deleted=report.deleted, seconds=report.seconds,
                 semantic=word(report.semantic)))
    if report.pending_vectors:
        click.echo(gettext("%(count)d article(s) searchable by keyword only until their vectors are embedded (by the "
                           "next 'kb index' with the model, or a running server)", count=report.pending_vectors))
    cut = knowledge.answer_cut()
    if cut.source == "setting":
        calibrated = f"{report.answer_threshold}" if report.answer_threshold is not None else gettext("none")
        click.echo(gettext("no-answer threshold: %(threshold).4f (answer_threshold setting; calibrated: "
                           "%(calibrated)s)", threshold=cut.threshold, calibrated=calibrated))
    elif report.answer_threshold is not None:
        click.echo(gettext("no-answer threshold: %(threshold).4f (calibrated for these articles and this model)",
                     threshold=report.answer_threshold))
    else:
        click.echo(gettext("no-answer threshold: none (needs the embedding model; keyword evidence decides alone)"))
    if cut.landmarks is not None:
        click.echo(gettext("no-answer landmarks: %(probes)d off-topic and everyday probes with their MSA readings, "
                           "%(own)d of the articles' own questions and their dialect wordings",
                           probes=len(cut.landmarks.offtopic), own=len(cut.landmarks.inside)))
        if cut.landmarks.offtopic_terms is not None and cut.latent_weight > 0:
            click.echo(gettext("no-answer landmarks compare the model's latent terms too (answer_latent_weight %(weight)s)",
                               weight=cut.latent_weight))


@click.command(help="Search the articles from the terminal.")
@click.argument("query")
@click.option("--mode", type=click.Choice(["hybrid", "keyword", "semantic"]), help="Default: the search_mode setting.")
@click.option("--limit", default=10, show_default=True)
@click.option("--category", help="Category slug to search in.")
@click.option("--lang", type=click.Choice(["ar", "en"]))
@click.option("--include-drafts", is_flag=True)
@click.option("--include-internal", is_flag=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
@handle_errors
def search(ctx: click.Context, query: str, mode, limit, category, lang, include_drafts, include_internal, as_json) -> None:
    import re
    from html import unescape

    from kb.knowledge import KnowledgeBase

    settings = settings_from(ctx)
    knowledge = KnowledgeBase.from_settings(settings)
    knowledge.ensure_index()
    page = knowledge.search_page(query, mode=mode, limit=limit, category=category, lang=lang,
                                 include_drafts=include_drafts, include_internal=include_internal)
    if as_json:
        click.echo(json.dumps({"query": query, "mode": page.mode, "total": page.total, "related": page.related,
                               "did_you_mean": page.did_you_mean, "read_as": page.read_as,
                               "results": [h.to_dict() for h in page.hits]}, ensure_ascii=False, indent=2))
        return
    if page.read_as:
        click.echo(gettext("Searched in Arabic letters: %(reading)s", reading=page.read_as))
    if page.did_you_mean:
        click.echo(gettext("Did you mean: %(suggestion)s?", suggestion=page.did_you_mean))
    if not page.hits:
        click.echo(gettext("no results"))
    matched_by = {"keyword": gettext("keyword"), "semantic": gettext("semantic"), "both": gettext("both")}
    for rank, hit in enumerate(page.hits, 1):
        if hit.related and (rank == 1 or not page.hits[rank - 2].related):
            click.echo(f"-- {gettext('Related articles')} --")
        snippet = unescape(re.sub(r"</?mark>", "*", hit.snippet))
        click.echo(f"{rank}. {hit.title}  [{hit.score:.3f} {matched_by.get(hit.matched_by, hit.matched_by)}]")
        click.echo(f"   {hit.section_url or hit.url}" + (f"  § {hit.section}" if hit.section else ""))
        click.echo(f"   {snippet}")
