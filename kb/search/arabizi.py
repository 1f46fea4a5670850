"""Arabizi: Arabic typed in Latin letters, digits for the sounds Latin lacks, read in Arabic script.

Customers chat in Egyptian, Levantine, Gulf and Maghrebi Arabic on phones, and many still
type it in Latin letters: "3ameel za3lan gedan a3mel eh", "shu ba3mel iza el zboon m3assab",
"kifach nrod 3la l client".  The articles are Arabic; the keyword side finds none of these
words, and the bundled model reads them barely better than noise (launch articles: 3 of 6 such
questions got no results, the other 3 an unrelated article first).

Reading a word back into Arabic is a guess: Arabizi writes short vowels that Arabic leaves
out ("3ameel", "3amil" -> عميل), one Latin letter stands for two Arabic ones (s: س or ص,
t: ت or ط, h: ه or ح, g: ج in Egypt and ق in the Gulf), and "el" is the article glued to
the next word.  So each word's possible spellings are listed, plainest first
(:func:`spellings`), and of those the search knows as an Arabic word (a word of the dialect
lexicon or of the articles; ``kb.search.ranking.arabizi_reading`` passes the word lists) the
one people write most often is taken (``kb.search.common_words``: "mashakil" is مشاكل, not
مشكل).  Failing that, a word without a digit that the articles or the model tokenizer
know as a Latin word stays as typed ("refund", "call", and acronyms: "CRM"); then the
spelling people write most often, when they write it at all ("gher": غير, not غر; "yfoteny":
يفوتني); then the first spelling the tokenizer holds whole or a stop word; then the plainest one.

Only a question that *is* Arabizi is read (:func:`is_arabizi`): one word at least with an
Arabizi digit among vowelled letters ("3ayez", "ma3lesh", "2olt"; not "mp3", "win10", "5G",
"3rd", "5am") and more such words than English function words, so an English question that
names a model number is left alone.  None of the 6,788 questions of ../shared/eval and of
the other scripts/data sets (dialect posts and English questions included) is taken for
Arabizi.  The letter tables follow the common chat conventions (Yaghan, "'Arabizi': A
Contemporary Style of Arabic Slang", Design Issues 24(2), 2008; Darwish, "Arabizi Detection
and Conversion to Arabic", ANLP workshop 2014).  Measured on scripts/data/helpcenter_arabizi.jsonl
(60 questions written blind to this code): top-1 0.083 -> 0.417, top-3 0.267 -> 0.700, every
question answered (was 0.833); about 1 ms a question (p50).  Word by word, on
scripts/data/arabizi_words.tsv (400 words, also written blind; scripts/eval_arabizi_words.py),
0.733 of the words are read as their writers spell them in Arabic letters.  Choosing by how
often people write each spelling (first half: words 0.730 -> 0.775; questions top-1 13 -> 14
and top-3 20 -> 22 of 30, Arabizi off-topic questions turned away 0.75 -> 0.85) and English
only what people write in English or French: words 0.787, questions top-1 0.500, top-3 0.733
(second half 0.533 and 0.767), about 0.9 ms a question (p50).
"""

from __future__ import annotations

import itertools
import re
from typing import Callable

from kb.text import is_arabic

# A Latin word with an Arabizi digit between letters or before two, and a vowel: "3ayez",
# "ma3lesh", "2olt"; not "mp3", "win10", "5G", "b2b", "3rd", "5ghz".  Three letters at least, or
# two after a digit English never starts a word with (ع ح خ ط ق: "7ar", "3am", "5od"): "2fa"
# stays English, and so do times ("5am") and English chat's "2day", "2morrow".
_ARABIZI_WORD = re.compile(r"^(?!\d{1,2}[ap]m$)(?!2(?:day|moro|morrow|nite|night)$)(?=.*[aeiouy])"
                           r"(?:(?=(?:[^a-z]*[a-z]){3})|(?=[35679]'?[a-z]{2}$))"
                           r"(?:[a-z]*[a-z][2356789]'?[a-z]+[a-z0-9']*|[2356789]'?[a-z]{2,}[a-z0-9']*)$")
# A digit at the end ("wade7", "mdaya2") is Arabizi too, but so is a model number ("iphone7",
# "win7"): such a word counts only in a question that has an Arabizi function word.
_DIGIT_LAST = re.compile(r"^(?=.*[aeiouy])[a-z]{2,}[2379]$")
_LATIN_WORD = re.compile(r"[A-Za-z0-9']+")
_TOKEN = re.compile(r"[A-Za-z0-9']+|[^\sA-Za-z0-9']+|\s+")

# English words that frame an English sentence: a question with more of these than Arabizi
# words is English with a model number in it, not Arabizi.
_ENGLISH_FRAME = frozenset(
    "the a an is are was were do does did how what why when where which who can could should would "
    "i you my your our we it this that to of in on at by from for with about after before and or not me have "
    "has had please there their they he she his her them".split()
)

# Arabizi function words whose spelling is fixed by use, not by letters: the article and
# prepositions glued to the next word ("el", "fel", "bel", "lel", "3al"), the conjunction.
_PREFIXES = {
    "el": "ال", "al": "ال", "il": "ال", "l": "ال",
    "fel": "فال", "fil": "فال", "fl": "فال",
    "bel": "بال", "bil": "بال",
    "lel": "لل", "lil": "لل",
    "3al": "عال", "3el": "عال",
    "w": "و", "wi": "و", "we": "و", "wa": "و", "u": "و",
}
_WORDS = {
    "eh": "ايه", "ehh": "ايه", "ah": "اه", "aywa": "ايوه", "la": "لا", "la2": "لا", "ya": "يا", "ana": "انا",
    "enta": "انت", "inta": "انت", "enti": "انتي", "inti": "انتي", "e7na": "احنا", "i7na": "احنا",
    "howa": "هو", "huwa": "هو", "heya": "هي", "hiya": "هي", "homa": "هما", "hum": "هم",
    "f": "في", "fi": "في", "fe": "في", "fy": "في", "b": "ب", "o": "او", "aw": "او", "walla": "ولا",
    "wala": "ولا", "wla": "ولا", "willa": "ولا", "wela": "ولا",
    "ma": "ما", "mesh": "مش", "mish": "مش", "msh": "مش", "mush": "مش", "mo": "مو", "mu": "مو",
    "mn": "من", "men": "من", "min": "من", "man": "من", "3ala": "على", "3la": "على", "3an": "عن",
    "ma3": "مع", "m3": "مع", "m3a": "مع", "ma3a": "مع", "lma": "لما", "lama": "لما", "lamma": "لما",
    "eli": "اللي", "elli": "اللي", "illi": "اللي", "li": "اللي", "yalli": "اللي",
    "ezay": "ازاي", "izay": "ازاي", "ezzay": "ازاي", "leh": "ليه", "leih": "ليه", "lesh": "ليش", "leish": "ليش",
    "shu": "شو", "sho": "شو", "shou": "شو", "wesh": "وش", "wish": "وش", "kif": "كيف", "keef": "كيف", "kef": "كيف",
    "kifash": "كيفاش", "kifach": "كيفاش", "ash": "اش", "ach": "اش", "chnou": "شنو", "shno": "شنو", "shnu": "شنو",
    "fen": "فين", "fein": "فين", "wen": "وين", "wein": "وين", "feen": "فين", "emta": "امتى", "imta": "امتى",
    "lazem": "لازم", "lazm": "لازم", "lazim": "لازم", "kaman": "كمان", "bas": "بس", "bs": "بس",
    "kol": "كل", "kul": "كل", "kolo": "كله", "kollo": "كله", "kolaha": "كلها", "bala": "بلا",
    "keda": "كده", "kda": "كده", "kdaa": "كده", "hek": "هيك", "heik": "هيك", "hon": "هون", "hena": "هنا",
    "hala2": "هلق", "halla2": "هلق", "delwa2ty": "دلوقتي", "delwa2ti": "دلوقتي", "bardo": "بردو",
    "3am": "",  # Levantine "عم", the progressive before a verb ("3am yesrakh"): no search weight
}

# Function words of the table that no English sentence uses: more evidence that a question with
# an Arabizi digit in it is Arabizi.
_CUES = frozenset(
    "eh ehh aywa enta inta enti inti howa huwa heya hiya homa walla mesh mish msh mush lma lama lamma eli elli "
    "illi yalli ezay izay ezzay leh leih lesh leish shu sho shou wesh kif keef kef kifash kifach chnou shno shnu "
    "fen fein feen wen wein emta imta lazem lazm lazim kaman".split()
)

# Spellings of Latin letter runs, the commonest reading first.  Digraphs before letters.
_DIGRAPHS = {
    # ch is ش in the Maghreb and Lebanon, the Gulf's چ (ك) elsewhere ("bacher" باكر); th is also
    # the Gulf's ظ ("mowathafeen").
    "sh": ("ش",), "ch": ("ش", "ك"), "ph": ("ف",), "kh": ("خ",), "gh": ("غ",), "th": ("ث", "ت", "ظ"),
    "dh": ("ذ", "ض", "د"),
    "3'": ("غ",), "7'": ("خ",), "6'": ("ظ",), "9'": ("ض",),
    "aa": ("ا",), "ee": ("ي",), "ii": ("ي",), "oo": ("و",), "ou": ("و",), "uu": ("و",),
}
_CONSONANTS = {
    "2": ("ق", "ا", "ء", "ئ"), "3": ("ع",), "5": ("خ",), "6": ("ط",), "7": ("ح",), "8": ("ق", "غ"),
    "9": ("ق", "ص"),
    "b": ("ب",), "p": ("ب",), "t": ("ت", "ط"), "g": ("ج", "ق"), "j": ("ج",), "h": ("ه", "ح"),
    "d": ("د", "ض"), "r": ("ر",), "z": ("ز", "ظ"), "s": ("س", "ص"), "f": ("ف",), "v": ("ف",),
    "q": ("ق",), "k": ("ك",), "c": ("ك", "س"), "l": ("ل",), "m": ("م",), "n": ("ن",),
    "w": ("و",), "y": ("ي",), "x": ("كس",),
}
# Vowels: left out inside a word (a short vowel), or written (a long one).
_MEDIAL = {"a": ("", "ا"), "e": ("", "ي"), "i": ("ي", ""), "o": ("", "و"), "u": ("", "و")}
_INITIAL = {"a": ("ا",), "e": ("ا",), "i": ("ا",), "o": ("ا", "او"), "u": ("ا", "او")}
# A final vowel is written: it is said ("shakwa" شكوى, "3omala" العملاء with the hamza Arabizi
# drops).  Leaving it out made "el 3omala" العمل (scripts/data/arabizi_words.tsv, first half:
# 0.720 -> 0.730 of words read right).  A final a may be ى ("ta3ala" تعالى):
# word frequencies tell it from ه and ا (first half 0.765 -> 0.775).
_FINAL = {"a": ("ه", "ا", "اء", "ى"), "e": ("ه", "ي"), "i": ("ي",), "o": ("و",), "u": ("و",)}
# The suffixes -na ("us", "our") and -ha ("her") end in an alif, not in the ة of a noun.
_SUFFIX_ALIF = ("na", "ha")
# A shorter Latin word in an Arabizi question is Arabic ("ard", "rad", "2al"), whatever English has.
MIN_LATIN_WORD = 4
# A word that starts with l and a consonant, or lel/lil/lal and one, has the article glued on
# (four letters at least: "lna" is لنا, "lk" لك).
_GLUED_ARTICLE = re.compile(r"^(?:l|(l[aei]l))(?=[^aeiou'])(?=.{3})")
# Combinations tried per word, at most: the plainest come first.
MAX_SPELLINGS = 512
# A spelling people write at least this often (Zipf, kb.search.common_words: 1.5 is about
# once in 30 million words) is a reading when the help center knows none of them.
MIN_FREQUENCY = 1.5


def is_arabizi_word(word: str) -> bool:
    """A word only Arabizi spells so (lower case): an Arabizi digit between letters or before
    them ("3ayez", "a3mel", "2olt"); ``kb.search.languages`` counts these as Arabic too."""
    return bool(_ARABIZI_WORD.match(word))


def is_arabizi(text: str) -> bool:
    """Whether `text` is Arabic typed in Latin letters: a word with an Arabizi digit in it
    ("3ayez", "a3mel", "ma3lesh", or a short one like "3la", "m3"), and more Arabizi words
    (those, words ending in one when the question has an Arabizi function word: "wade7", and
    function words no English sentence has: "ezay", "kifach", "shu", "mesh") than English
    function words."""
    words = [word.lower() for word in _LATIN_WORD.findall(text)]
    marked = [word for word in words
              if is_arabizi_word(word) or (word in _WORDS and any(ch.isdigit() for ch in word))]
    cues = sum(1 for word in words if word in _CUES)
    if cues or any(word in _PREFIXES for word in words if len(word) > 1):
        marked += [word for word in words if _DIGIT_LAST.match(word)]
    english = sum(1 for word in words if word in _ENGLISH_FRAME)
    return bool(marked) and len(marked) + cues > english


def arabic_reading(text: str, arabic: Callable[[str], bool], latin: Callable[[str], bool],
                   weak: Callable[[str], bool] = lambda word: False, detect: bool = True,
                   frequency: Callable[[str], float] | None = None) -> str | None:
    """`text` with its Arabizi words in Arabic script, or None when it is not Arabizi (with
    `detect` False, every Latin word is read: a word list, ``scripts/eval_arabizi_words.py``).

    Each Latin word is read by :func:`read_word` with the word lists it is given: `arabic`
    (words this help center or its dialect lexicon uses), `latin` (English words it knows),
    `weak` (any common Arabic word: the model tokenizer's one-piece words, stop words) and
    `frequency` (how often people write a spelling, Zipf: ``kb.search.common_words.zipf``).
    Arabic-script words, numbers and punctuation stay; "el", "fel", "w"... are glued to
    the next word when it is read in Arabic."""
    if detect and not is_arabizi(text):
        return None
    out: list[str] = []
    glue = ""
    for token in _TOKEN.findall(text):
        lowered = token.lower()
        if token.isspace():
            if not glue:
                out.append(" ")
            continue
        if not _LATIN_WORD.fullmatch(token) or lowered.isdigit():
            if out and out[-1] == " " and not token[0].isalnum():
                out.pop()  # punctuation keeps its place right after the word: "wesh asawi?"
            out.extend((glue + token, " "))
            glue = ""
            continue
        if lowered in _PREFIXES:
            glue += "" if glue.endswith("ال") else _PREFIXES[lowered]
            continue
        # An acronym ("CRM", "FAQ") is no Arabizi word.  Capitalized names are read like any word:
        # the articles write "Google" and "Instagram" in Arabic letters, and the spelling check finds them.
        acronym = token.isupper() and len(token) > 1 and not any(ch.isdigit() for ch in token)
        word = lowered if acronym else read_word(lowered, arabic, latin, weak, glue, frequency)
        if not word:
            continue
        if not is_arabic(word):
            # Kept in Latin letters (an English word, a brand), as typed: the article stays off it.
            out.append(("و " if glue.startswith("و") else "") + token)
        else:
            out.append(glue + (word[2:] if glue.endswith("ال") and word.startswith("ال") else word))
        glue = ""
        out.append(" ")
    if glue:
        out.append(glue)
    return re.sub(r"\s+", " ", "".join(out)).strip()


def read_word(word: str, arabic: Callable[[str], bool], latin: Callable[[str], bool],
              weak: Callable[[str], bool] = lambda word: False, glued: str = "",
              frequency: Callable[[str], float] | None = None) -> str:
    """One lower-case Latin word in Arabic script, or as typed when it is English.

    In order: Arabizi function words (a fixed table); the word as typed when `arabic` knows it
    (editors may list Latin forms in the dialect lexicon: "3ayez"); the first spelling
    (:func:`spellings`) `arabic` knows with the article `glued` to it in front ("el 3omala":
    the articles write العملاء, and عملا is another word), then of those it knows alone the
    most frequent (the first without `frequency`); for a word without a digit, the word
    itself if `latin` knows it ("call" is not كل, "order" is read اوردر only because the
    lexicon has that loanword); the most frequent spelling when people write it at least
    MIN_FREQUENCY; the first spelling `weak` knows; the plainest spelling; a word with
    letters the tables lack stays as typed."""
    if word in _WORDS:
        return _WORDS[word]
    if arabic(word):  # listed in Latin letters (an editor's dialect form): the lexicon reads it
        return word
    candidates = spellings(word)
    if glued.endswith(("ال", "لل")):
        # "el 3omala": the articles write العملاء with its article, and عملا is another word.
        # (Not the conjunction alone: "w kel" is وكل, whatever وكيل the articles hold.)
        for candidate in candidates:
            if arabic(glued + candidate):
                return candidate
    known = [candidate for candidate in candidates if arabic(candidate)]
    if known:
        return max(known, key=frequency) if frequency is not None else known[0]
    if len(word) >= MIN_LATIN_WORD and not any(ch.isdigit() for ch in word) and latin(word):
        return word
    if frequency is not None and candidates:
        best = max(candidates, key=frequency)
        if frequency(best) >= MIN_FREQUENCY:
            return best
    for candidate in candidates:
        if weak(candidate):
            return candidate
    return candidates[0] if candidates else word


def spellings(word: str) -> list[str]:
    """The Arabic spellings a Latin word may stand for, the commonest letters first (at most
    MAX_SPELLINGS); an empty list for a word with letters the tables do not have."""
    segments = _segments(word)
    if segments is None:
        return []
    total = 1
    limited = []
    for options in segments:
        # Past the budget, later segments keep their commonest reading only.
        if total * len(options) > MAX_SPELLINGS:
            options = options[:1]
        total *= len(options)
        limited.append(options)
    ranked = sorted(itertools.product(*[list(enumerate(options)) for options in limited]),
                    key=lambda combo: sum(index for index, _ in combo))
    seen: dict[str, None] = {}
    for combo in ranked:
        spelled = _squeeze("".join(letter for _, letter in combo))
        if spelled:
            seen.setdefault(spelled, None)
    return list(seen)


def _segments(word: str) -> list[tuple[str, ...]] | None:
    """The word cut into letter runs, each with its possible Arabic spellings."""
    segments: list[tuple[str, ...]] = []
    i = 0
    glued = _GLUED_ARTICLE.match(word)
    if glued:
        # "lmochkil", "l7sab": an Arabic word never starts with two consonants, so a bare l
        # before one is the article, and "lel"/"lil" before one is لل ("lilmwathaf").
        segments.append(("لل", "ليل") if glued.group(1) else ("ال", "ل"))
        i = len(glued.group(0))
    while i < len(word):
        pair = word[i:i + 2]
        if pair in _DIGRAPHS:
            segments.append(_DIGRAPHS[pair])
            i += 2
            continue
        letter = word[i]
        if letter == "'":
            i += 1
            continue
        if letter in _CONSONANTS:
            # A doubled consonant is one letter with a shadda: "ll", "mm".
            if i + 1 < len(word) and word[i + 1] == letter and not letter.isdigit():
                i += 1
            segments.append(_CONSONANTS[letter])
        elif letter in _MEDIAL:
            if i == 0:
                segments.append(_INITIAL[letter])
            elif i == len(word) - 1:
                segments.append(("ا", "ه") if letter == "a" and word.endswith(_SUFFIX_ALIF) else _FINAL[letter])
            elif word[i + 1:i + 2] == "n" and i + 2 == len(word) and letter == "a":
                segments.append(("ان", "ا"))  # "za3lan"; "gedan", "tab3an": -an is also tanween, an alif
                i += 2
                continue
            elif letter != "a" and _before_double(word, i):
                # "sitti", "jiddo", "7obbo": a shadda follows a short vowel ("7asses" is حاسس).
                segments.append(("", _MEDIAL[letter][1] or _MEDIAL[letter][0]))
            else:
                segments.append(_MEDIAL[letter])
        else:
            return None
        i += 1
    return segments


def _before_double(word: str, i: int) -> bool:
    """The vowel at i comes before a doubled consonant, where Arabic has no long vowel."""
    after = word[i + 1:i + 3]
    return len(after) == 2 and after[0] == after[1] and after[0] in _CONSONANTS and not after[0].isdigit()


def _squeeze(spelled: str) -> str:
    """No long vowel letter twice in a row ("iy", "uw": one vowel), no hamza at the start.  Two
    consonants stay: "7asses" is حاسس."""
    squeezed = re.sub(r"([اوي])\1+", r"\1", spelled)
    return "ا" + squeezed[1:] if squeezed.startswith("ء") else squeezed
