"""Hit.to_dict: what the API and the CLI serialize for every hit."""

from __future__ import annotations

from dataclasses import asdict

from kb.search.hits import Hit


def test_to_dict_is_asdict_in_the_same_order_with_its_own_copies():
    """GIVEN a hit with an FAQ entry and a translation link
    WHEN it is turned into a dict for JSON
    THEN it is what dataclasses.asdict gives, key for key in the same order, and changing the
    dict's FAQ entry or links leaves the hit as it was."""
    hit = Hit(slug="سياسة-الاسترداد", title="سياسة الاسترداد", url="/a/سياسة-الاسترداد", score=0.912345,
              snippet="<mark>استرداد</mark> المبلغ", section="الأسئلة", section_url="/a/سياسة-الاسترداد#faq",
              matched_by="both", faq={"q": "متى يصل المبلغ؟", "a": "خلال أسبوع."}, category="الطلبات",
              category_slug="orders", summary="كيف تسترد مبلغك", lang="ar",
              translations=({"lang": "en", "slug": "refunds", "url": "/a/refunds", "title": "Refunds"},), related=True)
    values = hit.to_dict()
    assert values == asdict(hit) and list(values) == list(asdict(hit))
    values["faq"]["q"] = "changed"
    values["translations"][0]["title"] = "changed"
    assert hit.faq["q"] == "متى يصل المبلغ؟" and hit.translations[0]["title"] == "Refunds"
    plain = Hit("a", "A", "/a/a", 0.5, "", None, None, "keyword")
    assert plain.to_dict() == asdict(plain)
