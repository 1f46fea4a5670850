"""The kb command speaks one language per run: the cli_language setting (KB_CLI_LANGUAGE)."""

from __future__ import annotations

import re
import shutil

from click.testing import CliRunner
from conftest import DATA

from kb.cli import cli

ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")


def run_check(tmp_path, language: str | None):
    shutil.copytree(DATA / "articles", tmp_path / "articles")
    env = {"KB_CLI_LANGUAGE": language} if language else {}
    return CliRunner().invoke(cli, ["--articles-dir", str(tmp_path / "articles"), "--data-dir", str(tmp_path / "data"),
                                    "check"], env=env)


def test_cli_messages_are_english_by_default(tmp_path):
    result = run_check(tmp_path, None)
    assert result.exit_code == 0, result.output
    summary = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ articles, 0 errors, \d+ warnings", summary)


def test_cli_messages_in_arabic(tmp_path):
    result = run_check(tmp_path, "ar")
    assert result.exit_code == 0, result.output
    summary = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ مقالة، 0 خطأ، \d+ تحذير", summary)
    warnings = [line for line in result.output.splitlines() if line.startswith("تحذير")]
    assert all(not line.startswith("warning") for line in result.output.splitlines())
    assert len(warnings) == int(re.search(r"(\d+) تحذير", summary).group(1))


def test_cli_language_without_a_catalog_is_reported(tmp_path):
    result = run_check(tmp_path, "fr")
    assert "cli_language" in result.output and "ar, en" in result.output


def test_lower_layer_errors_follow_the_cli_language(tmp_path):
    """GIVEN kb.users, which writes its errors in Arabic WHEN `kb user create` gets a short
    password THEN the error is printed in the CLI's language (English by default)."""
    def create(language: str | None):
        env = {"KB_CLI_LANGUAGE": language} if language else {}
        return CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "user", "create", "a@example.com",
                                         "--password-stdin"], input="short\n", env=env)

    english = create(None)
    assert english.exit_code == 1
    assert "The password is short (5 of" in english.output and not ARABIC_LETTER.search(english.output)
    arabic = create("ar")
    assert "كلمة المرور قصيرة (5 من" in arabic.output
