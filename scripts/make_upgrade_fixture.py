"""Write tests/fixtures/previous-release-db: a database an earlier kb release filled, for tests/test_db_upgrade.py.

Run with the EARLIER release's code first on the path (a git worktree of its commit) and this
file from today's tree; every row is written by that release's own code (its app over HTTP for
what readers and integrations do, its store functions and Publisher for what staff do), never
by hand-written SQL::

    git worktree add --detach /tmp/kb-prev 993b95e
    PYTHONPATH=/tmp/kb-prev .venv/bin/python scripts/make_upgrade_fixture.py \\
        tests/fixtures/previous-release-db/sqlite
    git worktree remove /tmp/kb-prev

    git worktree add --detach /tmp/kb-prev a9b8517
    PYTHONPATH=/tmp/kb-prev .venv/bin/python scripts/make_upgrade_fixture.py --postgresql \\
        tests/fixtures/previous-release-db/postgresql
    git worktree remove /tmp/kb-prev

The output folder gets the release's data folder (SQLite: ``kb.sqlite3`` and the generated
``secret_key``) or a plain ``pg_dump`` of its database (``kb.sql``; the release made a throw-away
cluster with tests/pg_cluster.py), and ``previous.json``: the release's commit and what the test
needs to act as the old users did (passwords, the API key, the panel link token, a staff
session id and when it was opened).  Both layouts of kb are understood: the one before the
store/content split (kb.users, kb.db, ...) and the one after (kb.store.users, ...).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ARTICLES = {
    "orders/refunds.md": """---
title: "استرداد المبلغ"
category: orders
tags: [استرداد, دفع]
lang: ar
summary: "كيف يطلب العميل استرداد المبلغ ومتى يصل"
faq:
  - q: "متى يصل المبلغ المسترد؟"
    a: "خلال 5 أيام عمل من قبول الطلب."
---

يطلب العميل استرداد المبلغ من صفحة الطلبات خلال 14 يوما من الاستلام.

## متى يصل المبلغ
يصل المبلغ المسترد إلى البطاقة خلال 5 أيام عمل.
""",
    "orders/shipping.md": """---
title: "مدة الشحن"
category: orders
tags: [شحن, توصيل]
lang: ar
---

يصل الطلب داخل المدينة خلال يومين، وإلى المدن الأخرى خلال 3 إلى 5 أيام عمل.
""",
    "account/reset-password.md": """---
title: "Reset your password"
category: account
tags: [password, sign in]
lang: en
summary: "Get a reset link by e-mail when you forgot your password"
---

Open the sign-in page, choose "Forgot password" and follow the link we e-mail you within a few minutes.
""",
    "_categories.yml": """- slug: orders
  name: {ar: "الطلبات", en: "Orders"}
- slug: account
  name: {ar: "الحساب", en: "Account"}
""",
}

PASSWORDS = {
    # As the admins typed them in the earlier release (kept as typed before migration 0012).
    "Sara.Admin@Example.com": ("admin", "sara-admin-passphrase-1"),
    "omar@example.com": ("editor", "omar-editor-passphrase-2"),
    "Laila@Example.org": ("editor", "laila-editor-passphrase-3"),
}
CLIENT = "203.0.113.7"
WIDGET_ORIGIN = "https://shop.example.com"
LOGO_PNG = bytes.fromhex(  # a 1x1 PNG
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201e2219bc50000000049454e44ae426082")


def module(*names: str):
    """The first of ``names`` this release has (kb.store.users after the split, kb.users before)."""
    for name in names:
        found = _optional(name)
        if found is not None:
            return found
    raise SystemExit(f"this kb has none of {names}: is PYTHONPATH the earlier release's worktree?")


def _optional(name: str):
    """The release's module ``name``, or None when the release has no such module.  Only a file of
    the release counts: today's editable install would otherwise hand over today's module for a
    name the release lacks (setuptools' finder answers after the release's folder did not)."""
    import kb

    release = Path(kb.__file__).resolve().parent
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        return None
    if spec is None or spec.origin is None or release not in Path(spec.origin).resolve().parents:
        return None
    return importlib.import_module(name)


def release_commit() -> str:
    import kb

    source = Path(kb.__file__).resolve().parent.parent
    return subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()


def fill(home: Path, database_url: str) -> dict:
    """Start the release's app on ``home`` and use it as a help center's first week would; returns
    what previous.json keeps."""
    from kb import KnowledgeBase
    from kb import load_settings
    from kb.web import create_app

    users = module("kb.store.users", "kb.users")
    apikeys = module("kb.store.apikeys", "kb.apikeys")
    audit = module("kb.store.audit", "kb.audit")
    staff_sessions = module("kb.store.staff_sessions", "kb.staff_sessions")
    editing = module("kb.content.editing", "kb.editing")
    panel_links = module("kb.panel_links")
    brand = module("kb.brand")
    contact = module("kb.contact")
    widget_origins = module("kb.widget_origins")
    publishing = module("kb.publishing")

    for relative, text in ARTICLES.items():
        (home / "articles" / relative).parent.mkdir(parents=True, exist_ok=True)
        (home / "articles" / relative).write_text(text, encoding="utf-8")
    values = {"articles_dir": home / "articles", "index_dir": home / "index", "data_dir": home / "data"}
    if database_url:
        values["database_url"] = database_url
    settings = load_settings(values, environ={})
    knowledge = KnowledgeBase.from_settings(settings)
    knowledge.build()
    app = create_app(settings, knowledge=knowledge, test_config={"TESTING": True})
    serving = _optional("kb.serving")
    if serving is not None:  # releases with a change log seed it from the folder at start
        serving.start_node(app, threads=False)
    database = app.extensions["kb_db"]
    conn = database.connection()
    secret_key = app.config["SECRET_KEY"]

    # Staff: an admin, an editor, an editor who left; sign-ins, failed ones, a session.
    accounts = {email: users.create_user(conn, email, password, role) for email, (role, password) in PASSWORDS.items()}
    admin = accounts["Sara.Admin@Example.com"]
    users.authenticate(conn, "Sara.Admin@Example.com", PASSWORDS["Sara.Admin@Example.com"][1], CLIENT)
    users.authenticate(conn, "omar@example.com", PASSWORDS["omar@example.com"][1], CLIENT)
    users.set_active(conn, accounts["Laila@Example.org"].id, False, actor=admin)
    for _ in range(users.MAX_FAILURES_PER_EMAIL):  # someone guessing Laila's password: throttled
        try:
            users.authenticate(conn, "LAILA@example.org", "guess-guess-guess", "198.51.100.23")
        except Exception:  # noqa: BLE001 - the release's KbError: a refused sign-in is the point
            pass
    session_opened = time.time()
    session_id = staff_sessions.start(conn, admin.id, now=session_opened)

    # Integrations: an API key in use, one revoked; a panel link for the helpdesk; widget site.
    key, key_secret = apikeys.create_key(conn, "Helpdesk integration", rate_limit=120)
    audit.record(conn, "api_key_created", key.prefix, admin, name=key.name)
    old_key, _ = apikeys.create_key(conn, "Old import script")
    apikeys.revoke_key(conn, str(old_key.id))
    audit.record(conn, "api_key_revoked", old_key.prefix, admin, name=old_key.name)
    link, panel_token = panel_links.create_link(conn, "Chatwoot", "https://chat.example.com", secret_key)
    audit.record(conn, "panel_link_created", link.name, admin)
    widget_origins.WidgetOrigins(conn).add(WIDGET_ORIGIN, note="online shop", added_by=admin.email)
    audit.record(conn, "widget_origin_added", WIDGET_ORIGIN, admin)

    # Brand and where contact messages go.
    store = brand.BrandStore(conn)
    store.save(brand.Brand(primary_color="#0b5394", site_names={"ar": "مساعدة المتجر", "en": "Shop Help"},
                           footer_links=(brand.FooterLink("سياسة الخصوصية", "https://shop.example.com/privacy"),),
                           category_icons={"orders": "box"} if "box" in brand.CATEGORY_ICONS else {}),
               {"logo": (LOGO_PNG, "image/png")})
    audit.record(conn, "brand_changed", "", admin)
    desk = contact.ContactStore(database)
    desk.save_settings(contact.ContactSettings(mode="webhook", webhook_url="https://helpdesk.example.com/hook",
                                               webhook_secret="hook-signing-secret"))

    # Articles: one created and published, a pending edit, a rename, one deleted.
    publisher = publishing.Publisher(knowledge, conn)
    publisher.create(editing.ArticleForm(title="بطاقات الهدايا", slug="gift-cards", category="orders", lang="ar",
                                         tags="هدايا", body="تُستخدم بطاقة الهدية مرة واحدة خلال سنة من شرائها."),
                     "publish", accounts["omar@example.com"])
    opened = publisher.open("refunds")
    edit = editing.ArticleForm(**{**opened.form.__dict__, "body": opened.form.body + "\n\nلا تُسترد رسوم الشحن."})
    publisher.save("refunds", edit, "draft", opened.token, accounts["omar@example.com"], note="رسوم الشحن")
    opened = publisher.open("shipping")
    publisher.save("shipping", editing.ArticleForm(**{**opened.form.__dict__, "slug": "shipping-times"}), "publish",
                   opened.token, admin)
    publisher.delete("gift-cards", admin)

    # Readers, the help widget and the helpdesk's agents, through the release's own routes.
    client = app.test_client()
    for query in ("استرداد المبلغ", "كم مدة الشحن", "forgot password", "فاتورة ضريبية"):
        assert client.get("/search", query_string={"q": query}, follow_redirects=True).status_code == 200
    assert client.get("/articles/refunds", follow_redirects=True).status_code == 200
    bearer = {"Authorization": f"Bearer {key_secret}"}
    assert client.get("/api/v1/search", query_string={"q": "refund"}, headers=bearer).status_code == 200
    suggested = client.post("/api/v1/suggest", json={"message": "ابغى استرجع فلوسي"}, headers=bearer).get_json()
    if suggested.get("suggestions"):
        feedback = {"query_id": suggested["query_id"], "slug": suggested["suggestions"][0]["slug"], "useful": True}
        assert client.post("/api/v1/feedback", json=feedback, headers=bearer).status_code in (200, 204)
    widget = client.get("/api/widget/search", query_string={"q": "الشحن"}, headers={"Origin": WIDGET_ORIGIN})
    assert widget.status_code == 200, widget.data[:300]
    analytics = app.extensions["kb_analytics"]
    search_id = analytics.record_search("كم مدة الشحن", 1, source="site")
    analytics.record_click(search_id, "shipping-times", 1)
    analytics.record_view("shipping-times")
    analytics.record_vote("refunds", "visitor-1", True)
    analytics.record_vote("refunds", "visitor-2", False, "لم أجد رسوم الشحن")
    panel_links.record_query(conn, "a" * 32, "استرداد المبلغ", ["refunds"], link.id, 42, 12.5)
    panel_links.record_feedback(conn, "a" * 32, "refunds", True, link.id)

    # The contact form: one question answered by an article, two messages (one delivered).
    ask = desk.start_ask("كيف أسترد المبلغ؟", "ar", "site", ["refunds"])
    desk.record_open(ask, "refunds")
    shown = [{"slug": "refunds", "title": "استرداد المبلغ"}]
    sent = desk.submit(ask, "منى", "Mona@Example.net", "لم يصل المبلغ بعد أسبوعين.", "ar", "site", shown)
    desk.submit(None, "Sam", "sam@example.net", "Where is my invoice?", "en", "widget", [])
    desk.mark_sent(sent, "webhook:https://helpdesk.example.com/hook")

    database.close() if hasattr(database, "close") else conn.close()
    return {"passwords": {email: password for email, (_, password) in PASSWORDS.items()},
            "api_key": key_secret, "panel_token": panel_token, "widget_origin": WIDGET_ORIGIN,
            "staff_session": {"id": session_id, "email": admin.email, "opened_at": session_opened},
            "throttled": {"email": "LAILA@example.org", "client": "198.51.100.23"},
            "secret_key": secret_key}


def write_sqlite(out: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="kb-upgrade-fixture-") as tmp:
        home = Path(tmp)
        previous = fill(home, "")
        db_path = home / "data" / "kb.sqlite3"
        with sqlite3.connect(db_path) as raw:  # every page in the main file, none in a -wal beside it
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raw.execute("VACUUM")
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy2(db_path, out / "kb.sqlite3")
        shutil.copy2(home / "data" / "secret_key", out / "secret_key")
    return previous


def write_postgresql(out: Path) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from pg_cluster import PgCluster

    cluster = PgCluster.start()
    try:
        url = cluster.create_database("kb_previous")
        with tempfile.TemporaryDirectory(prefix="kb-upgrade-fixture-") as tmp:
            previous = fill(Path(tmp), url)
        out.mkdir(parents=True, exist_ok=True)
        dump = subprocess.run([str(cluster.bin_dir / "pg_dump"), "--no-owner", "--no-privileges", "--dbname", url],
                              check=True, capture_output=True, text=True).stdout
        # Recent pg_dump releases bracket the dump in \restrict lines, which older psql clients refuse.
        dump = "".join(line for line in dump.splitlines(keepends=True)
                       if not line.startswith(("\\restrict", "\\unrestrict")))
        (out / "kb.sql").write_text(dump, encoding="utf-8")
    finally:
        cluster.stop()
    return previous


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the fixture folder to write")
    parser.add_argument("--postgresql", action="store_true", help="a throw-away PostgreSQL cluster, kept as a pg_dump")
    args = parser.parse_args(argv)
    previous = write_postgresql(args.out) if args.postgresql else write_sqlite(args.out)
    previous = {"commit": release_commit(), **previous}
    (args.out / "previous.json").write_text(json.dumps(previous, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} from kb {previous['commit'][:7]}")


if __name__ == "__main__":
    main()
