"""Audit log of staff actions: who did what to what, and when.

Every sign-in (and failed sign-in), publish, delete, user change and API key change is
recorded with the actor's e-mail kept as text, so the log still reads right after the
account is gone.  Nothing here raises on a write: the log must never stop the action.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from kb.store.db import Connection
from kb.store.db import Error

logger = logging.getLogger(__name__)

# Arabic labels for the audit page; unknown actions show as they are.
ACTION_LABELS = {
    "sign_in": "تسجيل دخول",
    "sign_in_failed": "محاولة دخول فاشلة",
    "sign_in_throttled": "دخول موقوف مؤقتًا",
    "sign_out": "تسجيل خروج",
    "password_changed": "تغيير كلمة المرور",
    "article_created": "إنشاء مقال",
    "draft_saved": "حفظ مسودة",
    "article_published": "نشر",
    "article_unpublished": "إلغاء النشر",
    "article_deleted": "حذف إلى سلة المحذوفات",
    "article_restored": "استعادة من سلة المحذوفات",
    "revision_restored": "استعادة نسخة سابقة",
    "pending_discarded": "تجاهل التعديلات غير المنشورة",
    "slug_renamed": "تغيير رابط مقال",
    "categories_saved": "تعديل التصنيفات",
    "category_renamed": "تغيير اسم أو رابط تصنيف",
    "synonyms_saved": "تعديل المترادفات",
    "dialect_saved": "تعديل كلمات اللهجات",
    "image_uploaded": "رفع صورة",
    "user_created": "إضافة مستخدم",
    "user_disabled": "تعطيل مستخدم",
    "user_enabled": "تفعيل مستخدم",
    "user_role_changed": "تغيير دور مستخدم",
    "user_password_reset": "إعادة تعيين كلمة مرور",
    "api_key_created": "إنشاء مفتاح API",
    "api_key_revoked": "إلغاء مفتاح API",
    "panel_link_created": "إنشاء رابط لوحة الوكلاء",
    "panel_link_revoked": "إلغاء رابط لوحة الوكلاء",
    "widget_origin_added": "إضافة موقع إلى أداة المساعدة",
    "widget_origin_removed": "حذف موقع من أداة المساعدة",
    "contact_destination_saved": "تعديل وجهة رسائل التواصل",
    "contact_message_resent": "إعادة إرسال رسالة تواصل",
    "brand_saved": "تعديل هوية الموقع",
}


@dataclass(frozen=True)
class AuditEntry:
    id: int
    created_at: str
    user_email: str | None
    action: str
    target: str
    details: dict

    @property
    def label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)


def record(db: Connection, action: str, target: str = "", user: Any = None, **details: Any) -> None:
    """Append one entry.  `user` is anything with ``id`` and ``email`` (or None for the CLI/system).

    Inside the caller's transaction the entry gets a savepoint of its own: on PostgreSQL a failed
    statement aborts the whole transaction, and a lost log entry must not undo the action."""
    sql = "INSERT INTO audit_log (user_id, user_email, action, target, details) VALUES (?, ?, ?, ?, ?)"
    values = (getattr(user, "id", None), getattr(user, "email", None), action, target,
              json.dumps(details, ensure_ascii=False, default=str))
    try:
        if db.in_transaction:
            with db.transaction():
                db.execute(sql, values)
        else:
            db.execute(sql, values)
    except Error:
        logger.exception("could not write the audit log entry %s %s", action, target)


def entries(db: Connection, limit: int = 200, action: str | None = None, user_email: str | None = None,
            target: str | None = None) -> list[AuditEntry]:
    """Newest first, optionally only one action, one user or one target."""
    where, args = [], []
    for column, value in (("action", action), ("user_email", user_email), ("target", target)):
        if value:
            # An address in any case: entries written before migration 0012 keep it as it was typed
            # then ("Admin@Example.com"; the log is history, never rewritten), later ones lower-cased.
            where.append("lower(user_email) = lower(?)" if column == "user_email" else f"{column} = ?")
            args.append(value)
    sql = "SELECT * FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?"
    rows = db.execute(sql, (*args, limit)).fetchall()
    return [
        AuditEntry(row["id"], row["created_at"], row["user_email"], row["action"], row["target"], json.loads(row["details"]))
        for row in rows
    ]
