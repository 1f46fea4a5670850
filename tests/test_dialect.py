"""Dialect-aware query analysis (kb.search.dialect) and likely-edit typo tolerance.

Customers write Egyptian, Gulf, Levantine and Maghrebi Arabic; the articles are MSA.  The
lexicon maps dialect words to MSA (or drops them) on the keyword side only; typo tolerance
keeps only likely edits, so an unknown dialect word does not turn into an unrelated word.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.search import dialect
from kb.search import dialect_files
from kb.search import keyword
from kb.search import spelling
from kb.search.vocabulary import Vocabulary
from kb.search.vocabulary import typo_likelihood
from staff_fixtures import cheap_hashing  # noqa: F401 - fixtures
from staff_fixtures import editor  # noqa: F401
from staff_fixtures import staff_app  # noqa: F401
from kb.search.ranking import rank_articles
from test_keyword import article_file
from test_keyword import keyword_only_kb

ANGRY = "handling-angry-customers"
REFUND = "سياسة-الاسترداد"
LAUNCH = Path(__file__).resolve().parents[1] / "articles"


def slugs(knowledge, question: str) -> list[str]:
    """The keyword side's ranking of every matching article, before any "no answer" cut
    (kb.search.calibration decides separately whether the collection answers at all)."""
    with knowledge._searching(knowledge._read_state()) as searcher:
        ranked = rank_articles(
            query=question, mode="keyword", filters=keyword.Filters(), searcher=searcher, vectors=None, embedder=None,
            catalog=knowledge.catalog.articles, synonyms=knowledge.synonyms(), settings=knowledge.settings, need=10,
            caches=knowledge._segments, dialect=knowledge.dialect(),
        )
    return [article.slug for article in ranked.articles]


def analyzed(text: str, lexicon: dialect.DialectLexicon | None = None) -> keyword.AnalyzedQuery:
    return keyword.analyze_query(text, 500, lexicon)


def write_local(articles_dir: Path, text: str) -> None:
    path = articles_dir / dialect.FILE_NAME
    path.write_text(text, encoding="utf-8")
    stamp = time.time() + 5  # a new mtime even on a coarse-grained file system
    os.utime(path, (stamp, stamp))


# -- the built-in lexicon ------------------------------------------------------------------------


def test_the_built_in_lexicon_is_valid_and_covers_every_dialect():
    lexicon, problems = dialect_files.parse_lexicon(dialect.BUILTIN_PATH.read_text(encoding="utf-8"), "built-in")
    assert problems == []
    counts = lexicon.counts()
    for code in ("egy", "glf", "lev", "mgr"):
        assert counts[code] >= 400, code
    assert len(lexicon.entries) >= 100
    # Shipped inside the package (pyproject package-data), next to the module that reads it.
    assert dialect.BUILTIN_PATH.parent == Path(dialect.__file__).parent / "data"
    header = dialect.BUILTIN_PATH.read_text(encoding="utf-8").split("\n- ")[0]
    assert "MADAR" in header and "Habash" in header and "reviewed by hand" in header


def test_forms_that_are_common_msa_words_are_left_out_or_kept():
    """أبي (my father), نبي (prophet), دول (countries), طب (medicine) must not be rewritten in MSA questions."""
    lexicon = dialect_files.load_builtin()
    for word in ("نبي", "دول", "طب", "عم", "حق", "مال", "سلام", "قاع", "نهار", "ولي", "والي", "فيجي",
                 "منبسط", "اطرش", "حالي", "عنا", "تعاوني", "جذاب", "حسم",
                 "خدمة", "نقاد", "قبيلة", "صافي", "حيل", "قاعد", "يزهق", "يحط", "نعمل", "نلقى", "تجاوب", "يدير",
                 # loans read otherwise: "eat!", "bag", a colour, a boot, "curtain", "sport", a remote control
                 "كول", "كيس", "بيج", "بوت", "ستار", "سبورت", "ريموت"):
        found = lexicon.match([word], 0)
        assert found is None or found[1].keep, word
    assert analyzed("من هو أبي بكر الصديق").stems == analyzed("من هو أبي بكر الصديق", dialect.DialectLexicon()).stems
    assert analyzed("كم عدد الدول العربية").stems == analyzed("كم عدد الدول العربية", dialect.DialectLexicon()).stems


@pytest.mark.parametrize(
    ("question", "stems"),
    [
        ("ليش ما وصل طلبي", ("وصل", "طلب")),  # Gulf/Levantine: question word dropped like لماذا
        ("عايز ارجع الفلوس", ("اريد", "ارجع", "مال")),  # Egyptian
        ("ابغى اغير الجوال", ("اريد", "اغير", "جوال")),  # Gulf: جوال is MSA too, kept
        ("بدي غير الموبايل تبعي", ("اغير", "هاتف")),  # Levantine, a two-word form
        ("كيفاش نبدل البورطابل ديالي", ("اغير", "هاتف")),  # Maghrebi
        ("وعايزين نعرف", ("تريد", "اعرف")),  # a joined و
        ("ليييش زعلاااان", ("غاضب",)),  # letters held down
        ("بقالي اسبوع مستني ومحدش بيرد", ("اسبوع", "انتظر", "يرد")),  # Egyptian: "for a week now", nobody answers
        ("كتبت ريفيو على البوست وطنشوني", ("كتبت", "تقييم", "منشور", "تجاهل")),  # loanwords, ignoring
        ("المانجر حولني على الهولد بعد الشيفت", ("مدير", "حولن", "انتظار", "مناوب")),  # support-work loans
        ("عندي ميتنج عن التارجت والبونص", ("اجتماع", "هدف", "مكافا")),
        ("الكاستمر عامل كومبلينت على الديلاي", ("عميل", "عامل", "شكو", "تاخير")),
        ("الكليان ماجاوبونيش وخلاونا", ("عميل", "يرد", "ترك")),  # Maghrebi: no answer, they left us
        ("ماكنعرفش كيفاش نكونيكطي الكونط", ("اعرف", "تسجيل", "دخول", "حساب")),  # Moroccan: ك- verbs, French loans
        ("ديجا صيفطت الريسو وباقي ماوصلش", ("مسبقا", "ارسل", "ايصال", "يصل")),  # Moroccan: already sent, still not here
        ("العميل يهاوش ودزيت له الفاتوره", ("عميل", "يتشاجر", "ارسل", "فاتور")),  # Gulf: quarrelling, "I sent"
        ("طلعلي خطأ ما زبط بلشت من جديد", ("يظهر", "خطا", "يعمل", "ابدا", "جديد")),  # Levantine: shows up, didn't work
        ("هيك يعني شو", ()),  # only function words
        ("ok plz العميل زعلان", ("عميل", "غاضب")),  # Latin chat fillers carry no weight
        ("hey, is it OK to delete a review", ("delet", "review")),  # in English questions too
        ("", ()),
        ("AND \" 123", ("123",)),
    ],
)
def test_dialect_forms_become_msa_words(question, stems):
    assert analyzed(question).stems == stems


@pytest.mark.parametrize(
    ("question", "stems"),
    [
        ("ما معنى كلمة هون؟", ("معن", "كلم", "هون")),  # هون: Levantine "here", no weight when used
        ("شو اصل مصطلح اللي", ("اصل", "مصطلح", "لي")),  # a stop word named as a word is searched
        ("what does the word the mean", ("word", "the", "mean")),
        ("شو يعني كلمة الكاستمر", ("كلم", "عميل")),  # a named form with an MSA meaning keeps it
        ("هون في مشكلة", ("مشكل",)),  # used, not named: no weight
    ],
)
def test_a_word_the_question_names_is_searched_as_written(question, stems):
    """map_words: after كلمة, مصطلح, "word" ... the next word is named, not used."""
    assert analyzed(question).stems == stems


def test_mapped_words_are_marked_and_carry_their_alternatives():
    query = analyzed("الموبايل بايظ")
    assert query.stems == ("هاتف", "معطل")
    assert query.from_lexicon == {"هاتف", "معطل"}
    alternatives = dict(query.alternatives)
    assert "جوال" in alternatives["هاتف"] and "عطل" in alternatives["معطل"]
    assert [form for form, _ in query.dialect] == ["الموبايل", "بايظ"]


def test_verb_cores_strip_dialect_negation_and_tense():
    assert dialect.verb_cores("ماوصلش") == ["وصل"]
    assert dialect.verb_cores("مبيشتغلش") == ["بيشتغل", "يشتغل"]
    assert dialect.verb_cores("هيوصل") == ["يوصل"]
    assert dialect.verb_cores("منعش") == []  # too short a core to be a negated verb


# -- finding the launch article ----------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "العميل معصب مره وش اسوي معه",  # Gulf
        "ازاي اتعامل مع زبون متنرفز وعايز يكلم المدير",  # Egyptian
        "شو بعمل اذا الزبون معصب كتير",  # Levantine
        "كيفاش نتعامل مع كليان مقلق بزاف",  # Maghrebi
        "عميل متعصب بيشتم",
    ],
)
def test_a_dialect_question_about_an_angry_customer_finds_the_article(session_kb, question):
    assert ANGRY in slugs(session_kb, question)[:3]


@pytest.mark.parametrize("question", ["شنو هي خدمة الكليان"])
def test_a_question_in_words_every_article_uses_is_read_by_the_dense_side(launch_kb, question):
    """GIVEN a customer-service help center, where خدمة and عملاء are in nearly every article
    WHEN a dialect question asks what customer service is, its other words read as question words
    THEN the keyword side (BM25 over those common words) does not lead: the article that
    defines customer service comes first (before: the article on earning trust)."""
    assert launch_kb.search(question, limit=10)[0].slug == "what-is-customer-service"


def test_dialect_money_words_find_the_refund_article(session_kb):
    for question in ("ابغى ارجع فلوسي", "بدي استرجع المصاري", "عايز فلوسي ترجع"):
        assert slugs(session_kb, question)[0] == REFUND, question


@pytest.fixture(scope="module")
def launch_keyword_kb(tmp_path_factory):
    """The bundled launch articles, indexed without a model (fast): the keyword side alone."""
    base = tmp_path_factory.mktemp("launch-keyword")
    shutil.copytree(LAUNCH, base / "articles")
    return keyword_only_kb(base, {})


@pytest.mark.parametrize(("question", "expected"), [
    ("عندي ستريس كتير بالشغل وبدي بريك", "time-and-stress-management"),  # stress, a break
    ("الكاستمر كاتب ريتنج نجمة وحدة على البيدج", "responding-to-negative-reviews"),  # customer, rating, page
])
def test_support_work_loanwords_find_the_launch_article(launch_keyword_kb, question, expected):
    """English words typed in Arabic letters at work (ستريس، ريتنج، الكاستمر) are read as the
    articles' MSA words; without them the keyword side ranked unrelated articles first."""
    assert slugs(launch_keyword_kb, question)[0] == expected


def test_the_dense_side_sees_the_customer_s_own_words(session_kb, monkeypatch):
    """The model always reads the question as typed; with dense_msa_reading = "max" (the
    default) it also reads the lexicon's MSA reading, and with "off" only the typed words."""
    seen = []
    embedder = session_kb.embedder
    original, original_batch = embedder.embed_query, embedder.embed_query_batch

    def spy(text):
        seen.append(text)
        return original(text)

    def spy_batch(texts):
        seen.extend(texts)
        return original_batch(texts)

    monkeypatch.setattr(embedder, "embed_query", spy)
    monkeypatch.setattr(embedder, "embed_query_batch", spy_batch)
    question = "العميل معصب وش اسوي"
    # The model's reading of a question asked before is remembered (kb.search.question_memo):
    # forget it, so that each search here shows what the dense side reads.
    session_kb.question_memo.clear()
    session_kb.search(question, mode="hybrid")
    assert seen[0] == question and len(seen) == 2
    assert "غاضب" in seen[1] and "معصب" not in seen[1]
    seen.clear()
    session_kb.question_memo.clear()
    monkeypatch.setattr(session_kb, "settings", session_kb.settings.with_overrides(dense_msa_reading="off"))
    session_kb.search(question, mode="hybrid")
    assert seen == [question]


# -- typo tolerance weighs how likely an edit is -----------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant", "likely"),
    [
        ("التاقلن", "التاقلم", True),  # neighbour key (ن beside م)
        ("الاسترادد", "الاسترداد", True),  # two letters swapped
        ("استردا", "استرداد", True),  # a letter dropped
        ("ظابط", "ضابط", True),  # ض/ظ confused
        ("مسئول", "مسؤول", True),  # hamza seat
        ("مدرست", "مدرسه", True),  # ة written ت
        ("معصب", "منصب", False),  # Gulf "angry" is no typo of "post"
        ("شايل", "شامل", False),  # unrelated consonant
    ],
)
def test_typo_likelihood(typed, meant, likely):
    assert (typo_likelihood(typed, meant) >= spelling.min_typo_likelihood(typed)) is likely


def test_unknown_dialect_words_do_not_become_unrelated_index_words(tmp_path):
    """GIVEN articles with "منصب" (a post), "شامل" (comprehensive) and "استرداد"
    WHEN a question has "معصب" (lexicon: angry), "شايل" (Egyptian "carrying", not in the lexicon)
    and a real typo "الاسترادد"
    THEN neither dialect word is expanded onto the unrelated words, and the typo still is."""
    knowledge = keyword_only_kb(
        tmp_path,
        {
            "post.md": article_file("المنصب الإداري", "يتولى المنصب مدير منتخب."),
            "cover.md": article_file("التأمين الشامل", "تأمين شامل على الأجهزة."),
            "refund.md": article_file("سياسة الاسترداد", "يمكنك طلب الاسترداد خلال أسبوعين."),
        },
    )
    query = analyzed("معصب شايل الاسترادد")
    with knowledge._searching(knowledge._read_state()) as searcher:
        expansions = spelling.typo_expansions(searcher.reader(), query, Vocabulary())
    found = {term for alternatives in expansions.values() for term in alternatives}
    assert not found & {"منصب", "شامل"}
    assert "استرداد" in found
    assert slugs(knowledge, "معصب") == []
    assert slugs(knowledge, "الاسترادد") == ["refund"]


def test_short_words_are_never_typo_expanded(tmp_path):
    knowledge = keyword_only_kb(tmp_path, {"a.md": article_file("بدء الاستخدام", "خطوات البدء.")})
    with knowledge._searching(knowledge._read_state()) as searcher:
        assert spelling.typo_expansions(searcher.reader(), analyzed("بدع"), Vocabulary()) == {}


# -- the editors' _dialect.yml ---------------------------------------------------------------------


def test_editor_entries_apply_at_query_time_without_reindexing(fresh_kb):
    """GIVEN the test articles and no local lexicon
    WHEN an editor adds "قرنبيطية" as a Maghrebi word for الغاضب, then takes it back
    THEN the same index finds the angry-customers article for it, then no longer does."""
    assert ANGRY not in slugs(fresh_kb, "قرنبيطية")
    write_local(fresh_kb.articles_dir, "- msa: الغاضب\n  mgr: [قرنبيطية]\n")
    assert ANGRY in slugs(fresh_kb, "قرنبيطية")[:3]
    assert fresh_kb.dialect().counts()["mgr"] == dialect_files.load_builtin().counts()["mgr"] + 1
    write_local(fresh_kb.articles_dir, "# nothing\n")
    assert ANGRY not in slugs(fresh_kb, "قرنبيطية")


def test_a_local_entry_overrides_the_built_in_one(fresh_kb):
    assert analyzed("جوال", fresh_kb.dialect()).stems == ("جوال",)
    write_local(fresh_kb.articles_dir, "- weight: none\n  glf: [جوال]\n")
    assert analyzed("جوال", fresh_kb.dialect()).stems == ()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- msa: أريد\n  egy: [عايز\n", "_dialect.yml: invalid YAML at line"),
        ("msa: أريد\n", "_dialect.yml: line 1: must be a list of entries"),
        ("- msa: أريد\n  egy: [عايز]\n- msa: هاتف\n  dialect: [موبايل]\n", "_dialect.yml: line 3: unknown key 'dialect'"),
        ("- msa: أريد\n  weight: none\n  egy: [عايز]\n", "_dialect.yml: line 1: give either msa"),
        ("- egy: [عايز]\n", "_dialect.yml: line 1: give either msa"),
        ("- msa: أريد\n", "_dialect.yml: line 1: no dialect forms"),
        ("- msa: [هاتف, رقم الهاتف]\n  egy: [موبايل]\n", "MSA alternative 'رقم الهاتف' must be one word"),
        ("- msa: أريد\n  egy: [عايز]\n- msa: أحب\n  egy: [عايز]\n", "_dialect.yml: line 3: 'عايز' is already an entry at line 1"),
        ("- msa: أريد\n  egy: [عايز, {a: 1}]\n", "_dialect.yml: line 1: egy must be a word or a list of words"),
        ("- msa: أريد\n  egy: [مش عايز خالص والله]\n", "must be one to 3 words"),
    ],
)
def test_bad_local_entries_give_file_line_and_reason(text, problem):
    _, problems = dialect_files.parse_lexicon(text, dialect.FILE_NAME)
    assert any(problem in str(p) for p in problems), [str(p) for p in problems]


def test_a_broken_local_file_is_logged_and_the_built_in_lexicon_still_applies(fresh_kb, caplog):
    write_local(fresh_kb.articles_dir, "- msa: [unclosed\n")
    assert analyzed("عايز", fresh_kb.dialect()).stems == ("اريد",)
    assert "_dialect.yml: invalid YAML" in caplog.text


def test_kb_check_reports_dialect_problems(tmp_path):
    shutil.copytree(LAUNCH, tmp_path / "articles")
    (tmp_path / "articles" / dialect.FILE_NAME).write_text("- msa: أريد\n  egy: [عايز]\n- msa: هاتف\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--articles-dir", str(tmp_path / "articles"), "check"])
    assert result.exit_code == 1
    assert "error: _dialect.yml: line 3: no dialect forms" in result.stderr


# -- the staff synonyms page ---------------------------------------------------------------------------


def test_the_staff_page_shows_the_lexicon_and_saves_local_entries(editor, fresh_kb):
    html = editor.get("/staff/synonyms").get_data(as_text=True)
    counts = dialect_files.load_builtin().counts()
    table = re.search(r'<table class="table" id="dialect-counts">(.*?)</table>', html, re.S).group(1)
    for code, name in dialect.DIALECTS.items():
        assert re.search(rf"{name} .*?<td>{counts[code]}</td><td>0</td>", table), code
    assert "عايز" in html and "بلا وزن" in html  # the built-in entries, read-only
    assert 'name="dialect"' in html

    bad = editor.post("/staff/synonyms/dialect", {"dialect": "- msa: أريد\n  egy: [عايز]\n- msa: هاتف\n"})
    assert bad.status_code == 400
    assert "line 3" in bad.get_data(as_text=True) and not (fresh_kb.articles_dir / dialect.FILE_NAME).exists()

    saved = editor.post("/staff/synonyms/dialect", {"dialect": "# ملاحظة\r\n- msa: الغاضب\r\n  mgr: [قرنبيطية]\r\n"})
    assert saved.status_code == 302
    assert (fresh_kb.articles_dir / dialect.FILE_NAME).read_text(encoding="utf-8") == "# ملاحظة\n- msa: الغاضب\n  mgr: [قرنبيطية]\n"
    assert ANGRY in slugs(fresh_kb, "قرنبيطية")[:3]
    again = editor.get("/staff/synonyms").get_data(as_text=True)
    assert "قرنبيطية" in again
    assert re.search(rf"{dialect.DIALECTS['mgr']} .*?<td>{counts['mgr']}</td><td>1</td>", again)
