"""The help center's brand: logo, favicon, primary colour, site name per language, category
icons and footer links, kept in the database.

Why the database and not a settings file: the brand is edited from the staff area while the
site runs, possibly in several server processes; a row in the database is seen by all of them on
their next request, survives restarts, and is written atomically (one transaction).  Every
save bumps ``version``, which is part of the logo, favicon and theme URLs, so browsers may
cache those for long and still see a change at once.

The primary colour is checked against the colours it is drawn with (white button text,
links on the white and grey page backgrounds): below WCAG AA's 4.5:1 it is darkened, keeping
its hue, to the nearest colour that passes, and the caller is told (:func:`accessible_color`).
Defaults are neutral: no logo (a plain mark), the site.css blue, no footer links.
"""

from __future__ import annotations

import colorsys
import hashlib
import json
import re
import time
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from urllib.parse import urlsplit

from kb.store.db import Connection
from kb.errors import KbError
from kb.svgsafe import MAX_SVG_BYTES
from kb.svgsafe import UnsafeSvg
from kb.svgsafe import sanitize_svg
from kb.translation import N_

DEFAULT_PRIMARY = "#0c5aa6"
# What the primary colour is drawn with or on (site.css): button text, page and card backgrounds.
TEXT_ON_PRIMARY = "#ffffff"
BACKGROUNDS = ("#ffffff", "#f5f7fa")
MIN_CONTRAST = 4.5  # WCAG 2.2 AA, normal text
MAX_ASSET_BYTES = 512 * 1024
MAX_FOOTER_LINKS = 8
MAX_NAME_CHARS = 80
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ASSETS = ("logo", "favicon")
# The bundled icons (kb/web/static/icons) offered for categories.
CATEGORY_ICONS = ("book", "box", "card", "cart", "chart", "chat", "gear", "globe", "lock", "mail", "megaphone", "phone",
                  "question", "refund", "shield", "star", "tag", "truck", "user", "users")
_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


@dataclass(frozen=True)
class FooterLink:
    label: str
    url: str


@dataclass(frozen=True)
class Asset:
    mime: str
    sha256: str


@dataclass(frozen=True)
class Brand:
    """What the pages show; ``Brand()`` is the neutral default."""

    primary_color: str = DEFAULT_PRIMARY
    site_names: dict[str, str] = field(default_factory=dict)  # language -> name; missing: settings.site_name
    footer_links: tuple[FooterLink, ...] = ()
    category_icons: dict[str, str] = field(default_factory=dict)  # category slug -> icon name
    assets: dict[str, Asset] = field(default_factory=dict)  # "logo", "favicon"
    version: int = 0

    def site_name(self, lang: str, default: str) -> str:
        return self.site_names.get(lang) or default

    @property
    def is_default_color(self) -> bool:
        return self.primary_color.lower() == DEFAULT_PRIMARY

    def to_json(self) -> str:
        return json.dumps({
            "primary_color": self.primary_color, "site_names": self.site_names,
            "footer_links": [[link.label, link.url] for link in self.footer_links],
            "category_icons": self.category_icons,
            "assets": {name: [asset.mime, asset.sha256] for name, asset in self.assets.items()},
            "version": self.version,
        }, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Brand:
        data = json.loads(text)
        return cls(
            primary_color=data.get("primary_color") or DEFAULT_PRIMARY,
            site_names=dict(data.get("site_names") or {}),
            footer_links=tuple(FooterLink(label, url) for label, url in data.get("footer_links") or []),
            category_icons={k: v for k, v in (data.get("category_icons") or {}).items() if v in CATEGORY_ICONS},
            assets={name: Asset(mime, sha) for name, (mime, sha) in (data.get("assets") or {}).items()},
            version=int(data.get("version") or 0),
        )


# -- colour ---------------------------------------------------------------------------------------


def parse_color(value: str) -> str:
    """'#1a2b3c' from '#1A2B3C', '1a2b3c' or '#abc'; KbError if it is no hex colour."""
    match = _HEX.fullmatch((value or "").strip())
    if not match:
        raise KbError("bad_color", N_("“%(value)s” is not a colour: write it like #0c5aa6.", value=(value or "").strip()),
                      field="primary_color")
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def _rgb(color: str) -> tuple[float, float, float]:
    return tuple(int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in rgb)


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio (1 to 21) of two colours."""
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def worst_contrast(color: str) -> float:
    """The lowest contrast of the colour with what it is drawn with (see TEXT_ON_PRIMARY, BACKGROUNDS)."""
    return min(contrast_ratio(color, other) for other in (TEXT_ON_PRIMARY, *BACKGROUNDS))


def darken(color: str, amount: float) -> str:
    """The colour with its lightness lowered by ``amount`` (0-1), hue and saturation kept."""
    hue, lightness, saturation = colorsys.rgb_to_hls(*_rgb(color))
    return _hex(colorsys.hls_to_rgb(hue, max(0.0, lightness - amount), saturation))


def mix(color: str, other: str, weight: float) -> str:
    """``weight`` of ``color`` and the rest of ``other``."""
    return _hex(tuple(weight * a + (1 - weight) * b for a, b in zip(_rgb(color), _rgb(other))))  # type: ignore[arg-type]


def accessible_color(color: str) -> tuple[str, float]:
    """(the colour, or the nearest darker one with at least MIN_CONTRAST everywhere it is
    used; its worst contrast).  Only lightness changes, so the hue stays the brand's."""
    color = parse_color(color)
    candidate = color
    for step in range(101):
        candidate = darken(color, step / 100)
        if worst_contrast(candidate) >= MIN_CONTRAST:
            break
    return candidate, worst_contrast(candidate)


def theme_colors(primary: str) -> dict[str, str]:
    """The CSS custom properties of site.css derived from the primary colour."""
    strong = darken(primary, 0.12)
    soft = mix(primary, "#ffffff", 0.1)
    while contrast_ratio(strong, soft) < MIN_CONTRAST and relative_luminance(strong) > 0.01:
        strong = darken(strong, 0.04)  # chips: the strong colour on the soft one
    return {"--primary": primary, "--primary-strong": strong, "--primary-soft": soft, "--hero-from": primary,
            "--hero-to": darken(primary, 0.1)}


# -- validation ------------------------------------------------------------------------------------


def parse_footer_links(text: str) -> tuple[FooterLink, ...]:
    """One "label | URL" per line (http, https, mailto or a path on this site)."""
    links = []
    for number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        label, sep, url = (part.strip() for part in line.rpartition("|"))
        if not sep or not label or not url:
            raise KbError("footer_link_format", N_("Line %(line)d: write it as “label | https://…”.", line=number),
                          field="footer_links")
        parts = urlsplit(url)
        local = url.startswith("/") and not url.startswith("//")
        if not local and parts.scheme not in ("http", "https", "mailto"):
            raise KbError("footer_link_scheme", N_("Line %(line)d: %(url)s must start with https://, http://, mailto: or /.",
                                                   line=number, url=url), field="footer_links")
        links.append(FooterLink(label[:MAX_NAME_CHARS], url))
    if len(links) > MAX_FOOTER_LINKS:
        raise KbError("too_many_footer_links", N_("At most %(count)d footer links.", count=MAX_FOOTER_LINKS),
                      field="footer_links")
    return tuple(links)


def clean_asset(data: bytes, filename: str, field_name: str) -> tuple[bytes, str]:
    """(bytes to store, MIME type) of an uploaded logo or favicon: PNG as is, SVG sanitized."""
    if not data:
        raise KbError("empty_file", N_("The file is empty."), field=field_name)
    if len(data) > MAX_ASSET_BYTES:
        raise KbError("file_too_large", N_("The file is larger than %(size)d KB.", size=MAX_ASSET_BYTES // 1024),
                      field=field_name)
    if data.startswith(PNG_SIGNATURE):
        return data, "image/png"
    if filename.lower().endswith(".svg") or data.lstrip()[:5] in (b"<svg ", b"<?xml") or b"<svg" in data[:512]:
        try:
            return sanitize_svg(data), "image/svg+xml"
        except UnsafeSvg as exc:
            raise KbError(f"svg_{exc.reason}", _unusable_svg(exc.reason), field=field_name) from None
    raise KbError("bad_image_type", N_("Upload a PNG or an SVG image."), field=field_name)


def _unusable_svg(reason: str) -> str:
    """Why an uploaded SVG cannot be used (kb.svgsafe's ``reason``), as a Message the page shows
    in its reader's language (kb.svgsafe's own text is English detail for the logs)."""
    if reason == "too_large":
        return N_("The file is larger than %(size)d KB.", size=MAX_SVG_BYTES // 1024)
    return {
        "not_utf8": N_("This SVG cannot be used: it is not UTF-8 text."),
        "doctype": N_("This SVG cannot be used: it declares a DOCTYPE or entities."),
        "not_xml": N_("This SVG cannot be used: it is not well-formed XML."),
        "not_svg": N_("This file is not an SVG image."),
    }.get(reason) or N_("This file is not an SVG image.")


# -- storage ---------------------------------------------------------------------------------------


class BrandStore:
    """The brand in the database (tables of migration 0005_brand.sql)."""

    def __init__(self, db: Connection):
        self.db = db

    def load(self) -> Brand:
        row = self.db.execute("SELECT value FROM brand_settings WHERE key = 'brand'").fetchone()
        return Brand.from_json(row[0]) if row else Brand()

    def asset(self, name: str) -> tuple[bytes, str] | None:
        row = self.db.execute("SELECT data, mime FROM brand_assets WHERE name = ?", (name,)).fetchone()
        return (bytes(row[0]), row[1]) if row else None

    def save(self, brand: Brand, assets: dict[str, tuple[bytes, str] | None] | None = None) -> Brand:
        """Store ``brand`` (with a new version) and put or remove assets, in one transaction.

        ``assets`` maps "logo"/"favicon" to (bytes, mime), or None to remove it."""
        with self.db.transaction():
            # Two saves at once (two processes) must not both read version N and write N+1:
            # SQLite's transaction already lets one writer in; PostgreSQL needs the lock.
            self.db.lock("kb.brand")
            current = self.load()
            kept = dict(current.assets)
            for name, value in (assets or {}).items():
                if value is None:
                    self.db.execute("DELETE FROM brand_assets WHERE name = ?", (name,))
                    kept.pop(name, None)
                    continue
                data, mime = value
                digest = hashlib.sha256(data).hexdigest()[:16]
                self.db.execute(
                    "INSERT INTO brand_assets (name, mime, data, sha256, updated_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET mime = excluded.mime, data = excluded.data, "
                    "sha256 = excluded.sha256, updated_at = excluded.updated_at",
                    (name, mime, data, digest, time.time()))
                kept[name] = Asset(mime, digest)
            saved = replace(brand, assets=kept, version=current.version + 1)
            self.db.execute(
                "INSERT INTO brand_settings (key, value) VALUES ('brand', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (saved.to_json(),))
        return saved
