"""Staff accounts: creation, password hashing, sign-in with throttling (the ``kb user`` commands are in kb.cli_users).

Passwords are hashed with scrypt (werkzeug) at N=2^15, r=8, p=3, one of OWASP's
equivalent scrypt settings (32 MiB, ~0.3 s).  Failed sign-ins are kept in the database,
so throttling holds across server processes and restarts: after ``MAX_FAILURES_PER_EMAIL``
failures for one address (or ``MAX_FAILURES_PER_CLIENT`` from one client) within
``THROTTLE_WINDOW`` seconds, sign-in is refused until the window has passed.
Disabling a user, changing its role or its password ends every one of its sessions
(:mod:`kb.store.staff_sessions`), in every server process.  Passwords have at least
``MIN_PASSWORD_CHARS`` (12, as OWASP ASVS 2.1.1 asks) characters.

E-mail addresses are kept in one case (:func:`normalize_email`) and compared as stored, so
"A@Example.com" and "a@example.com" are one account on SQLite and PostgreSQL alike (SQLite's
``COLLATE NOCASE`` did this on its own; PostgreSQL compares text exactly).
"""

from __future__ import annotations

import functools
import re
import string
import time
from dataclasses import dataclass

from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from kb.store import audit
from kb.store import staff_sessions
from kb.store.db import Connection
from kb.store.db import Row
from kb.store.db import utc_timestamp
from kb.errors import KbError
from kb.translation import N_

ROLES = ("editor", "admin")
PASSWORD_METHOD = "scrypt:32768:8:3"
MIN_PASSWORD_CHARS = 12
THROTTLE_WINDOW = 15 * 60
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_CLIENT = 20
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Taken by every change that could leave no active admin: two admins disabling each other at
# once (two processes, two machines) must not both see "another admin is left".
_ADMINS_LOCK = "kb.staff_users.admins"


@dataclass(frozen=True)
class User:
    id: int
    email: str
    role: str
    active: bool
    created_at: str
    last_login_at: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _user(row: Row | None) -> User | None:
    if row is None:
        return None
    return User(row["id"], row["email"], row["role"], bool(row["active"]), row["created_at"], row["last_login_at"])


def normalize_email(email: str) -> str:
    """The form an address is stored and looked up in: trimmed, without control characters
    (no address has one, and PostgreSQL's text cannot hold a NUL), A-Z lowered.

    Only ASCII letters are folded, as SQLite's ``COLLATE NOCASE`` and ``lower()`` (and
    migration 0012, which lowered the addresses stored before) do: the same address
    matches on both backends."""
    return _CONTROL.sub("", email).strip().translate(_ASCII_LOWER)


@functools.cache
def _dummy_hash() -> str:
    """Checked when the e-mail is unknown, so a wrong address costs the time of a wrong password."""
    return generate_password_hash("not-a-real-password", method=PASSWORD_METHOD)


def check_password_strength(password: str) -> None:
    """Refuse a password shorter than ``MIN_PASSWORD_CHARS`` characters (spaces count)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise KbError(
            "weak_password",
            N_("The password is short (%(length)s of %(minimum)s): make it at least %(required)s characters; a phrase "
               "of several words is easier to remember.", length=len(password), minimum=MIN_PASSWORD_CHARS,
               required=MIN_PASSWORD_CHARS),
            field="password",
        )


def create_user(db: Connection, email: str, password: str, role: str, actor=None) -> User:
    """Add an account; the e-mail must be new and the password long enough."""
    email = normalize_email(email)
    if not _EMAIL.match(email):
        raise KbError("bad_email", N_("The email address is not valid."), field="email")
    if role not in ROLES:
        raise KbError("bad_role", N_("The role must be one of: %(roles)s.", roles=", ".join(ROLES)), field="role")
    check_password_strength(password)
    # ON CONFLICT rather than catching the unique violation: on PostgreSQL that error would also
    # abort a transaction the caller has open.
    row = db.execute(
        "INSERT INTO staff_users (email, password_hash, role) VALUES (?, ?, ?) ON CONFLICT (email) DO NOTHING RETURNING id",
        (email, generate_password_hash(password, method=PASSWORD_METHOD), role),
    ).fetchone()
    if row is None:
        raise KbError("email_taken", N_("A user with this email address exists."), status=409, field="email")
    audit.record(db, "user_created", email, actor, role=role)
    return get_user(db, row[0])  # type: ignore[return-value]


def get_user(db: Connection, user_id: int) -> User | None:
    return _user(db.execute("SELECT * FROM staff_users WHERE id = ?", (user_id,)).fetchone())


def find_user(db: Connection, email: str) -> User | None:
    return _user(db.execute("SELECT * FROM staff_users WHERE email = ?", (normalize_email(email),)).fetchone())


def list_users(db: Connection) -> list[User]:
    return [_user(row) for row in db.execute("SELECT * FROM staff_users ORDER BY email")]  # type: ignore[misc]


def _require(db: Connection, user_id: int) -> User:
    user = get_user(db, user_id)
    if user is None:
        raise KbError("no_user", N_("The user does not exist."), status=404)
    return user


def set_active(db: Connection, user_id: int, active: bool, actor=None) -> User:
    """Enable or disable an account; disabling also ends its sessions."""
    with db.transaction():
        db.lock(_ADMINS_LOCK)
        user = _require(db, user_id)
        if not active and actor is not None and getattr(actor, "id", None) == user.id:
            raise KbError("self_disable", N_("You cannot disable your own account."), status=400)
        if not active and user.is_admin and _other_active_admins(db, user.id) == 0:
            raise KbError("last_admin", N_("The last active admin cannot be disabled."), status=400)
        db.execute("UPDATE staff_users SET active = ? WHERE id = ?", (int(active), user.id))
        if not active:
            staff_sessions.end_all(db, user.id)
        audit.record(db, "user_enabled" if active else "user_disabled", user.email, actor)
    return _require(db, user_id)


def set_role(db: Connection, user_id: int, role: str, actor=None) -> User:
    """Change an account's role; its sessions end, so the new rights apply from the next sign-in."""
    with db.transaction():
        db.lock(_ADMINS_LOCK)
        user = _require(db, user_id)
        if role not in ROLES:
            raise KbError("bad_role", N_("The role must be one of: %(roles)s.", roles=", ".join(ROLES)), field="role")
        if user.is_admin and role != "admin" and _other_active_admins(db, user.id) == 0:
            raise KbError("last_admin", N_("The last active admin cannot lose the admin role."), status=400)
        if role == user.role:
            return user
        db.execute("UPDATE staff_users SET role = ? WHERE id = ?", (role, user.id))
        staff_sessions.end_all(db, user.id)
        audit.record(db, "user_role_changed", user.email, actor, old=user.role, new=role)
    return _require(db, user_id)


def set_password(db: Connection, user_id: int, password: str, actor=None,
                 action: str = "user_password_reset") -> User:
    """Replace a password (reset by an admin, or changed by its owner); ends every session of
    the account (a user changing their own password is given a new one by the caller)."""
    user = _require(db, user_id)
    check_password_strength(password)
    db.execute(
        "UPDATE staff_users SET password_hash = ? WHERE id = ?",
        (generate_password_hash(password, method=PASSWORD_METHOD), user.id),
    )
    staff_sessions.end_all(db, user.id)
    db.execute("DELETE FROM login_failures WHERE email = ?", (user.email,))
    audit.record(db, action, user.email, actor)
    return _require(db, user_id)


def _other_active_admins(db: Connection, user_id: int) -> int:
    row = db.execute("SELECT count(*) FROM staff_users WHERE role = 'admin' AND active = 1 AND id != ?", (user_id,))
    return row.fetchone()[0]


def seconds_locked(db: Connection, email: str, client: str, now: float | None = None) -> int:
    """0 if a sign-in may be tried now, else the seconds until it may."""
    now = time.time() if now is None else now
    since = now - THROTTLE_WINDOW
    db.execute("DELETE FROM login_failures WHERE at < ?", (since,))
    waits = []
    for column, value, limit in (("email", normalize_email(email), MAX_FAILURES_PER_EMAIL), ("client", client, MAX_FAILURES_PER_CLIENT)):
        rows = db.execute(f"SELECT at FROM login_failures WHERE {column} = ? AND at >= ? ORDER BY at DESC LIMIT ?",
                          (value, since, limit)).fetchall()
        if len(rows) >= limit:
            waits.append(int(rows[-1]["at"] + THROTTLE_WINDOW - now) + 1)
    return max(waits, default=0)


def authenticate(db: Connection, email: str, password: str, client: str, now: float | None = None) -> User:
    """The user for these credentials, or KbError (wrong, disabled, or throttled: 429)."""
    now = time.time() if now is None else now
    email = normalize_email(email)
    wait = seconds_locked(db, email, client, now)
    if wait:
        audit.record(db, "sign_in_throttled", email)
        error = KbError("throttled", N_("Too many sign-in attempts. Try again in %(minutes)s minutes.",
                                         minutes=max(1, (wait + 59) // 60)), status=429)
        error.retry_after = wait  # type: ignore[attr-defined]
        raise error
    row = db.execute("SELECT * FROM staff_users WHERE email = ?", (email,)).fetchone()
    valid = check_password_hash(row["password_hash"] if row else _dummy_hash(), password)
    if row is None or not valid or not row["active"]:
        db.execute("INSERT INTO login_failures (email, client, at) VALUES (?, ?, ?)", (email, client, now))
        audit.record(db, "sign_in_failed", email, reason="disabled" if row is not None and valid else "bad_credentials")
        raise KbError("bad_credentials", N_("The email or the password is not correct."), status=401)
    db.execute("DELETE FROM login_failures WHERE email = ?", (email,))
    db.execute("UPDATE staff_users SET last_login_at = ? WHERE id = ?", (utc_timestamp(), row["id"]))
    user = _require(db, row["id"])
    audit.record(db, "sign_in", user.email, user)
    return user

