"""Arabizi: Arabic typed in Latin letters and digits is read in Arabic script and searched as such."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from kb.search import arabizi
from kb.search.common_words import zipf
from kb.search.dialect_files import load_builtin
from kb.store.apikeys import create_key
from kb.text import is_stopword
from conftest import ROOT
from test_dialect import slugs
from test_keyword import keyword_only_kb

ANGRY = "handling-angry-customers"


@pytest.mark.parametrize("question", [
    "3ayez a3raf ezay a3mel refund",
    "shu ba3mel iza el zboon m3assab",
    "kifach nrod 3la l client",
    "wesh asawi ya5i",
    "2olt lak mesh 3ayez",
    "el 3amil za3lan",
    "el gaw bokra 7ar wala bard?",  # a two-letter word after a digit English never starts with
    "ana mdaya2 mn el shoghl",  # a digit last, beside "el"
])
def test_arabizi_questions_are_recognised(question):
    assert arabizi.is_arabizi(question)


@pytest.mark.parametrize("question", [
    "how do i fix my ps5",
    "my iphone 7 is slow",
    "mp3 player not working",
    "win10 update failed",
    "my 3rd order is late",
    "how to enable 2fa on b2b accounts",
    "5ghz wifi keeps dropping",
    "can we meet at 5am",
    "9am meeting",
    "refund 2day?",
    "iphone7 screen broken",  # a digit last counts only beside an Arabizi function word
    "refund",
    "عايز ارجع الفلوس",
    "",
])
def test_english_arabic_script_and_model_numbers_are_not_arabizi(question):
    assert not arabizi.is_arabizi(question)
    assert arabizi.arabic_reading(question, lambda w: True, lambda w: True) is None


def test_spellings_list_the_plainest_first_and_every_reading_of_ambiguous_letters():
    spelled = arabizi.spellings("3amil")
    assert spelled[0] == "عميل"  # short a left out, i written
    assert "عامل" in spelled  # or a long a, a short i
    assert {"صبر", "سبر"} <= set(arabizi.spellings("sabr"))  # s: س or ص
    assert "اتاخر" in arabizi.spellings("et2akhar")  # 2: a hamza seat here
    assert "جدا" in arabizi.spellings("gedan")  # -an: tanween
    assert arabizi.spellings("zboon")[0] == "زبون"
    assert arabizi.spellings("x-ray") == []  # a letter the tables lack


def test_each_word_takes_its_first_known_spelling_and_english_stays_latin():
    arabic = {"عامل", "زعلان", "مدير", "اتاخر"}
    reading = arabizi.arabic_reading(
        "el 3amel za3lan w 3ayez el manager 3ashan el order et2akhar",
        arabic=arabic.__contains__, latin={"manager", "order"}.__contains__,
        weak=lambda word: word in {"عايز", "عشان"} or is_stopword(word),
    )
    # "el" is glued to an Arabic word and dropped before an English one; "w" is the conjunction.
    assert reading == "العامل زعلان وعايز manager عشان order اتاخر"


def test_how_often_people_write_a_spelling_decides_between_spellings():
    """GIVEN a help center that knows none of a word's spellings, or several
    WHEN the word is read with word frequencies (kb.search.common_words.zipf)
    THEN the spelling people write wins over the plainest one ("gher": غير, not غر;
    "esbo3ein": اسبوعين; "yfoteny": يفوتني), among known spellings too ("mashakil": مشاكل,
    not the first known مشكل); a spelling nobody writes does not count, and without
    frequencies the order of spellings decides as before."""
    nothing = frozenset().__contains__
    assert arabizi.read_word("gher", nothing, nothing, frequency=zipf) == "غير"
    assert arabizi.read_word("esbo3ein", nothing, nothing, frequency=zipf) == "اسبوعين"
    assert arabizi.read_word("yfoteny", nothing, nothing, frequency=zipf) == "يفوتني"
    assert arabizi.read_word("gher", nothing, nothing) == arabizi.spellings("gher")[0] == "غر"
    known = {"مشكل", "مشاكل"}.__contains__
    assert arabizi.read_word("mashakil", known, nothing) == "مشكل"
    assert arabizi.read_word("mashakil", known, nothing, frequency=zipf) == "مشاكل"
    assert arabizi.read_word("qzxwv", nothing, nothing, frequency=zipf) == arabizi.spellings("qzxwv")[0]


def test_a_final_a_may_be_written_alif_maqsura():
    assert {"تعالى", "شكوى"} <= set(arabizi.spellings("ta3ala")) | set(arabizi.spellings("shakwa"))
    nothing = frozenset().__contains__
    assert arabizi.read_word("shakwa", nothing, nothing, frequency=zipf) == "شكوى"


def test_acronyms_english_names_and_punctuation_stay_as_typed():
    arabic = {"عايز", "فلوس", "فلوسي", "مش", "شغال"}.__contains__
    reading = arabizi.arabic_reading("Ezay el CRM msh shaghal? Ana 3ayez felousi, ya Zendesk.", arabic,
                                     {"zendesk"}.__contains__)
    assert reading == "ازاي CRM مش شغال? انا عايز فلوسي, يا Zendesk."


def test_a_word_with_a_digit_is_always_read_in_arabic_and_short_words_are_arabic():
    nothing = lambda word: False  # noqa: E731
    everything_latin = lambda word: True  # noqa: E731
    assert arabizi.read_word("m3assab", nothing, everything_latin) == "معسب"  # the plainest spelling
    assert arabizi.read_word("rad", nothing, everything_latin) == "رد"  # three letters: not English
    assert arabizi.read_word("telephone", nothing, everything_latin) == "telephone"
    assert arabizi.read_word("ezay", nothing, nothing) == "ازاي"  # a fixed function word


def test_a_bare_l_before_a_consonant_is_the_glued_article():
    """No Arabic word starts with two consonants: "lmochkil" is المشكل, "lilmwathaf" للموظف."""
    nothing = lambda word: False  # noqa: E731
    assert arabizi.spellings("lmochkil")[0].startswith("ال")
    assert arabizi.spellings("l7sab")[:2] == ["الحسب", "الحساب"]
    assert arabizi.spellings("lilmwathaf")[0].startswith("للمو")
    assert arabizi.read_word("lna", nothing, nothing) == "لنا"  # too short: a pronoun, not an article
    assert arabizi.read_word("lla", nothing, nothing) != "الا"  # a vowel follows: no article
    known = {"الحساب"}.__contains__
    assert arabizi.read_word("l7sab", known, nothing) == "الحساب"


def test_a_vowel_before_a_doubled_consonant_is_short():
    nothing = lambda word: False  # noqa: E731
    assert arabizi.read_word("sitti", nothing, nothing) == "ستي"
    assert arabizi.read_word("jiddo", nothing, nothing) == "جدو"
    assert arabizi.spellings("7asses") == arabizi.spellings("7ases")  # an a may stay long: حاسس


def test_wala_is_or():
    assert arabizi.arabic_reading("a3mel refund wala la2?", lambda w: False, lambda w: True) == "اعمل refund ولا لا?"


def test_the_built_in_lexicon_reads_common_arabizi_dialect_words():
    lexicon = load_builtin()
    arabic = lambda word: not is_stopword(word) and word in lexicon.words  # noqa: E731
    reading = arabizi.arabic_reading("el 3amil za3lan w m3assab", arabic, lambda word: False)
    assert reading.split() == ["العميل", "زعلان", "ومعصب"]


@pytest.fixture(scope="module")
def launch_keyword_kb(tmp_path_factory):
    """The bundled launch articles, indexed without a model (fast): the keyword side alone."""
    base = tmp_path_factory.mktemp("launch-arabizi")
    shutil.copytree(ROOT / "articles", base / "articles")
    return keyword_only_kb(base, {})


@pytest.mark.parametrize(("question", "expected"), [
    ("shu ba3mel iza el zboon m3assab", ANGRY),
    ("ezay ard 3ala review we7sh 3ala google", "responding-to-negative-reviews"),
    ("ana ta3ban mn daght el shoghl", "time-and-stress-management"),
    ("el 3amil 3amel complaint 3ala el service", "handling-customer-complaints"),
])
def test_the_keyword_side_finds_launch_articles_from_arabizi(launch_keyword_kb, question, expected):
    """Without the reading no launch article holds any of these words (no model here: the
    lexicon and the articles' words decide each spelling)."""
    assert expected in slugs(launch_keyword_kb, question)[:3]


def test_an_editors_latin_form_is_read_by_the_lexicon(tmp_path):
    """Editors may list an Arabizi spelling in articles/_dialect.yml ("m5no2" for مخنوق, fed up):
    the reading keeps the word as typed and the lexicon reads it, rather than spelling it in
    Arabic letters the lexicon does not list."""
    shutil.copytree(ROOT / "articles", tmp_path / "articles")
    (tmp_path / "articles" / "_dialect.yml").write_text("- msa: غاضب\n  egy: [m5no2]\n", encoding="utf-8")
    knowledge = keyword_only_kb(tmp_path, {})
    page = knowledge.search_page("el 3amil m5no2 awy", mode="keyword")
    assert page.read_as == "العميل m5no2 اوي"
    assert page.hits and page.hits[0].slug == ANGRY


@pytest.mark.parametrize(("question", "expected", "within"), [
    ("el 3ameel za3lan gedan 3ashan el order et2akhar", ANGRY, 1),
    # Read right (مضايق, upset), the lexicon reads it as angry (غاضب، منزعج، مستاء) and the
    # angry-customer article comes first, the stress article second: as for the same question
    # typed in Arabic letters ("انا مضايق من ضغط الشغل").
    ("ana mdaya2 mn daght el shoghl fel call center", "time-and-stress-management", 2),
    ("3ayez a3raf ezay a3mel refund lel 3amil", "negotiation-compensation-and-service-agreement", 1),
])
def test_arabizi_questions_find_the_launch_article_first(launch_kb, question, expected, within):
    """The default search with the real model: before the reading, two of these got no results
    and the third an unrelated article first."""
    page = launch_kb.search_page(question, limit=5)
    assert page.read_as and not any("a" <= ch <= "z" for ch in page.read_as.replace("call center", ""))
    assert expected in [hit.slug for hit in page.hits[:within]]
    assert page.did_you_mean is None


def test_the_api_and_the_site_show_how_an_arabizi_question_was_read(client):
    body = client.get("/api/v1/search", query_string={"q": "el 3amil za3lan gedan"}).get_json()
    assert body["read_as"] == "العميل زعلان جدا"
    assert client.get("/api/v1/search", query_string={"q": "angry customer"}).get_json()["read_as"] is None
    page = client.get("/search", query_string={"q": "el 3amil za3lan gedan"}).get_data(as_text=True)
    assert 'class="read-as"' in page and "العميل زعلان جدا" in page


def test_the_agent_suggest_api_reads_an_arabizi_message(app, client):
    """The agent's customer typed in Arabizi, with a signature: the message is focused, then read."""
    secret = create_key(app.extensions["kb_db"].connection(), "tests")[1]
    message = "el 3amil za3lan gedan w beyza3a2\nAhmed Mahmoud\nCairo, Egypt\n+20 100 123 4567"
    response = client.post("/api/v1/suggest", json={"message": message}, headers={"Authorization": f"Bearer {secret}"})
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["read_as"].startswith("العميل زعلان جدا")
    assert "Cairo" not in body["focused_query"]


def test_the_knowledge_base_reads_a_word_list_with_its_own_words(launch_kb):
    """``KnowledgeBase.read_arabizi`` reads as searches do (scripts/eval_arabizi_words.py uses it):
    the articles' own spelling wins, and a text that is not Arabizi is read only when asked."""
    assert launch_kb.read_arabizi("el 3omala za3lanin") == "العملاء زعلانين"  # not عملا: the articles' العملاء
    assert launch_kb.read_arabizi("w kel el 3omala m3assabin").startswith("وكل العملاء")  # not وكيل
    assert launch_kb.read_arabizi("customer service") is None
    assert launch_kb.read_arabizi("shakwa", detect=False) in ("شكوه", "شكوى")
    # The multilingual tokenizer holds "nabi" (Gulf "we want") whole, but nobody writes it in
    # English or French: Arabic; "support" and Maghrebi chat's French "commentaire" stay Latin.
    assert launch_kb.read_arabizi("nabi nsawi support 3la twitter") == "نبي نسوي support على تويتر"
    assert "commentaire" in launch_kb.read_arabizi("el 3amil katab commentaire 3al page")


@pytest.mark.parametrize(("question", "english"), [
    ("emta lazem a3mel escalation lel modeer", "escalation"),
    ("lazem a3mel escalate", "escalate"),
])
def test_an_english_word_the_synonyms_name_stays_english(launch_keyword_kb, question, english):
    """No launch article writes "escalation", and the tokenizer splits it, so it was read as
    Arabizi (اسكلتين, اسكلته: nothing); the launch synonyms name it, and lead it to تصعيد."""
    reading = launch_keyword_kb.read_arabizi(question)
    assert english in reading.split()
    assert "handling-customer-complaints" in slugs(launch_keyword_kb, question)  # its section on escalating


def test_kb_search_prints_the_reading(session_settings):
    from click.testing import CliRunner

    from kb.cli import cli

    config = {"KB_ARTICLES_DIR": str(session_settings.articles_dir), "KB_INDEX_DIR": str(session_settings.index_dir),
              "KB_DATA_DIR": str(session_settings.data_dir)}
    result = CliRunner().invoke(cli, ["search", "el 3amil za3lan gedan", "--json"], env=config)
    assert result.exit_code == 0, result.output
    assert '"read_as": "العميل زعلان جدا"' in result.output


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789' ,.?!-\nعميل", max_size=120))
@settings(max_examples=300, deadline=None)
def test_any_text_is_read_or_left_alone_without_error(text):
    """Whatever is typed: None (not Arabizi) or a reading, single-spaced, never an error."""
    reading = arabizi.arabic_reading(text, lambda word: False, lambda word: False)
    assert reading is None or isinstance(reading, str)
    if reading is not None:
        assert arabizi.is_arabizi(text)
        assert "  " not in reading and reading == reading.strip()
