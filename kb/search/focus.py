"""Message focusing: turn a customer's noisy message into the text a search should get.

Customers write "السلام عليكم ... رقم الطلب 98765 ... مع التحية، محمد".  The greeting, the
order number, the e-mail address and the signature say nothing about *what* they need, yet
they would steer both the keyword side (rare tokens score high) and the embedding.  The
functions here are pure (text in, text out) so each rule is tested in a table:

- :func:`strip_identifiers`: URLs, e-mail addresses, phone numbers, order/ticket/invoice
  numbers (``#123``, ``order no. 44781``, ``رقم الطلب ٥٥٢١٠٠``, ``INV-2024-1187``).
- :func:`strip_pleasantries`: greetings, thanks, sign-offs and the signature block after them,
  in Gulf, Levantine, Egyptian and standard Arabic and in English.
- :func:`focus_message`: the latest message cleaned, then the most informative sentences of
  the customer's earlier messages as context, so the latest message dominates the query.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

from kb.text import is_stopword
from kb.text import strip_invisible
from kb.text import tokenize

# Characters of context added after the latest message, at most.
CONTEXT_CHARS = 200
# A latest message with fewer content words than this is a follow-up ("and if it doesn't
# arrive tomorrow?"): it gets the full context budget instead of at most its own length.
FOLLOW_UP_WORDS = 4

_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640]")
_A = "[اأإآ]"  # alef with or without hamza, as customers type it

# -- identifiers ---------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_URL = re.compile(r"(?:https?://|www\.)\S+|(?<![\w@.])(?:[a-z0-9-]+\.)+[a-z]{2,24}(?:/\S*)?(?![\w.])", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d ().-]{6,}\d(?!\w)")
_ID = r"#?\s*(?:[A-Za-z]{1,6}[-_]?)?\d[\w/-]*"
# "رقم الطلب 123", "order no. 123": the number word, its label and the number go.
_NUMBERED = re.compile(rf"(?<!\w)[وبلف]?رقم\s*(?:ال\w+\s*)?[:：]?\s*\(?{_ID}\)?", re.UNICODE)
_NUMBER_WORD = re.compile(rf"(?<!\w)(?:no\.?|nr\.?|num(?:ber)?|ref(?:erence)?)\s*[:#]?\s*{_ID}", re.IGNORECASE)
_HASH_ID = re.compile(r"#\s*(?:[A-Za-z]{1,6}[-_]?)?\d[\w/-]*")
_CODE_ID = re.compile(r"(?<!\w)[A-Za-z]{1,6}[-_]?\d{3,}[\w-]*")  # INV-2024-1187, SA0099812, BK-20931
_LONG_NUMBER = re.compile(r"(?<!\w)\d{4,}(?!\w)")  # \d matches Arabic-Indic digits too
# A word that only labels the identifier right after it ("الطلب 66031", "order #123",
# "الإيميل x@y.com") goes with it; "الطلب رقم 554433 اتلغى" keeps "الطلب": there the word is
# what the sentence is about.
_LABEL = (
    r"(?:[وبلف]?(?:ال)?(?:طلب(?:ي[ةه])?|تذكر[ةه]|شحن[ةه]|حجز|حساب|اشتراك|فاتور[ةه]|[اأ]وردر|شكو[ىي]"
    r"|بريد|[اإ]يميل|رابط|جوال|هاتف|موبايل|عضوي[ةه])"
    r"|order|ticket|invoice|booking|case|e-?mail|link|url|phone|mobile|account|subscription|shipment|tracking)"
)
_BARE, _NUMBERED_MARK = "\x00", "\x01"
_LABELLED = re.compile(rf"(?<!\w){_LABEL}\s*(?:is\s*)?[:：#(]?\s*{_BARE}", re.IGNORECASE)
_MARKS = re.compile(f"[{_BARE}{_NUMBERED_MARK}]")
_BRACKETS = re.compile(r"[()\[\]{}<>«»\"]")


def strip_identifiers(text: str) -> str:
    """Remove e-mail addresses, URLs, phone numbers and order/ticket/account numbers."""
    bare = f" {_BARE} "
    text = _EMAIL.sub(bare, text)
    text = _URL.sub(bare, text)
    text = _NUMBERED.sub(f" {_NUMBERED_MARK} ", text)
    text = _NUMBER_WORD.sub(f" {_NUMBERED_MARK} ", text)
    text = _HASH_ID.sub(bare, text)
    text = _PHONE.sub(bare, text)
    text = _CODE_ID.sub(bare, text)
    text = _LONG_NUMBER.sub(bare, text)
    return _MARKS.sub(" ", _LABELLED.sub(" ", text))


# -- greetings, thanks, signatures ---------------------------------------------------------

_ARABIC_GREETINGS = [
    rf"و?{_A}?لسلام عليكم(?: و?رحم[ةه] {_A}لله(?: و?بركاته)?)?",
    rf"وعليكم {_A}لسلام(?: و?رحم[ةه] {_A}لله(?: و?بركاته)?)?",
    r"(?:يا )?مرحب[اى]+(?: بكم| بك)?",
    rf"(?:يا )?{_A}هل[اى]+(?: و?سهل[اى]+)?(?: بكم| بك)?",
    r"(?:يا )?هل[اى]+",
    r"هاي+",
    rf"{_A}لو+",
    r"(?:صباح|مساء|مسا) (?:الخير|النور|الورد|الفل)",
    r"يا جماع[ةه](?: الخير)?",
    r"تحي[ةه] طيب[ةه](?: وبعد)?",
    rf"(?:عزيزي|عزيزتي|{_A}عزائي)(?: فريق)?(?: {_A}لدعم| خدم[ةه] {_A}لعملاء| {_A}لفريق)?",
    r"فريق (?:الدعم|خدم[ةه] العملاء)(?: العزيز| الكريم)?",
]
_ARABIC_THANKS = [
    r"[وف]?شكر[اى]?(?: جزيل[اى]?| كثير[اى]?)?(?: لك[مي]?| لحضرتك| لتعاونكم| على تعاونكم| مقدم[اى]?)?",
    r"مشكور(?:ين|[ةه])?",
    rf"(?:{_A}لله )?يعطيك(?:م)? {_A}لعافي[ةه]",
    rf"جزاك(?:م)? {_A}لله خير[اى]?",
    rf"بارك {_A}لله فيك(?:م)?",
    rf"(?:و)?تقبلوا (?:فائق|خالص) {_A}لاحترام(?: و{_A}لتقدير)?",
    rf"مع (?:خالص |{_A}طيب )?(?:{_A}لشكر|{_A}لتحي[ةه]|{_A}لتحيات|{_A}لتقدير|{_A}لاحترام)(?: و{_A}لتقدير)?",
    rf"(?:مع )?(?:خالص |{_A}طيب )?تحياتي(?: لك[مي]?| لحضرتك)?",
    r"لو سمحت(?:وا|ي)?",
    r"من فضلك(?:م)?",
    rf"{_A}رجو {_A}لإفاد[ةه]",
]
_ENGLISH_GREETINGS = [
    r"(?:hi|hello|hey|hiya|dear|greetings)"
    r"(?: there| all| everyone| guys| sir| madam| team| support(?: team)?| customer (?:service|support)(?: team)?)?",
    r"good (?:morning|afternoon|evening|day)",
]
_ENGLISH_THANKS = [
    r"(?:many )?thanks?(?: you)?(?: so much| very much| a lot| in advance)?",
    r"(?:best|kind|warm)? ?regards",
    r"cheers",
    r"sincerely(?: yours)?",
    r"please advise",
]
_PLEASANTRY = re.compile(
    r"(?<!\w)(?:" + "|".join(_ARABIC_GREETINGS + _ARABIC_THANKS + _ENGLISH_GREETINGS + _ENGLISH_THANKS) + r")(?!\w)",
    re.IGNORECASE,
)
# A line that is only a sign-off: what follows it is a signature (name, title, phone).
_SIGN_OFF_LINE = re.compile(
    r"^\s*(?:(?:" + "|".join(_ARABIC_THANKS + _ENGLISH_THANKS) + r"|best|yours|"
    rf"{_A}خوكم|{_A}ختكم|{_A}لمخلص[ةه]?)[\s,،.!]*)+$",
    re.IGNORECASE,
)
# "... Thanks, Sara" / "... — Lina" / "أخوكم محمد" at the very end.
_TRAILING_SIGNATURE = re.compile(
    r"(?:(?i:thanks|thank you|regards|cheers|best)[,،]\s*[A-Z][\w.]*(?: [A-Z][\w.]*)?"
    r"|\s(?:[—–]|--)\s*[^\s\d]{2,}(?: [^\s\d]{2,})?"
    rf"|(?:{_A}خوكم|{_A}ختكم|{_A}لمخلص[ةه]?) \S+(?: \S+)?)\s*$",
)
_SIGNATURE_MAX_LINES = 3
_SIGNATURE_MAX_WORDS = 4


def _looks_like_signature(lines: list[str]) -> bool:
    """A name, a title, a phone number: a few short lines, no question."""
    lines = [line for line in lines if line.strip()]
    return len(lines) <= _SIGNATURE_MAX_LINES and all(
        len(line.split()) <= _SIGNATURE_MAX_WORDS and not re.search(r"[?؟]", line) for line in lines
    ) or all(_signature_line_kind(line.strip()) for line in lines)


# -- signature blocks without a sign-off ------------------------------------------------------
# Agents and business customers end with a block: a name, a job title, a company, contact
# lines ("أحمد\nمشرف الدعم - شركة المثال\nهاتف 0551234567").  Each line is short and has
# no question; the block counts when it has contact details or a job title with the
# company, or two such lines (a name and a title, a title and a company).  A name alone
# proves nothing ("وين الطلب" is two words too).

_CONTACT_LINE = re.compile(
    rf"{_EMAIL.pattern}|(?:https?://|www\.)\S+|(?<![\w+])\+?\d[\d ().-]{{6,}}\d(?!\w)"
    r"|^\s*(?:[وب]?(?:ال)?(?:هاتف|جوال|موبايل|تلفون|تليفون|واتس(?:اب)?|فاكس|تحويل[ةه]|ايميل|إيميل|البريد(?: الإلكتروني)?"
    r"|الموقع|ص\.ب|صندوق بريد|العنوان)"
    r"|tel|phone|mobile|mob|cell|fax|ext|e-?mail|web(?:site)?|whats ?app|address|p\.?o\.? box|linkedin)\b\s*[:：.]?",
    re.IGNORECASE,
)
_COMPANY = re.compile(
    r"(?<!\w)(?:[وب]?(?:ال)?(?:شرك[ةه]|مؤسس[ةه]|مجموع[ةه]|متجر|مكتب|مصنع|بنك|مستشفى|جامع[ةه])"
    r"|co\.|company|ltd\.?|llc|inc\.?|corp\.?|corporation|gmbh|plc|group|est\.|limited|s\.?a\.?r\.?l)(?!\w)",
    re.IGNORECASE,
)
_ROLE = re.compile(
    r"(?<!\w)(?:[وب]?(?:ال)?(?:مدير[ةه]?|مشرف[ةه]?|موظف[ةه]?|مسؤول[ةه]?|مسئول[ةه]?|أخصائي[ةه]?|اخصائي[ةه]?|ممثل[ةه]?"
    r"|رئيس[ةه]?|قسم|فريق|إدار[ةه]|ادار[ةه]|منسق[ةه]?|مهندس[ةه]?|محاسب[ةه]?|مستشار[ةه]?|وكيل[ةه]?|نائب|مندوب[ةه]?"
    r"|أمين|امين|سكرتير[ةه]?|مساعد[ةه]?|المبيعات|الدعم|العمليات|التسويق|الموارد البشري[ةه])"
    r"|manager|supervisor|agent|specialist|officer|director|head|lead|team|department|dept\.?|representative"
    r"|coordinator|engineer|consultant|executive|assistant|associate|analyst|advisor|adviser|ceo|cto|coo|cfo"
    r"|founder|owner|president|vp|support|sales|operations|customer (?:service|success|care))(?!\w)",
    re.IGNORECASE,
)
_NAME_TITLE = r"(?:م|د|أ|ا|eng|dr|mr|mrs|ms|prof)\.|المهندس[ةه]?|الدكتور[ةه]?|الأستاذ[ةه]?|الاستاذ[ةه]?"
# Words a title or company line may contain ("Head of Support at Acme", "مدير في شركة").
_TITLE_SMALL_WORDS = frozenset("في لدى of at and & the for - – — | / , ، :".split())
_SIGNATURE_LINE_WORDS = 8
# Question words of the dialects (most are no stop words): a line with one asks something.
_QUESTION_WORDS = frozenset(tokenize(
    "وين فين ليش ليه لويش شو ايش إيش وش ويش شنو شنهو اش كيف كيفاش ازاي إزاي اشلون شلون متى امتى إمتى ايمتى وقتاش"
    " قديش قداش بكام بكم كم مين منو شكون علاش لماذا ماذا هل فاش"
))
_QUESTION_MARK = re.compile(r"[?؟]")


def _signature_line_kind(line: str) -> str | None:
    """"contact", "title" (job and company), "company", "role", "name", "signoff", or None."""
    if _QUESTION_MARK.search(line) or len(tokenize(line)) > _SIGNATURE_LINE_WORDS:
        return None
    if _CONTACT_LINE.search(line):
        return "contact"
    if _SIGN_OFF_LINE.match(line):
        return "signoff"
    words = [w for w in re.split(r"[\s,،:|/]+", re.sub(_NAME_TITLE, " ", line, flags=re.IGNORECASE)) if w.strip("-–—&.")]
    if any((is_stopword(w) or w in _QUESTION_WORDS) and w not in _TITLE_SMALL_WORDS for w in tokenize(" ".join(words))):
        return None  # "ما رد علي", "is not working": a sentence, not a title
    company, role = _COMPANY.search(line), _ROLE.search(line)
    if company and role:
        return "title"  # "مشرف الدعم - شركة المثال", "Support Specialist | Globex Corp"
    if company:
        return "company"
    if role:
        return "role"
    latin = [w for w in words if re.match(r"[A-Za-z]", w)]
    if 1 <= len(words) <= 4 and all(w[0].isupper() for w in latin) and not any(ch.isdigit() for ch in line):
        return "name"
    return None


def _signature_block_start(lines: list[str]) -> int | None:
    """Index of the first line of the trailing signature block, or None if there is none."""
    block: list[tuple[int, str]] = []  # (line index, kind), last line first
    for i in range(len(lines) - 1, -1, -1):
        if not lines[i].strip():
            continue
        kind = _signature_line_kind(lines[i].strip())
        if kind is None:
            break
        block.append((i, kind))
        if kind == "signoff":
            break  # the sign-off opens the block
    first_content = next((i for i, line in enumerate(lines) if line.strip()), None)
    if block and block[-1][0] == first_content:
        block.pop()  # the message's first line stays, whatever it looks like
    if not block:
        return None
    start = block[-1][0]
    kinds = [kind for _, kind in block]
    found = set(kinds)
    # Alone, a company line can be content ("شركة الشحن أرامكس") and a job title can be
    # the subject ("مدير الفرع"); next to a name or each other they are a signature.
    strong = found & {"contact", "title"} or (found & {"company", "role"} and len(kinds) > 1) or \
        ("signoff" in found and len(kinds) > 1)
    return start if strong else None


def strip_signature(text: str) -> str:
    """Drop a signature: a sign-off line and the short lines after it (the name, title,
    phone), or a trailing block of name, job title, company and contact lines without one.

    The message's first line always stays: it is the question more often than a name."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        # The first line is never a sign-off: "Thanks!\n<the question>" keeps the question.
        if i > 0 and (_SIGN_OFF_LINE.match(line) or _SIGNATURE_DELIMITER.match(line)) and _looks_like_signature(lines[i + 1:]):
            lines = lines[:i]
            break
    start = _signature_block_start(lines)
    if start is not None:
        lines = lines[:start]
    return _TRAILING_SIGNATURE.sub("", "\n".join(lines).rstrip())


# "-- " on a line of its own: the e-mail convention for "a signature follows".
_SIGNATURE_DELIMITER = re.compile(r"^\s*(?:--|__+|—)\s*$")


def strip_pleasantries(text: str) -> str:
    """Remove the signature block, then greetings and thanks wherever they are."""
    return _PLEASANTRY.sub(" ", strip_signature(text))


# -- the whole pipeline --------------------------------------------------------------------

_REPEATED_PUNCTUATION = re.compile(r"([!?؟.،,])\1+")
_LOOSE_PUNCTUATION = re.compile(r"\s+([!?؟.،,:;؛])")
_EDGE_PUNCTUATION = re.compile(r"^[\s!?؟.،,:;؛\-—–]+|[\s,،:;؛\-—–]+$")
_DOUBLE_SEPARATOR = re.compile(r"([.،,:;؛!?؟])\s*(?:[.،,:;؛]\s*)+")


def _prepare(text: str) -> str:
    """NFKC, no invisible characters, no tashkeel/tatweel, no emoji or other symbols."""
    text = strip_invisible(unicodedata.normalize("NFKC", text))
    text = _DIACRITICS.sub("", text)
    return "".join(" " if unicodedata.category(ch) in ("So", "Sk", "Cs", "Co", "Mn") else ch for ch in text)


def _tidy(text: str) -> str:
    text = _BRACKETS.sub(" ", text)
    text = _REPEATED_PUNCTUATION.sub(r"\1", text)
    text = re.sub(r"[ \t]+", " ", text)
    lines = [_EDGE_PUNCTUATION.sub("", line.strip()) for line in text.split("\n")]
    text = " ".join(line for line in lines if line)
    text = _LOOSE_PUNCTUATION.sub(r"\1", text)
    text = _DOUBLE_SEPARATOR.sub(r"\1 ", text)
    return _EDGE_PUNCTUATION.sub("", text).strip()


def clean_message(text: str) -> str:
    """One message without greetings, thanks, signatures, identifiers or emoji, on one line."""
    text = _prepare(text)
    text = strip_signature(text)  # first: its phone and e-mail lines are how a signature is recognized
    text = strip_identifiers(text)
    text = strip_pleasantries(text)
    return _tidy(text)


# Chat fillers ("ok", "well", "so"): not stop words for search, but they say nothing about
# how informative a message is.  Tokens are normalized (ة → ه, أ → ا), as tokenize() makes them.
_FILLERS = frozenset("طيب طب تمام اوكي اوك يعني بس ايوه اه لا نعم والله ok okay yes no so well".split())


def content_words(text: str) -> list[str]:
    """The words that carry the question: no stop words, fillers or bare numbers."""
    return [w for w in tokenize(text) if not is_stopword(w) and w not in _FILLERS and not w.isdigit()]


_SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+|\n+")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


@dataclass(frozen=True)
class FocusedQuery:
    """What the search gets (``text``) and where it came from."""

    text: str
    latest: str  # the latest message, cleaned
    context: str  # earlier customer sentences added after it ("" if none)


def _truncate(text: str, limit: int) -> str:
    """Cut at a word boundary to at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ،,.:;")


def _context_sentences(earlier: Sequence[str], latest: str) -> list[str]:
    """Informative sentences of earlier messages, newest first, without repeats of the latest."""
    seen = set(content_words(latest))
    picked = []
    for message in reversed(earlier):
        for sentence in reversed(split_sentences(_prepare(message))):
            cleaned = _tidy(strip_pleasantries(strip_identifiers(sentence)))
            words = content_words(cleaned)
            new = [w for w in words if w not in seen]
            if len(words) < 2 or not new:
                continue
            seen.update(words)
            picked.append(cleaned)
    return picked


def focus_message(message: str, earlier: Sequence[str] = (), max_chars: int = 500) -> FocusedQuery:
    """The search text for the latest customer message, with earlier messages as context.

    The latest message comes first and is never outweighed: unless it is a short follow-up,
    the context added after it is at most as long as the message itself (and never over
    ``CONTEXT_CHARS``).  The result fits in ``max_chars``.  A message that is only a greeting
    or a number leaves the earlier context, or an empty text (nothing to search for).
    """
    latest = _truncate(clean_message(message), max_chars)
    room = max_chars - len(latest) - 1
    budget = min(room, CONTEXT_CHARS)
    if len(content_words(latest)) >= FOLLOW_UP_WORDS:
        budget = min(budget, len(latest))
    context_parts: list[str] = []
    used = 0
    for sentence in _context_sentences(earlier, latest) if budget > 0 else []:
        if used + len(sentence) + 1 > budget:
            if not context_parts:
                context_parts.append(_truncate(sentence, budget))
            break
        context_parts.append(sentence)
        used += len(sentence) + 1
    context = " ".join(p for p in context_parts if p)
    text = f"{latest} {context}".strip() if latest else context
    return FocusedQuery(text=_truncate(text, max_chars), latest=latest, context=context)
