"""Message focusing (kb.search.focus): pure functions, one rule per row."""

from __future__ import annotations

import pytest

from kb.search.focus import CONTEXT_CHARS
from kb.search.focus import clean_message
from kb.search.focus import focus_message
from kb.search.focus import strip_identifiers
from kb.search.focus import strip_pleasantries


@pytest.mark.parametrize(
    "text, gone",
    [
        ("طلبي رقم 31415 وصل ناقص", "31415"),
        ("رقم الطلب ٥٥٢١٠٠ ما وصل", "٥٥٢١٠٠"),
        ("رقم الطلب: (44120) متأخر", "44120"),
        ("ورقم الطلب 98765 ولحد الحين", "98765"),
        ("order #123456 is late", "123456"),
        ("I placed order #A-20391 twice", "A-20391"),
        ("order no. 44781 - invoice", "44781"),
        ("Ticket #77812. frustrating", "77812"),
        ("الفاتورة INV-2024-1187 خصم مرتين", "INV-2024-1187"),
        ("رقم الشحنة SA0099812 متأخرة", "SA0099812"),
        ("للطلب ٨٨٢١٤ باسم الشركة", "٨٨٢١٤"),
        ("للطلب ۸۸۲۱۴ باسم الشركة", "۸۸۲۱۴"),
        ("راسلت support@nakheel-store.com ولا رد", "support@nakheel-store.com"),
        ("the email is ahmad.k88@gmail.com and", "ahmad.k88@gmail.com"),
        ("الرابط https://www.horizon-tel.com/contact?x=1 لا يعمل", "horizon-tel"),
        ("دخلت الرابط bit.ly/horizon-fiber طلع السعر", "bit.ly"),
        ("www.example.com down", "example.com"),
        ("كلمني على 0551234567 اليوم", "0551234567"),
        ("call +971 50 123 4567 please", "4567"),
    ],
)
def test_identifiers_are_removed(text, gone):
    assert gone not in strip_identifiers(text)


@pytest.mark.parametrize(
    "text, kept",
    [
        ("الطلب رقم 554433 اتلغى لوحده", "الطلب"),  # the subject of the sentence stays
        ("أنا عميلة عندكم من ٣ سنوات", "٣ سنوات"),  # small numbers are content
        ("الانتظار كان ٤٥ دقيقة", "٤٥ دقيقة"),
        ("3 emails, zero replies", "3 emails"),
        ("أرسلت إيميل على العنوان", "إيميل"),
    ],
)
def test_identifier_rules_keep_content(text, kept):
    assert kept in strip_identifiers(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("السلام عليكم ورحمة الله وبركاته\nكيف أسترجع المبلغ؟", "كيف أسترجع المبلغ؟"),
        ("مرحبااا 👋 سؤال سريع", "سؤال سريع"),
        ("صباح الخير، عندي مشكلة", "عندي مشكلة"),
        ("مساء النور يا جماعة الخير وين الطلب", "وين الطلب"),
        ("هلا والله، الباقة فصلت", "والله، الباقة فصلت"),
        ("عزيزي فريق الدعم،\nأود الاستفسار عن الإرجاع.\nشكرًا لتعاونكم،\nريم", "أود الاستفسار عن الإرجاع."),
        ("أرجو المراجعة.\nوتقبلوا فائق الاحترام\nعبدالله", "أرجو المراجعة."),
        ("هل في طريقة للربط؟\nمع التحية\nم. خالد العتيبي\nمدير العمليات", "هل في طريقة للربط؟"),
        ("طلبي ناقص قطعة.\nأخوكم محمد", "طلبي ناقص قطعة."),
        ("كيف ارد على تقييم سلبي؟\n\nمع تحياتي\nأحمد", "كيف ارد على تقييم سلبي؟"),
        ("وين الطلب؟ مع خالص تحياتي", "وين الطلب؟"),
        ("Hi team,\nThe app logs me out.\n\nRegards,\nOmar Haddad", "The app logs me out."),
        ("Dear Support,\nPlease refund.\nBest,\nK. Mansour\n+971 50 123 4567", "Please refund."),
        ("Hello, I got the wrong size. Thanks, Sara", "I got the wrong size."),
        ("Good morning. It never arrived. Please advise. — Lina", "It never arrived."),
        ("hello, مرحبا, I need help with my password", "I need help with my password"),
        ("شكرًا جزيلًا للموظف أحمد على تعامله", "للموظف أحمد على تعامله"),
    ],
)
def test_greetings_thanks_and_signatures_are_removed(text, expected):
    assert clean_message(text) == expected


def test_text_without_pleasantries_is_unchanged():
    text = "كيف أتعامل مع عميل غاضب يصرخ؟"
    assert strip_pleasantries(text) == text
    assert clean_message(text) == text


def test_long_signature_like_tail_is_not_dropped():
    """A sign-off word followed by real content (not a short signature) keeps that content."""
    text = "شكرا\n" + "\n".join(["الطلب وصل ناقص قطعة مهمة جدا ولم يتواصل معي أحد من الفريق حتى الآن"] * 2)
    assert "ناقص قطعة" in clean_message(text)


@pytest.mark.parametrize("text, kept", [("مرحبا\nشكرا\nهل وصل طلبي؟", "هل وصل طلبي؟"),
                                        ("شكرا\nالطلب ما وصل", "الطلب ما وصل")])
def test_content_after_a_thanks_line_is_kept(text, kept):
    assert clean_message(text) == kept


def test_only_noise_focuses_to_nothing():
    assert focus_message("مرحبا، رقم الطلب 98765 شكرا").text == ""
    assert focus_message("Hi! #123456 thanks").text == ""


def test_latest_message_comes_first_and_earlier_customer_messages_add_context():
    focused = focus_message("طيب ومتى يرجع المبلغ؟", ["أريد إرجاع المنتج، رقم الطلب 12077", "ما زلت أنتظر الرد"])
    assert focused.latest == "طيب ومتى يرجع المبلغ؟"
    assert focused.text.startswith(focused.latest)
    assert "12077" not in focused.text
    assert "إرجاع المنتج" in focused.context and "ما زلت أنتظر الرد" in focused.context
    assert focused.context.index("ما زلت") < focused.context.index("إرجاع")  # newest first


def test_context_never_outweighs_an_informative_latest_message():
    latest = "كيف أتعامل مع عميل غاضب يصرخ علي؟"
    earlier = ["الطلب تأخر كثيرا والمندوب لم يتصل بي أبدا وأريد تعويضا عن التأخير الطويل في الشحن"] * 3
    focused = focus_message(latest, earlier)
    assert len(focused.context) <= len(focused.latest)


def test_short_follow_up_gets_more_context_but_within_the_cap():
    earlier = [f"الجملة رقم {i} عن مشكلة الشحن والتوصيل المتأخر للطلب." for i in range(40)]
    focused = focus_message("وبعدين؟", earlier)
    assert len(focused.latest) < len(focused.context) <= CONTEXT_CHARS


def test_uninformative_or_repeated_earlier_sentences_are_skipped():
    focused = focus_message("كيف أسترجع المبلغ؟", ["مرحبا", "شكرا", "كيف أسترجع المبلغ؟", "ok"])
    assert focused.context == ""


@pytest.mark.parametrize("max_chars", [20, 80, 500])
def test_focused_text_fits_max_chars(max_chars):
    focused = focus_message("كيف أتعامل مع عميل غاضب؟ " * 50, ["الطلب تأخر كثيرا والمندوب لم يتصل"] * 5, max_chars)
    assert 0 < len(focused.text) <= max_chars


def test_only_noise_latest_message_falls_back_to_the_context():
    focused = focus_message("شكرا!", ["المنتج وصل مكسور وأريد استبداله"])
    assert focused.text == "المنتج وصل مكسور وأريد استبداله"


@pytest.mark.parametrize("text", ["", "   ", "!!!", "😡😡", "\u200f\u200e", "#", "@", "http://", "ـــ"])
def test_degenerate_input_does_not_raise(text):
    assert isinstance(focus_message(text, [text]).text, str)


# -- signature blocks ------------------------------------------------------------------------

QUESTION_AR = "العميل غاضب جدا لأن طلبه تأخر، كيف أتعامل معه؟"
QUESTION_EN = "How do I handle a customer who wants a refund after 30 days?"


@pytest.mark.parametrize("signature", [
    # name, title - company, phone: no sign-off line
    "أحمد\nمشرف الدعم - شركة المثال\nهاتف 0551234567",
    "أحمد الشمري\nمشرف الدعم\nشركة المثال للتجارة",
    "م. خالد العتيبي\nمدير العمليات\nمؤسسة النخيل للتجارة\nجوال: ٠٥٥١٢٣٤٥٦٧",
    "د. منى الحربي | أخصائية خدمة العملاء | مجموعة الأفق",
    "سارة\nفريق خدمة العملاء\nsara@example.com",
    "ريم القحطاني\nقسم المبيعات\nتحويلة 2231",
    # with a sign-off line before, longer than three lines
    "مع خالص التحية،\nأحمد الشمري\nمشرف الدعم - شركة المثال\nهاتف: 0551234567\nجوال: 0509876543\nahmad@example.com",
    "مع تحياتي\nأحمد محمد\nمشرف خدمة العملاء\nشركة النور\nهاتف 0551234567\nahmad@example.com",
    "أخوكم فهد\nقسم خدمة العملاء\nشركة الاتصالات",
    "وتقبلوا فائق الاحترام\nعبدالله\nمسؤول الحسابات\nwww.example.sa",
    # the e-mail "-- " delimiter
    "--\nسارة\nفريق خدمة العملاء",
    # English
    "John Smith\nCustomer Support Lead\nAcme Inc.\n+1 555 123 4567\njohn.smith@acme.com\nwww.acme.com",
    "Sarah Lee | Support Specialist | Globex Corp\nT: +44 20 7946 0958",
    "Thanks\nMaria Garcia\nTier 2 Support Agent\nInitech LLC\nExt. 4412",
    "Best regards,\nOmar Haddad\nHead of Customer Care\nNorthwind Traders Ltd\nMobile: +971 50 123 4567",
    "Dr. Lina K.\nOperations Manager",
    "Kind regards\nK. Mansour\nSales Department | Contoso Group\nlinkedin.com/in/kmansour",
])
@pytest.mark.parametrize("question", [QUESTION_AR, QUESTION_EN])
def test_signature_blocks_are_removed(question, signature):
    assert clean_message(f"{question}\n{signature}") == question
    assert clean_message(f"{question}\n\n{signature}\n") == question


@pytest.mark.parametrize("text", [
    # the question itself is short lines; names, roles and companies are its subject
    "الطلب ما وصل لحد الحين\nوين الطلب",
    "طلبت استرجاع المبلغ\nمشرف الدعم ما رد علي",
    "كيف ارد على عميل زعلان\nمدير الفرع",  # a lone job title may be the subject
    "العميل يقول إن شركة الشحن أضاعت الطلب، ماذا أفعل\nشركة الشحن أرامكس",  # a lone company too
    "طلبي متأخر\nوين الطلب\nمشرف الدعم",
    "what should I do\nThe customer is angry",
    "Support team\nMy order never arrived",
    "My manager\nwants a report of the complaints",
    "Can I give the customer my supervisor's number?",
    "عميل غاضب يصرخ على الهاتف",
    "هل أعطي العميل رقم هاتف المشرف؟\nوكيف أحول المكالمة؟",
    "Customer Support Lead\nHow do I escalate a ticket?",
])
def test_messages_that_only_look_like_signatures_are_kept(text):
    kept = clean_message(text)
    assert kept == " ".join(line.strip() for line in text.split("\n") if line.strip())


def test_the_first_line_is_never_a_signature():
    """A one-line message that looks like a name or a title is the question."""
    assert clean_message("مشرف الدعم - شركة المثال") == "مشرف الدعم - شركة المثال"
    assert clean_message("Acme Inc.\nJohn Smith\nSupport Lead") == "Acme Inc."


def test_a_signature_no_longer_drives_the_focused_query():
    message = "السلام عليكم\nعميلنا متنرفز من التأخير وش أسوي؟\nأحمد\nمشرف الدعم - شركة المثال\nهاتف 0551234567"
    focused = focus_message(message)
    assert focused.text == "عميلنا متنرفز من التأخير وش أسوي؟"
