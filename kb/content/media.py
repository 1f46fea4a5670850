"""Images uploaded from the editor: checked by content, stored in ``articles/_media/``.

The type is decided by the file's first bytes, not by its name or the browser's claim, and
only raster formats a browser shows inline are accepted (no SVG: it can carry scripts).
Names are generated, so an upload can never overwrite a file or escape the folder.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from pathlib import Path

from kb.errors import KbError
from kb.fsutil import atomic_write_bytes

MEDIA_DIR = "_media"
MEDIA_URL = "/media/"
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MIME_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


def image_type(data: bytes) -> str | None:
    """'png', 'jpg', 'gif' or 'webp' from the file's signature; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def save_image(articles_dir: Path, filename: str, data: bytes, today: dt.date | None = None) -> str:
    """Store an uploaded image; returns its site URL (``/media/2026/11/name-1a2b3c4d.png``)."""
    if not data:
        raise KbError("empty_file", "الملف فارغ.", field="image")
    if len(data) > MAX_IMAGE_BYTES:
        raise KbError("too_large", f"الصورة أكبر من {MAX_IMAGE_BYTES // (1024 * 1024)} ميغابايت.", status=413, field="image")
    kind = image_type(data)
    if kind is None:
        raise KbError("bad_image", "نوع الملف غير مدعوم: ارفع صورة PNG أو JPEG أو GIF أو WebP.", status=415, field="image")
    today = today or dt.date.today()
    stem = re.sub(r"[^a-z0-9]+", "-", Path(filename or "").stem.lower()).strip("-")[:40] or "image"
    relative = f"{today:%Y}/{today:%m}/{stem}-{secrets.token_hex(4)}.{kind}"
    atomic_write_bytes(Path(articles_dir) / MEDIA_DIR / relative, data)
    return MEDIA_URL + relative


def media_file(articles_dir: Path, relative: str) -> tuple[Path, str] | None:
    """The file and MIME type for a /media/ path, or None if it is not a stored image."""
    root = (Path(articles_dir) / MEDIA_DIR).resolve()
    path = (root / relative).resolve()
    kind = path.suffix.lower().lstrip(".")
    if not path.is_relative_to(root) or kind not in MIME_TYPES or not path.is_file():
        return None
    return path, MIME_TYPES[kind]
