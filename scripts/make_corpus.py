"""Generate a large, realistic corpus of kb articles for benchmarks.

    python scripts/make_corpus.py --articles articles --out bench-data/corpus-10k --count 10000 --seed 1

The generator reads whatever launch articles are in ``--articles`` and recombines them:
each generated article borrows the structure of one source article, samples sections from
several articles of the same category, varies headings and titles from templates, samples
and shuffles sentences and list items, swaps synonyms and entities (products, channels,
cities, companies, numbers, dates) and adds or omits FAQ entries.  About 3% of the articles
are English and about 6% are drafts or internal, so the search filters have work to do.

The output is deterministic for a given seed and source folder.  Every passage (the
introduction, each ##/###/#### section and each FAQ answer) is checked to be unique,
because a benchmark full of identical passages measures ties, not ranking.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import sys
import time
import types
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent
MARKER = "_corpus.json"  # written into every generated corpus; only such folders are replaced
MIN_WORDS, MAX_WORDS = 300, 900
SKIPPED_HEADINGS = re.compile(r"^(المصادر|المراجع|مصادر|مراجع|sources|references)\b", re.IGNORECASE)
_HEADING = re.compile(r"^(#{2,4})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+")
_NUMBERED = re.compile(r"^\d+[.)][ \t]+")
_SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+")
# Characters PyYAML refuses or turns into line breaks inside a quoted scalar.
_YAML_UNSAFE = re.compile("[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MARKUP = re.compile(r"^\s*(?:#{1,6}\s+|[-*+>]\s+|\d+[.)]\s+)|\*\*|__|`|\|", re.MULTILINE)

COMPANIES = (
    "متجر نخيل", "شركة الأفق للاتصالات", "مؤسسة الواحة للتجارة", "بنك الريان الرقمي", "تطبيق مشوار",
    "منصة سوق الخليج", "شركة رواد للشحن", "شركة سحاب للبرمجيات", "مطاعم بيت الزعتر", "متجر أناقة",
    "شركة دار الضيافة للسفر", "مكتبة المعرفة الإلكترونية", "شركة نبض للتأمين", "صيدليات الشفاء",
)
PRODUCTS = (
    "باقة الإنترنت المنزلي", "البطاقة الائتمانية الذهبية", "تطبيق الجوال", "خدمة التوصيل السريع",
    "اشتراك البث الشهري", "الشحن الدولي", "برنامج الولاء", "الحجز الإلكتروني", "المحفظة الرقمية",
    "خطة الاستضافة السحابية", "باقة الجوال المفوترة", "خدمة الصيانة المنزلية",
)
CHANNELS = (
    "واتساب", "الدردشة الحية", "البريد الإلكتروني", "الهاتف", "إكس (تويتر)", "إنستغرام",
    "فيسبوك ماسنجر", "نموذج التواصل في الموقع", "تطبيق الجوال", "تيك توك",
)
CITIES = (
    "الرياض", "جدة", "الدمام", "دبي", "أبوظبي", "الدوحة", "الكويت", "المنامة", "مسقط", "عمّان",
    "القاهرة", "الإسكندرية", "بيروت", "الدار البيضاء", "تونس", "الجزائر", "بغداد", "إربد",
)
MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر")
WEEKDAYS = ("الأحد", "الاثنين", "الثلاثاء", "الأربعاء", "الخميس")
EN_COMPANIES = (
    "Nakheel Store", "Horizon Telecom", "Oasis Trading", "Rayan Digital Bank", "Sahab Software", "Rowad Shipping",
)
EN_PRODUCTS = (
    "the home internet plan", "the mobile app", "express delivery", "the loyalty program", "the digital wallet",
)
EN_CHANNELS = ("WhatsApp", "live chat", "email", "phone", "X (Twitter)", "Instagram", "the contact form")
EN_CITIES = ("Riyadh", "Jeddah", "Dubai", "Doha", "Kuwait City", "Amman", "Cairo", "Casablanca")

# Interchangeable forms: any occurrence of one may become another (same gender and number).
AR_SYNONYMS = (
    ("العملاء", "الزبائن"), ("العميل", "الزبون"), ("عملائك", "زبائنك"), ("الشركات", "المؤسسات"),
    ("الشركة", "المؤسسة", "المنشأة"), ("موظف خدمة العملاء", "ممثل خدمة العملاء", "وكيل خدمة العملاء"),
    ("موظفي خدمة العملاء", "ممثلي خدمة العملاء", "فريق الدعم"), ("المشكلة", "المسألة"),
    ("المشكلات", "المشاكل"), ("الدردشة الحية", "المحادثة المباشرة", "الدردشة المباشرة"),
    ("البريد الإلكتروني", "الإيميل"), ("وسائل التواصل الاجتماعي", "الشبكات الاجتماعية", "منصات التواصل الاجتماعي"),
    ("بسرعة", "على وجه السرعة", "دون تأخير"), ("أيضًا", "كذلك"), ("يجب", "ينبغي"), ("مهم", "هام"),
    ("دائمًا", "باستمرار"), ("الاستفسارات", "الأسئلة"), ("تويتر", "إكس", "فيسبوك", "إنستغرام", "لينكد إن"),
    ("Zendesk", "Freshdesk", "Zoho Desk", "Help Scout"), ("Intercom", "LiveChat", "Tidio", "Crisp"),
    ("Salesforce", "HubSpot", "Zoho CRM"),
)
EN_SYNONYMS = (
    ("customers", "clients"), ("customer's", "client's"), ("quickly", "promptly"), ("issue", "problem"),
    ("issues", "problems"), ("support team", "service team", "help desk team"), ("live chat", "web chat"),
    ("email", "e-mail"), ("social media", "social networks"), ("Zendesk", "Freshdesk", "Help Scout"),
)
AR_EXAMPLES = (
    "مثال من الواقع: تلقّى فريق {company} في {city} نحو {n} رسالة عبر {channel} خلال أسبوع واحد، وردّ على {pct}% منها في أقل من {minutes} دقيقة.",
    "في حالة {product}، ننصح بذكر رقم الطلب (مثل #{ticket}) في أول رد حتى لا يضطر العميل إلى تكراره.",
    "بعد تطبيق هذه الممارسات في {company}، ارتفع مؤشر رضا العملاء من {pct}% إلى {pct2}% خلال {months} أشهر.",
    "ملاحظة لفريق {city}: تنطبق هذه الإرشادات على القنوات كلها، بما فيها {channel} و{channel2}.",
    "يراجع مشرف الوردية في {company} عيّنة من {n2} محادثة كل {weekday} للتأكد من الالتزام بهذه الخطوات.",
    "إذا تجاوز وقت الانتظار {minutes} دقيقة على {channel}، يُصعَّد الطلب تلقائيًا إلى المشرف المناوب.",
    "تذكّر أن عملاء {product} يتوقعون ردًا خلال {hours} ساعات عمل على الأكثر عبر {channel}.",
    "في استطلاع أجراه فريق {company} في {month} {year}، قال {pct}% من العملاء إن سرعة الرد أهم عندهم من قناة التواصل نفسها.",
    "سجّل الطلب في نظام التذاكر برقم مرجعي (مثلًا TK-{ticket}) وأرفق ملخصًا قصيرًا للمحادثة.",
    "يعمل فريق الدعم في {city} من الساعة {hour} صباحًا حتى {hour2} مساءً، ويغطي فريق {city2} باقي الساعات.",
    "عند التواصل بخصوص {product}، اطلب من العميل رقم الحساب أو البريد المسجّل قبل مشاركة أي تفاصيل.",
    "تستخدم {company} قالب رد موحّدًا لهذه الحالة، لكن الموظف يضيف اسم العميل وتفاصيل طلبه رقم {ticket} في كل مرة.",
    "وفق تقرير الربع {quarter} من عام {year}، انخفضت الشكاوى المتكررة بنسبة {pct}% بعد تدريب {n2} موظفًا على هذه المهارة.",
    "مثال: كتب عميل من {city} عبر {channel} أن طلبه رقم {ticket} تأخر {days} أيام، فاعتذر الموظف وشرح الخطوة التالية وحدّد موعد المتابعة.",
    "هدف الفريق في {company}: أول رد خلال {minutes} دقيقة على {channel}، وحل {pct}% من الطلبات من أول تواصل.",
    "يُراجَع هذا الإجراء كل {months} أشهر، وكان آخر تحديث له في {day} {month} {year}.",
    "في فرع {city}، يتولى {few} موظفين الرد على {channel} في أوقات الذروة بين الساعة {hour} صباحًا و{hour2} مساءً.",
    "لاحظ فريق الجودة في {company} أن {pct}% من تقييمات النجمة الواحدة على {channel} سببها تأخر الرد لا المنتج نفسه.",
)
EN_EXAMPLES = (
    "Example: the {company} team in {city} received about {n} messages on {channel} in one week and answered {pct}% of them within {minutes} minutes.",
    "For {product}, put the order number (for example #{ticket}) in the first reply so the customer never has to repeat it.",
    "After {company} adopted this practice, customer satisfaction rose from {pct}% to {pct2}% in {months} months.",
    "If a chat on {channel} waits more than {minutes} minutes, it is escalated to the shift supervisor automatically.",
    "Log the request with a reference such as TK-{ticket} and attach a two-line summary of the conversation.",
    "The {city} team covers {channel} from {hour} am to {hour2} pm; the {city2} team covers the remaining hours.",
    "In a survey run by {company} in {year}, {pct}% of customers said reply speed matters more than the channel itself.",
    "Quality reviewers at {company} read {n2} conversations every week to check that agents follow these steps.",
)
AR_HEADINGS = (
    "{h}", "{h}", "{h}", "{h}", "{h} عبر {channel}", "{h}: نظرة عملية", "{h} في {company}",
    "{h} (تجربة فريق {city})", "نصائح حول {h}", "{h} خطوة بخطوة", "{h}: ما يجب أن يعرفه الفريق",
)
EN_HEADINGS = ("{h}", "{h}", "{h}", "{h} on {channel}", "{h}: in practice", "{h} at {company}", "Tips: {h}")
AR_TITLES = (
    "{title}", "{title}", "{title} — دليل {company}", "{h1}: دليل عملي لفرق الدعم", "{h1} و{h2}",
    "كيف نطبّق {h1} في {company}؟", "{h1}: أسئلة وأجوبة لفريق {city}", "{title} ({channel})", "دليل {year}: {h1}",
)
EN_TITLES = ("{title}", "{title} — a {company} guide", "{h1}: a practical guide", "{h1} and {h2}", "{title} ({channel})")
AR_LEADS = ("نعرض هنا النقاط الأساسية.", "يلخّص هذا القسم الممارسات المتبعة لدى فريقنا.", "إليك التفاصيل في الفقرات التالية.")
EN_LEADS = ("Here is what matters most.", "This section sums up our practice.", "The key points follow.")
AR_CONNECTORS = ("عمليًا، ", "باختصار، ", "وفي الواقع، ", "لذلك ", "ومن المهم أن نتذكر أن ")
EN_CONNECTORS = ("In practice, ", "In short, ", "As a rule, ")

# A small English seed bank, used when the launch content has few or no English articles.
EN_BANK = """
## Answering customers by email
Email is the channel where customers expect a complete answer rather than a fast one. Read the whole message before replying and answer every question it asks. Use the customer's name and keep paragraphs short. Put the most important step first and highlight deadlines in bold. Proofread before you press send, because a typo makes the whole team look careless.

- Thank the customer for writing.
- Restate the issue in one sentence.
- Explain the next step and when it will happen.
- Close with a clear way to reply.

## Handling an angry customer
An angry customer is usually angry at the situation, not at you. Stay calm and do not take the words personally. Let the customer finish, then acknowledge the feeling before you talk about the fix. Apologise for the experience even when the company was not at fault. Offer a concrete next step and a time when you will follow up. If the issue is outside your authority, escalate it and tell the customer who will contact them.

- Listen without interrupting.
- Acknowledge the frustration.
- Focus on what you can do.
- Follow up when you said you would.

## Live chat etiquette
Live chat customers expect an answer within a minute or two. Greet the customer by name and confirm that you understood the question. Use canned responses for common questions, but always personalise them. Never leave a chat silent for long; tell the customer what you are checking. Handle no more chats at once than you can answer well.

## Responding on social media
Replies on social media are public, so every word represents the brand. Answer quickly, acknowledge the problem openly and move the details to a private channel. Never argue in public or delete fair criticism. Monitor mentions of the brand, not only direct messages, so that no complaint goes unanswered.

- Reply within the first hour.
- Move account details to direct messages.
- Thank customers for positive reviews too.

## Measuring customer satisfaction
Satisfaction surveys tell you how customers feel right after an interaction. Ask one or two short questions and keep the survey optional. Track first response time, resolution time and the share of issues solved at first contact. Review the numbers every week with the team and pick one thing to improve.

## Active listening and empathy
Active listening means hearing the whole problem before proposing a solution. Ask short, specific questions, one at a time. Repeat the key details back so the customer knows you understood. Empathy is not agreeing with everything; it is showing that you understand why the situation matters to the customer.
"""
EN_BANK_CATEGORIES = ("communication", "complaints-and-angry-customers", "digital-channels", "digital-channels",
                      "quality-and-team", "agent-skills")


@dataclass
class Chunk:
    """A heading-delimited piece of a source article; ### and #### pieces are children of a ##."""

    heading: str | None
    blocks: list[str] = field(default_factory=list)
    children: list[Chunk] = field(default_factory=list)


@dataclass
class Source:
    slug: str
    title: str
    category: str
    category_slug: str
    lang: str
    tags: tuple[str, ...]
    intro: list[str]
    sections: list[Chunk]
    faq: list[tuple[str, str]]


@dataclass(frozen=True)
class Vocab:
    """Everything that differs between the Arabic and the English generator."""

    synonyms: re.Pattern
    groups: dict[str, tuple[str, ...]]
    examples: tuple[str, ...]
    headings: tuple[str, ...]
    titles: tuple[str, ...]
    leads: tuple[str, ...]
    connectors: tuple[str, ...]
    entities: dict[str, tuple[str, ...]]


def make_vocab(synonym_groups, **fields) -> Vocab:
    groups = {form: group for group in synonym_groups for form in group}
    alternatives = "|".join(re.escape(f) for f in sorted(groups, key=len, reverse=True))
    # An optional one-letter Arabic prefix (و ف ب ك) may precede a form: "والعملاء", "بالعميل".
    pattern = re.compile(rf"(?<!\w)([وفبك]?)({alternatives})(?!\w)")
    return Vocab(synonyms=pattern, groups=groups, **fields)


VOCABS = {
    "ar": make_vocab(
        AR_SYNONYMS, examples=AR_EXAMPLES, headings=AR_HEADINGS, titles=AR_TITLES, leads=AR_LEADS,
        connectors=AR_CONNECTORS,
        entities={"company": COMPANIES, "product": PRODUCTS, "channel": CHANNELS, "city": CITIES},
    ),
    "en": make_vocab(
        EN_SYNONYMS, examples=EN_EXAMPLES, headings=EN_HEADINGS, titles=EN_TITLES, leads=EN_LEADS,
        connectors=EN_CONNECTORS,
        entities={"company": EN_COMPANIES, "product": EN_PRODUCTS, "channel": EN_CHANNELS, "city": EN_CITIES},
    ),
}


# ---------------------------------------------------------------- reading the sources


def split_blocks(lines: list[str]) -> list[str]:
    """Blank-line separated Markdown blocks; fenced code stays in one block."""
    blocks, current, in_fence = [], [], False
    for line in lines:
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if not line.strip() and not in_fence:
            if current:
                blocks.append("\n".join(current))
            current = []
        else:
            current.append(line.rstrip())
    if current:
        blocks.append("\n".join(current))
    return blocks


def parse_body(body: str) -> tuple[list[str], list[Chunk]]:
    """(introduction blocks, ## sections with their ###/#### children)."""
    intro: list[str] = []
    sections: list[Chunk] = []
    lines_of: dict[int, list[str]] = {}
    current: Chunk | None = None
    for line in body.split("\n"):
        match = _HEADING.match(line)
        if match:
            current = Chunk(match.group(2).strip())
            if len(match.group(1)) == 2 or not sections:
                sections.append(current)
            else:
                sections[-1].children.append(current)
            lines_of[id(current)] = []
        elif current is None:
            intro.append(line)
        else:
            lines_of[id(current)].append(line)
    for section in sections:
        for chunk in (section, *section.children):
            chunk.blocks = split_blocks(lines_of[id(chunk)])
        section.children = [c for c in section.children if c.blocks]
    kept = [s for s in sections if not SKIPPED_HEADINGS.match(s.heading) and (s.blocks or s.children)]
    return split_blocks(intro), kept


def source_from_article(article) -> Source:
    intro, sections = parse_body(article.body)
    return Source(
        slug=article.slug, title=article.title, category=article.category,
        category_slug=article.category_slug or "general", lang=article.lang, tags=article.tags,
        intro=intro or ([article.summary] if article.summary else []), sections=sections,
        faq=[(entry.q, entry.a) for entry in article.faq],
    )


def english_bank_sources(categories: dict[str, str]) -> list[Source]:
    """The built-in English sections as one-section sources, placed in matching categories."""
    _, sections = parse_body(EN_BANK)
    fallback = sorted(categories.items())[0] if categories else ("عام", "general")
    sources = []
    for i, section in enumerate(sections):
        wanted = EN_BANK_CATEGORIES[i % len(EN_BANK_CATEGORIES)]
        name = next((n for n, s in sorted(categories.items()) if s == wanted), fallback[0])
        slug = categories.get(name, fallback[1])
        sources.append(Source(f"en-bank-{i}", section.heading, name, slug, "en", (), [], [section], []))
    return sources


def import_load_articles():
    """kb.content.articles.load_articles, the only part of kb this script uses.

    Run as `python scripts/make_corpus.py`, sys.path[0] is scripts/, so the repo root is added.
    If the kb package itself fails to import (kb/__init__.py pulls in the search stack), kb is
    registered as a bare package so that only kb.content.articles and its small helpers load.
    """
    if str(_REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(_REPO_ROOT))
    try:
        from kb.content.articles import load_articles
    except Exception as exc:  # a half-edited search module must not stop corpus generation
        print(f"warning: importing kb failed ({exc}); loading kb.content.articles on its own", file=sys.stderr)
        for name in [n for n in sys.modules if n == "kb" or n.startswith("kb.")]:
            del sys.modules[name]
        package = types.ModuleType("kb")
        package.__path__ = [str(_REPO_ROOT / "kb")]
        sys.modules["kb"] = package
        from kb.content.articles import load_articles
    return load_articles


def load_sources(articles_dir: Path) -> tuple[list[Source], int]:
    """Every usable source article, sorted by slug, and the number of load problems."""
    catalog = import_load_articles()(articles_dir)
    for problem in catalog.errors:
        print(f"warning: {problem}", file=sys.stderr)
    sources = [source_from_article(catalog.articles[slug]) for slug in sorted(catalog.articles)]
    sources = [s for s in sources if s.sections]
    categories = {s.category: s.category_slug for s in sources}
    return sources + english_bank_sources(categories), len(catalog.errors)


# ---------------------------------------------------------------- varying text

_INDIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_NUMBER_RANGES = {
    # Arabic counted nouns: 3–10 take the plural (أيام، أشهر), 11+ the singular (دقيقة، محادثة).
    "n": (120, 4800), "n2": (11, 60), "few": (3, 10), "pct": (35, 79), "pct2": (80, 97), "minutes": (11, 45),
    "hours": (3, 10), "months": (3, 10), "days": (3, 10), "ticket": (10000, 999999), "year": (2022, 2026),
    "day": (1, 28), "hour": (7, 10), "hour2": (5, 11),
}
_WORD_CHOICES = {"month": MONTHS, "weekday": WEEKDAYS, "quarter": ("الأول", "الثاني", "الثالث", "الرابع")}


class _Placeholders(dict):
    """Template values drawn lazily, so a template only pays for the fields it uses."""

    def __init__(self, rng: random.Random, vocab: Vocab, fixed: dict[str, str]):
        super().__init__(fixed)
        self.rng = rng
        self.vocab = vocab

    def __missing__(self, key: str) -> str:
        name = key.rstrip("2")
        if key in _NUMBER_RANGES:
            value = str(self.rng.randint(*_NUMBER_RANGES[key]))
        elif name in self.vocab.entities:
            options = [e for e in self.vocab.entities[name] if e != self.get(name)]
            value = self.rng.choice(options)
        else:
            value = self.rng.choice(_WORD_CHOICES[key])
        self[key] = value
        return value


def block_kind(block: str) -> str:
    start = block.lstrip()
    if start.startswith(("```", "~~~")):
        return "code"
    if start.startswith("|"):
        return "table"
    if _LIST_ITEM.match(block):
        return "list"
    if start.startswith(">"):
        return "quote"
    return "paragraph"


def list_items(block: str) -> list[str]:
    """Top-level items of a Markdown list; nested lines stay with their item."""
    items: list[str] = []
    for line in block.split("\n"):
        if _LIST_ITEM.match(line) and not line[:1].isspace() or not items:
            items.append(line)
        else:
            items[-1] += "\n" + line
    return items


class Varier:
    """Random variations of sentences, lists, headings and titles in one language."""

    def __init__(self, rng: random.Random, lang: str):
        self.rng = rng
        self.lang = lang
        self.vocab = VOCABS[lang]
        self.used: set[str] = set()  # source blocks this article already contains

    def words(self, text: str) -> str:
        """Swap about half of the known words for a synonym or another entity of the same kind."""
        def swap(match: re.Match) -> str:
            if self.rng.random() < 0.5:
                return match.group(0)
            return match.group(1) + self.rng.choice(self.vocab.groups[match.group(2)])
        return self.vocab.synonyms.sub(swap, text)

    def fill(self, template: str, **fixed: str) -> str:
        return template.format_map(_Placeholders(self.rng, self.vocab, fixed))

    def example(self) -> str:
        """One concrete sentence with companies, cities, channels and numbers."""
        text = self.fill(self.rng.choice(self.vocab.examples))
        if self.lang == "ar" and self.rng.random() < 0.15:
            text = text.translate(_INDIC_DIGITS)
        return text

    def paragraph(self, text: str) -> str:
        """Keep the first sentence, sample (and sometimes shuffle) the rest, swap words."""
        sentences = _SENTENCE_END.split(" ".join(text.split()))
        if len(sentences) >= 3:
            rest = sentences[1:]
            keep = sorted(self.rng.sample(range(len(rest)), self.rng.randint(max(1, len(rest) // 2), len(rest))))
            rest = [rest[i] for i in keep]
            if self.rng.random() < 0.3:
                self.rng.shuffle(rest)
            sentences = [sentences[0], *rest]
        if self.rng.random() < 0.15:
            i = self.rng.randrange(len(sentences))
            first = sentences[i][:1].lower() if self.lang == "en" else sentences[i][:1]
            sentences[i] = self.rng.choice(self.vocab.connectors) + first + sentences[i][1:]
        return self.words(" ".join(sentences))

    def list_block(self, block: str) -> str:
        items = list_items(block)
        numbered = bool(_NUMBERED.match(items[0]))
        keep = sorted(self.rng.sample(range(len(items)), self.rng.randint(min(2, len(items)), len(items))))
        picked = [_LIST_ITEM.sub("", items[i], count=1) for i in keep]
        if not numbered and self.rng.random() < 0.3:
            self.rng.shuffle(picked)
        markers = (f"{n}. " if numbered else "- " for n in range(1, len(picked) + 1))
        return "\n".join(marker + self.words(item) for marker, item in zip(markers, picked))

    def table(self, block: str) -> str:
        rows = block.split("\n")
        head, body = rows[:2], rows[2:]
        if len(body) > 2:
            body = [body[i] for i in sorted(self.rng.sample(range(len(body)), self.rng.randint(2, len(body))))]
        return "\n".join(head + [self.words(row) for row in body])

    def block(self, block: str) -> str:
        self.used.add(block)
        kind = block_kind(block)
        if kind == "paragraph":
            return self.paragraph(block)
        if kind == "list":
            return self.list_block(block)
        if kind == "table":
            return self.table(block)
        return block if kind == "code" else self.words(block)

    def heading(self, heading: str, used: set[str], templated: bool = True) -> str:
        """A varied heading, unique within its article."""
        base = self.words(heading.strip())
        plain = base.endswith(("?", "؟")) or base[:1].isdigit() or not templated
        candidate = base
        for _ in range(4):
            template = "{h}" if plain else self.rng.choice(self.vocab.headings)
            candidate = self.fill(template, h=base.rstrip(" .:"))
            if candidate not in used:
                break
        else:
            candidate = f"{candidate} ({len(used) + 1})"
        used.add(candidate)
        return candidate

    def title(self, title: str, headings: list[str]) -> str:
        bases = [h.rstrip(" .:؟?") for h in headings] + [title.rstrip(" .:؟?")]
        return self.fill(self.rng.choice(self.vocab.titles), title=self.words(title), h1=bases[0], h2=bases[1])


# ---------------------------------------------------------------- building articles

EN_TAGS = ("customer service", "support", "email", "live chat", "complaints", "social media", "satisfaction", "empathy")


@dataclass
class Draft:
    """One generated article before it is written out."""

    slug: str
    title: str
    category: str
    category_slug: str
    lang: str
    tags: list[str]
    audience: str
    status: str
    updated: dt.date
    summary: str
    intro: list[str]
    sections: list[Chunk]
    faq: list[tuple[str, str]]


class Pools:
    """Source sections, FAQ entries and tags grouped by (language, category)."""

    def __init__(self, sources: list[Source]):
        self.templates: dict[str, list[Source]] = {}
        self.sections: dict[tuple[str, str], list[Chunk]] = {}  # by (language, category or "*")
        self.faq: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.tags: dict[tuple[str, str], list[str]] = {}
        # Every block unit (a lead-in stays with its list), by (language, category or "*"): padding material.
        self.units: dict[tuple[str, str], list[list[str]]] = {}
        for source in sources:
            key = (source.lang, source.category)
            self.templates.setdefault(source.lang, []).append(source)
            self.sections.setdefault(key, []).extend(source.sections)
            self.sections.setdefault((source.lang, "*"), []).extend(source.sections)
            self.faq.setdefault(key, []).extend(source.faq)
            tags = self.tags.setdefault(key, [])
            tags.extend(t for t in source.tags if t not in tags)
            for chunk in source.sections:
                for piece in (chunk, *chunk.children):
                    self.units.setdefault(key, []).extend(block_units(piece.blocks))
                    self.units.setdefault((source.lang, "*"), []).extend(block_units(piece.blocks))


def pick_sections(rng: random.Random, pools: Pools, template: Source, count: int) -> list[Chunk]:
    """The template's sections first (its structure), then others from its category, then any."""
    picked = list(template.sections)
    if len(picked) > count:
        picked = [picked[i] for i in sorted(rng.sample(range(len(picked)), count))]
    for pool in (pools.sections[(template.lang, template.category)], pools.sections[(template.lang, "*")]):
        spare = [c for c in pool if all(c is not p for p in picked)]
        while len(picked) < count and spare:
            picked.insert(rng.randint(1, len(picked)), spare.pop(rng.randrange(len(spare))))
    return picked


def block_units(blocks: list[str]) -> list[list[str]]:
    """Blocks grouped so that a lead-in ending with ':' stays with the list or table it introduces."""
    units: list[list[str]] = []
    for block in blocks:
        if units and units[-1][-1].rstrip().endswith(":"):
            units[-1].append(block)
        else:
            units.append([block])
    return units


def vary_blocks(varier: Varier, blocks: list[str], word_limit: int) -> list[str]:
    """Varied copies of blocks, in order, some skipped, until about word_limit words."""
    units: list[list[str]] = []
    words = 0
    for i, unit in enumerate(block_units(blocks)):
        if words >= word_limit:
            break
        if i and varier.rng.random() < 0.15:
            continue
        units.append([varier.block(block) for block in unit])
        words += sum(len(block.split()) for block in units[-1])
    if units and varier.rng.random() < 0.35:
        units.insert(varier.rng.randint(1, len(units)), [varier.example()])
    return [block for unit in units for block in unit]


def build_section(varier: Varier, chunk: Chunk, word_limit: int, used: set[str]) -> Chunk:
    rng = varier.rng
    section = Chunk(varier.heading(chunk.heading, used), vary_blocks(varier, chunk.blocks, word_limit))
    if chunk.children:
        keep = sorted(rng.sample(range(len(chunk.children)), rng.randint(1, min(3, len(chunk.children)))))
        for i in keep:
            child = chunk.children[i]
            heading = varier.heading(child.heading, used, templated=False)
            section.children.append(Chunk(heading, vary_blocks(varier, child.blocks, word_limit // len(keep))))
    if not section.blocks:
        section.blocks = [rng.choice(varier.vocab.leads)]
    return section


def build_faq(varier: Varier, pools: Pools, template: Source) -> list[tuple[str, str]]:
    candidates = pools.faq.get((template.lang, template.category)) or template.faq
    if not candidates or varier.rng.random() < 0.35:
        return []
    picked = varier.rng.sample(candidates, varier.rng.randint(1, min(4, len(candidates))))
    return [(varier.words(q), varier.paragraph(a)) for q, a in picked]


def build_metadata(varier: Varier, pools: Pools, template: Source, sections: list[Chunk]) -> dict:
    rng = varier.rng
    pool_tags = pools.tags.get((template.lang, template.category)) or list(EN_TAGS if varier.lang == "en" else ())
    tags = rng.sample(pool_tags, min(len(pool_tags), rng.randint(2, 5)))
    if rng.random() < 0.3:
        tags.append(rng.choice(varier.vocab.entities["channel"]))
    headings = [chunk.heading for chunk in sections]
    return {
        "title": varier.title(template.title, headings),
        "tags": list(dict.fromkeys(tags)),
        "audience": "internal" if rng.random() < 0.03 else "public",
        "status": "draft" if rng.random() < 0.03 else "published",
        "updated": dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(1096)),
    }


def build_article(index: int, rng: random.Random, pools: Pools) -> Draft:
    lang = "en" if "en" in pools.templates and rng.random() < 0.03 else "ar"
    varier = Varier(rng, lang)
    template = rng.choice(pools.templates[lang])
    chunks = pick_sections(rng, pools, template, rng.randint(2, 6))
    target_words = rng.randint(MIN_WORDS + 20, MAX_WORDS - 60)
    per_section = target_words // (len(chunks) + 1)
    used: set[str] = set()
    sections = [build_section(varier, chunk, per_section, used) for chunk in chunks]
    intro = vary_blocks(varier, template.intro, per_section) or [f"{varier.example()} {varier.example()}"]
    meta = build_metadata(varier, pools, template, chunks)
    summary = _SENTENCE_END.split(" ".join(intro[0].split()))[0]
    summary = summary if len(summary.split()) <= 35 else " ".join(summary.split()[:30]) + "…"
    draft = Draft(
        slug=f"gen-{index:06d}", category=template.category, category_slug=template.category_slug, lang=lang,
        summary=_MARKUP.sub("", summary), intro=intro, sections=sections,
        faq=build_faq(varier, pools, template), **meta,
    )
    fit_length(varier, pools, draft, target_words)
    return draft


def body_words(draft: Draft) -> int:
    chunks = [c for s in draft.sections for c in (s, *s.children)]
    return sum(len(b.split()) for b in draft.intro) + sum(len(b.split()) + 1 for c in chunks for b in c.blocks)


def fit_length(varier: Varier, pools: Pools, draft: Draft, target_words: int) -> None:
    """Pad articles up to about target_words with more source paragraphs; trim long ones."""
    rng = varier.rng
    nearby = pools.units.get((varier.lang, draft.category), [])
    anywhere = pools.units[(varier.lang, "*")]
    for _ in range(40):
        if body_words(draft) >= target_words:
            break
        unused = [u for u in nearby if u[0] not in varier.used] or [u for u in anywhere if u[0] not in varier.used]
        if not unused and body_words(draft) >= MIN_WORDS:
            break
        section = rng.choice(draft.sections)
        unit = rng.choice(unused) if unused else [None]
        section.blocks.extend(varier.block(block) if block else varier.example() for block in unit)
    for _ in range(200):
        if body_words(draft) <= MAX_WORDS - 60:
            break
        trim_once(draft)


def trim_once(draft: Draft) -> None:
    """Shorten the longest piece of the article: drop a block, a subsection or a section, or cut."""
    pieces = [(None, Chunk(None, draft.intro))]
    pieces += [(section, chunk) for section in draft.sections for chunk in (section, *section.children)]
    parent, longest = max(pieces, key=lambda p: sum(len(b.split()) for b in p[1].blocks))
    if len(longest.blocks) > 1:
        longest.blocks.pop()
    elif parent is not None and parent is not longest:
        parent.children.remove(longest)
    elif parent is not None and len(draft.sections) > 2:
        draft.sections.remove(longest)
    else:
        words = len(longest.blocks[0].split())
        longest.blocks[0] = truncate_block(longest.blocks[0], max(40, words // 2))


def truncate_block(block: str, max_words: int) -> str:
    """The first lines of a block that fit in max_words (at least part of the first line)."""
    kept: list[str] = []
    words = 0
    for line in block.split("\n"):
        words += len(line.split())
        if words > max_words:
            break
        kept.append(line)
    return "\n".join(kept) if kept else " ".join(block.split()[:max_words])


# ---------------------------------------------------------------- uniqueness and output


def passage_key(text: str) -> str:
    """Hash of a passage's readable text: Markdown markers and spacing do not make it different."""
    plain = " ".join(_MARKUP.sub(" ", text).split())
    return hashlib.sha1(plain.encode("utf-8")).hexdigest()


def make_unique(varier: Varier, draft: Draft, seen: set[str]) -> None:
    """Add a concrete example sentence to any passage that another article already has."""
    chunks = [Chunk(None, draft.intro)] + [c for s in draft.sections for c in (s, *s.children)]
    for chunk in chunks:
        key = passage_key("\n\n".join(chunk.blocks))
        while key in seen:
            chunk.blocks.append(varier.example())
            key = passage_key("\n\n".join(chunk.blocks))
        seen.add(key)
    for i, (question, answer) in enumerate(draft.faq):
        key = passage_key(answer)
        while key in seen:
            answer = f"{answer} {varier.example()}"
            key = passage_key(answer)
        draft.faq[i] = (question, answer)
        seen.add(key)
    drop_over_length(draft)


def drop_over_length(draft: Draft) -> None:
    """Back under MAX_WORDS by dropping whole subsections or sections: cutting blocks could undo uniqueness."""
    while body_words(draft) > MAX_WORDS:
        children = [(s, c) for s in draft.sections for c in s.children]
        if children:
            section, child = children[-1]
            section.children.remove(child)
        elif len(draft.sections) > 2:
            draft.sections.pop()
        else:
            return


def _yaml_str(text: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(_YAML_UNSAFE.sub(" ", text), ensure_ascii=False)


def render(draft: Draft) -> str:
    lines = [
        "---",
        f"title: {_yaml_str(draft.title)}",
        f"slug: {draft.slug}",
        f"category: {_yaml_str(draft.category)}",
        f"tags: [{', '.join(_yaml_str(t) for t in draft.tags)}]",
        f"lang: {draft.lang}",
        f"audience: {draft.audience}",
        f"status: {draft.status}",
        f"updated: {draft.updated.isoformat()}",
        f"summary: {_yaml_str(draft.summary)}",
    ]
    if draft.faq:
        lines.append("faq:")
        for question, answer in draft.faq:
            lines += [f"  - q: {_yaml_str(question)}", f"    a: {_yaml_str(answer)}"]
    parts = ["\n".join(lines) + "\n---", *draft.intro]
    for section in draft.sections:
        parts += [f"## {section.heading}", *section.blocks]
        for child in section.children:
            parts += [f"### {child.heading}", *child.blocks]
    return "\n\n".join(parts) + "\n"


def split_passages(text: str) -> list[str]:
    """Every passage of a written article: intro, each ##–#### section, each FAQ answer."""
    _, front, body = text.split("---\n", 2)
    passages = [[]]
    for line in body.split("\n"):
        if _HEADING.match(line):
            passages.append([])
        else:
            passages[-1].append(line)
    answers = [json.loads(line[len("    a: "):]) for line in front.split("\n") if line.startswith("    a: ")]
    return ["\n".join(p) for p in passages if "".join(p).strip() or p is not passages[0]] + answers


@dataclass
class Stats:
    articles: int = 0
    sections: int = 0
    subsections: int = 0
    words: int = 0
    min_words: int = 10**9
    max_words: int = 0
    english: int = 0
    drafts: int = 0
    internal: int = 0
    faq: int = 0

    def add(self, draft: Draft) -> None:
        words = body_words(draft)
        self.articles += 1
        self.sections += len(draft.sections)
        self.subsections += sum(len(s.children) for s in draft.sections)
        self.words += words
        self.min_words = min(self.min_words, words)
        self.max_words = max(self.max_words, words)
        self.english += draft.lang == "en"
        self.drafts += draft.status == "draft"
        self.internal += draft.audience == "internal"
        self.faq += len(draft.faq)


def generate(sources: list[Source], count: int, seed: int) -> tuple[dict[str, str], Stats]:
    """{relative path: file text} for `count` articles, and their statistics."""
    rng = random.Random(seed)
    pools = Pools(sources)
    seen: set[str] = set()
    files: dict[str, str] = {}
    stats = Stats()
    for index in range(1, count + 1):
        draft = build_article(index, rng, pools)
        make_unique(Varier(rng, draft.lang), draft, seen)
        files[f"{draft.category_slug}/{draft.slug}.md"] = render(draft)
        stats.add(draft)
    return files, stats


def check_unique_passages(files: dict[str, str]) -> int:
    """Hash every passage of the written text; fail on any duplicate.  Returns the count."""
    keys: dict[str, str] = {}
    for path, text in files.items():
        for passage in split_passages(text):
            key = passage_key(passage)
            if key in keys:  # not `assert`: the check must also run under python -O
                raise AssertionError(f"duplicate passage in {path} and {keys[key]}: {passage[:80]!r}")
            keys[key] = path
    return len(keys)


def write_corpus(out: Path, files: dict[str, str], extra: dict[str, str]) -> None:
    """Write into a fresh sibling folder, then swap it in; only a generated corpus is replaced."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not (out / MARKER).exists():
        raise SystemExit(f"error: {out} is not empty and is not a generated corpus (no {MARKER}); choose another --out")
    staging = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for relative, text in {**files, **extra}.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=Path, default=Path("articles"), help="launch articles to recombine")
    parser.add_argument("--out", type=Path, required=True, help="output folder (replaced if it is a generated corpus)")
    parser.add_argument("--count", type=int, default=10000, help="number of articles to generate")
    parser.add_argument("--seed", type=int, default=1, help="random seed; same seed and sources → same bytes")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    sources, problems = load_sources(args.articles)
    arabic = [s for s in sources if s.lang == "ar"]
    english = [s for s in sources if s.lang == "en" and not s.slug.startswith("en-bank-")]
    if not arabic:
        raise SystemExit(f"error: no usable Arabic articles with ## sections in {args.articles}")
    files, stats = generate(sources, args.count, args.seed)
    unique = check_unique_passages(files)
    extra = {}
    if (args.articles / "_categories.yml").exists():
        extra["_categories.yml"] = (args.articles / "_categories.yml").read_text(encoding="utf-8")
    manifest = {
        "seed": args.seed, "count": args.count, "sources": sorted(s.slug for s in arabic + english), "passages": unique,
    }
    extra[MARKER] = json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
    write_corpus(args.out, files, extra)
    seconds = time.perf_counter() - started
    print(f"sources: {len(arabic)} ar + {len(english)} en articles in {len({s.category for s in arabic})} categories "
          f"({problems} load problems)")
    print(f"articles: {stats.articles} ({stats.english} en, {stats.drafts} draft, {stats.internal} internal, "
          f"{stats.faq} faq entries)")
    print(f"sections: {stats.sections} ## + {stats.subsections} ###; words: {stats.words} "
          f"(per article {stats.min_words}–{stats.max_words}, mean {stats.words // max(1, stats.articles)})")
    print(f"passages: {unique} unique (sha1 of every section text and FAQ answer, no duplicates)")
    print(f"wrote {args.out} in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
