"""The Arabic sentences of the lower layers that predate the catalogs, recognised.

kb.content.editing, kb.publishing (with kb.publish_results and kb.publish_trash), kb.taxonomy, kb.content.media and kb.web.security raise
``KbError`` and fill form errors with Arabic sentences.  Until they mark their messages with
``kb.translation.N_`` themselves, the edges that show them recognise each sentence here: every
entry is the Arabic original as a pattern (its values as named groups) and the English message
id with the same names.  The web (kb.web.messages, in the page's language) and the CLI
(kb.cli_support, in cli_language) both read this table, so it sits on the ground floor: the
CLI never reaches into the web layer for it.  ``tests/test_i18n_messages.py`` checks that every
Arabic sentence of those modules is recognised, so a reworded one cannot slip through
untranslated.  Moving a module to ``N_`` removes its entries.
"""

from __future__ import annotations

import re

from kb.translation import N_
from kb.translation import Message

_N = r"(?P<%s>.+?)"  # a value inside a sentence

KNOWN: tuple[tuple[str, Message], ...] = (
    # kb.content.editing
    ("راجع الحقول المعلّمة.", N_("Check the marked fields.")),
    ("العنوان مطلوب.", N_("The title is required.")),
    ("الرابط مطلوب.", N_("The link is required.")),
    ("رابط غير صالح: استعمل حروفًا وأرقامًا وشرطات فقط، مثل «" + _N % "example" + "».",
     N_("Invalid link: use only letters, digits and hyphens, like “%(example)s”.")),
    ("اختر تصنيفًا.", N_("Choose a category.")),
    ("لغة غير معروفة.", N_("Unknown language.")),
    ("جمهور غير معروف.", N_("Unknown audience.")),
    ("نص المقال فارغ.", N_("The article text is empty.")),
    ("كل سؤال شائع يحتاج سؤالًا وجوابًا.", N_("Every FAQ entry needs a question and an answer.")),
    # kb.taxonomy
    ("الاسم مطلوب.", N_("The name is required.")),
    ("الاسم مكرر.", N_("The name is used twice.")),
    ("رابط غير صالح؛ مثال صالح: «" + _N % "example" + "».", N_("Invalid link; a valid one: “%(example)s”.")),
    ("الرابط مكرر.", N_("The link is used twice.")),
    ("لا يمكن حذف التصنيف «" + _N % "category" + "»: فيه مقالات \\(منها «" + _N % "title" + "»\\).",
     N_("The category “%(category)s” cannot be deleted: it has articles (“%(title)s” among them).")),
    # kb.publishing, kb.publish_results, kb.publish_trash
    ("عدّل شخص آخر هذا المقال بعد أن فتحته.", N_("Someone else edited this article after you opened it.")),
    ("العنصر غير موجود في سلة المحذوفات.", N_("The item is not in the trash.")),
    ("يوجد الآن مقال بالرابط «" + _N % "slug" + "»: غيّر رابطه أولًا ثم أعد المحاولة.",
     N_("An article now has the link “%(slug)s”: change its link first, then try again.")),
    # kb.content.media
    ("الملف فارغ.", N_("The file is empty.")),
    ("الصورة أكبر من " + _N % "size" + " ميغابايت.", N_("The image is larger than %(size)s MB.")),
    ("نوع الملف غير مدعوم: ارفع صورة PNG أو JPEG أو GIF أو WebP.",
     N_("This file type is not supported: upload a PNG, JPEG, GIF or WebP image.")),
    # kb.web.security
    ("أُرسل النموذج من خارج الموقع. افتح الصفحة من الموقع نفسه ثم أعد المحاولة.",
     N_("The form was sent from outside the site. Open the page on the site itself, then try again.")),
    ("انتهت صلاحية النموذج أو أُرسل من خارج الموقع. حدّث الصفحة ثم أعد المحاولة.",
     N_("The form expired or was sent from outside the site. Reload the page, then try again.")),
    ("طلبات كثيرة في وقت قصير. انتظر دقيقة ثم أعد المحاولة.",
     N_("Too many requests in a short time. Wait a minute, then try again.")),
)

_PATTERNS = tuple((re.compile(r"\s*" + (arabic if "(?P<" in arabic or "\\" in arabic else re.escape(arabic)) + r"\s*"),
                   english) for arabic, english in KNOWN)


def recognise(text: str) -> tuple[str, dict[str, str]] | None:
    """(English message id, values) of one of the lower layers' Arabic sentences, else None."""
    for pattern, english in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return english.msgid, match.groupdict()
    return None
