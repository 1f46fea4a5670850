"""Names of the catalog's fixed values (status, audience, article language) in the interface
language: the words staff and site pages show for ``published``, ``internal``, ``en``...

Lazy strings, so they are translated when a page renders, in that page's language.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from kb.web.i18n import language_name

STATUS_LABELS = {"published": _l("Published"), "draft": _l("Draft")}
AUDIENCE_LABELS = {"public": _l("Public (customers)"), "internal": _l("Internal (staff only)")}
# The dialects of the lexicon (kb.search.dialect.DIALECTS), for the synonyms page.
DIALECT_LABELS = {"egy": _l("Egyptian"), "glf": _l("Gulf"), "lev": _l("Levantine"), "mgr": _l("Maghrebi"),
                  "any": _l("Several dialects")}
# What happened in a revision (kb.content.revisions states).
REVISION_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "pending": _l("Unpublished changes"),
    "unpublished": _l("Unpublished"),
    "deleted": _l("Deleted"),
    "restored": _l("Restored"),
    "conflict": _l("Conflicting version"),
    "discarded": _l("Changes discarded"),
}
# The audit log's actions (kb.store.audit); an action missing here shows kb.store.audit's own label.
AUDIT_LABELS = {
    "sign_in": _l("Sign-in"),
    "sign_in_failed": _l("Failed sign-in"),
    "sign_in_throttled": _l("Sign-in paused"),
    "sign_out": _l("Sign-out"),
    "password_changed": _l("Password changed"),
    "article_created": _l("Article created"),
    "draft_saved": _l("Draft saved"),
    "article_published": _l("Published"),
    "article_unpublished": _l("Unpublished"),
    "article_deleted": _l("Moved to the trash"),
    "article_restored": _l("Restored from the trash"),
    "revision_restored": _l("Earlier revision restored"),
    "pending_discarded": _l("Unpublished changes discarded"),
    "slug_renamed": _l("Article link changed"),
    "categories_saved": _l("Categories edited"),
    "category_renamed": _l("Category name or link changed"),
    "synonyms_saved": _l("Synonyms edited"),
    "dialect_saved": _l("Dialect words edited"),
    "image_uploaded": _l("Image uploaded"),
    "user_created": _l("User added"),
    "user_disabled": _l("User disabled"),
    "user_enabled": _l("User enabled"),
    "user_role_changed": _l("User role changed"),
    "user_password_reset": _l("Password reset"),
    "api_key_created": _l("API key created"),
    "api_key_revoked": _l("API key revoked"),
    "panel_link_created": _l("Agent panel link created"),
    "panel_link_revoked": _l("Agent panel link revoked"),
    "widget_origin_added": _l("Site allowed to use the help widget"),
    "widget_origin_removed": _l("Site removed from the help widget"),
    "contact_destination_saved": _l("Contact form destination changed"),
    "contact_message_resent": _l("Contact message sent again"),
    "brand_saved": _l("Brand changed"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def audience_label(audience: str) -> str:
    return str(AUDIENCE_LABELS.get(audience, audience))


def revision_label(revision) -> str:
    return str(REVISION_LABELS.get(revision.state, revision.label))


def audit_label(entry) -> str:
    return str(AUDIT_LABELS.get(entry.action, entry.label))


def audit_filter_labels() -> dict[str, str]:
    """Every action the audit page can filter on, with its label in this page's language."""
    from kb.store.audit import ACTION_LABELS

    return {action: str(AUDIT_LABELS.get(action, label)) for action, label in ACTION_LABELS.items()}


def dialect_names() -> dict[str, str]:
    """Every dialect code of the lexicon with its name in this page's language."""
    from kb.search.dialect import DIALECTS

    return {code: str(DIALECT_LABELS.get(code, name)) for code, name in DIALECTS.items()}


def content_language_label(lang: str) -> str:
    """An article's language, named in its own language ('العربية', 'English') as a language
    menu does, whatever the interface language."""
    return language_name(lang)


def init_app(app) -> None:
    app.jinja_env.globals.update(status_label=status_label, audience_label=audience_label,
                                 revision_label=revision_label, audit_label=audit_label,
                                 content_language_label=content_language_label)
