"""Pure text functions: Arabic normalization, tokenization, stop words, stemming, slugs.

Nothing here does I/O or keeps state, so every rule is easy to test in a table.  The
keyword index (``kb.search.keyword``) builds its Whoosh analyzer from these functions, and
the same pipeline runs at index and at query time.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Tashkeel (harakat, tanween, shadda, sukun), Quranic marks, superscript alef.
_TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed]")
_TATWEEL = "\u0640"
# Bidi controls and zero-width characters that users paste along with text.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u061c]")
_LETTER_MAP = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        # Persian/Urdu letter forms typed on some keyboards.
        "ی": "ي",
        "ک": "ك",
        # Arabic-Indic and Extended (Persian) digits.
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
    }
)
# Words: runs of letters/digits (any script), joined by nothing else; Arabic punctuation
# (، ؛ ؟) and everything that is not a word character split words.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# A word as the reader wrote it: tashkeel, tatweel and zero-width joiners are marks, not
# word characters, for the regex module; inside a word they must not split it
# ("إِدارةُ" is one word to highlight, as "إدارة" is one word to index).
_SURFACE_WORD = re.compile(
    "(?:[^\\W_]|[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640\u200c\u200d])+"
)


def strip_invisible(text: str) -> str:
    """Remove bidi controls and zero-width characters."""
    return _INVISIBLE.sub("", text)


def normalize_arabic(text: str) -> str:
    """Fold the spelling variants of Arabic that readers treat as the same word.

    Pipeline: NFKC -> remove bidi/zero-width -> strip tashkeel and tatweel ->
    أ إ آ ٱ → ا, ى → ي, ة → ه -> Arabic-Indic and Persian digits → ASCII.
    Lucene's ArabicNormalizer does the same letter folding; NFKC also turns presentation
    forms (ﻻ) into plain letters.
    """
    text = unicodedata.normalize("NFKC", text)
    text = strip_invisible(text)
    text = strip_marks(text)
    return text.translate(_LETTER_MAP)


def tokenize(text: str) -> list[str]:
    """Split normalized, lowercased text into words (Arabic and Latin alike)."""
    return _WORD.findall(normalize_arabic(text).lower())


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every word in the *original* text, for highlighting what the reader sees."""
    return [m.span() for m in _SURFACE_WORD.finditer(text)]


def strip_marks(text: str) -> str:
    """`text` without Arabic short vowels, shadda, sukun, Quranic marks and tatweel."""
    return _TASHKEEL.sub("", text).replace(_TATWEEL, "")


def is_arabic(word: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in word)


# Arabic stop words: Lucene's Arabic stopwords list (apache/lucene analysis/common
# .../ar/stopwords.txt, itself from Savoy/Larkey), folded with normalize_arabic so that
# matching happens after normalization; plus a handful of question words customers use
# (also with a joined و/ف/ب/ل/م/ع: "بماذا", "ولماذا", "لمن", "مما", which Lucene's list lacks and
# which coverage fusion counted as unknown words of the question),
# and the adverbs of time that only place a question in time (today, tomorrow, yesterday,
# currently): Lucene has الآن already.  They never tell which article answers ("سعر الذهب
# اليوم" found an article that says "اليوم" somewhere, "النهارده" and "بكره" reach them
# through the dialect lexicon), and they lent off-topic questions keyword evidence.
_ARABIC_STOPWORDS_RAW = """
من ومن منها منه في وفي فيها فيه و ف ثم او أو ب بها به ا أ اى اي أي أى لا ولا الا ألا إلا لكن ما وما كما فما عن مع اذا إذا
ان أن إن انها أنها إنها انه أنه إنه بان بأن فان فأن وان وأن وإن التى التي الذى الذي الذين الى الي إلى إلي على عليها عليه
اما أما إما ايضا أيضا كل وكل لم ولم لن ولن هى هي هو وهى وهي وهو فهى فهي فهو انت أنت لك لها له هذه هذا تلك ذلك هناك كانت
كان يكون تكون وكانت وكان غير بعض قد نحو بين بينما منذ ضمن حيث الان الآن خلال بعد قبل حتى عند عندما لدى جميع
هل كيف ماذا لماذا متى اين أين كم عندي لدي يا
وهل فهل وكيف فكيف بماذا وماذا فماذا ولماذا فلماذا ومتى وأين وكم لمن ممن عمن مما عما
اليوم غدا أمس البارحة حاليا
"""
ARABIC_STOPWORDS = frozenset(normalize_arabic(w) for w in _ARABIC_STOPWORDS_RAW.split())

# English stop words (Lucene's classic English list).
ENGLISH_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with"
    " how what when where which who why do does i my me you your can".split()
)
# The pieces an English contraction splits into ("what's" -> what, s; "don't" -> don, t;
# "I'm", "we've", "you'll"), as NLTK's English stop list has them: no word of a question.
# "s" is a rare word of the launch articles (one English article writes "Let's"), so "what's
# the weather" found it there, passed the no-answer cut on that evidence and listed 27
# articles, where "what is the weather" had no answer.  Questions only
# (kb.search.keyword.analyze_query): as stop words of the index too they re-weighed the
# English articles' BM25 (shorter fields), and a short-set query lost its first place.
CONTRACTION_PIECES = frozenset(
    "s t d ll m re ve don didn doesn isn aren wasn weren hasn haven hadn couldn shouldn wouldn won ain".split()
)

# Light10 (Larkey, Ballesteros, Connell) as in Lucene's ArabicStemmer, applied to
# normalized words (so ة is already ه and the suffix list is folded accordingly).
_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")


def light_stem_arabic(word: str) -> str:
    """Strip one definite-article/conjunction prefix and then suffixes (Light10)."""
    if len(word) >= 4 and word.startswith("و") and not word.startswith("وال"):
        word = word[1:]
    else:
        for prefix in _PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= 2:
                word = word[len(prefix):]
                break
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)]
    return word


# Prepositions and conjunctions written joined to the next word: "بطلبي", "لجزيرة", "فسوف".
CLITIC_LETTERS = ("ب", "ل", "ك", "ف")


def stem_arabic(word: str) -> str:
    """Light10 plus one more step: a bare preposition clitic (بـ لـ كـ فـ) before ال.

    Light10 removes "بال" but not "ب" glued to a word without the article; we strip it only
    when the rest is long enough, so that short roots stay intact.
    """
    if len(word) >= 5 and word[0] in CLITIC_LETTERS and word[1:3] == "ال":
        word = word[1:]
    return light_stem_arabic(word)


@lru_cache(maxsize=1)
def _english_stemmer():
    import Stemmer  # PyStemmer: Snowball stemmers in C

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Stem one normalized, lowercased word: Arabic light stemming or English Snowball."""
    if is_arabic(word):
        return stem_arabic(word)
    if word.isascii() and word.isalpha():
        return _english_stemmer().stemWord(word)
    return word


def is_stopword(word: str) -> bool:
    return word in ARABIC_STOPWORDS or word in ENGLISH_STOPWORDS


def analyze(text: str) -> list[str]:
    """The full keyword pipeline: tokenize -> drop stop words -> stem.  Returns index terms."""
    return [stem(w) for w in tokenize(text) if not is_stopword(w)]


@lru_cache(maxsize=200_000)
def analyze_word(word: str) -> str | None:
    """The index term of one word as the reader wrote it, or None for a stop word (cached)."""
    terms = analyze(word)
    return terms[0] if terms else None


def slugify(text: str, separator: str = "-") -> str:
    """A URL/anchor slug that keeps Arabic letters: 'إدارة الوقت!' -> 'إدارة-الوقت'.

    Used for heading ids (the Markdown table of contents and the search index's section
    links) and for category slugs, so a link built anywhere points at the same anchor.
    Hamza forms are kept: the slug is for reading, not for matching.
    """
    text = unicodedata.normalize("NFKC", text)
    text = strip_invisible(text)
    text = strip_marks(text)
    text = text.lower()
    words = _WORD.findall(text)
    return separator.join(words)[:80].strip(separator)
