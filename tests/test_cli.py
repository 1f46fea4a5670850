"""The ``kb`` command (kb.cli), run in-process with click's CliRunner on temporary copies."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.content.articles import load_articles
from kb.cli import ProgressPrinter
from kb.cli import cli
from conftest import SEEDS

TESTS = Path(__file__).resolve().parent
BROKEN = TESTS / "data" / "broken"
LAUNCH = TESTS.parent / "articles"
REFUND_FILE = Path("orders") / "سياسة-الاسترداد.md"
COMMANDS = ["check", "import", "index", "search", "serve"]


pytestmark = pytest.mark.usefixtures("no_kb_environment")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def site(session_kb, tmp_path) -> Path:
    """A copy of the test articles, no index yet, and the session's embedding cache (fast builds)."""
    shutil.copytree(session_kb.articles_dir, tmp_path / "articles")
    shutil.copytree(session_kb.store.root / "embeddings", tmp_path / "index" / "embeddings")
    return tmp_path


def kb(runner: CliRunner, base: Path, *args: str, env: dict[str, str] | None = None):
    options = ["--articles-dir", str(base / "articles"), "--index-dir", str(base / "index"), "--data-dir", str(base / "data")]
    return runner.invoke(cli, [*options, *args], env=env, catch_exceptions=False)


# -- help ---------------------------------------------------------------------------------------------


def test_group_help_lists_every_command(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output
    assert "--articles-dir" in result.output and "--index-dir" in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(runner, command):
    result = runner.invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: cli {command}" in result.output or f"Usage: kb {command}" in result.output
    assert cli.commands[command].help.split(";")[0].split("(")[0].strip()[:20] in result.output


# -- kb check -------------------------------------------------------------------------------------------


def test_check_passes_on_the_launch_articles(runner):
    result = runner.invoke(cli, ["--articles-dir", str(LAUNCH), "check"])
    assert result.exit_code == 0, result.output
    count = len(load_articles(LAUNCH).articles)
    assert f"{count} articles, 0 errors" in result.stdout


def test_check_fails_on_broken_articles_listing_file_field_and_reason(runner):
    result = runner.invoke(cli, ["--articles-dir", str(BROKEN), "check"])
    assert result.exit_code == 1
    for line in [
        "error: bad-yaml.md: front matter: invalid YAML at line 2",
        "error: bad-status.md: status: unknown status 'archived'",
        "error: no-title.md: title: is required",
        "error: no-front-matter.md: front matter: missing",
        "error: latin1.md: not UTF-8",
        "error: dup-b.md: slug: duplicate slug 'dup' (also used by dup-a.md)",
        "error: bad-fields.md: updated: must be a date like 2026-11-25, got '2026-13-45'",
        "error: bad-fields.md: faq[1]: each entry needs a non-empty 'q' and 'a'",
    ]:
        assert line in result.stderr, line
    assert "8 errors" in result.stdout


def test_check_reports_category_translation_problems(runner, tmp_path):
    """GIVEN the launch articles with an English name written as a list WHEN kb check runs THEN
    it fails naming the file, the entry and the field, in the CLI's language."""
    shutil.copytree(LAUNCH, tmp_path / "articles")
    path = tmp_path / "articles" / "_categories.yml"
    path.write_text(path.read_text(encoding="utf-8").replace('name: "Complaints and angry customers"',
                                                             "name: [Complaints, angry customers]"), encoding="utf-8")
    result = runner.invoke(cli, ["--articles-dir", str(tmp_path / "articles"), "check"])
    assert result.exit_code == 1
    assert ('error: _categories.yml: [4] "الشكاوى والعملاء الغاضبون" translations.en.name: must be text, got '
            "['Complaints', 'angry customers']") in result.stderr
    arabic = runner.invoke(cli, ["--articles-dir", str(tmp_path / "articles"), "check"], env={"KB_CLI_LANGUAGE": "ar"})
    assert arabic.exit_code == 1 and 'translations.en.name: يجب أن يكون نصًا' in arabic.stderr


def test_check_reports_synonym_problems(runner, tmp_path):
    shutil.copytree(LAUNCH, tmp_path / "articles")
    (tmp_path / "articles" / "_synonyms.yml").write_text("- [وحيد]\n", encoding="utf-8")
    result = runner.invoke(cli, ["--articles-dir", str(tmp_path / "articles"), "check"])
    assert result.exit_code == 1
    assert "_synonyms.yml: group 1: must be a list of at least two" in result.stderr


# -- kb index --------------------------------------------------------------------------------------------


def test_index_builds_then_updates_only_what_changed(runner, site):
    """GIVEN articles and no index
    WHEN kb index runs, runs again, runs after an edit, then runs with --full
    THEN it builds, does nothing, updates one article, and rebuilds into a new generation."""
    first = kb(runner, site, "index")
    assert first.exit_code == 0, first.output
    assert "full rebuild: no index yet" in first.stdout
    assert "11 articles" in first.stdout and "(added 11, changed 0, deleted 0)" in first.stdout
    assert "semantic search on" in first.stdout
    generation = (site / "index" / "CURRENT").read_text(encoding="utf-8")

    again = kb(runner, site, "index")
    assert again.exit_code == 0
    assert "(added 0, changed 0, deleted 0)" in again.stdout
    assert "full rebuild" not in again.stdout

    path = site / "articles" / REFUND_FILE
    path.write_text(path.read_text(encoding="utf-8").replace("لمندوب الشحن", "لساعي الزنجبيل"), encoding="utf-8")
    edited = kb(runner, site, "index")
    assert "(added 0, changed 1, deleted 0)" in edited.stdout
    assert (site / "index" / "CURRENT").read_text(encoding="utf-8") == generation

    full = kb(runner, site, "index", "--full")
    assert full.exit_code == 0
    assert "full rebuild: full rebuild requested" in full.stdout
    assert (site / "index" / "CURRENT").read_text(encoding="utf-8") != generation


def test_index_skips_broken_articles_and_says_so(runner, site):
    shutil.copy(BROKEN / "bad-yaml.md", site / "articles" / "bad-yaml.md")
    result = kb(runner, site, "index")
    assert result.exit_code == 0
    assert "skipped: bad-yaml.md: front matter: invalid YAML" in result.stderr
    assert "11 articles" in result.stdout


def test_index_warns_when_the_model_cannot_load(runner, site):
    env = {
        "KB_EMBEDDING_BACKEND": "sentence-transformers",
        "KB_EMBEDDING_MODEL": "/nonexistent/model",
        "HF_HUB_OFFLINE": "1",
    }
    result = kb(runner, site, "index", env=env)
    assert result.exit_code == 0, result.output
    assert "warning: semantic search is off, keyword index only" in result.stderr
    assert "/nonexistent/model" in result.stderr
    assert "0 vectors" in result.stdout and "semantic search off:" in result.stdout
    search = kb(runner, site, "search", "كم يستغرق استرداد المبلغ", "--json", env=env)
    assert json.loads(search.stdout)["results"][0]["matched_by"] == "keyword"


def test_kberror_becomes_a_message_and_exit_1(runner, site):
    result = kb(runner, site, "index", env={"KB_SEARCH_MODE": "fuzzy"})
    assert result.exit_code == 1
    assert "Error: Setting 'search_mode' must be one of hybrid, keyword, semantic" in result.stderr
    assert "Traceback" not in result.output


# -- kb search ------------------------------------------------------------------------------------------


@pytest.fixture
def indexed_site(runner, site) -> Path:
    assert kb(runner, site, "index").exit_code == 0
    return site


def test_search_prints_ranked_hits_with_their_section(runner, indexed_site):
    result = kb(runner, indexed_site, "search", "كم يستغرق استرداد المبلغ", "--mode", "keyword", "--limit", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. سياسة استرداد المبلغ وإرجاع المنتجات  [")
    assert lines[0].endswith(" keyword]")
    assert lines[1].strip().endswith("#faq  § كم يستغرق استرداد المبلغ؟")
    assert "*المبلغ*" in lines[2] and "<mark>" not in result.stdout
    assert not any(line.startswith("3.") for line in lines)


def test_search_json(runner, indexed_site):
    result = kb(runner, indexed_site, "search", "أريد أموالي", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["query"] == "أريد أموالي"
    assert data["mode"] == "hybrid"
    assert data["total"] + data["related"] >= len(data["results"]) > 0
    flags = [hit["related"] for hit in data["results"]]
    assert flags == sorted(flags) and flags.count(False) == min(data["total"], len(flags))  # answers, then related
    assert "سياسة-الاسترداد" in [hit["slug"] for hit in data["results"][:3]]
    assert {"slug", "title", "url", "score", "snippet", "section_url", "matched_by", "faq"} <= set(data["results"][0])


def test_search_filters_and_visibility_options(runner, indexed_site):
    def found(*options: str) -> list[str]:
        result = kb(runner, indexed_site, "search", "التصعيد", "--mode", "keyword", "--json", *options)
        return [hit["slug"] for hit in json.loads(result.stdout)["results"]]

    assert "response-times-and-escalation-guide" not in found()
    assert "response-times-and-escalation-guide" in found("--include-internal")
    assert found("--lang", "en") == []
    assert set(found("--category", "complaints-and-angry-customers")) <= {
        "handling-angry-customers", "handling-customer-complaints", "responding-to-negative-reviews",
    }


def test_search_without_results_suggests_a_spelling(runner, indexed_site):
    result = kb(runner, indexed_site, "search", "الاسترادد", "--mode", "keyword", "--category", "communication")
    assert result.exit_code == 0
    assert "Did you mean: الاسترداد?" in result.stdout  # cli_language en (KB_CLI_LANGUAGE=ar: هل تقصد)
    assert "no results" in result.stdout


def test_search_builds_the_index_on_first_use(runner, site):
    result = kb(runner, site, "search", "العميل الغاضب", "--mode", "keyword")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1. كيف تتعامل مع العميل الغاضب")
    assert (site / "index" / "CURRENT").exists()


# -- kb import --------------------------------------------------------------------------------------------


def test_import_a_seed_as_a_draft_that_passes_check(runner, site):
    seeds = sorted(SEEDS.glob("*.txt"), key=lambda p: p.stat().st_size)
    if not seeds:
        pytest.fail(f"no seed files in {SEEDS}")
    result = kb(runner, site, "import", str(seeds[0]), "--category", "الطلبات والاسترداد")
    assert result.exit_code == 0, result.output
    assert "1 imported as drafts, 0 failed" in result.stdout
    [created] = (site / "articles" / "imported").glob("*.md")
    assert f"created: {created}" in result.stdout
    catalog = load_articles(site / "articles")
    article = next(a for a in catalog.articles.values() if a.path == created)
    assert article.status == "draft" and article.category == "الطلبات والاسترداد"
    check = kb(runner, site, "check")
    assert check.exit_code == 0, check.output
    assert "12 articles, 0 errors" in check.stdout


def test_import_without_category_goes_into_a_listed_default_and_check_stays_quiet(runner, site):
    """GIVEN articles whose _categories.yml lacks the default category WHEN a seed is imported without
    --category THEN the default is added to the list and kb check warns about nothing new."""
    before = kb(runner, site, "check")
    seed = sorted(SEEDS.glob("*.txt"), key=lambda p: p.stat().st_size)[0]
    result = kb(runner, site, "import", str(seed))
    assert result.exit_code == 0, result.output
    assert "category: عام" in result.stdout
    assert "added the category 'عام' (slug general) to _categories.yml" in result.stdout
    check = kb(runner, site, "check")
    assert check.exit_code == 0, check.output
    assert check.stdout.splitlines()[-1].split(", ", 1)[1] == before.stdout.splitlines()[-1].split(", ", 1)[1]


def test_import_twice_says_skipped_and_makes_no_copy(runner, site):
    seed = sorted(SEEDS.glob("*.txt"), key=lambda p: p.stat().st_size)[0]
    assert kb(runner, site, "import", str(seed), "--category", "orders").exit_code == 0
    again = kb(runner, site, "import", str(seed))
    assert again.exit_code == 0, again.output
    assert f"skipped: {seed}: imported before as " in again.stdout
    assert "0 imported as drafts, 1 skipped (imported before), 0 failed" in again.stdout
    assert len(list((site / "articles" / "imported").glob("*.md"))) == 1


def test_import_into_an_unknown_category_lists_the_known_ones(runner, site):
    seed = sorted(SEEDS.glob("*.txt"), key=lambda p: p.stat().st_size)[0]
    result = kb(runner, site, "import", str(seed), "--category", "shipping")
    assert result.exit_code == 1
    assert "Error: unknown category 'shipping'" in result.stderr
    assert "الطلبات والاسترداد (orders)" in result.stderr
    assert "Traceback" not in result.output
    assert not (site / "articles" / "imported").exists()


def test_a_backend_that_is_not_installed_is_an_error_in_check_and_at_start(runner, site, monkeypatch):
    """GIVEN embedding_backend = sentence-transformers without the extra installed
    THEN kb check and kb serve say what to install and exit 1, with no traceback."""
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # what an import finds when it is not installed
    env = {"KB_EMBEDDING_BACKEND": "sentence-transformers"}
    check = kb(runner, site, "check", env=env)
    assert check.exit_code == 1
    assert "error: settings: embedding_backend: embedding_backend = 'sentence-transformers' needs" in check.stderr
    assert "bash scripts/setup.sh --sentence-transformers" in check.stderr
    serve = kb(runner, site, "serve", "--port", "1", env=env)
    assert serve.exit_code == 1
    assert "Error: embedding_backend = 'sentence-transformers' needs the Python package(s) sentence_transformers" \
        in serve.stderr
    assert "pip install -e '.[sentence-transformers]'" in serve.stderr
    assert "Traceback" not in check.output + serve.output


def test_import_of_a_missing_file_is_a_usage_error(runner, site):
    result = runner.invoke(cli, ["--articles-dir", str(site / "articles"), "import", str(site / "nope.txt")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


# -- progress -------------------------------------------------------------------------------------------


def test_progress_printer_draws_a_bar_and_ends_the_line():
    stream = io.StringIO()
    progress = ProgressPrinter(stream)
    progress("embed", 0, 40)
    progress("embed", 40, 40)
    lines = stream.getvalue().split("\r")
    assert "embed" in lines[-1] and "40/40 passages" in lines[-1] and lines[-1].endswith("\n")
    assert "[" + "#" * 30 + "]" in lines[-1]
    progress("keyword", 0, 0)  # nothing to do is no division by zero
    assert "0/0 articles" in stream.getvalue()


def test_a_stage_reported_only_when_done_counts_its_rate_from_the_previous_report(monkeypatch):
    """33 articles indexed between two reports used to show "33000000.0/s"."""
    clock = iter([100.0, 102.0])
    monkeypatch.setattr("kb.cli_support.time.monotonic", lambda: next(clock))
    stream = io.StringIO()
    progress = ProgressPrinter(stream)  # made at 100.0
    progress("keyword", 33, 33)  # reported at 102.0, done
    assert "33/33 articles, 16.5/s" in stream.getvalue()
