"""Behind a reverse proxy: the real client's address, scheme and host, believed only from trusted hops.

A proxy in front of kb (nginx, a load balancer) connects from its own address and tells
who the client was in ``X-Forwarded-For`` / ``-Proto`` / ``-Host`` / ``-Port``.  (Not
``-Prefix``: kb's links are site-absolute paths, "/articles/…", so it is served at the root
of its host name, never under a path of another site.)
Anyone can send those headers, so they are read only as far as the ``trusted_proxies``
setting says (:func:`kb.config.parse_trusted_proxies`):

- empty (the default): no forwarded header is read; the connecting address is the client.
- a hop count ``N``: werkzeug's ``ProxyFix`` takes the N-th value from the right of each
  header, the ones the N proxies wrote; what a client put before them is ignored.  It
  trusts the headers whoever connects, so kb must be reachable only through the proxies
  (listening on 127.0.0.1 or a private network).
- addresses and networks: :class:`TrustedProxies`.  The headers are read only when the
  connecting address is one of the proxies; the client is then the right-most address of
  ``X-Forwarded-For`` that is not a proxy (each proxy appends the address it saw, so
  everything left of that one was written by the client and may be forged).  ProxyFix cannot do
  this: it counts a fixed number of hops and never looks at who connected, while with a
  list the number of proxies in a request's path varies (straight to nginx, or through the
  CDN first) and a request that comes straight from a client must change nothing.

The wrapped WSGI environ carries the result (``REMOTE_ADDR``, ``wsgi.url_scheme``,
``HTTP_HOST``, ``SERVER_PORT``), so ``request.remote_addr`` and everything built on it
(:func:`kb.web.security.client_key`: the rate limits and the sign-in throttle) key on the
real client.  What a configured ``base_url`` says still wins for links (:func:`site_root`).
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Callable
from typing import Iterable
from urllib.parse import urlsplit

from flask import current_app
from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

from kb.config import Settings
from kb.config import parse_trusted_proxies
from kb.web import i18n

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def wrap(wsgi_app: Callable, settings: Settings) -> Callable:
    """``wsgi_app`` reading forwarded headers as ``settings.trusted_proxies`` allows (unchanged when empty)."""
    trusted = parse_trusted_proxies(settings.trusted_proxies)
    if not trusted:
        return wsgi_app
    if isinstance(trusted, int):
        if settings.host not in LOOPBACK_HOSTS:
            logger.warning("trusted_proxies = %s believes X-Forwarded-For from anyone who reaches %s:%s directly; "
                           "list the proxies' addresses instead, or listen on 127.0.0.1 only",
                           trusted, settings.host, settings.port)
        return ProxyFix(wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted, x_port=trusted)
    return TrustedProxies(wsgi_app, trusted)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443" (RFC 7239 style)
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # "::ffff:10.0.0.5" from a dual-stack socket
    return mapped or address


def _values(header: str) -> list[str]:
    """The non-empty values of a comma-separated forwarded header, left to right."""
    return [part.strip() for part in header.split(",") if part.strip()]


def _last_value(environ: dict, name: str) -> str | None:
    """The right-most value of a comma-separated forwarded header: what the proxy next to us sent."""
    values = _values(environ.get(name, ""))
    return values[-1] if values else None


class TrustedProxies:
    """WSGI middleware for a ``trusted_proxies`` list of addresses and networks (see the module docstring).

    Scheme, host and port are the values the proxy next to kb sent (the right-most
    ones): that proxy is trusted, and either set them itself or passed on what the proxy
    before it (also one of the list, or it would not have been believed) set.
    """

    def __init__(self, app: Callable, networks: Iterable[Network]):
        self.app = app
        self.networks = tuple(networks)

    def is_proxy(self, text: str | None) -> bool:
        address = _address(text or "")
        return address is not None and any(address in network for network in self.networks)

    def client_address(self, remote_addr: str, forwarded_for: str) -> str:
        """The right-most address of the path that is not a trusted proxy (the left-most, if all are)."""
        client = remote_addr
        for hop in reversed(_values(forwarded_for)):
            if not self.is_proxy(client):
                break
            address = _address(hop)
            if address is None:  # not an address: garbage in the header, stop believing it
                break
            client = str(address)
        return client

    def __call__(self, environ: dict, start_response: Callable):
        remote_addr = environ.get("REMOTE_ADDR", "")
        if not self.is_proxy(remote_addr):
            return self.app(environ, start_response)
        environ["werkzeug.proxy_fix.orig"] = {
            "REMOTE_ADDR": remote_addr,
            "wsgi.url_scheme": environ.get("wsgi.url_scheme"),
            "HTTP_HOST": environ.get("HTTP_HOST"),
            "SERVER_NAME": environ.get("SERVER_NAME"),
            "SERVER_PORT": environ.get("SERVER_PORT"),
        }
        environ["REMOTE_ADDR"] = self.client_address(remote_addr, environ.get("HTTP_X_FORWARDED_FOR", ""))
        proto = (_last_value(environ, "HTTP_X_FORWARDED_PROTO") or "").lower()
        if proto in ("http", "https"):
            environ["wsgi.url_scheme"] = proto
        host = _last_value(environ, "HTTP_X_FORWARDED_HOST")
        if host:
            environ["HTTP_HOST"] = environ["SERVER_NAME"] = host
            if ":" in host and not host.endswith("]"):
                environ["SERVER_NAME"], _, environ["SERVER_PORT"] = host.rpartition(":")
        port = _last_value(environ, "HTTP_X_FORWARDED_PORT")
        if port and port.isdigit():
            name = environ.get("HTTP_HOST", "")
            if name:
                if name.endswith("]") or ":" not in name:
                    environ["HTTP_HOST"] = f"{name}:{port}"
                else:
                    environ["HTTP_HOST"] = f"{name.rpartition(':')[0]}:{port}"
            environ["SERVER_PORT"] = port
        return self.app(environ, start_response)


def site_root() -> str:
    """The site's public root URL, no trailing slash: ``base_url`` when it is configured, whatever
    the request says; else the request's own (through trusted proxies only), so the widget
    and its install snippet name the address the visitor used.

    Never with the request's language prefix: ``/en/api/widget/config`` and
    ``/en/staff/widget`` name the same root as their unprefixed paths (``request.url_root``
    would end in ``/en``, and a path put after it would be ``/en/en/...``)."""
    settings = current_app.extensions["kb_settings"]
    if settings.base_url_configured:
        return settings.base_url.rstrip("/")
    return request.host_url.rstrip("/") + i18n.unprefixed("")


def site_origin() -> str:
    """The origin of :func:`site_root` (scheme, host and port, no path): what another site's
    Content-Security-Policy names to allow the help center (a CSP source with a path and no
    trailing slash matches that one path only)."""
    parts = urlsplit(site_root())
    return f"{parts.scheme}://{parts.netloc}"
