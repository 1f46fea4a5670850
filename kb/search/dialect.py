"""The dialect lexicon: what a customer's Egyptian, Gulf, Levantine or Maghrebi word means in MSA.

Customers write the way they speak ("ليش ما وصل طلبي", "عايز أرجع الفلوس", "بدي غيّر
الجوال"); articles are in Modern Standard Arabic.  The keyword side only finds what the
article spells the same way, and typo tolerance used to turn an unknown dialect word into
an unrelated index word one letter away.  The lexicon maps each dialect form to its MSA
form(s), or marks it as carrying no search weight (a pure function word, dropped like a
stop word).  It applies to the question only: articles stay as written, the dense model
sees the customer's own text (it reads dialect), and editing the lexicon needs no re-index.

Two files, one format (a YAML list of entries, see ``data/dialect_lexicon.yml``):

- the built-in lexicon, ``kb/search/data/dialect_lexicon.yml``, shipped with kb;
- the editors' own ``articles/_dialect.yml`` (optional): its forms are added to the
  built-in ones and win over them, so an editor can add a word or change what one means.

An entry::

    - msa: أريد                 # the MSA form (first) and single-word alternatives: [هاتف, جوال]
      egy: [عايز, عاوز]        # forms per dialect: egy, glf, lev, mgr, or any (several dialects)
      glf: [ابغى, ابي]
    - weight: none              # no search weight (instead of msa)
      any: [يعني, والله]
    - msa: أبي                   # keep: the form is also an MSA word: it stays, and the MSA
      keep: true                 # forms are added as weaker alternatives
      glf: [ابي]

Reading and checking the files is ``kb.search.dialect_files``'s.

Forms are compared after the keyword pipeline's normalization (hamza forms, ى/ي, ة/ه,
diacritics and tatweel do not matter); a form may be up to three words ("مش عارف").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from functools import cached_property
from pathlib import Path

from kb.text import is_stopword
from kb.text import normalize_arabic
from kb.text import stem
from kb.text import tokenize
from kb.text import word_spans


FILE_NAME = "_dialect.yml"
BUILTIN_PATH = Path(__file__).resolve().parent / "data" / "dialect_lexicon.yml"
BUILTIN_NAME = "dialect_lexicon.yml"
# Dialect codes as the files and the staff page use them (MADAR's regional groups).
DIALECTS = {"egy": "مصرية", "glf": "خليجية", "lev": "شامية", "mgr": "مغاربية", "any": "عدة لهجات"}
MAX_FORM_WORDS = 3
# A letter held down ("زعلاااان", "ليييش"): Arabic never writes one letter three times in a row.
_ELONGATION = re.compile(r"([\u0621-\u064a])\1{2,}")
# Letters dialect writers add for sounds MSA lacks (Maghrebi ڨ/ڤ for g/v, Gulf چ for ch,
# Persian گ/پ): folded to the MSA letter they stand for, so one form covers both spellings.
_DIALECT_LETTERS = str.maketrans({"ڨ": "ق", "ڤ": "ف", "چ": "ج", "گ": "ك", "پ": "ب"})


@dataclass(frozen=True)
class Meaning:
    """What one dialect form stands for in a question."""

    msa: tuple[str, ...]  # normalized MSA words of the main form; () = no search weight
    alternatives: tuple[str, ...] = ()  # normalized single-word alternatives
    keep: bool = False  # the form is an MSA word too: keep it, MSA forms become alternatives
    dialects: tuple[str, ...] = ()
    source: str = BUILTIN_NAME
    line: int = 0


@dataclass(frozen=True)
class Entry:
    """One entry as written in a lexicon file (for the staff page and for merging)."""

    msa: tuple[str, ...]  # as written; () = no search weight
    forms: tuple[tuple[str, str], ...]  # (dialect code, form as written)
    keep: bool = False
    note: str = ""
    line: int = 0

    def forms_of(self, code: str) -> list[str]:
        """This entry's forms for one dialect code (for showing the entry)."""
        return [form for dialect, form in self.forms if dialect == code]


@dataclass(frozen=True)
class DialectLexicon:
    entries: tuple[Entry, ...] = ()
    meanings: dict[tuple[str, ...], Meaning] = field(default_factory=dict)

    @cached_property
    def longest(self) -> int:
        """Words in the longest form (matching tries the longest first)."""
        return max((len(form) for form in self.meanings), default=0)

    @cached_property
    def words(self) -> frozenset[str]:
        """Every one-word form and every MSA word: the Arabic words a customer's question may
        use here (``kb.search.arabizi`` checks its spellings of Latin-letter words against them)."""
        return frozenset([*(form[0] for form in self.meanings if len(form) == 1),
                          *(word for meaning in self.meanings.values() for word in meaning.msa)])

    @cached_property
    def first_words(self) -> frozenset[str]:
        """The first word of every form: most words of a question are none, and need one look-up."""
        return frozenset(form[0] for form in self.meanings)

    def counts(self) -> dict[str, int]:
        """How many forms each dialect code has (a form of several dialects counts for each)."""
        counts = {code: 0 for code in DIALECTS}
        for meaning in self.meanings.values():
            for code in meaning.dialects:
                counts[code] += 1
        return counts

    def merged(self, local: DialectLexicon) -> DialectLexicon:
        """This lexicon with the local one's forms added; a local form replaces a built-in one."""
        if not local.meanings:
            return self
        return DialectLexicon(self.entries + local.entries, {**self.meanings, **local.meanings})

    def match(self, words: list[str], start: int) -> tuple[int, Meaning] | None:
        """The longest form at words[start:], as (number of words, meaning), or None.

        A form also matches with a letter held down ("ليييش"), and a form that carries
        weight also with the conjunction و joined to it ("وعايز", "وليش").  Not ف: too
        many words start with it ("فيجي" is Fiji, not ف + يجي); and not for no-weight
        forms: "ولي", "والي" are MSA words (guardian, governor), not و + لي."""
        first = _squeezed(words[start])
        unjoined = first[1:] if first.startswith("و") and len(first) >= 4 else None
        if first not in self.first_words and unjoined not in self.first_words:
            return None
        for size in range(min(self.longest, len(words) - start), 0, -1):
            key = (first, *(_squeezed(w) for w in words[start + 1:start + size]))
            meaning = self.meanings.get(key)
            if meaning is None and unjoined:
                joined = self.meanings.get((unjoined, *key[1:]))
                meaning = joined if joined is not None and joined.msa else None
            if meaning is not None:
                return size, meaning
        return None


@dataclass(frozen=True)
class MappedWords:
    """A question's words after the lexicon: what the keyword side searches for."""

    words: tuple[str, ...]  # normalized words, stop words and no-weight forms removed
    stems: tuple[str, ...]
    from_lexicon: frozenset[str]  # stems the lexicon gave (never typo-expanded)
    alternatives: dict[str, tuple[str, ...]]  # stem -> alternative stems the lexicon gave
    mapped: tuple[tuple[str, str], ...]  # (dialect form, its MSA or "") as found, for explaining


# Words that name the next word rather than use it ("ما معنى كلمة ...", "what does the word ...
# mean"): the named word is searched as written, even a stop word or a dialect form with no
# search weight.
MENTION_FRAMES = frozenset({"كلمه", "الكلمه", "لفظه", "لفظ", "مصطلح", "المصطلح", "مفرده", "word", "term"})


def map_words(tokens: list[str], lexicon: DialectLexicon, max_words: int = 64) -> MappedWords:
    """Replace dialect forms in tokenized text by their MSA words and drop stop words.

    Pipeline per position: longest lexicon form (with a joined و, elongation squeezed)
    -> its MSA words, with the MSA alternatives and the one-word form itself as weaker
    alternatives (or nothing, for no-weight forms; or the form itself plus the MSA forms as
    alternatives, for ``keep`` forms) -> otherwise the word itself unless it is a stop word.
    """
    words: list[str] = []
    from_lexicon: set[str] = set()
    alternatives: dict[str, tuple[str, ...]] = {}
    mapped: list[tuple[str, str]] = []
    position = 0
    while position < len(tokens) and len(words) < max_words:
        found = lexicon.match(tokens, position) if lexicon.meanings else None
        mentioned = position > 0 and tokens[position - 1] in MENTION_FRAMES
        if mentioned and (found is None or not found[1].msa):
            # "ما معنى كلمة هون": the question names the word, it does not use it (هون is
            # Levantine "here", a form with no search weight, and an MSA word too).
            words.append(_squeezed(tokens[position]))
            position += 1
            continue
        if found is None:
            word = _squeezed(tokens[position])
            if not is_stopword(word):
                words.append(word)
            position += 1
            continue
        size, meaning = found
        form = " ".join(tokens[position:position + size])
        position += size
        mapped.append((form, " ".join(meaning.msa)))
        if meaning.keep:
            main = [w for w in tokens[position - size:position] if not is_stopword(w)]
            extra = meaning.msa + meaning.alternatives
        else:
            main = [w for w in meaning.msa if not is_stopword(w)]
            # The form itself stays a weak alternative: an article may quote the customer's
            # word ("موبايل"), and a form that is also a rarer MSA word is not lost.
            extra = meaning.alternatives + (tuple(tokens[position - 1:position]) if size == 1 else ())
        if not main:
            continue
        words.extend(main)
        from_lexicon.update(stem(w) for w in main)
        others = tuple(dict.fromkeys(stem(w) for w in extra if not is_stopword(w) and stem(w) != stem(main[0])))
        if others:
            alternatives[stem(main[0])] = tuple(dict.fromkeys(alternatives.get(stem(main[0]), ()) + others))
    words = words[:max_words]
    return MappedWords(tuple(words), tuple(stem(w) for w in words), frozenset(from_lexicon), alternatives,
                       tuple(mapped))


# Dialect verb morphology the lexicon cannot list word by word (Habash 2010, ch. on dialects):
# negation as a circumfix, ما...ش / م...ش ("ماوصلش", "مفهمتش"); progressive and future
# prefixes before the imperfect, ب/بي/بت/بن (Egyptian, Levantine), ه/ح (Egyptian,
# Levantine future), ك/كا (Moroccan), ن...و (Maghrebi first person plural).
_NEGATED = re.compile(r"^ما?([\u0621-\u064a]{3,})ش$")
# The dialect particles before a present-tense verb: ب (Egyptian, Levantine), ه and ح (future),
# ك and كا (Moroccan).  Also read by kb.search.derivation.
TENSE_PARTICLE = "(?:ب|ه|ح|ك|كا)"
_TENSE_PREFIX = re.compile(rf"^{TENSE_PARTICLE}([يتنا][\u0621-\u064a]{{2,}})$")


def verb_cores(word: str) -> list[str]:
    """The MSA-looking verbs inside a dialect verb form, most stripped last:
    "ماوصلش" -> ["وصل"], "مبيشتغلش" -> ["بيشتغل", "يشتغل"], "هيوصل" -> ["يوصل"].

    Only for words the index does not know (``kb.search.spelling.typo_expansions``): many MSA
    words look like these patterns too ("بيان", "هيكل"), and those are found as they are."""
    cores = []
    negated = _NEGATED.match(word)
    if negated:
        word = negated.group(1)
        cores.append(word)
    tense = _TENSE_PREFIX.match(word)
    if tense:
        cores.append(tense.group(1))
    return cores


def _squeezed(word: str) -> str:
    return _ELONGATION.sub(r"\1", word.translate(_DIALECT_LETTERS))


def form_key(text: str) -> tuple[str, ...]:
    """A form or MSA word as the lexicon keys it: its words normalized, letters held down and
    dialect letters folded (``kb.search.dialect_files`` keys the files' entries with it)."""
    return tuple(_squeezed(w) for w in tokenize(text))


# One word of the keyword pipeline (kb.text.tokenize): a surface word that normalizes to
# anything else (a joiner inside it) makes the question's words and the lexicon's differ.
_WHOLE_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def msa_reading(text: str, lexicon: DialectLexicon) -> str | None:
    """The question with its dialect forms replaced by their MSA words, for the dense side;
    None when the lexicon finds no dialect form in it.

    multilingual-e5-small reads MSA much better than Egyptian or Gulf Arabic ("عايز ارجع
    الفلوس" lands near unrelated posts, "أريد ارجع الفلوس" near refunds).  Words the lexicon
    does not know stay as the customer wrote them (with their hamzas and ة), and so do a
    form with no search weight (يعني, but also أي, غير, إلى: the keyword side drops them, the
    model reads them), a ``keep`` form (also an MSA word) and a form of MSA stop words only
    (حتى, ما كان, متى: in an MSA question they mean what MSA says; mlqa_ar_dev lost 0.001
    nDCG@10 when they were replaced).  Replaced words are the lexicon's normalized MSA words.
    """
    spans = word_spans(text)
    surface = [text[start:end] for start, end in spans]
    tokens = [normalize_arabic(word).lower() for word in surface]
    if not lexicon.meanings or any(not _WHOLE_WORD.fullmatch(token) for token in tokens):
        return None
    out: list[str] = []
    changed = False
    position = 0
    while position < len(tokens):
        found = lexicon.match(tokens, position)
        size = found[0] if found else 1
        meaning = found[1] if found else None
        form = tokens[position:position + size]
        if (meaning is None or meaning.keep or not meaning.msa or meaning.msa == tuple(form)
                or all(is_stopword(word) for word in form)):
            out.extend(surface[position:position + size])
        else:
            out.extend(meaning.msa)
            changed = True
        position += size
    return " ".join(out) if changed else None
