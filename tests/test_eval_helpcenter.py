"""scripts/eval_helpcenter.py: one run reports every in-domain and off-topic question file.

The report functions are checked on rows written here; the whole script runs as a subprocess (as people
run it) with the real model on three of the test articles and four small question files, and its text
and JSON reports are checked against the rows it returned.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "scripts" / "eval_helpcenter.py"
ARTICLES = REPO_ROOT / "tests" / "data" / "articles"
sys.path.insert(0, str(SCRIPT.parent))

import eval_helpcenter  # noqa: E402
from eval_helpcenter import SetError  # noqa: E402

ANGRY = "handling-angry-customers"
CHAT = "email-and-live-chat-support"
POSITIVE = "positive-language"
INDEXED = ("complaints-and-angry-customers/handling-angry-customers.md",
           "digital-channels/email-and-live-chat-support.md", "communication/positive-language.md")

TUNING = [
    {"id": "t-1", "question": "كيف أتعامل مع العميل الغاضب", "gold": [ANGRY], "dialect": "msa", "kind": "agent"},
    {"id": "t-2", "question": "how fast should I answer a customer email", "gold": [CHAT], "dialect": "english", "kind": "customer"},
    {"id": "t-3", "question": "عميل معصب وايد وش اسوي", "gold": [ANGRY], "dialect": "gulf", "kind": "agent"},
    {"id": "t-4", "question": "الردود الجاهزة في الدردشة الحية", "gold": [CHAT], "dialect": "msa", "kind": "agent"},
]
HELD_OUT = [
    {"id": "h-1", "question": "شو بقول بدل ما قول للزبون لا ما فينا", "gold": [POSITIVE], "dialect": "levantine", "kind": "agent"},
    {"id": "h-2", "question": "اللغة الإيجابية مع العملاء", "gold": [POSITIVE], "dialect": "msa", "kind": "customer"},
    {"id": "h-3", "question": "العميل بيزعق في التليفون اعمل ايه", "gold": [ANGRY, POSITIVE], "dialect": "egyptian", "kind": "agent"},
]
ENCYCLOPEDIA = [
    {"id": "e-1", "question": "متى تأسست الدولة العباسية؟", "source": "arcd", "kind": "general-knowledge"},
    {"id": "e-2", "question": "ما هي عاصمة أستراليا؟", "source": "nsurl_q2q", "kind": "general-knowledge"},
    {"id": "e-3", "question": "كم يبلغ طول نهر النيل؟", "source": "arcd", "kind": "general-knowledge"},
    {"id": "e-4", "question": "xqzv blorf wemm", "source": "written", "kind": "nonsense"},
]
EVERYDAY = [
    {"id": "d-1", "question": "الجنيه الدهب بكام النهارده", "dialect": "egyptian", "topic": "prices", "kind": "everyday"},
    {"id": "d-2", "question": "وش احسن فريق بالدوري", "dialect": "gulf", "topic": "sport", "kind": "everyday"},
    {"id": "d-3", "question": "best recipe for banana bread", "dialect": "english", "topic": "cooking", "kind": "everyday"},
    {"id": "d-4", "question": "قديش الطقس بكرا بعمان", "dialect": "levantine", "topic": "weather", "kind": "everyday"},
]
FILES = {"tuning.jsonl": TUNING, "heldout.jsonl": HELD_OUT, "encyclopedia.jsonl": ENCYCLOPEDIA, "everyday.jsonl": EVERYDAY}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def row(id_: str, rank: int | None, found: int = 1, **fields) -> dict:
    """A result row as `run` makes it: `found` slugs, the right one (if any) at `rank`."""
    slugs = [f"other-{i}" for i in range(found)]
    if rank is not None:
        slugs[rank - 1] = "gold"
    answers = fields.pop("answers", found)  # how many of them answer (kb.search.tiers); the rest are related
    return {"id": id_, "question": id_, "gold": ["gold"], "found": slugs, "scores": [1.0] * found, "rank": rank,
            "answers": answers, **fields}


# ---- the summaries, on rows written here ----

def test_in_domain_summary_per_dialect_kind_and_half():
    rows = [row("a", 1, dialect="gulf", kind="agent"), row("b", 5, found=6, answers=3, dialect="egyptian", kind="agent"),
            row("c", None, found=0, dialect="gulf", kind="customer"), row("d", 2, found=3, dialect="gulf", kind="agent")]
    summary = eval_helpcenter.in_domain_summary(rows)
    assert list(summary) == ["egyptian", "gulf", "kind agent", "kind customer", "first half", "second half", "all"]
    assert summary["all"] == {"questions": 4, "with results": 0.75, "top-1": 0.25, "top-3": 0.5, "top-10": 0.75,
                              "answers (median)": 2.0, "right answers": 0.5}  # b's right article is a related one
    assert summary["gulf"] == {"questions": 3, "with results": 2 / 3, "top-1": 1 / 3, "top-3": 2 / 3, "top-10": 2 / 3,
                               "answers (median)": 1, "right answers": 2 / 3}
    assert summary["first half"]["top-1"] == 0.5 and summary["second half"]["top-10"] == 0.5


def test_off_topic_summary_groups_by_every_field_the_file_has():
    everyday = [row(f"d{i}", None, found=i % 2, dialect=d, topic=t)
                for i, (d, t) in enumerate([("gulf", "prices"), ("msa", "prices"), ("gulf", "sport"), ("msa", "sport")])]
    summary = eval_helpcenter.off_topic_summary(everyday)
    assert list(summary) == ["dialect gulf", "dialect msa", "topic prices", "topic sport", "first half", "second half", "all"]
    assert summary["dialect gulf"] == {"questions": 2, "no results": 1.0}
    assert summary["dialect msa"] == {"questions": 2, "no results": 0.0}
    assert summary["topic prices"]["no results"] == 0.5 and summary["all"]["no results"] == 0.5

    encyclopedia = [row("e1", None, found=0, source="arcd"), row("e2", None, found=2, source="written")]
    assert list(eval_helpcenter.off_topic_summary(encyclopedia)) == ["source arcd", "source written", "first half",
                                                                     "second half", "all"]


def test_a_one_question_file_has_no_first_half_and_the_summary_says_so():
    summary = eval_helpcenter.off_topic_summary([row("x", None, found=0)])
    assert list(summary) == ["second half", "all"]
    assert eval_helpcenter.split(summary, "no results") == "- / 1.000 / 1.000"


# ---- the question files: checked before the index is opened ----

@pytest.mark.parametrize(("line", "in_domain", "message"), [
    ('{"id": "q", "question": "x", "gold": ["a"]', True, r":2: not JSON"),
    ('["q", "x"]', True, r":2: expected a JSON object, got list"),
    ('{"id": "q", "question": "  ", "gold": ["a"]}', True, r":2: field 'question' must be a non-empty string"),
    ('{"question": "x", "gold": ["a"]}', True, r":2: field 'id' must be a non-empty string"),
    ('{"id": "q", "question": "x", "gold": []}', True, r":2: field 'gold' must be a non-empty list"),
    ('{"id": "q", "question": "x"}', True, r":2: field 'gold' must be a non-empty list"),
    ('{"id": "q", "question": "x", "gold": ["a"], "dialect": 3}', True, r":2: field 'dialect' must be a string"),
    ('{"id": "ok", "question": "x", "gold": ["a"]}', True, r":2: id 'ok' appears twice"),
    ('{"id": "q", "question": "x", "gold": ["a"]}', False, r":2: an off-topic question has 'gold'"),
])
def test_bad_question_files_name_the_file_line_and_field(tmp_path, line, in_domain, message):
    first = '{"id": "ok", "question": "y", "gold": ["a"]}' if in_domain else ""
    path = tmp_path / "set.jsonl"
    path.write_text(f"{first}\n{line}\n", encoding="utf-8")
    with pytest.raises(SetError, match=rf"set\.jsonl{message}"):
        eval_helpcenter.load_set(path, in_domain)


def test_missing_empty_and_repeated_files_are_errors(tmp_path):
    with pytest.raises(SetError, match=r"missing\.jsonl: cannot read"):
        eval_helpcenter.load_set(tmp_path / "missing.jsonl", True)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(SetError, match=r"empty\.jsonl: no questions"):
        eval_helpcenter.load_set(empty, False)
    questions = write_jsonl(tmp_path / "q.jsonl", TUNING)
    with pytest.raises(SetError, match=r"q\.jsonl: given more than once"):
        eval_helpcenter.load_sets([questions, tmp_path / "." / "q.jsonl"], [write_jsonl(tmp_path / "o.jsonl", EVERYDAY)])


def test_sets_are_named_by_file_and_by_path_when_two_share_a_name(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = write_jsonl(tmp_path / "a" / "q.jsonl", TUNING), write_jsonl(tmp_path / "b" / "q.jsonl", HELD_OUT)
    off_topic = write_jsonl(tmp_path / "everyday.jsonl", EVERYDAY)
    sets = eval_helpcenter.load_sets([first, second], [off_topic])
    assert [(s.name, s.in_domain, len(s.questions)) for s in sets] == [
        (str(first), True, 4), (str(second), True, 3), ("everyday.jsonl", False, 4)]


def test_defaults_are_every_in_domain_then_every_off_topic_set():
    assert [path.name for path in eval_helpcenter.IN_DOMAIN] == [
        "helpcenter_questions.jsonl", "helpcenter_heldout.jsonl", "helpcenter_heldout2.jsonl", "helpcenter_arabizi.jsonl",
        "helpcenter_short.jsonl", "helpcenter_english.jsonl"]
    assert [path.name for path in eval_helpcenter.OFF_TOPIC] == [
        "offtopic_questions.jsonl", "everyday_offtopic.jsonl", "arabizi_offtopic.jsonl"]
    sets = eval_helpcenter.load_sets(list(eval_helpcenter.IN_DOMAIN), list(eval_helpcenter.OFF_TOPIC))
    assert [s.in_domain for s in sets] == [True] * 6 + [False] * 3


def test_a_bad_file_stops_the_script_before_the_index_is_built(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "q", "question": "x"}\n', encoding="utf-8")
    done = subprocess.run([sys.executable, str(SCRIPT), "--work", str(tmp_path / "work"), "--questions", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "bad.jsonl:1: field 'gold' must be a non-empty list" in done.stderr
    assert not (tmp_path / "work").exists()


# ---- the whole script, real model, three articles ----

@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Path, list[str]]:
    """Three test articles and the four question files; the arguments that point the script at them."""
    base = tmp_path_factory.mktemp("evalhc")
    for name in ("_categories.yml", *INDEXED):
        (base / "articles" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ARTICLES / name, base / "articles" / name)
    paths = {name: write_jsonl(base / name, rows) for name, rows in FILES.items()}
    args = ["--articles", str(base / "articles"), "--work", str(base / "work"),
            "--questions", str(paths["tuning.jsonl"]), "--questions", str(paths["heldout.jsonl"]),
            "--off-topic", str(paths["encyclopedia.jsonl"]), "--off-topic", str(paths["everyday.jsonl"])]
    return base, args


def script(args: list[str]) -> str:
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def every_mode(setup) -> dict:
    return json.loads(script([*setup[1], "--mode", "all", "--json"]))


def test_json_reports_every_file_in_every_mode(every_mode):
    assert list(every_mode) == ["keyword", "semantic", "hybrid"]
    for mode, result in every_mode.items():
        assert list(result["in_domain_sets"]) == ["tuning.jsonl", "heldout.jsonl"]
        assert list(result["off_topic_sets"]) == ["encyclopedia.jsonl", "everyday.jsonl"]
        for name, found in {**result["in_domain_sets"], **result["off_topic_sets"]}.items():
            assert [r["id"] for r in found["rows"]] == [q["id"] for q in FILES[name]], (mode, name)
            assert {r["mode"] for r in found["rows"]} == {mode}
            assert found["path"].endswith(name)
        # The keys of the one-file report: the first file of each kind.
        assert result["in_domain"] == result["in_domain_sets"]["tuning.jsonl"]["summary"]
        assert result["in_domain_rows"] == result["in_domain_sets"]["tuning.jsonl"]["rows"]
        assert result["off_topic"] == result["off_topic_sets"]["encyclopedia.jsonl"]["summary"]
        assert result["off_topic_rows"] == result["off_topic_sets"]["encyclopedia.jsonl"]["rows"]


def test_json_summaries_agree_with_the_rows(every_mode):
    for result in every_mode.values():
        for found in result["in_domain_sets"].values():
            for r in found["rows"]:
                assert r["rank"] == next((i + 1 for i, slug in enumerate(r["found"]) if slug in r["gold"]), None)
                assert len(r["scores"]) == len(r["found"]) <= 10
            rows, summary = found["rows"], found["summary"]
            assert summary["all"]["questions"] == len(rows)
            assert summary["all"]["top-3"] == sum(1 for r in rows if r["rank"] and r["rank"] <= 3) / len(rows)
            assert summary["all"]["with results"] == sum(1 for r in rows if r["found"]) / len(rows)
            assert summary["first half"]["questions"] + summary["second half"]["questions"] == len(rows)
            for dialect in {r["dialect"] for r in rows}:
                assert summary[dialect]["questions"] == sum(1 for r in rows if r["dialect"] == dialect)
        for name, found in result["off_topic_sets"].items():
            rows, summary = found["rows"], found["summary"]
            assert summary["all"]["no results"] == sum(1 for r in rows if not r["found"]) / len(rows)
            fields = ("source",) if name == "encyclopedia.jsonl" else ("dialect", "topic")
            groups = {f"{field} {r[field]}" for r in rows for field in fields}
            assert set(summary) == groups | {"first half", "second half", "all"}


def test_the_right_article_is_found_for_plain_questions(every_mode):
    """Not a quality benchmark: a question worded like the article's title, on three articles."""
    for mode in ("keyword", "hybrid"):
        rows = {r["id"]: r for r in every_mode[mode]["in_domain_sets"]["tuning.jsonl"]["rows"]}
        assert rows["t-1"]["rank"] == 1, (mode, rows["t-1"]["found"])
        assert rows["t-4"]["rank"] == 1, (mode, rows["t-4"]["found"])


def test_text_report_and_misses_cover_every_file(setup, every_mode):
    text = script([*setup[1], "--mode", "keyword", "--show-misses"])
    expected = every_mode["keyword"]
    summary_lines = [line for line in text.split("### In-domain,")[0].splitlines() if line.startswith("| keyword |")]
    assert [line.split(" | ")[1] for line in summary_lines] == list(FILES)
    tuning = expected["in_domain_sets"]["tuning.jsonl"]["summary"]
    assert (f"| keyword | tuning.jsonl | 4 | {tuning['first half']['top-1']:.3f} / {tuning['second half']['top-1']:.3f}"
            f" / {tuning['all']['top-1']:.3f} |") in text
    for name in ("tuning.jsonl", "heldout.jsonl"):
        assert f"### In-domain, {name} " in text
        misses = [r for r in expected["in_domain_sets"][name]["rows"] if r["rank"] is None or r["rank"] > 3]
        section = text.split(f"### Misses, keyword, {name}: right article not in the top 3 ({len(misses)})")[1]
        section = section.split("###")[0]
        assert [line.split()[1] for line in section.splitlines() if line.startswith("- ")] == [r["id"] for r in misses]
    for name in ("encyclopedia.jsonl", "everyday.jsonl"):
        assert f"### Off-topic, {name} (share with no results)" in text
        answered = [r for r in expected["off_topic_sets"][name]["rows"] if r["found"]]
        section = text.split(f"### Off-topic with results, keyword, {name} ({len(answered)})")[1].split("###")[0]
        assert [line.split()[1] for line in section.splitlines() if line.startswith("- ")] == [r["id"] for r in answered]
        for r in answered:
            assert f"first: {r['found'][0]} (score {r['scores'][0]})" in section
    assert "| keyword | dialect levantine | 1 |" in text  # everyday.jsonl, per dialect
    assert "| keyword | topic weather | 1 |" in text
    assert "| keyword | source arcd | 2 |" in text
