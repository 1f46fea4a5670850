"""Common words (kb.search.common_words): a real word the articles do not use is no typo of one they do,
and "did you mean" leaves it alone."""

from __future__ import annotations

import pytest
import wordfreq

from kb.search import keyword
from kb.search import spelling
from kb.search.common_words import FrequencyTable
from kb.search.common_words import is_common
from kb.search.common_words import is_common_latin
from kb.search.common_words import zipf
from kb.search.vocabulary import Vocabulary
from test_keyword import article_file
from test_keyword import keyword_only_kb


@pytest.mark.parametrize("word", ["لبس", "ليس", "العملا", "تكيس", "مشاكل", "يفوتني", "customer", "support", "الماراة", "qzxv"])
def test_the_compact_table_answers_as_wordfreq_does(word):
    """The hashed table kb keeps instead of wordfreq's dict of every word gives the same Zipf
    value (English from the small list: words under Zipf 3 read 0 there)."""
    lang = "en" if word.isascii() else "ar"
    expected = wordfreq.zipf_frequency(word, lang, wordlist="small" if lang == "en" else "large")
    assert zipf(word) == pytest.approx(expected, abs=0.011)


def test_a_frequency_table_reads_wordfreqs_centibel_buckets():
    table = FrequencyTable([[], ["the"], [], ["cat", "dog"]])
    assert len(table) == 3
    assert table.zipf("the") == 8.99 and table.zipf("dog") == 8.97 and table.zipf("bird") == 0.0


def test_marks_and_case_do_not_matter():
    assert zipf("مُشْكِلَة") == zipf("مشكلة") > 0
    assert zipf("Support") == zipf("support") > 0


@pytest.mark.parametrize("word", ["لبس", "العيد", "الاكل", "انام", "شقة", "مدرسه", "بالحامل", "ولونك", "laptop"])
def test_words_people_write_are_common_in_any_spelling_they_write(word):
    assert is_common(word)


@pytest.mark.parametrize("word", ["الماراة", "الاسترادد", "التأقلن", "asdkjh", "reputaton", "العملا"])
def test_typos_and_keyboard_noise_are_not(word):
    assert not is_common(word)


@pytest.mark.parametrize(("word", "latin"), [
    ("support", True), ("refund", True), ("commentaire", True), ("appel", True),  # English, Maghrebi French
    ("nabi", False), ("siyaset", False), ("brod", False), ("3ayez", False),  # Arabizi a tokenizer may hold
])
def test_latin_words_people_write_in_english_or_french(word, latin):
    assert is_common_latin(word) is latin


def test_did_you_mean_leaves_common_words_alone_and_corrects_typos(tmp_path):
    """A question with nothing to answer it is not turned into the articles' vocabulary one
    real word at a time ("الاكل" -> "الاقل"); a real typo still gets its suggestion."""
    knowledge = keyword_only_kb(tmp_path, {
        "least.md": article_file("الحد الأدنى", "اختر الخيار الأقل تكلفة دائما."),
        "refund.md": article_file("سياسة الاسترداد", "يمكنك طلب الاسترداد خلال أسبوعين."),
    })
    with knowledge._searching(knowledge._read_state()) as searcher:
        def suggestion(question):
            return spelling.did_you_mean(searcher.reader(), question, keyword.analyze_query(question, 500), Vocabulary())
        assert suggestion("الاكل") is None
        assert suggestion("سياسة الاسترادد") == "سياسة الاسترداد"
