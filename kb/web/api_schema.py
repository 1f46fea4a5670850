"""The OpenAPI 3 document of /api/v1, built from the same settings the views enforce.

The limits in the document (message length, query length, body size) come from
:class:`kb.config.Settings`, so the document and the behaviour cannot drift apart;
``tests/test_api_schemathesis.py`` checks the running app against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kb.config import Settings

MAX_CONVERSATION = 10  # earlier messages accepted with a suggest request
MAX_CATEGORY_CHARS = 100
MAX_ROLE_CHARS = 50
_OTHER_FIELDS_BYTES = 64 * 1024
# "Not blank" as the views decide it (str.strip()): a character that is not Unicode
# whitespace in Python's sense, which counts \x1c-\x1f too (a bare \S in the document would
# let generated clients send those and expect them accepted).
_WHITESPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
NOT_BLANK = "[^" + "".join(f"\\u{ord(ch):04x}" for ch in _WHITESPACE) + "]"


def max_body_bytes(settings: Settings) -> int:
    """The largest suggest/feedback body: every text at its maximum, each character written
    as a JSON escaped surrogate pair (12 bytes), plus room for the other fields.  A body
    the schema allows is never refused as too large; anything bigger gets 413."""
    return (1 + MAX_CONVERSATION) * settings.max_message_chars * 12 + _OTHER_FIELDS_BYTES


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str, headers: dict | None = None) -> dict:
    response = _json(_ref("Error"), description)
    if headers:
        response["headers"] = headers
    return response


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


_RESPONSES = {
    "BadRequest": _error("Invalid input: a missing, empty, too long or wrongly typed field (see error.field)."),
    "Unauthorized": _error(
        "Missing, unknown or revoked API key.",
        {"WWW-Authenticate": {"schema": {"type": "string"}}},
    ),
    "NotFound": _error("Not found."),
    "TooLarge": _error("The request body is larger than the service accepts."),
    "UnsupportedMediaType": _error("The body is not JSON (Content-Type must be application/json)."),
    "TooManyRequests": _error(
        "Rate limit reached; wait Retry-After seconds.",
        {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
    ),
    "Unavailable": _error("No search index yet (run 'kb index')."),
}


# A category's name next to an article: in the article's language (kb.web.category_names).
CATEGORY_NAME = {"type": "string", "description": "The category's name in the article's language (its translation "
                 "in _categories.yml, else its name); `category_slug` is the same in every language."}


def _schemas(settings: Settings, categories: Sequence[str]) -> dict:
    message_chars = settings.max_message_chars
    text = {"type": "string", "maxLength": message_chars}
    faq = {"type": "object", "required": ["q", "a"], "properties": {"q": {"type": "string"}, "a": {"type": "string"}}}
    hit_fields = {
        "slug": {"type": "string"},
        "title": {"type": "string"},
        "url": {"type": "string", "description": "Site path of the article."},
        "score": {"type": "number"},
        "section": _nullable({"type": "string", "description": "Heading of the passage that answers."}),
        "section_url": _nullable({"type": "string"}),
        "snippet": {"type": "string", "description": "HTML-escaped passage, matched words in <mark>."},
        "faq": _nullable({**faq, "description": "The matching FAQ entry, if the best passage was one."}),
        "matched_by": {"type": "string", "enum": ["keyword", "semantic", "both"]},
        "category": CATEGORY_NAME,
        "category_slug": {"type": "string"},
        "summary": {"type": "string"},
        "lang": {"type": "string", "enum": ["ar", "en"]},
        "related": {"type": "boolean", "description": "Listed after the articles that answer, as a related article."},
        "internal": {"type": "boolean", "description": "An agents-only article (include_internal): its url is not open "
                                                        "to customers, so do not send it to one."},
        "translations": {
            "type": "array",
            "description": "The article in other languages (a translated pair is one hit, in the question's language).",
            "items": {
                "type": "object",
                "required": ["lang", "slug", "url", "title"],
                "properties": {
                    "lang": {"type": "string", "enum": ["ar", "en"]},
                    "slug": {"type": "string"},
                    "url": {"type": "string"},
                    "title": {"type": "string"},
                },
            },
        },
    }
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "field": {"type": "string"},
                        "query_id": {"type": "string"},
                    },
                }
            },
        },
        "Hit": {
            "type": "object",
            "required": ["slug", "title", "url", "score", "section", "section_url", "snippet", "faq", "matched_by"],
            "properties": hit_fields,
        },
        "SuggestRequest": {
            "type": "object",
            "required": ["message"],
            "properties": {
                "message": {**text, "minLength": 1, "pattern": NOT_BLANK,
                            "description": f"The customer's latest message (at most {message_chars} characters)."},
                "conversation": _nullable({
                    "type": "array",
                    "maxItems": MAX_CONVERSATION,
                    "description": "Earlier messages, oldest first: strings (the customer's) or {role, text}; "
                                   "messages with role agent, bot, system or assistant are not used.",
                    "items": {"oneOf": [
                        text,
                        {"type": "object", "required": ["text"], "properties": {
                            "role": _nullable({"type": "string", "maxLength": MAX_ROLE_CHARS}),
                            "text": text,
                        }},
                    ]},
                }),
                "limit": _nullable({"type": "integer", "minimum": 1, "maximum": 20, "default": 5}),
                "lang": {"type": "string", "enum": ["ar", "en"], "description": "Only articles in this language."},
                "category": _category_schema(categories, nullable=True),
                "include_internal": {"type": "boolean", "default": False,
                                     "description": "Also suggest internal (agents-only) articles."},
            },
        },
        "SuggestResponse": {
            "type": "object",
            "required": ["query_id", "took_ms", "focused_query", "corrected", "read_as", "reason", "suggestions"],
            "properties": {
                "query_id": {"type": "string", "description": "Send it back with /feedback."},
                "took_ms": {"type": "number"},
                "focused_query": {"type": "string", "description": "What was searched for, after focusing."},
                "corrected": _nullable({
                    "type": "string",
                    "description": "The focused message as searched when it had no answer as typed: in Latin "
                                   "letters, its likely typos corrected, because the correction has an answer "
                                   "(\"angry custmer\" -> \"angry customer\"). null otherwise.",
                }),
                "read_as": _nullable({
                    "type": "string",
                    "description": "An Arabizi message (Arabic typed in Latin letters and digits) as it was "
                                   "searched, in Arabic letters; null for any other message.",
                }),
                "reason": _ref("NoResultsReason"),
                "suggestions": {"type": "array", "items": _ref("Hit")},
            },
        },
        "FeedbackRequest": {
            "type": "object",
            "required": ["query_id", "slug", "useful"],
            "properties": {
                "query_id": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": NOT_BLANK},
                "slug": {"type": "string", "minLength": 1, "maxLength": 300, "pattern": NOT_BLANK},
                "useful": {"type": "boolean"},
            },
        },
        "FeedbackResponse": {
            "type": "object",
            "required": ["query_id", "slug", "useful"],
            "properties": {"query_id": {"type": "string"}, "slug": {"type": "string"}, "useful": {"type": "boolean"}},
        },
        "SearchResponse": {
            "type": "object",
            "required": ["query", "took_ms", "total", "related", "did_you_mean", "corrected", "read_as", "reason",
                         "results"],
            "properties": {
                "query": {"type": "string"},
                "took_ms": {"type": "number"},
                "total": {"type": "integer", "description": "Articles that answer the question, in all (not the collection size)."},
                "related": {"type": "integer", "description": "Related articles listed after the ones that answer (at most 10)."},
                "did_you_mean": _nullable({
                    "type": "string",
                    "description": "The question as typed with its likely typos replaced, offered only when fewer than "
                                   "three articles were found and this search answers the corrected question; words "
                                   "of the language the articles simply do not use are never corrected. null otherwise.",
                }),
                "corrected": _nullable({
                    "type": "string",
                    "description": "The question as searched when it had no answer as typed: a question in Latin "
                                   "letters whose likely typos were corrected (\"angry custmer\" -> \"angry customer\") "
                                   "because the correction has an answer; the results and total are the corrected "
                                   "question's. null for any other question (an Arabic one gets did_you_mean instead).",
                }),
                "read_as": _nullable({
                    "type": "string",
                    "description": "An Arabizi question (Arabic typed in Latin letters and digits: \"3ayez a3raf ezay\") "
                                   "as it was searched, in Arabic letters; null for any other question.",
                }),
                "reason": _ref("NoResultsReason"),
                "results": {"type": "array", "items": _ref("Hit")},
            },
        },
        "NoResultsReason": _nullable({
            "type": "string",
            "enum": ["no_answer", None],
            "description": "Why the list is empty: `no_answer` when nothing in the collection answers the question "
                           "(its nearest passage is no closer than unrelated questions come, and no article holds its "
                           "rare words; the threshold is calibrated by `kb index`, see `answer_threshold` in /health); "
                           "null when there are results.",
        }),
        "Article": {
            "type": "object",
            "required": ["slug", "title", "url", "category", "lang", "audience", "status", "markdown", "html", "faq"],
            "properties": {
                "slug": {"type": "string"},
                "title": {"type": "string"},
                "url": {"type": "string"},
                "category": CATEGORY_NAME,
                "category_slug": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "lang": {"type": "string", "enum": ["ar", "en"]},
                "audience": {"type": "string", "enum": ["public", "internal"]},
                "status": {"type": "string", "enum": ["published"]},
                "updated": _nullable({"type": "string", "format": "date"}),
                "summary": {"type": "string"},
                "translation_of": _nullable({"type": "string"}),
                "faq": {"type": "array", "items": faq},
                "toc": {"type": "array", "items": {"type": "object", "properties": {
                    "level": {"type": "integer"}, "anchor": {"type": "string"}, "title": {"type": "string"},
                }}},
                "markdown": {"type": "string"},
                "html": {"type": "string", "description": "Sanitized HTML."},
            },
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": {"type": "string", "enum": ["ok", "no_index"]},
                "message": {"type": "string"},
                "articles": {"type": "integer"},
                "passages": {"type": "integer"},
                "vectors": {"type": "integer"},
                "index_built_at": _nullable({"type": "string"}),
                "index_updated_at": _nullable({"type": "string"}),
                "index_age_seconds": _nullable({"type": "integer", "description": "Since the index last changed."}),
                "embedding_backend": {"type": "string"},
                "embedding_model": _nullable({"type": "string"}),
                "semantic": {"type": "boolean", "description": "Whether semantic search is up."},
                "semantic_error": _nullable({"type": "string"}),
                "articles_without_vectors": {
                    "type": "integer",
                    "description": "Articles indexed while the model was unavailable: found by keyword only until the next index update with the model.",
                },
                "answer_threshold": _nullable({
                    "type": "number",
                    "description": "Best passage cosine a question needs to get results (null: no dense cut, keyword "
                                   "evidence decides).",
                }),
                "answer_threshold_source": {"type": "string", "enum": ["calibrated", "setting", "none"]},
                "question_memo": {
                    "type": "object",
                    "description": "The model's reading of recent questions this process keeps (query vectors and "
                                   "latent terms): a question asked again is not read by the model again. hits: "
                                   "readings a search found kept; shared_hits: readings another worker process of "
                                   "this server had kept (kb serve --workers N, shared: true); misses: readings the "
                                   "model made (since start).",
                    "properties": {"readings": {"type": "integer"}, "max_readings": {"type": "integer"},
                                   "hits": {"type": "integer"}, "shared": {"type": "boolean"},
                                   "shared_hits": {"type": "integer"}, "misses": {"type": "integer"}},
                },
                "replication": {
                    "type": "object",
                    "description": "This node's place in the change log every node applies (kb serve): 0 changes "
                                   "and 0 seconds behind when it serves everything published on any node.",
                    "properties": {
                        "node_id": {"type": "string"},
                        "applied_seq": {"type": "integer", "description": "The last change applied here."},
                        "head_seq": {"type": "integer", "description": "The newest change in the database."},
                        "changes_behind": {"type": "integer"},
                        "seconds_behind": {"type": "integer",
                                           "description": "Age of the oldest change not applied here yet (0: none)."},
                        "notifications": {"type": "string", "enum": ["listen", "poll"],
                                          "description": "listen: PostgreSQL NOTIFY wakes the applier; poll: every second."},
                        "running": {"type": "boolean"},
                    },
                },
                "semantic_caught_up": {
                    "type": "boolean",
                    "description": "True when every published article's vectors are in: semantic search has caught "
                                   "up with the last publish (publishes are searchable by keyword at once, their "
                                   "vectors follow in the background).",
                },
                "background": {
                    "type": "object",
                    "description": "The background vector worker: what it is doing and how far it is.",
                    "properties": {
                        "task": {"type": "string", "enum": ["idle", "embedding", "re-embedding"],
                                 "description": "embedding: new or changed passages; re-embedding: everything, for a "
                                                "new model."},
                        "done": {"type": "integer"},
                        "total": {"type": "integer"},
                        "publishes_waiting": {"type": "integer",
                                              "description": "Publishes that could not reach the index yet and are retried."},
                    },
                },
                "answer_calibration": _nullable({
                    "type": "object",
                    "description": "What `kb index` measured: threshold, spread, probe and pseudo-question counts and "
                                   "quantiles, model fingerprint, and `inputs`, a digest of the probe lists and dialect "
                                   "lexicon it was measured with (when they change, it is measured again).",
                }),
                "answer_landmarks": _nullable({
                    "type": "object",
                    "description": "The question vectors searches compare a question with (off-topic and everyday "
                                   "probes and the MSA readings of the dialect ones; the articles' own titles, FAQ "
                                   "questions and headings, also worded in each dialect): a question nearer to a probe "
                                   "needs a closer passage to get results. Null when the answer_landmarks setting is "
                                   "off or the index was calibrated before they existed (the next `kb index` adds them). "
                                   "`latent_terms`: the model's latent terms of those questions are compared too "
                                   "(the answer_latent_weight setting; false for a model without them).",
                    "properties": {"probes": {"type": "integer"}, "own_questions": {"type": "integer"},
                                   "latent_terms": {"type": "boolean"}},
                }),
            },
        },
    }


def _responses(*names: str, ok: dict) -> dict:
    codes = {"BadRequest": "400", "Unauthorized": "401", "NotFound": "404", "TooLarge": "413",
             "UnsupportedMediaType": "415", "TooManyRequests": "429", "Unavailable": "503"}
    responses = {"200": ok}
    responses.update({codes[name]: {"$ref": f"#/components/responses/{name}"} for name in names})
    return responses


def _json_body(schema: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


def _paths(settings: Settings, categories: Sequence[str]) -> dict:
    keyed = [{"bearerAuth": []}]
    keyed_errors = ("BadRequest", "Unauthorized", "TooLarge", "UnsupportedMediaType", "TooManyRequests")
    return {
        "/api/v1/suggest": {"post": {
            "operationId": "suggest",
            "summary": "Suggest articles for a customer's message (greetings, numbers, signatures are ignored).",
            "security": keyed,
            "requestBody": _json_body("SuggestRequest"),
            "responses": _responses(*keyed_errors, "Unavailable", ok=_json(_ref("SuggestResponse"), "Suggestions.")),
        }},
        "/api/v1/feedback": {"post": {
            "operationId": "feedback",
            "summary": "Record whether a suggestion helped.",
            "security": keyed,
            "requestBody": _json_body("FeedbackRequest"),
            "responses": _responses(*keyed_errors, "NotFound", ok=_json(_ref("FeedbackResponse"), "Recorded.")),
        }},
        "/api/v1/search": {"get": {
            "operationId": "search",
            "summary": "Search published public articles.",
            "parameters": [
                {"name": "q", "in": "query", "required": True, "schema": {
                    "type": "string", "minLength": 1, "maxLength": settings.max_query_chars, "pattern": NOT_BLANK}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}},
                {"name": "category", "in": "query", "schema": _category_schema(categories)},
                {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["ar", "en"]}},
            ],
            "responses": _responses("BadRequest", "TooManyRequests", "Unavailable",
                                    ok=_json(_ref("SearchResponse"), "Hits, best first.")),
        }},
        "/api/v1/articles/{slug}": {"get": {
            "operationId": "getArticle",
            "summary": "One published article: metadata, Markdown and sanitized HTML. Internal ones need a key.",
            "security": [{}, {"bearerAuth": []}],
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": _responses("Unauthorized", "NotFound", "TooManyRequests", ok=_json(_ref("Article"), "The article.")),
        }},
        "/api/v1/health": {"get": {
            "operationId": "health",
            "summary": "Articles, passages, index age, embedding backend, whether semantic search is up.",
            "responses": {"200": _json(_ref("Health"), "Serving."), "503": _json(_ref("Health"), "No index yet.")},
        }},
        "/api/v1/openapi.json": {"get": {
            "operationId": "openapi",
            "summary": "This document.",
            "responses": {"200": {"description": "OpenAPI 3 document.", "content": {"application/json": {"schema": {"type": "object"}}}}},
        }},
    }


def _category_schema(categories: Sequence[str], nullable: bool = False) -> dict:
    """A category slug of this help center (the document lists them: a request naming another
    is a 400); empty (or null where allowed) is every category.  OpenAPI 3.0.3: a nullable
    enum lists null among its values."""
    schema = {"type": "string", "maxLength": MAX_CATEGORY_CHARS,
              "description": "Category slug to search in; empty or absent: every category."}
    if categories:
        schema["enum"] = ["", *categories, *([None] if nullable else [])]
    return _nullable(schema) if nullable else schema


def openapi_document(settings: Settings, categories: Sequence[str] = ()) -> dict:
    """The OpenAPI 3.0 document for these settings and these category slugs (none: any string)."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "kb agent-assist API",
            "version": "1.0.0",
            "description": "Every error is JSON: {\"error\": {\"code\", \"message\", \"field\"?}}.",
        },
        "paths": _paths(settings, categories),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "kb apikey create"}},
            "schemas": _schemas(settings, categories),
            "responses": _RESPONSES,
        },
    }
