"""kb.text: the pure Arabic text pipeline, one table per rule."""

from __future__ import annotations

import pytest

from kb.text import ARABIC_STOPWORDS
from kb.text import analyze
from kb.text import is_arabic
from kb.text import is_stopword
from kb.text import light_stem_arabic
from kb.text import normalize_arabic
from kb.text import slugify
from kb.text import stem
from kb.text import stem_arabic
from kb.text import strip_invisible
from kb.text import tokenize
from kb.text import word_spans


@pytest.mark.parametrize(
    ("rule", "raw", "normalized"),
    [
        # Tashkeel: fatha, damma, kasra, tanween, shadda, sukun, superscript alef, Quranic marks.
        ("fatha damma kasra", "كَتَبُوا الدَّرْسِ", "كتبوا الدرس"),
        ("tanween", "شكرًا جزيلاً ومرحبٌ بكٍ", "شكرا جزيلا ومرحب بك"),
        ("shadda sukun", "سلّم المنتجْ", "سلم المنتج"),
        ("superscript alef", "هٰذا", "هذا"),
        ("quranic marks", "الرحيمِۖ", "الرحيم"),
        ("only diacritics", "ًٌٍَُِّْ", ""),
        # Tatweel (kashida).
        ("tatweel", "الـــعـمـيـل", "العميل"),
        # Alef variants → bare alef.
        ("alef hamza above", "أحمد", "احمد"),
        ("alef hamza below", "إدارة", "اداره"),
        ("alef madda", "آراء", "اراء"),
        ("alef wasla", "ٱلعميل", "العميل"),
        # Alef maqsura → yeh, teh marbuta → heh.
        ("alef maqsura", "الشكاوى", "الشكاوي"),
        ("teh marbuta", "مدرسة", "مدرسه"),
        # Persian letter forms typed on some keyboards.
        ("farsi yeh and keheh", "کیف", "كيف"),
        # Digits → ASCII.
        ("arabic-indic digits", "٠١٢٣٤٥٦٧٨٩", "0123456789"),
        ("persian digits", "۰۱۲۳۴۵۶۷۸۹", "0123456789"),
        ("mixed digits", "خلال ١٤ يومًا أو 14", "خلال 14 يوما او 14"),
        # Invisible characters that come along with pasted text.
        ("rtl and ltr marks", "\u200fمرحبا\u200e", "مرحبا"),
        ("zero-width joiners", "مر\u200dحـ\u200cبا\u200b", "مرحبا"),
        ("bidi embedding and isolates", "\u202bنص\u202c \u2067نص\u2069", "نص نص"),
        ("arabic letter mark and bom", "\u061cنص\ufeff", "نص"),
        # Presentation forms (NFKC).
        ("lam-alef ligature", "\ufefb", "لا"),
        ("isolated and final forms", "\ufe8d\ufee0\ufecb\ufee4\ufef4\ufede", "العميل"),
        ("fullwidth latin", "ＡＢＣ", "ABC"),
        # What must not change.
        ("latin and punctuation", "iPhone 15, Premium!", "iPhone 15, Premium!"),
        ("hamza on waw and yeh", "مسؤول مسائل", "مسؤول مسائل"),
        ("empty", "", ""),
    ],
)
def test_normalize_arabic(rule, raw, normalized):
    assert normalize_arabic(raw) == normalized, rule


def test_normalize_arabic_is_idempotent():
    text = "إِدارةُ الشّكاوى ١٢٣ \u200f\ufefb ٱلعميـــل"
    once = normalize_arabic(text)
    assert normalize_arabic(once) == once


def test_strip_invisible_keeps_visible_text():
    assert strip_invisible("a\u200bb\u200fc d") == "abc d"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("مرحبا،كيف؛حالك؟", ["مرحبا", "كيف", "حالك"]),
        ("الإرجاع، الاسترداد؛ المبلغ؟ نعم!", ["الارجاع", "الاسترداد", "المبلغ", "نعم"]),
        ("«طلباتي» (الحساب) [x] {y}", ["طلباتي", "الحساب", "x", "y"]),
        ("Hello, WORLD! snake_case kebab-case", ["hello", "world", "snake", "case", "kebab", "case"]),
        ("ORD-2026-0001 ١٤ يوماً", ["ord", "2026", "0001", "14", "يوما"]),
        ("😀 مرحبا 😀", ["مرحبا"]),
        ("a\x00b", ["a", "b"]),
        ("  ", []),
        ("", []),
    ],
)
def test_tokenize_splits_on_arabic_and_latin_punctuation(text, words):
    assert tokenize(text) == words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("مرحبًا، بالعملاء!", ["مرحبًا", "بالعملاء"]),
        ("إِدارةُ الوقتِ", ["إِدارةُ", "الوقتِ"]),  # tashkeel does not split a word
        ("سلّم الـــمنتج", ["سلّم", "الـــمنتج"]),  # nor do shadda and tatweel
        ("مر\u200dحبا", ["مر\u200dحبا"]),
        ("iPhone 15، snake_case", ["iPhone", "15", "snake", "case"]),
    ],
)
def test_word_spans_are_the_words_as_written(text, words):
    spans = word_spans(text)
    assert [text[s:e] for s, e in spans] == words
    assert [tokenize(text[s:e]) for s, e in spans] == [tokenize(w) for w in words]


@pytest.mark.parametrize(
    "word",
    ["في", "من", "على", "إلى", "الى", "عن", "هل", "كيف", "ماذا", "لماذا", "هذا", "هذه", "التي", "الذي", "أو", "ثم",
     "اليوم", "غدا", "أمس", "الآن", "حاليا",  # adverbs of time only place a question in time
     "بماذا", "ولماذا", "وكيف", "ومتى", "لمن", "مما"],  # question words with a joined letter
)
def test_arabic_stop_words(word):
    assert is_stopword(normalize_arabic(word))


@pytest.mark.parametrize("word", ["the", "a", "and", "how", "what", "is", "my", "can"])
def test_english_stop_words(word):
    assert is_stopword(word)


@pytest.mark.parametrize("word", ["عميل", "استرداد", "مشكله", "refund", "password"])
def test_content_words_are_not_stop_words(word):
    assert not is_stopword(word)


def test_stop_words_are_stored_normalized():
    assert all(normalize_arabic(word) == word for word in ARABIC_STOPWORDS)


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("كيف أستطيع أن أغير كلمة المرور في حسابي؟", ["استطيع", "اغير", "كلم", "مرور", "حساب"]),
        ("How do I change my password?", ["chang", "password"]),
        ("في من على هل كيف", []),
        ("the and of", []),
    ],
)
def test_analyze_drops_stop_words_and_stems(text, terms):
    assert analyze(text) == terms


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("المهارات", "مهار"),
        ("مهارات", "مهار"),
        ("العملاء", "عملاء"),
        ("بالعملاء", "عملاء"),
        ("والعملاء", "عملاء"),
        ("للعملاء", "عملاء"),
        ("كالعاده", "عاد"),
        ("فالمشكله", "مشكل"),
        ("المعلمون", "معلم"),
        ("المعلمين", "معلم"),
        ("موظفي", "موظف"),
        ("كتابه", "كتاب"),
        ("سيارات", "سيار"),
        ("اداره", "ادار"),
        ("الاداره", "ادار"),
        ("الشكاوي", "شكاو"),
        # Short words keep their letters: a prefix or suffix is cut only if two letters stay.
        ("ولد", "ولد"),
        ("بيت", "بيت"),
        ("لعب", "لعب"),
        ("بيته", "بيت"),
    ],
)
def test_light_stemming(word, stemmed):
    assert stem_arabic(word) == stemmed


@pytest.mark.parametrize(
    ("word", "light", "with_clitic"),
    [
        ("بالعملاء", "عملاء", "عملاء"),  # Light10 handles بال already
        ("لالعميل", "لالعميل", "عميل"),  # a bare clitic before ال: only stem_arabic strips it
        ("كالعميل", "عميل", "عميل"),
    ],
)
def test_clitic_step_goes_beyond_light10(word, light, with_clitic):
    assert light_stem_arabic(word) == light
    assert stem_arabic(word) == with_clitic


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [("refunds", "refund"), ("running", "run"), ("iphone", "iphon"), ("2026", "2026"), ("ord2026", "ord2026")],
)
def test_english_and_other_words(word, stemmed):
    assert stem(word) == stemmed


@pytest.mark.parametrize(
    ("variants",),
    [
        (["الشكاوى", "الشكاوي", "شكاوي"],),
        (["مهارات", "المهارات"],),
        (["بالعملاء", "العملاء", "للعملاء", "والعملاء"],),
        (["إدارة", "ادارة", "الإدارة", "الادارة", "إدارةُ", "إدارـــة"],),
    ],
)
def test_spelling_variants_meet_at_one_index_term(variants):
    assert len({tuple(analyze(v)) for v in variants}) == 1, [analyze(v) for v in variants]


def test_is_arabic():
    assert is_arabic("مرحبا") and is_arabic("iPhoneـ١")
    assert not is_arabic("hello") and not is_arabic("123")


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("إدارة الوقت!", "إدارة-الوقت"),  # hamza kept: the slug is for reading
        ("إدارةُ الوقتِ", "إدارة-الوقت"),
        ("الـــعميل", "العميل"),
        ("Hello World", "hello-world"),
        ("  مسافات   كثيرة  ", "مسافات-كثيرة"),
        ("\u200fمرحبا\u200e", "مرحبا"),
        ("!!!", ""),
        ("", ""),
    ],
)
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_slugify_is_capped_without_a_trailing_separator():
    slug = slugify("كلمة " * 40)
    assert len(slug) <= 80
    assert not slug.endswith("-")
    assert slugify("a b", "_") == "a_b"
