"""Boilerplate removal: page furniture as whole lines, as blocks, and as single sentences.

Line level (:func:`clean_lines`) runs on plain text before its structure is recovered;
block level (:func:`drop_boilerplate_blocks`) runs on the blocks of every kind of input.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from ._blocks import _BULLET
from ._blocks import _NUMBERED
from ._blocks import _SENTENCE_BREAK
from ._blocks import Block
from ._blocks import _norm
from ._blocks import _plain_inline
from ._faq import _is_faq_marker


# ---------------------------------------------------------------------------------------
# Boilerplate patterns.  They match normalize_arabic(text).lower(), so every spelling
# (أ/ا, ة/ه, tanween, shadda, tatweel) is covered by one form: write them normalized.

_SOCIAL = {"facebook", "twitter", "x", "whatsapp", "linkedin", "telegram", "pinterest", "reddit", "instagram",
           "فيسبوك", "فيس", "بوك", "تويتر", "واتساب", "واتس", "اب", "لينكد", "ان", "لينكدان", "تيليجرام",
           "تلغرام", "تليجرام", "انستغرام", "انستجرام", "email", "print", "طباعه", "بريد"}
_SHARE_WORDS = {"شارك", "شاركها", "شاركه", "مشاركه", "share", "tweet", "على", "علي", "عبر", "on", "via"}
_LINE_JUNK = [re.compile(p) for p in (
    r"^(شارك|شاركها|شاركه|مشاركه|share)"
    r"( (المقال|المقاله|الموضوع|هذا المقال|هذه المقاله|this( post| article)?))?\s*[:：]?$",
    r"^(تابعنا|تابعونا|follow us)\b.{0,60}$",
    r"^((نشرت?|نشر في|نشر بتاريخ|تاريخ النشر|تم النشر|اخر تحديث|تاريخ التحديث)\b|published|posted on|last updated"
    r"|updated on|updated:)[^.!؟?]{0,50}\d[^.!؟?]{0,30}$",
    r"^(بواسطه|كتبه|كتب بواسطه|الكاتب|المولف|by|author|written by)\s*[:：]?\s*[^\s.,،:]+(\s+[^\s.,،:]+){0,3}$",
    r"^(وقت القراءه|مده القراءه|reading time)\b.{0,30}$|^\d+\s*(دقائق|دقيقه|min)\b.{0,20}(قراءه|للقراءه|read)$",
    r"^[^.!؟?]{0,40}(»|›)[^.!؟?]{0,60}(»|›)",  # breadcrumbs: الرئيسية » المدونة » …
    r"(نستخدم|يستخدم هذا الموقع|we use|this (web)?site uses).{0,80}(ملفات تعريف الارتباط|الكوكيز|cookies)",
    r"^(المتابعه عبر البريد|النشره البريديه|النشره الاخباريه|القائمه البريديه|newsletter|subscribe)\b.{0,40}$",
    r"^(اقرا ايضا|اقرا المزيد|قد يهمك|قد يعجبك|read also|read more|you may also like)\b.{0,150}$",
    r"^(جميع الحقوق محفوظه|all rights reserved|copyright)\b|^.{0,60}جميع الحقوق محفوظه.{0,30}$",
)]
_TOC_TITLE = re.compile(r"^(جدول المحتويات|المحتويات|محتويات المقال|محتويات المقاله|فهرس المحتويات|فهرس المقال"
                        r"|table of contents|contents|in this article)\s*[:：]?$")
_RELATED_TITLE = re.compile(r"^(المنشورات ذات الصله|منشورات ذات صله|مقالات ذات صله|المقالات ذات الصله|مواضيع ذات صله"
                            r"|مقالات مشابهه|قد يعجبك ايضا|قد يهمك ايضا|اقرا ايضا|related posts|related articles"
                            r"|you may also like)\s*[:：]?$")
# A bare "التعليقات" may title a help section about a comments feature: a count or a post
# title ("التعليقات: 2 On …", "3 تعليقات") is what marks a page's comment thread.
_COMMENTS_START = re.compile(r"^(التعليقات|تعليقات|comments?|responses?|replies)\s*([:：(]\s*)?"
                             r"(\d+\)?(\s+(on|to|علي|حول|في)\s+.*)?|(on|to|علي|حول)\s+.*)$"
                             r"|^\d+\s+(تعليق|تعليقات|تعليقا|ردود|comments?|responses?|thoughts? on|replies)\b"
                             r"|^(اترك|اضف|اكتب)\s+(تعليقا|تعليق|ردا|رد|تعليقك)"
                             r"|^(leave a (comment|reply)|post a comment)"
                             r"|^(لا توجد تعليقات|كن اول من يعلق)")
_COMMENTS_TITLE = re.compile(r"^(?:التعليقات|تعليقات|\d+\s+(?:تعليقات?|comments?|responses?|thoughts?|replies))"
                             r"\s*[:：]?\s*\(?\d*\)?\s+(?:on|to|على|حول|في)\s+[«“\"']?(.+?)[»”\"']?\s*$", re.I)
# Sentence-level: calls to action, reader prompts, cross-promotion of the blog's other posts.
_CTA = re.compile(r"جرب(ها|ه)? (مجانا|الان)|ابدا (تجربتك|التجربه المجانيه|مجانا)|(اشترك|سجل) في (نسخه|فتره) تجريبيه"
                  r"|احصل علي (نسخه|فتره) تجريبيه|(احجز|اطلب) (عرضا|عرض) توضيحي|سجل (الان|مجانا)|اشترك الان"
                  r"|start (your )?free trial|try (it )?(for )?free|(book|request) a demo|sign up (now|for free)")
_PROMPT = re.compile(r"شاركنا|شاركونا|تشاركها معنا|اخبرنا في التعليقات|اكتب لنا في التعليقات|اترك تعليقا"
                     r"|let us know in the comments|share your thoughts|leave a comment")
_PROMO = re.compile(r"منشورنا|منشوراتنا|مدونتنا|مدونتي|منشوراتي|مقالاتي|لا تفوت (افضل|منشور|مقال|دليل)|عدم تفويت"
                    r"|سيصلك جديد|ليصلك جديد|(راجع|اقرا) (مقالتنا|مقالنا)"
                    r"|اشترك في (النشره|القائمه البريديه|قناتنا|مدونتنا)|check out our (post|article|blog)")
_SOURCES_TITLE = re.compile(r"^(المصادر|المراجع|المصادر والمراجع|المراجع والمصادر|مصادر|مراجع|مصادر ومراجع)\s*[:：]?$")
_EMPTY_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*\)")
_LATIN_NAME = re.compile(r"\b[A-Z][A-Za-z]{3,}\b")


def is_boilerplate_line(text: str) -> bool:
    """A whole line or block that is page furniture: share/follow, dates, bylines, cookies, breadcrumbs."""
    norm = _norm(text)
    return bool(norm) and (any(p.search(norm) for p in _LINE_JUNK) or _is_social_line(norm))


def _is_social_line(norm: str) -> bool:
    """Share-button rows: 'شارك: فيسبوك تويتر واتساب', 'Facebook | Twitter | LinkedIn'."""
    words = re.findall(r"[^\W_]+", norm)
    social = sum(w in _SOCIAL for w in words)
    return social >= 2 and all(w in _SOCIAL or w in _SHARE_WORDS for w in words)


def _is_layout_junk(line: str) -> bool:
    """Empty image placeholders and lines of bare table pipes ('![]() |', '| |')."""
    if "|" not in line and "![" not in line:
        return False
    return not re.sub(r"[\s|]", "", _EMPTY_IMAGE.sub("", line))


def _repeated_lines(lines: Iterable[str]) -> set[str]:
    """Lines that occur 3+ times: page headers/footers of a converted PDF or a scraped site.

    Structure that legitimately repeats is left alone: list markers, table rows, Markdown
    headings, lines ending with ':' ("مثال:") and FAQ lines ("ج: نعم").
    """
    counts = Counter(line.strip() for line in lines if line.strip())
    return {
        line for line, count in counts.items()
        if count >= 3 and re.search(r"[^\W\d_]", line) and "|" not in line and not line.startswith("#")
        and not line.endswith((":", "：")) and not _is_faq_marker(line) and not _BULLET.match(line)
        and not _NUMBERED.match(line)
    }


def clean_lines(lines: list[str]) -> tuple[list[str | None], int]:
    """Line-level cleaning before structure recovery; a removed line becomes None.

    List items are only checked for share rows: 'بواسطة البريد' is a real item in a list of
    contact channels, not a byline.

    Footers and placeholders must go first: left in, they split paragraphs and hide the
    "short line followed by a longer paragraph" shape that marks a heading.
    """
    repeated = _repeated_lines(lines)
    cleaned: list[str | None] = []
    for line in lines:
        stripped = line.strip()
        is_item = bool(_BULLET.match(line) or _NUMBERED.match(line))
        furniture = _is_social_line(_norm(stripped)) if is_item else is_boilerplate_line(stripped)
        if stripped and (stripped in repeated or _is_layout_junk(stripped) or furniture):
            cleaned.append(None)
        else:
            cleaned.append(line.rstrip())
    return cleaned, sum(line is None for line in cleaned)


# ---------------------------------------------------------------------------------------
# Block-level boilerplate


def _scrub_sentences(text: str) -> tuple[str | None, int]:
    """Drop call-to-action, reader-prompt and cross-promotion sentences from one paragraph.

    When a prompt goes, questions left dangling before it ("Which skill matters most? Share
    below!") go too.  Returns None when nothing is left.
    """
    kept: list[str] = []
    removed = 0
    prompted = False
    for sentence in _SENTENCE_BREAK.split(text):
        norm = _norm(sentence)
        if _CTA.search(norm) or _PROMO.search(norm):
            removed += 1
        elif _PROMPT.search(norm):
            removed += 1
            prompted = True
        else:
            kept.append(sentence)
    if not removed:
        return text, 0
    if prompted and all(s.rstrip().endswith(("?", "؟")) for s in kept):
        return None, removed + len(kept)
    return (" ".join(kept) or None), removed


def _cut_comments(blocks: list[Block]) -> tuple[list[Block], int]:
    """A comment section (its header in the second half of the page) runs to the end."""
    for i in range(len(blocks) // 2, len(blocks)):
        block = blocks[i]
        is_header = block.kind in ("heading", "paragraph") and len(block.text) <= 120
        if is_header and _COMMENTS_START.match(_norm(block.text)):
            return blocks[:i], len(blocks) - i
    return blocks, 0


def _drop_titled_lists(blocks: list[Block]) -> tuple[list[Block], int]:
    """A table of contents or a related-posts title goes with the list that follows it."""
    kept: list[Block] = []
    dropped = 0
    skipping_items = False
    for block in blocks:
        if skipping_items and block.kind == "item":
            dropped += 1
            continue
        norm = _norm(block.text)
        is_list_title = bool(_TOC_TITLE.match(norm) or _RELATED_TITLE.match(norm))
        skipping_items = block.kind in ("heading", "paragraph") and is_list_title
        if skipping_items:
            dropped += 1
        else:
            kept.append(block)
    return kept, dropped


def _drop_ad_boxes(blocks: list[Block]) -> tuple[list[Block], int, set[str]]:
    """A lone call-to-action button closes an ad box: its list and the short pitch line above go too.

    Returns the Latin product names in the pitch ("… باستخدام EmailAnalytics"), so that the
    sales paragraphs naming the same product at the end of the page can go as well.
    """
    kept: list[Block] = []
    dropped = 0
    brands: set[str] = set()
    for block in blocks:
        plain = _plain_inline(block.text)
        is_button = len(plain) <= 60 and not _SENTENCE_BREAK.search(plain.strip())
        if block.kind in ("heading", "paragraph") and is_button and _CTA.search(_norm(plain)):
            dropped += 1
            items = 0
            while kept and kept[-1].kind == "item":
                brands.update(_LATIN_NAME.findall(kept.pop().text))
                items += 1
            pitch = kept[-1] if kept else None
            if items and pitch is not None and pitch.kind in ("heading", "paragraph") and len(pitch.text) <= 100 \
                    and not pitch.text.endswith((".", "!", "؟", "?")):
                brands.update(_LATIN_NAME.findall(kept.pop().text))
                dropped += 1
            dropped += items
        else:
            kept.append(block)
    return kept, dropped, brands


def _drop_sales_tail(blocks: list[Block], brands: set[str]) -> tuple[list[Block], int]:
    """After the last heading, paragraphs that name an advertised product are the sales pitch."""
    if not brands:
        return blocks, 0
    last_heading = max((i for i, b in enumerate(blocks) if b.kind == "heading"), default=-1)
    kept = [b for i, b in enumerate(blocks)
            if i <= last_heading or b.kind != "paragraph" or not any(name in b.text for name in brands)]
    return kept, len(blocks) - len(kept)


def _is_furniture_block(block: Block, repeated: set[str]) -> bool:
    """Furniture as a whole block; list items only as share rows (see :func:`clean_lines`)."""
    if block.kind == "item":
        return _is_social_line(_norm(block.text))
    return block.kind in ("heading", "paragraph") and (is_boilerplate_line(block.text) or block.text in repeated)


def drop_boilerplate_blocks(blocks: list[Block]) -> tuple[list[Block], int]:
    """Block- and sentence-level boilerplate removal, the same for every kind of input."""
    repeated = _repeated_lines(b.text for b in blocks if b.kind == "paragraph")
    kept = [b for b in blocks if not _is_furniture_block(b, repeated)]
    dropped = len(blocks) - len(kept)
    kept, cut = _cut_comments(kept)
    kept, titled = _drop_titled_lists(kept)
    kept, boxed, brands = _drop_ad_boxes(kept)
    kept, tail = _drop_sales_tail(kept, brands)
    dropped += cut + titled + boxed + tail
    scrubbed: list[Block] = []
    for block in kept:
        if block.kind in ("paragraph", "item", "heading"):
            text, removed = _scrub_sentences(block.text)
            if block.kind == "heading" and removed:
                text = None  # a prompt or a pitch that looked like a title ("شاركنا رأيك؟")
            dropped += removed
            if text is None:
                continue
            block = replace(block, text=text)
        if block.kind in ("heading", "paragraph") and _SOURCES_TITLE.match(_norm(block.text)):
            block = Block("heading", "المصادر", level=2)
        scrubbed.append(block)
    return scrubbed, dropped
