"""Passages (kb.search.passages): sections that point elsewhere are not answering passages."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.content.articles import Article
from kb.content.articles import FaqEntry
from kb.content.articles import load_articles
from kb.content.render import split_sections
from kb.search.passages import article_passages
from kb.search.passages import is_reference_section

from conftest import ROOT

ANSWER = "ابقَ هادئًا واستمع إلى العميل حتى ينتهي، ثم اعترف بمشكلته واعتذر عن الإزعاج وقدّم حلًا واضحًا."


def _article(body: str, faq=()) -> Article:
    return Article(slug="guide", title="دليل", body=body, path=Path("guide.md"), faq=tuple(faq))


def _sections(body: str) -> dict[str | None, bool]:
    return {section.heading: is_reference_section(section) for section in split_sections(body)}


@pytest.mark.parametrize("heading", [
    "المصادر", "المراجع", "المصادر والمراجع", "مراجع", "اقرأ أيضًا", "اقرأ أيضا", "روابط مفيدة", "مقالات ذات صلة",
    "جدول المحتويات", "الهوامش", "References", "Sources", "See also", "Further reading", "Useful links",
    "Table of contents", "Bibliography", "1. المصادر", "٣- المراجع:", "References:", "المـــصادر", "المَصادِر",
])
def test_known_reference_headings(heading):
    body = f"{ANSWER}\n\n## {heading}\n\n- كتاب خدمة العملاء\n- Customer Service Handbook\n"
    assert _sections(body)[heading] is True


@pytest.mark.parametrize("heading", [
    "مقاييس ورد ذكرها في المصادر",  # a real section of the launch articles: a table of metrics
    "كيف تختار مصادر المعلومات",
    "Sources of customer frustration",
    "راجع طلب العميل بعناية",
    "Contents of a good reply",
])
def test_headings_that_only_mention_sources_are_content(heading):
    body = f"## {heading}\n\n{ANSWER}\n\n| المقياس | ما ورد عنه |\n|---|---|\n| وقت الاستجابة | ساعة |\n"
    assert _sections(body)[heading] is False


def test_a_section_below_a_reference_heading_is_a_reference_too():
    body = f"{ANSWER}\n\n## المراجع\n\n### كتب\n\n- كتاب أ\n- كتاب ب\n\n### مواقع\n\n- موقع أ\n"
    assert _sections(body) == {None: False, "المراجع": True, "كتب": True, "مواقع": True}


@pytest.mark.parametrize("content", [
    # a link list under a heading of its own words
    "- [كيف تتعامل مع العميل الغاضب](/articles/handling-angry-customers)\n"
    "- [الرد على التقييمات السلبية](/articles/responding-to-negative-reviews)\n- https://example.com/guide",
    # a table of contents
    "1. [الاستماع](#listen)\n2. [الاعتذار](#apologize)\n3. [الحل](#solve)",
    # citations, Arabic and English
    "- Smith, J. (2019). Customer care. *Journal of Service*, 12(3), 45-60.\n"
    "- Doe, A., et al. Service quality and loyalty. Retrieved from the publisher.",
    "- أرقام، (٢٠١٧)، طرق فعّالة لتقديم خدمة عملاء متميزة، تمت الزيارة بتاريخ: ٢٢-١٢-٢٠٢٢.\n"
    "- Forbes – “The Future of Customer Service”\n- Harvard Business Review – “The Value of Customer Experience”",
    "<https://example.com/a>\n\n<https://example.com/b>",
])
def test_sections_that_are_mostly_links_or_citations(content):
    assert _sections(f"{ANSWER}\n\n## للمزيد\n\n{content}\n")["للمزيد"] is True


@pytest.mark.parametrize("content", [
    ANSWER,
    # a list of steps is content, however short its items
    "- استمع\n- اعتذر\n- قدّم حلًا\n- تابع",
    # a paragraph with a link in it answers
    f"{ANSWER} اقرأ [سياسة الاسترجاع](/articles/refunds) قبل أن ترد، وخاصة فقرة المهل الزمنية والاستثناءات.",
    # a long answer followed by a short contents list of its own parts
    f"{ANSWER} {ANSWER}\n\n- [الاستماع](#listen)\n- [الاعتذار](#apologize)",
    # one link line alone proves nothing
    "[دليل الردود](/articles/replies)",
    # a year in a sentence is no citation list
    "في عام (2020) تغيرت توقعات العملاء كثيرًا، وصار الرد السريع معيارًا أساسيًا في كل القنوات.\n"
    "لذلك نوصي بالرد على البريد خلال ساعة واحدة على الأكثر.",
])
def test_answering_sections_are_kept(content):
    assert _sections(f"## الطريقة\n\n{content}\n")["الطريقة"] is False


def test_reference_sections_are_not_passages_and_the_others_keep_their_ids():
    """GIVEN an article whose middle section is "Sources"
    WHEN its passages are made
    THEN that section is missing, and the sections after it keep the ids they always had
    (the vectors and links of unchanged sections stay valid)."""
    body = f"{ANSWER}\n\n## الخطوات\n\n{ANSWER}\n\n## المصادر\n\n- كتاب أ\n- كتاب ب\n\n## نصيحة أخيرة\n\n{ANSWER}\n"
    passages = article_passages(_article(body, [FaqEntry("سؤال؟", "جواب")]))
    assert [(p.id, p.heading) for p in passages] == [
        ("guide#s0", None), ("guide#s1", "الخطوات"), ("guide#s3", "نصيحة أخيرة"), ("guide#f0", "سؤال؟"),
    ]


def test_an_article_that_is_only_links_keeps_them():
    """A page of useful links has nothing else to say: its links stay searchable."""
    body = "## روابط مفيدة\n\n- [دليل الاسترجاع](/articles/refunds)\n- [دليل الشحن](/articles/shipping)\n"
    [passage] = article_passages(_article(body))
    assert passage.heading == "روابط مفيدة" and "دليل الشحن" in passage.text


def test_launch_articles_lose_only_their_source_lists():
    catalog = load_articles(ROOT / "articles")
    dropped = {
        (article.slug, section.heading)
        for article in catalog.articles.values()
        for section in split_sections(article.body)
        if is_reference_section(section)
    }
    assert dropped == {("what-is-customer-service", "المصادر"), ("social-media-customer-service", "المصادر")}
