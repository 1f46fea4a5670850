"""SVG uploads made safe: an allowlist of drawing elements and attributes, nothing that runs
or loads.

An SVG is a document, not a picture: it can hold ``<script>``, event handlers
(``onload=``), ``<foreignObject>`` with HTML inside, links to ``javascript:`` and
references to other servers (``<image href="https://…">``, ``url(https://…)`` in a style).
Shown through ``<img>`` a browser runs none of that, but the file is also reachable at its
own URL on the site's origin, where it would.  So an uploaded logo or favicon keeps only
shapes, text, gradients, clips and masks; every reference must point inside the file
(``#id``), and a DOCTYPE (entities: the "billion laughs") is refused before parsing.

:func:`sanitize_svg` returns the cleaned bytes or raises :class:`UnsafeSvg` saying why
the file cannot be used at all (not XML, not an SVG, too large).
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
MAX_SVG_BYTES = 512 * 1024

# Drawing elements only: no script, style, foreignObject, image, a, use of other files,
# animation (set/animate can rewrite href to javascript:), iframe or feImage.
ALLOWED_ELEMENTS = frozenset({
    "svg", "g", "defs", "title", "desc", "symbol", "use", "path", "rect", "circle", "ellipse", "line", "polyline",
    "polygon", "text", "tspan", "textPath", "linearGradient", "radialGradient", "stop", "clipPath", "mask", "pattern",
    "filter", "feGaussianBlur", "feOffset", "feBlend", "feColorMatrix", "feFlood", "feComposite", "feMerge",
    "feMergeNode", "feDropShadow",
})
# Presentation and geometry attributes; anything else (on*, style, event handlers,
# unknown namespaces) is dropped.
ALLOWED_ATTRIBUTES = frozenset({
    "id", "class", "viewBox", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx",
    "fy", "d", "points", "transform", "fill", "fill-opacity", "fill-rule", "clip-rule", "stroke", "stroke-width",
    "stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset",
    "stroke-opacity", "opacity", "clip-path", "mask", "filter", "offset", "stop-color", "stop-opacity",
    "gradientUnits", "gradientTransform", "spreadMethod", "patternUnits", "patternTransform",
    "patternContentUnits", "clipPathUnits", "maskUnits", "maskContentUnits", "preserveAspectRatio", "font-family",
    "font-size", "font-weight", "font-style", "text-anchor", "dominant-baseline", "letter-spacing", "dx", "dy",
    "rotate", "textLength", "lengthAdjust", "startOffset", "direction", "display", "visibility", "color",
    "vector-effect", "paint-order", "stdDeviation", "in", "in2", "result", "mode", "values", "type", "operator",
    "k1", "k2", "k3", "k4", "flood-color", "flood-opacity", "href", "version", "xml:space", "overflow",
})
# Attribute values may reference only something inside the file.
_URL_REF = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I)


class UnsafeSvg(ValueError):
    """The upload cannot be used as an SVG image: ``reason`` is one of too_large, not_utf8,
    doctype, not_xml, not_svg (for a translated message), the text says it in English."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def sanitize_svg(data: bytes) -> bytes:
    """The SVG with everything outside the allowlist removed (see the module docstring)."""
    if len(data) > MAX_SVG_BYTES:
        raise UnsafeSvg("too_large", f"the SVG file is larger than {MAX_SVG_BYTES // 1024} KB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnsafeSvg("not_utf8", "the SVG file is not UTF-8 text") from None
    if re.search(r"<!DOCTYPE|<!ENTITY", text, re.I):
        raise UnsafeSvg("doctype", "the SVG file declares a DOCTYPE or entities, which are not accepted")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise UnsafeSvg("not_xml", f"the file is not well-formed XML ({exc})") from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise UnsafeSvg("not_svg", "the file is not an SVG image (its root element is not <svg> in the SVG namespace)")
    _clean(root)
    if not root.get("viewBox") and root.get("width") and root.get("height"):
        width, height = (re.sub(r"[a-z%]+$", "", root.get(name, "")) for name in ("width", "height"))
        if _is_number(width) and _is_number(height):
            root.set("viewBox", f"0 0 {width} {height}")  # so the logo scales to the header's height
    ElementTree.register_namespace("", SVG_NS)
    ElementTree.register_namespace("xlink", XLINK_NS)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=False)


def _clean(element: ElementTree.Element) -> None:
    for child in list(element):
        if not isinstance(child.tag, str) or _local_name(child.tag, element=True) not in ALLOWED_ELEMENTS:
            element.remove(child)  # comments, processing instructions, script, foreignObject, …
            continue
        _clean(child)
    for name in list(element.attrib):
        value = element.attrib[name]
        local = _local_name(name, element=False)
        if local is None or local not in ALLOWED_ATTRIBUTES or not _safe_value(local, value):
            del element.attrib[name]


def _local_name(name: str, element: bool) -> str | None:
    """The allowlist name of a tag or attribute, or None if it is in a foreign namespace."""
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        if element:
            return local if namespace == SVG_NS else None
        if namespace == XLINK_NS and local == "href":
            return "href"
        if namespace == "http://www.w3.org/XML/1998/namespace":
            return f"xml:{local}"
        return None
    return name


def _safe_value(name: str, value: str) -> bool:
    if name == "href":
        return value.strip().startswith("#")
    if any(not ref.strip().startswith("#") for _, ref in _URL_REF.findall(value)):
        return False
    lowered = value.lower()
    return "javascript:" not in lowered and "expression(" not in lowered and "@import" not in lowered


def _is_number(value: str) -> bool:
    return bool(re.fullmatch(r"\d+(\.\d+)?", value))
