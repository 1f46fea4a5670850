"""Messages the lower layers write in Arabic, shown in the page's language.

Lower layers that mark their messages with ``kb.translation.N_`` (kb.content.articles, kb.config,
kb.content.importer, kb.store.users, kb.store.apikeys) need nothing here: ``translated`` shows a Message by its
English id.  kb.content.editing, kb.publishing, kb.taxonomy, kb.content.media and kb.web.security raise
``KbError`` and fill form errors with Arabic sentences (they predate the catalogs).  Until
they carry gettext message ids themselves, the web layer recognises each sentence here and
shows its catalog translation: every entry is the Arabic original as a pattern (its values
as named groups) and the English message id with the same names.  An unknown sentence is
shown as it is.  ``tests/test_i18n_messages.py`` checks that every Arabic sentence of those
modules is recognised, so a reworded one cannot slip through untranslated.
"""

from __future__ import annotations

import re

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from kb.translation import Message

_N = r"(?P<%s>.+?)"  # a value inside a sentence

KNOWN: tuple[tuple[str, object], ...] = (
    # kb.content.editing
    ("راجع الحقول المعلّمة.", _l("Check the marked fields.")),
    ("العنوان مطلوب.", _l("The title is required.")),
    ("الرابط مطلوب.", _l("The link is required.")),
    ("رابط غير صالح: استعمل حروفًا وأرقامًا وشرطات فقط، مثل «" + _N % "example" + "».",
     _l("Invalid link: use only letters, digits and hyphens, like “%(example)s”.")),
    ("اختر تصنيفًا.", _l("Choose a category.")),
    ("لغة غير معروفة.", _l("Unknown language.")),
    ("جمهور غير معروف.", _l("Unknown audience.")),
    ("نص المقال فارغ.", _l("The article text is empty.")),
    ("كل سؤال شائع يحتاج سؤالًا وجوابًا.", _l("Every FAQ entry needs a question and an answer.")),
    # kb.taxonomy
    ("الاسم مطلوب.", _l("The name is required.")),
    ("الاسم مكرر.", _l("The name is used twice.")),
    ("رابط غير صالح؛ مثال صالح: «" + _N % "example" + "».", _l("Invalid link; a valid one: “%(example)s”.")),
    ("الرابط مكرر.", _l("The link is used twice.")),
    ("لا يمكن حذف التصنيف «" + _N % "category" + "»: فيه مقالات \\(منها «" + _N % "title" + "»\\).",
     _l("The category “%(category)s” cannot be deleted: it has articles (“%(title)s” among them).")),
    # kb.publishing
    ("عدّل شخص آخر هذا المقال بعد أن فتحته.", _l("Someone else edited this article after you opened it.")),
    ("المقال غير موجود.", _l("The article does not exist.")),
    ("هذا الرابط مستخدم لمقال آخر.", _l("This link is used by another article.")),
    ("المقال أكبر من الحد المسموح \\(" + _N % "size" + " ميغابايت، والحد " + _N % "limit" + "\\): قسّمه إلى عدة مقالات.",
     _l("The article is larger than allowed (%(size)s MB, the limit is %(limit)s): split it into several articles.")),
    ("المقال غير منشور.", _l("The article is not published.")),
    ("النسخة غير موجودة.", _l("The revision does not exist.")),
    ("العنصر غير موجود في سلة المحذوفات.", _l("The item is not in the trash.")),
    ("يوجد الآن مقال بالرابط «" + _N % "slug" + "»: غيّر رابطه أولًا ثم أعد المحاولة.",
     _l("An article now has the link “%(slug)s”: change its link first, then try again.")),
    # kb.content.media
    ("الملف فارغ.", _l("The file is empty.")),
    ("الصورة أكبر من " + _N % "size" + " ميغابايت.", _l("The image is larger than %(size)s MB.")),
    ("نوع الملف غير مدعوم: ارفع صورة PNG أو JPEG أو GIF أو WebP.",
     _l("This file type is not supported: upload a PNG, JPEG, GIF or WebP image.")),
    # kb.web.security
    ("أُرسل النموذج من خارج الموقع. افتح الصفحة من الموقع نفسه ثم أعد المحاولة.",
     _l("The form was sent from outside the site. Open the page on the site itself, then try again.")),
    ("انتهت صلاحية النموذج أو أُرسل من خارج الموقع. حدّث الصفحة ثم أعد المحاولة.",
     _l("The form expired or was sent from outside the site. Reload the page, then try again.")),
    ("طلبات كثيرة في وقت قصير. انتظر دقيقة ثم أعد المحاولة.",
     _l("Too many requests in a short time. Wait a minute, then try again.")),
)

_PATTERNS = tuple((re.compile(r"\s*" + (arabic if "(?P<" in arabic or "\\" in arabic else re.escape(arabic)) + r"\s*"),
                   english) for arabic, english in KNOWN)


def recognise(text: str) -> tuple[str, dict[str, str]] | None:
    """(English message id, values) of one of the lower layers' Arabic sentences, else None."""
    for pattern, english in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return english._args[0], match.groupdict()  # type: ignore[attr-defined]
    return None


def translated(message: object) -> str:
    """``message`` in the page's language when it is one of the lower layers' Arabic
    sentences; anything else (already translated, or unknown) as it is."""
    if isinstance(message, Message):  # a lower layer's N_() message: its English id and values
        return message.in_language(gettext)
    text = str(message) if message is not None else ""
    known = recognise(text)
    return gettext(known[0], **known[1]) if known else text


def init_app(app) -> None:
    app.jinja_env.filters["translated"] = translated
