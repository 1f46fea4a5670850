"""The in-domain and off-topic evaluation sets in scripts/data (see scripts/data/README.md).

These files are the yardstick for search quality on the help center itself, so a wrong gold slug,
a duplicate or a lopsided split between the tuning half and the held-out half silently skews every
number reported from them.  Validated against the real launch articles.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import pytest

from kb.content.articles import load_articles

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "scripts" / "data"
SHARED_EVAL = Path(os.environ.get("KB_SHARED_DIR", ROOT.parent / "shared")) / "eval"
DIALECTS = {"gulf": 30, "levantine": 30, "egyptian": 30, "english": 10, "maghrebi": 0}
HELDOUT_DIALECTS = {"gulf": 25, "levantine": 25, "egyptian": 25, "maghrebi": 20, "english": 25}
ARABIZI_DIALECTS = {"egyptian": 18, "levantine": 18, "gulf": 14, "maghrebi": 10}
SHORT_DIALECTS = {"msa": 20, "english": 20, "gulf": 10, "levantine": 10, "egyptian": 10, "maghrebi": 10}
# English questions in everyday words, written blind to the search code (helpcenter_english.jsonl).
ENGLISH_DIALECTS = {"english": 60}
# What people type into a search box: a few words, not a sentence (helpcenter_short.jsonl).
SHORT_MOST_WORDS = 4
# The in-domain sets, checked alike: the one search settings are tuned on (first half), and two held-out ones written
# later by people who had not seen the others, for questions the settings were never tuned on (the first half of
# helpcenter_heldout.jsonl is now used for development, so helpcenter_heldout2.jsonl is the one nobody tunes on).
# The short, Arabizi and English sets were written blind to the search code; the first half of each is for development.
# Id prefix: (file, least questions per dialect, least questions in all).
IN_DOMAIN_SETS = {
    "hc": ("helpcenter_questions.jsonl", DIALECTS, 100),
    "hh": ("helpcenter_heldout.jsonl", HELDOUT_DIALECTS, 120),
    "h2": ("helpcenter_heldout2.jsonl", HELDOUT_DIALECTS, 120),
    "az": ("helpcenter_arabizi.jsonl", ARABIZI_DIALECTS, 60),
    "hs": ("helpcenter_short.jsonl", SHORT_DIALECTS, 80),
    "he": ("helpcenter_english.jsonl", ENGLISH_DIALECTS, 60),
}
HELD_OUT_FILES = ("helpcenter_heldout.jsonl", "helpcenter_heldout2.jsonl")
SOURCES = {"arcd", "nsurl_q2q", "written"}
EVERYDAY_DIALECTS = {"gulf": 40, "levantine": 40, "egyptian": 40, "maghrebi": 40, "msa": 40, "english": 40}
EVERYDAY_TOPICS = {"prices", "cooking", "health", "weather", "sport", "travel", "religion", "school", "tech", "cars",
                   "shopping", "celebrities", "trivia", "smalltalk"}
ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")
LATIN_LETTER = re.compile(r"[A-Za-z]")
# Words no off-topic question may contain: the sets are screened so that none is about customer service.
IN_DOMAIN_WORDS = re.compile(r"عميل|عملاء|زبون|زبائن|زباين|خدمة|شكوى|شكاو|موظف|customer|support|complain", re.IGNORECASE)


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{path.name}:{number}: blank line"
        rows.append(json.loads(line))
    return rows


def normalized(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


@pytest.fixture(scope="module")
def catalog():
    return load_articles(ROOT / "articles")


@pytest.fixture(scope="module")
def questions():
    return read_jsonl(DATA / "helpcenter_questions.jsonl")


class InDomainSet(NamedTuple):
    prefix: str  # ids run f"{prefix}-001", f"{prefix}-002", ... in file order
    rows: list[dict]
    dialects: dict[str, int]
    minimum: int


@pytest.fixture(scope="module", params=sorted(IN_DOMAIN_SETS))
def in_domain(request) -> InDomainSet:
    file, dialects, minimum = IN_DOMAIN_SETS[request.param]
    return InDomainSet(request.param, read_jsonl(DATA / file), dialects, minimum)


@pytest.fixture(scope="module")
def heldout():
    return read_jsonl(DATA / "helpcenter_heldout.jsonl")


@pytest.fixture(scope="module")
def heldout2():
    return read_jsonl(DATA / "helpcenter_heldout2.jsonl")


@pytest.fixture(scope="module")
def off_topic():
    return read_jsonl(DATA / "offtopic_questions.jsonl")


@pytest.fixture(scope="module")
def everyday():
    return read_jsonl(DATA / "everyday_offtopic.jsonl")


def balanced(rows: list[dict], field: str) -> None:
    """Every group has the same share in the tuning half and the held-out half (within one question)."""
    middle = len(rows) // 2
    first, second = Counter(r[field] for r in rows[:middle]), Counter(r[field] for r in rows[middle:])
    for group in first | second:
        assert abs(first[group] - second[group]) <= 1, f"{field}={group}: {first[group]} vs {second[group]} per half"


def test_question_shape(in_domain):
    keys = {"id", "question", "gold", "dialect", "kind", "note"}
    for number, row in enumerate(in_domain.rows, 1):
        assert set(row) == keys, f"line {number}: keys {sorted(row)}"
        assert row["id"] == f"{in_domain.prefix}-{number:03d}", f"line {number}: id {row['id']}"
        assert isinstance(row["question"], str) and row["question"].strip(), row["id"]
        assert isinstance(row["gold"], list) and row["gold"], f"{row['id']}: gold must be a non-empty list"
        assert len(set(row["gold"])) == len(row["gold"]), f"{row['id']}: repeated gold slug"
        assert row["dialect"] in in_domain.dialects, f"{row['id']}: dialect {row['dialect']!r}"
        assert row["kind"] in {"customer", "agent"}, f"{row['id']}: kind {row['kind']!r}"
        assert row["note"].strip(), f"{row['id']}: empty note"


def test_counts_per_dialect_and_halves(in_domain):
    counts = Counter(row["dialect"] for row in in_domain.rows)
    for dialect, minimum in in_domain.dialects.items():
        assert counts[dialect] >= minimum, f"{dialect}: {counts[dialect]} questions, want at least {minimum}"
    assert len(in_domain.rows) >= in_domain.minimum
    balanced(in_domain.rows, "dialect")
    assert set(Counter(row["kind"] for row in in_domain.rows)) == {"customer", "agent"}
    if len(in_domain.dialects) == 1:
        # A one-dialect set (helpcenter_english.jsonl) passes the dialect split whatever its order, so its halves
        # are compared on what it was interleaved by instead: kind, and length (2-5, 6-12, 13+ words).
        balanced(in_domain.rows, "kind")
        words = [len(row["question"].split()) for row in in_domain.rows]
        balanced([{"length": "short" if n <= 5 else "medium" if n <= 12 else "long"} for n in words], "length")


def test_no_duplicate_questions(questions, heldout, heldout2, off_topic, everyday):
    """A question in two sets would count twice; a held-out question that repeats a tuning one is not held out."""
    seen: dict[str, str] = {}
    short = read_jsonl(DATA / "helpcenter_short.jsonl")
    english = read_jsonl(DATA / "helpcenter_english.jsonl")
    for row in questions + heldout + heldout2 + short + english + off_topic + everyday:
        key = normalized(row["question"])
        assert key not in seen, f"{row['id']} repeats {seen[key]}"
        seen[key] = row["id"]


def test_short_set_is_short():
    for row in read_jsonl(DATA / "helpcenter_short.jsonl"):
        assert len(row["question"].split()) <= SHORT_MOST_WORDS, f"{row['id']}: {len(row['question'].split())} words"


def test_gold_articles_exist_and_are_searchable(in_domain, catalog):
    """Searches run without drafts, so a draft can never be the right answer."""
    for row in in_domain.rows:
        for slug in row["gold"]:
            assert slug in catalog.articles, f"{row['id']}: no article with slug {slug!r}"
            assert catalog.articles[slug].status == "published", f"{row['id']}: {slug} is not published"


def test_gold_is_in_the_readers_language(in_domain, catalog):
    """English questions expect the English translation where one exists; dialect questions the Arabic original."""
    english_of = {a.translation_of: a.slug for a in catalog.articles.values() if a.translation_of and a.lang == "en"}
    for row in in_domain.rows:
        langs = {catalog.articles[slug].lang for slug in row["gold"]}
        if row["dialect"] == "english":
            for slug in row["gold"]:
                assert slug not in english_of, f"{row['id']}: expects {slug}, which has English {english_of.get(slug)}"
        else:
            assert langs == {"ar"}, f"{row['id']}: an Arabic question with gold {row['gold']}"


def test_questions_cover_the_launch_articles(in_domain, catalog):
    searchable = {slug for slug, a in catalog.articles.items() if a.status == "published"}
    covered = {slug for row in in_domain.rows for slug in row["gold"]}
    missing = sorted(searchable - covered)
    assert len(covered & searchable) >= 0.9 * len(searchable), f"no question for {missing}"


def test_questions_do_not_copy_article_wording(in_domain, catalog):
    """Questions paraphrase the need; a copied title or FAQ question would measure string matching."""
    copied = {normalized(a.title): slug for slug, a in catalog.articles.items()}
    copied |= {normalized(entry.q): slug for slug, a in catalog.articles.items() for entry in a.faq}
    for row in in_domain.rows:
        assert normalized(row["question"]) not in copied, f"{row['id']} copies {copied[normalized(row['question'])]}"


@pytest.mark.parametrize("file", HELD_OUT_FILES)
def test_held_out_set_asks_about_every_article_twice(file, catalog):
    """The held-out sets guard the "no answer" cut: an article no question asks about could lose its answers unseen."""
    asked = Counter(slug for row in read_jsonl(DATA / file) for slug in row["gold"])
    published = sorted(slug for slug, a in catalog.articles.items() if a.status == "published")
    rare = {slug: asked[slug] for slug in published if asked[slug] < 2}
    assert not rare, f"articles with fewer than two held-out questions: {rare}"


def test_off_topic_shape_and_balance(off_topic):
    for number, row in enumerate(off_topic, 1):
        assert row["id"] == f"off-{number:03d}", f"line {number}: id {row['id']}"
        assert row["source"] in SOURCES, f"{row['id']}: source {row['source']!r}"
        assert isinstance(row["question"], str) and row["question"].strip(), row["id"]
        assert row["kind"].strip(), row["id"]
        expected = {"id", "question", "source", "kind"} | ({"source_id"} if row["source"] != "written" else set())
        assert set(row) == expected, f"{row['id']}: keys {sorted(row)}"
    assert len(off_topic) >= 320
    balanced(off_topic, "source")


def test_off_topic_is_not_about_customer_service(off_topic):
    for row in off_topic:
        assert not IN_DOMAIN_WORDS.search(row["question"]), f"{row['id']} is about the help center's own topic"


@pytest.mark.skipif(not SHARED_EVAL.is_dir(), reason="../shared/eval is not here")
def test_off_topic_questions_come_from_their_collections(off_topic):
    for source in ("arcd", "nsurl_q2q"):
        texts = {row["id"]: row["question"] for row in read_jsonl(SHARED_EVAL / source / "queries.jsonl")}
        for row in (r for r in off_topic if r["source"] == source):
            assert row["source_id"] in texts, f"{row['id']}: no {source} query {row['source_id']}"
            assert normalized(row["question"]) in normalized(texts[row["source_id"]]), row["id"]


def test_everyday_shape_and_mix(everyday):
    """240 short everyday questions, 40 per dialect, every topic present, the same mix in both halves."""
    for number, row in enumerate(everyday, 1):
        assert set(row) == {"id", "question", "dialect", "topic", "kind"}, f"line {number}: keys {sorted(row)}"
        assert row["id"] == f"day-{number:03d}", f"line {number}: id {row['id']}"
        assert isinstance(row["question"], str) and row["question"].strip(), row["id"]
        assert row["dialect"] in EVERYDAY_DIALECTS, f"{row['id']}: dialect {row['dialect']!r}"
        assert row["topic"] in EVERYDAY_TOPICS, f"{row['id']}: topic {row['topic']!r}"
        assert row["kind"] == "everyday", f"{row['id']}: kind {row['kind']!r}"
    assert Counter(row["dialect"] for row in everyday) == Counter(EVERYDAY_DIALECTS)
    topics = Counter(row["topic"] for row in everyday)
    assert set(topics) == EVERYDAY_TOPICS
    for topic, count in topics.items():
        assert 15 <= count <= 25, f"topic {topic}: {count} questions, want 15-25"
    balanced(everyday, "dialect")
    balanced(everyday, "topic")


def test_everyday_language_matches_its_dialect(everyday):
    """English rows hold no Arabic; Arabic rows are written in Arabic letters (no Arabizi), brand names aside."""
    for row in everyday:
        arabic, latin = len(ARABIC_LETTER.findall(row["question"])), len(LATIN_LETTER.findall(row["question"]))
        if row["dialect"] == "english":
            assert arabic == 0, f"{row['id']}: Arabic letters in an English question"
        else:
            assert arabic > 2 * latin, f"{row['id']}: an Arabic question written mostly in Latin letters"


def test_everyday_has_no_duplicates(everyday, questions, off_topic):
    """Within the set, and against both other sets: a shared question would count twice in the reports."""
    seen = {normalized(row["question"]): row["id"] for row in questions + off_topic}
    for row in everyday:
        key = normalized(row["question"])
        assert key not in seen, f"{row['id']} repeats {seen[key]}"
        seen[key] = row["id"]


def test_everyday_is_not_about_customer_service(everyday):
    for row in everyday:
        assert not IN_DOMAIN_WORDS.search(row["question"]), f"{row['id']} is about the help center's own topic"


# -- the Arabizi sets: dialect typed in Latin letters and digits ------------------------------------------


@pytest.fixture(scope="module")
def arabizi_offtopic():
    return read_jsonl(DATA / "arabizi_offtopic.jsonl")


def test_arabizi_questions_are_typed_in_latin_letters(arabizi_offtopic):
    """Both Arabizi sets are dialect in Latin letters, most with the digits Arabizi uses for ع ح ق خ ط."""
    rows = read_jsonl(DATA / "helpcenter_arabizi.jsonl") + arabizi_offtopic
    for row in rows:
        assert not ARABIC_LETTER.search(row["question"]), f"{row['id']}: Arabic letters in an Arabizi question"
        assert LATIN_LETTER.search(row["question"]), row["id"]
    with_digits = sum(1 for row in rows if re.search(r"[A-Za-z][2356789]|[2356789][A-Za-z]", row["question"]))
    assert with_digits >= 0.8 * len(rows)


def test_arabizi_offtopic_shape_and_mix(arabizi_offtopic, questions, everyday):
    for number, row in enumerate(arabizi_offtopic, 1):
        assert set(row) == {"id", "question", "dialect", "topic", "kind"}, f"line {number}: keys {sorted(row)}"
        assert row["id"] == f"azo-{number:03d}", f"line {number}: id {row['id']}"
        assert row["dialect"] in ARABIZI_DIALECTS, f"{row['id']}: dialect {row['dialect']!r}"
        assert row["topic"] in EVERYDAY_TOPICS, f"{row['id']}: topic {row['topic']!r}"
        assert not IN_DOMAIN_WORDS.search(row["question"]), f"{row['id']} is about the help center's own topic"
    assert Counter(row["dialect"] for row in arabizi_offtopic) == {"egyptian": 12, "levantine": 12, "gulf": 10,
                                                                  "maghrebi": 6}
    balanced(arabizi_offtopic, "dialect")
    seen = {normalized(row["question"]): row["id"] for row in questions + everyday}
    seen |= {normalized(row["question"]): row["id"] for row in read_jsonl(DATA / "helpcenter_arabizi.jsonl")}
    for row in arabizi_offtopic:
        assert normalized(row["question"]) not in seen, f"{row['id']} repeats {seen[normalized(row['question'])]}"
        seen[normalized(row["question"])] = row["id"]


def test_arabizi_word_list_shape_and_balance():
    """scripts/data/arabizi_words.tsv (scripts/eval_arabizi_words.py): one Latin word a line with
    its Arabic spellings, 100 words a dialect, the same mix in both halves."""
    with (DATA / "arabizi_words.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) == 400
    for number, row in enumerate(rows, 2):
        assert list(row) == ["arabizi", "arabic", "dialect", "note"], f"line {number}"
        assert re.fullmatch(r"[a-z0-9']*[a-z][a-z0-9']*", row["arabizi"]), f"line {number}: {row['arabizi']!r}"
        assert re.fullmatch(r"[\u0621-\u064A]+(\|[\u0621-\u064A]+)*", row["arabic"]), f"line {number}: {row['arabic']!r}"
        assert row["note"], f"line {number}: no note"
    assert len({row["arabizi"] for row in rows}) == len(rows)
    for half in (rows[:200], rows[200:]):
        assert Counter(row["dialect"] for row in half) == {"egy": 50, "glf": 50, "lev": 50, "mgr": 50}
