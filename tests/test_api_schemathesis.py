"""The OpenAPI document matches the real behaviour: schemathesis against the WSGI app.

Every operation gets valid and invalid requests generated from /api/v1/openapi.json
(bounded: ``MAX_EXAMPLES`` per operation), and every response goes through ALL of
schemathesis's checks (``ALL_CHECKS``, as ``schemathesis run --checks all``): a documented
status, content type and headers, the response schema, never a 5xx, invalid data rejected
and valid data accepted, required headers and the key enforced, unsupported methods refused
with ``Allow``, and the stateful resource checks.
"""

from __future__ import annotations

import gzip

import brotli
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from schemathesis.checks import CHECKS
from schemathesis.checks import is_check_class
from schemathesis.checks import load_all_checks
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode

from conftest import make_settings
from kb.store.apikeys import create_key

MAX_EXAMPLES = 30


def _all_checks() -> list:
    load_all_checks()
    return [check for check in CHECKS.get_all() if not is_check_class(check)]


ALL_CHECKS = _all_checks()


@pytest.fixture(scope="module")
def api_app(session_kb, tmp_path_factory):
    from kb.web import create_app

    # A rate limit above what the generated requests send: 429 is documented, but it would
    # hide every other check.
    app_settings = make_settings(tmp_path_factory.mktemp("api"), api_rate_limit=1_000_000).with_overrides(
        articles_dir=session_kb.settings.articles_dir, index_dir=session_kb.settings.index_dir
    )
    return create_app(app_settings, knowledge=session_kb, test_config={"TESTING": True})


@pytest.fixture(scope="module")
def api_key(api_app) -> str:
    return create_key(api_app.extensions["kb_db"].connection(), "schemathesis", rate_limit=1_000_000)[1]


@pytest.fixture(scope="module")
def api_schema(api_app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)
    schema.hook("after_call")(decode_content)
    return schema


DECODERS = {"br": brotli.decompress, "gzip": gzip.decompress}


def decode_content(context, case, response) -> None:
    """Undo the Content-Encoding, as requests does over HTTP, before the checks read the body.

    schemathesis's WSGI transport sends requests's default ``Accept-Encoding: gzip, deflate,
    br, zstd`` but hands the checks the bytes as the app sent them; over HTTP urllib3 decodes
    them.  The app answers a client that asks for brotli with brotli, so the API is checked
    as its clients read it.  A coding the app has no business sending fails here.
    """
    encoding = ",".join(response.headers.get("content-encoding", [])).strip().lower()
    if encoding and encoding != "identity":
        assert encoding in DECODERS, f"unexpected Content-Encoding {encoding!r}"
        response.content = DECODERS[encoding](response.content)


OPERATIONS = [
    ("POST", "/api/v1/suggest"),
    ("POST", "/api/v1/feedback"),
    ("GET", "/api/v1/search"),
    ("GET", "/api/v1/articles/{slug}"),
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/openapi.json"),
]


def test_all_checks_are_run():
    """The registry is schemathesis's own: a rename there must not quietly drop a check here."""
    names = {check.__name__ for check in ALL_CHECKS}
    assert {"not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
            "response_schema_conformance", "negative_data_rejection", "positive_data_acceptance",
            "missing_required_header", "unsupported_method", "ignored_auth", "use_after_free"} <= names


def test_every_documented_operation_is_tested(api_schema):
    documented = {(method.upper(), path) for path, item in api_schema.raw_schema["paths"].items() for method in item}
    assert documented == set(OPERATIONS)


# schemathesis.pytest.from_fixture() fails under pytest 9 (it reads a removed node
# attribute), so each operation's strategy is driven by Hypothesis directly.
# Invalid requests exist only where there is something to get wrong: a body or a typed parameter.
CASES = [(method, path, GenerationMode.POSITIVE) for method, path in OPERATIONS] + [
    (method, path, GenerationMode.NEGATIVE) for method, path in OPERATIONS[:3]
]


@pytest.mark.parametrize("method, path, mode", CASES, ids=[f"{m} {p} {mode.value}" for m, p, mode in CASES])
def test_api_matches_its_openapi_document(api_schema, api_key, method, path, mode):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call_and_validate(headers={"Authorization": f"Bearer {api_key}"}, checks=ALL_CHECKS)
        statuses.append(response.status_code)
        encodings.update(response.headers.get("content-encoding", []))

    statuses: list[int] = []
    encodings: set[str] = set()
    check()
    if path == "/api/v1/openapi.json":
        assert encodings == {"br"}  # compressed for a client that asks, and checked decoded
    if mode is GenerationMode.POSITIVE and path not in ("/api/v1/feedback", "/api/v1/articles/{slug}"):
        assert 200 in statuses, statuses  # random query ids and slugs are 404, everything else must work



@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_passes_schemathesis_coverage_phase(api_schema, api_key, method, path):
    """The coverage phase (as in ``schemathesis run``): boundary and wrongly typed values for
    every field, null where null is not allowed, missing required fields, unexpected methods;
    deterministic, so the contract mismatch of issue 19 (null for lang) is found every run."""
    operation = api_schema[path][method]
    config = api_schema.config.generation_for(operation=operation)
    failures = []
    cases = 0
    for case in api_schema.iter_coverage_cases(operation, generation_modes=list(GenerationMode), generation_config=config):
        cases += 1
        try:
            case.call_and_validate(headers={"Authorization": f"Bearer {api_key}"}, checks=ALL_CHECKS)
        except FailureGroup as failure:
            failures.append(str(failure).split("Reproduce with:")[-1].strip()[:400])
    assert cases > 0
    assert not failures, "\n\n".join(failures[:5])


@pytest.mark.parametrize("field", ["lang", "include_internal"])
def test_null_where_the_schema_says_string_or_boolean_is_a_400_naming_the_field(api_app, api_key, field):
    client = api_app.test_client()
    response = client.post("/api/v1/suggest", json={"message": "كيف أسترد مبلغي؟", field: None},
                           headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 400 and response.json["error"]["field"] == field
    assert client.post("/api/v1/suggest", json={"message": "كيف أسترد مبلغي؟"},
                       headers={"Authorization": f"Bearer {api_key}"}).status_code == 200
    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"]["SuggestRequest"]["properties"][field]
    assert not schema.get("nullable")


def test_an_empty_or_unknown_lang_in_the_query_is_a_400(api_app):
    client = api_app.test_client()
    for lang in ("", "fr", "null"):
        response = client.get("/api/v1/search", query_string={"q": "استرداد", "lang": lang})
        assert response.status_code == 400 and response.json["error"]["field"] == "lang", lang
    assert client.get("/api/v1/search", query_string={"q": "استرداد", "lang": "ar"}).status_code == 200
