"""scripts/make_corpus.py: deterministic, loadable, duplicate-free benchmark corpora.

The generator runs as a subprocess (as benchmarks run it) on four tiny articles written to a
temporary folder, so these tests never depend on the launch content.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from kb.content.articles import load_articles
from kb.content.render import split_sections

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "scripts" / "make_corpus.py"
COUNT = 200

SOURCES = {
    "_categories.yml": """\
- name: "الشكاوى"
  slug: complaints
- name: "القنوات الرقمية"
  slug: channels
""",
    "complaints/angry-customer.md": """\
---
title: "كيف تتعامل مع العميل الغاضب؟"
category: "الشكاوى"
tags: [عميل غاضب, تهدئة]
summary: "خطوات تهدئة العميل الغاضب."
faq:
  - q: "هل أعتذر حتى لو لم يكن الخطأ منا؟"
    a: "نعم، اعتذر عن التجربة نفسها، ثم اشرح الخطوة التالية بوضوح."
  - q: "متى أصعّد الشكوى؟"
    a: "عندما تكون المشكلة خارج صلاحياتك، وأخبر العميل بمن سيتواصل معه."
---

العميل الغاضب غاضب من الموقف وليس منك. حافظ على هدوئك ولا تأخذ الكلام على محمل شخصي.

## استمع أولًا

دع العميل يكمل كلامه دون مقاطعة. ثم أعد صياغة المشكلة بجملة واحدة. هذا يطمئن العميل أنك فهمته.

## خطوات التهدئة

اتبع الخطوات التالية:

1. اعترف بمشاعر العميل.
2. اعتذر عن التجربة.
3. اقترح حلًا واضحًا.
4. حدّد موعدًا للمتابعة.

## بعد حل المشكلة

تابع مع العميل بعد يومين للتأكد من أن الحل نجح. سجّل الشكوى في نظام التذاكر.
""",
    "complaints/negative-reviews.md": """\
---
title: "الرد على التقييمات السلبية"
category: "الشكاوى"
tags: [تقييمات, سمعة]
---

التقييم السلبي فرصة لإظهار اهتمامك بالعملاء أمام الجميع.

## لماذا تهم التقييمات السلبية؟

يصل التقييم السلبي إلى جمهور كبير بسرعة. ويؤثر في قرارات الشراء لدى العملاء المحتملين.

## كيف ترد؟

### اعترف بالمشكلة

اعترف بالمشكلة علنًا دون الدخول في جدال.

### انقل الحديث إلى قناة خاصة

اطلب من العميل التواصل عبر الرسائل الخاصة أو البريد الإلكتروني لمناقشة التفاصيل.
""",
    "channels/live-chat.md": """\
---
title: "آداب الدردشة الحية"
category: "القنوات الرقمية"
tags: [دردشة حية, سرعة الاستجابة]
faq:
  - q: "ما الوقت المناسب للرد في الدردشة؟"
    a: "يتوقع العملاء ردًا خلال دقيقة أو دقيقتين."
---

الدردشة الحية أسرع قناة يتوقعها العملاء.

## الرد السريع

رحّب بالعميل باسمه خلال الدقيقة الأولى. استخدم الردود الجاهزة مع تخصيصها.

| القناة | وقت الرد المتوقع |
|---|---|
| الدردشة الحية | دقيقة إلى دقيقتين |
| البريد الإلكتروني | خلال يوم عمل |
| وسائل التواصل الاجتماعي | خلال ساعة |
""",
    "channels/live-chat-en.md": """\
---
title: "Live chat etiquette"
category: "القنوات الرقمية"
lang: en
---

Live chat customers expect an answer within a minute or two.

## Greeting the customer

Greet the customer by name. Confirm that you understood the question.

## Canned responses

Use canned responses for common questions, but always personalise them.
""",
}


@pytest.fixture(scope="module")
def sources_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sources")
    for relative, text in SOURCES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def run_generator(sources: Path, out: Path, seed: int, count: int = COUNT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--articles", str(sources), "--out", str(out),
         "--count", str(count), "--seed", str(seed)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )


def read_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def corpora(sources_dir, tmp_path_factory) -> dict[str, Path]:
    """Three corpora: seed 1 twice, seed 2 once."""
    base = tmp_path_factory.mktemp("corpora")
    outs = {"first": (base / "first", 1), "again": (base / "again", 1), "other": (base / "other", 2)}
    for out, seed in outs.values():
        result = run_generator(sources_dir, out, seed)
        assert result.returncode == 0, result.stderr
    return {name: out for name, (out, _) in outs.items()}


def test_same_seed_gives_byte_identical_output(corpora):
    first, again = read_tree(corpora["first"]), read_tree(corpora["again"])
    assert len([p for p in first if p.endswith(".md")]) == COUNT
    assert first == again


def test_different_seed_gives_different_output(corpora):
    first, other = read_tree(corpora["first"]), read_tree(corpora["other"])
    changed = [path for path in first if path.endswith(".md") and first[path] != other.get(path)]
    assert len(changed) > COUNT // 2


def test_every_generated_article_loads_without_problems(corpora):
    catalog = load_articles(corpora["first"])
    assert catalog.problems == []
    assert len(catalog.articles) == COUNT
    assert all(re.fullmatch(r"gen-\d{6}", slug) for slug in catalog.articles)
    assert {a.category for a in catalog.articles.values()} == {"الشكاوى", "القنوات الرقمية"}


def test_articles_have_two_to_six_sections_and_the_planned_mix(corpora):
    articles = list(load_articles(corpora["first"]).articles.values())
    for article in articles:
        sections = re.findall(r"^## ", article.body, flags=re.MULTILINE)
        assert 2 <= len(sections) <= 6, article.slug
        assert len(article.body.split()) <= 1000, article.slug
    assert any(a.lang == "en" for a in articles)
    assert any(not a.is_public for a in articles)
    assert sum(a.is_public for a in articles) > COUNT * 0.85


def test_no_two_passages_have_the_same_text(corpora):
    """
    GIVEN a corpus recombined from four tiny articles
    WHEN every section (as the search index splits it) and every FAQ answer is collected
    THEN no text appears twice, so benchmark hits are never ties between copies
    """
    seen: dict[str, str] = {}
    for article in load_articles(corpora["first"]).articles.values():
        texts = [s.text for s in split_sections(article.body)] + [entry.a for entry in article.faq]
        for text in texts:
            key = " ".join(text.split())
            assert key and key not in seen, f"{article.slug} repeats a passage of {seen.get(key)}: {key[:60]}"
            seen[key] = article.slug


def test_summary_reports_unique_passages(sources_dir, tmp_path):
    result = run_generator(sources_dir, tmp_path / "corpus", seed=3, count=20)
    assert result.returncode == 0, result.stderr
    assert "articles: 20 " in result.stdout
    assert re.search(r"passages: \d+ unique", result.stdout)


def test_refuses_to_replace_a_folder_that_is_not_a_corpus(sources_dir, tmp_path):
    """
    GIVEN an --out folder holding someone's own files
    WHEN the generator is pointed at it
    THEN it stops with a message and leaves the files alone
    """
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.md").write_text("keep me", encoding="utf-8")
    result = run_generator(sources_dir, out, seed=1, count=5)
    assert result.returncode != 0
    assert "not a generated corpus" in result.stderr
    assert read_tree(out) == {"notes.md": b"keep me"}
