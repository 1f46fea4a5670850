"""Verbal nouns: the words articles use for what a question asks with a verb.

Customers ask with verbs ("ازاي اطور نفسي", "كيف نتعامل مع", "لازم اصعد الموضوع؟"), how-to
articles name the action with its verbal noun (تطوير، التعامل، تصعيد).  Light stemming
(``kb.text.stem``) strips a prefix and a suffix but never re-patterns a word, so the two
never meet, and the question's most telling word counts as missing on the keyword side.

:func:`verbal_nouns` derives, from a present-tense verb form, the verbal nouns of the
derived patterns that are regular enough to spell from the letters alone: form II فعّل ->
تفعيل (اطور -> تطوير, نعدل -> تعديل), form I's فِعال (نكتب -> كتابة), form III فاعل ->
مفاعلة (نراجع -> مراجعة), forms V and VI تفعّل / تفاعل, whose noun is the verb itself
(نتعامل -> تعامل, اتدرب -> تدرب and تدريب), and form VIII افتعل -> افتعال (نقترح -> اقتراح,
اهتم -> اهتمام).  The bare root is left out: حول، عدل، صدق are words of their own.  The
candidates are guesses; ``kb.search.spelling.typo_expansions`` keeps those the index holds,
and only for a word the index does not know as typed.  Dialect tense prefixes (ب، ه، ح، ك)
and negation (ما…ش) come off first, object suffixes (ـه، ـها، ـهم، ـك، ـني...) are tried off.
Measured where it is used, ``kb.search.spelling.MAX_VERBAL_NOUNS``.
"""

from __future__ import annotations

import re

from kb.search.dialect import TENSE_PARTICLE

_VERB = re.compile(rf"^{TENSE_PARTICLE}?(?:ما)?[اينت]([\u0621-\u064a]{{3,7}})ش?$")
_OBJECT_SUFFIX = re.compile(r"(?:ها|هم|هن|كم|ني|نا|وا|ون|ين|ه|ك|و|ي)$")


def verbal_nouns(word: str) -> list[str]:
    """Verbal nouns a present-tense verb form (normalized) may stand for, likeliest first;
    an empty list for a word that cannot be one (the index decides among the rest)."""
    match = None if word.startswith("ال") else _VERB.match(word)  # the article: a noun
    if not match:
        return []
    core = match.group(1)
    cores = [core]
    bare = _OBJECT_SUFFIX.sub("", core)
    if bare != core and len(bare) >= 3:
        cores.append(bare)
    nouns: list[str] = []
    for stem in cores:
        nouns.extend(_patterns(stem))
    return list(dict.fromkeys(nouns))


def _patterns(core: str) -> list[str]:
    if len(core) == 3:
        first, second, third = core
        doubled = ["ا" + first + "ت" + third + "ا" + third] if second == "ت" else []  # اهتم: اهتمام
        return [*doubled, "ت" + first + second + "ي" + third, first + second + "ا" + third]
    if len(core) == 4:
        if core[0] == "ت":  # تدرب, تعامل: the verb is its own noun, and form II's
            return [core, "ت" + core[1] + core[2] + "ي" + core[3]]
        if core[1] == "ا":  # راجع: مراجعة
            return ["م" + core + "ه"]
        return ["ا" + core[:-1] + "ا" + core[-1]]  # قترح: اقتراح
    if len(core) == 5 and core[0] == "ت":  # تعامل after ن: نتعامل
        return [core]
    return []
