"""No query breaks search: a table of hostile input, then thousands of random queries.

Every query must return (no exception, no hang).  The random queries come from a fixed
seed, so a failure is reproducible; each one runs under a generous time limit that only
catches a hang (block-max loops in Whoosh, runaway fuzzy expansion), not slowness.
"""

from __future__ import annotations

import math
import random
import threading
import time

import pytest

from kb import KbError
from kb.search_results import SearchPage

PER_QUERY_SECONDS = 10.0
RANDOM_KEYWORD_QUERIES = 3000
RANDOM_HYBRID_QUERIES = 200
SEED = 20261125

ARABIC_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأؤإئةى"
DIACRITICS = "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670"
INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u061c"
SYNTAX = [
    "AND", "OR", "NOT", "OR NOT", "AND NOT", "(", ")", "((", "))", '"', "'", "*", "?", ":", "title:x", "body:",
    "slug:*", "id:a:x", "~", "~2", "^2", "[", "]", "{", "}", "[a TO z]", "\\", "/", "-", "+", "&&", "||", "!", "%",
    "_", "$", "#", "<b>", "</mark>", "&amp;", "'; DROP TABLE articles; --",
]
STOP_WORDS = ["في", "من", "على", "إلى", "عن", "هل", "كيف", "ماذا", "the", "and", "how", "what", "is"]
REAL_WORDS = ["العملاء", "الشكاوى", "استرداد", "إدارة", "الوقت", "البريد", "الدردشة", "refund", "review", "غاضب"]
OTHER_SCRIPTS = ["Привет", "你好世界", "שלום", "नमस्ते", "γειά", "こんにちは", "안녕하세요", "سلام دنیا", "ﷺ", "ﻻ"]
EMOJI = ["😀", "🔥", "👍🏽", "🇸🇦", "❤️", "👨‍👩‍👧"]

HOSTILE = [
    "",
    " ",
    "\t\n\r",
    "AND",
    "OR",
    "NOT",
    "OR NOT",
    "AND OR NOT",
    "العملاء AND",
    "NOT العملاء",
    '"',
    '"العملاء',
    '""',
    "(",
    "((((",
    "))",
    "[",
    "{",
    "*",
    "?",
    "???",
    "ع*",
    "*ملاء",
    ":",
    "::",
    "title:x",
    "slug:سياسة-الاسترداد",
    "العملاء~",
    "العملاء^10",
    "a" * 100_000,
    "ا" * 100_000,
    "الشكاوى " * 20_000,
    "في من على عن هل كيف ماذا",
    "the and of a how",
    "ًٌٍَُِّْ",
    "ـــــــ",
    "😀🔥👍🏽",
    "\u200f\u200e\u202b\u202c",
    "\u200fالعملاء\u200e",
    "\x00",
    "abc\x00def",
    "العملاء\x00الشكاوى",
    "\ud800",
    "العملاء\udfff",
    "\x1b[31mred\x1b[0m",
    "<script>alert(1)</script>",
    "'; DROP TABLE articles; --",
    "%00%0a",
    "Привет 你好 שלום العملاء",
    "١٢٣٤٥ ۶۷۸",
    "ﻻ ﷺ ﷽",
    "\ufffd\ufffe\uffff",
    "🇸🇦" * 300,
]


def check_page(page: SearchPage, knowledge, limit: int = 10) -> None:
    assert isinstance(page, SearchPage)
    assert len(page.hits) <= limit
    assert page.listed >= len(page.hits) and page.total <= page.listed  # answers, then related ones
    assert [hit.related for hit in page.hits] == sorted(hit.related for hit in page.hits)
    for hit in page.hits:
        assert hit.slug in knowledge.catalog.articles
        assert math.isfinite(hit.score)
        assert hit.snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


@pytest.mark.parametrize("query", HOSTILE, ids=lambda q: repr(q[:30]))
def test_hostile_query_in_keyword_mode(session_kb, query):
    check_page(session_kb.search_page(query, mode="keyword"), session_kb)


@pytest.mark.parametrize("query", HOSTILE[::4] + ["\ud800", "العملاء\udfff", "\x00"], ids=lambda q: repr(q[:30]))
@pytest.mark.parametrize("mode", ["hybrid", "semantic"])
def test_hostile_query_in_semantic_modes(session_kb, query, mode):
    check_page(session_kb.search_page(query, mode=mode), session_kb)


@pytest.mark.parametrize("query", ["العملاء", "", "AND", "\x00", "ع*"])
def test_hostile_autocomplete(session_kb, query):
    assert isinstance(session_kb.autocomplete(query), list)


@pytest.mark.parametrize(
    "options",
    [
        {"category": "'\"; --"},
        {"category": "*"},
        {"category": ""},
        {"tags": ["*", "AND", "", "\x00", "a,b"]},
        {"tags": ("الشكاوى", "OR")},
        {"lang": "xx"},
        {"lang": "*"},
        {"limit": 0},
        {"limit": -5},
        {"limit": 10_000},
        {"offset": -1},
        {"offset": 10_000},
        {"include_drafts": True, "include_internal": True},
    ],
)
@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_hostile_search_options(session_kb, options, mode):
    page = session_kb.search_page("العملاء الغاضبين", mode=mode, **options)
    check_page(page, session_kb, limit=100)


@pytest.mark.parametrize("query", [None, 42, b"bytes", ["list"]])
def test_a_query_that_is_not_text_is_a_clear_error(session_kb, query):
    with pytest.raises(KbError) as caught:
        session_kb.search_page(query, mode="keyword")  # type: ignore[arg-type]
    assert caught.value.field == "q"


@pytest.mark.parametrize("mode", ["fuzzy", "KEYWORD", "hybrid ", "keyword\x00"])
def test_an_unknown_mode_is_a_clear_error(session_kb, mode):
    with pytest.raises(KbError) as caught:
        session_kb.search_page("العملاء", mode=mode)
    assert caught.value.field == "mode"


# -- random queries ------------------------------------------------------------------------------------


def random_query(rng: random.Random) -> str:
    kind = rng.randrange(12)
    if kind == 0:  # any code point, surrogates and private use included
        return "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(0, 40)))
    if kind == 1:  # Arabic-looking words with diacritics, tatweel and invisible characters
        return " ".join(
            "".join(rng.choice(ARABIC_LETTERS + DIACRITICS + "ـ" + INVISIBLE) for _ in range(rng.randrange(1, 12)))
            for _ in range(rng.randrange(1, 8))
        )
    if kind == 2:  # query syntax soup
        return " ".join(rng.choice(SYNTAX) for _ in range(rng.randrange(1, 10)))
    if kind == 3:  # real words glued to syntax
        return "".join(rng.choice(SYNTAX + REAL_WORDS + [" "]) for _ in range(rng.randrange(1, 12)))
    if kind == 4:
        return " ".join(rng.choice(STOP_WORDS) for _ in range(rng.randrange(1, 10)))
    if kind == 5:
        return "".join(rng.choice(DIACRITICS + "ـ" + INVISIBLE) for _ in range(rng.randrange(1, 30)))
    if kind == 6:  # mixed scripts, emoji, RTL marks
        parts = OTHER_SCRIPTS + EMOJI + REAL_WORDS + list(INVISIBLE)
        return rng.choice(["", " "]).join(rng.choice(parts) for _ in range(rng.randrange(1, 8)))
    if kind == 7:  # control characters and null bytes
        return "".join(chr(rng.randrange(0, 0x20)) if rng.random() < 0.5 else rng.choice(REAL_WORDS) for _ in range(6))
    if kind == 8:  # real words with one letter changed: typo tolerance at work
        word = list(rng.choice(REAL_WORDS))
        word[rng.randrange(len(word))] = rng.choice(ARABIC_LETTERS)
        return "".join(word) + " " + rng.choice(REAL_WORDS)
    if kind == 9:  # digits of every script
        return " ".join(str(rng.randrange(10**6)).translate(str.maketrans("0123456789", rng.choice(["٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "0123456789"]))) for _ in range(3))
    if kind == 10 and rng.random() < 0.02:  # now and then a huge query (it must be capped)
        return rng.choice(REAL_WORDS + SYNTAX) * rng.randrange(5_000, 20_000)
    return " ".join(rng.choice(REAL_WORDS + STOP_WORDS) for _ in range(rng.randrange(1, 6)))


def run_with_watchdog(queries: list[str], search, seconds: float) -> list[tuple[str, BaseException]]:
    """Run search(query) for each query in a worker thread; fail if one query hangs."""
    state = {"index": -1, "started": time.monotonic(), "done": False}
    errors: list[tuple[str, BaseException]] = []

    def work() -> None:
        for i, query in enumerate(queries):
            state["index"], state["started"] = i, time.monotonic()
            try:
                search(query)
            except BaseException as exc:  # noqa: BLE001 - collected and reported below
                errors.append((query, exc))
        state["done"] = True

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    while not state["done"]:
        worker.join(0.2)
        running_for = time.monotonic() - state["started"]
        if not state["done"] and running_for > seconds:
            query = queries[state["index"]]
            pytest.fail(f"query #{state['index']} {query[:200]!r} ran for more than {seconds:.0f} s")
    return errors


def test_thousands_of_random_queries_in_keyword_mode(session_kb):
    rng = random.Random(SEED)
    queries = [random_query(rng) for _ in range(RANDOM_KEYWORD_QUERIES)]
    errors = run_with_watchdog(
        queries, lambda q: check_page(session_kb.search_page(q, mode="keyword"), session_kb), PER_QUERY_SECONDS
    )
    assert errors == [], f"{len(errors)} queries failed, first: {errors[0][0][:200]!r}: {errors[0][1]!r}"


def test_hundreds_of_random_queries_in_hybrid_mode(session_kb):
    rng = random.Random(SEED + 1)
    queries = [random_query(rng) for _ in range(RANDOM_HYBRID_QUERIES)]
    errors = run_with_watchdog(
        queries, lambda q: check_page(session_kb.search_page(q, mode="hybrid"), session_kb), PER_QUERY_SECONDS
    )
    assert errors == [], f"{len(errors)} queries failed, first: {errors[0][0][:200]!r}: {errors[0][1]!r}"


def test_watchdog_catches_a_hang():
    """The guard itself works: a query that never returns fails the test instead of hanging it."""
    release = threading.Event()
    with pytest.raises(pytest.fail.Exception, match="ran for more than"):
        run_with_watchdog(["stuck"], lambda q: release.wait(5), seconds=0.3)
    release.set()
