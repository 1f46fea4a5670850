"""Benchmark the help-center pages over HTTP against the production server.

    kb --articles-dir bench-data/corpus-10k --index-dir bench-data/index-10k index   # first, once (slow at 10k)
    python scripts/bench_site.py --corpus bench-data/corpus-10k --index-dir bench-data/index-10k

Starts ``kb serve`` (waitress) as a subprocess on a free loopback port with a throw-away
data dir, waits until it answers, warms it up (the first search loads the embedding model),
then measures page weight and caching (``--weight``, on by default): for each page type
and its CSS/JS, the bytes sent uncompressed, gzipped and brotli-compressed, time to first
byte (p50 over ``--ttfb-requests``, without and with brotli), and a repeat view: the page
revalidated with its ETag (a 304 and its bytes) while the hashed CSS/JS/fonts come from the
browser cache.  Then it times the home page, search result pages and article pages: N
sequential requests each over one keep-alive connection, and optionally the same again from
several client threads.  Prints p50/p95/max per page type and exits non-zero if any request failed.
The site's per-visitor rate limit is raised for the server it starts (all requests come
from one address).  It refuses to start without a built index: at 10k articles building
one (embeddings included) takes far longer than a benchmark should.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote
from urllib.parse import urlsplit
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import percentile  # noqa: E402

QUERIES = [
    "كيف أتعامل مع عميل غاضب",
    "استرداد المبلغ",
    "العميل يريد إرجاع المنتج",
    "كم يستغرق الرد على البريد الإلكتروني",
    "مهارات موظف خدمة العملاء",
    "كيف أرد على تقييم سلبي",
    "الدردشة الحية",
    "قياس رضا العملاء",
    "التعامل مع ضغط العمل",
    "لغة إيجابية مع العميل",
    "تصعيد الشكوى إلى المشرف",
    "الردود الجاهزة",
    "how to handle a negative review",
    "refund policy",
    "ما هي خدمة العملاء",
    "تأخر الطلب",
    "العمبل الغاضب",  # a typo on purpose: the did-you-mean path
    "وسائل التواصل الاجتماعي",
    "متابعة العميل بعد حل المشكلة",
    "أولويات الرسائل الكثيرة",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(args, port: int, data_dir: Path) -> subprocess.Popen:
    env = dict(os.environ, KB_SITE_RATE_LIMIT="1000000", KB_API_RATE_LIMIT="1000000", KB_THREADS=str(args.threads))
    command = [
        sys.executable, "-c", "from kb.cli import cli; cli()",
        "--articles-dir", str(args.corpus), "--index-dir", str(args.index_dir), "--data-dir", str(data_dir),
        "serve", "--host", "127.0.0.1", "--port", str(port),
    ]
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_ready(port: int, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with code {server.returncode}; see its log")
        try:
            status, _ = fetch(http.client.HTTPConnection("127.0.0.1", port, timeout=5), "/api/v1/health")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server did not answer within {timeout:.0f} s")


def fetch(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    conn.request("GET", path, headers={"Accept": "text/html", "Connection": "keep-alive"})
    response = conn.getresponse()
    return response.status, response.read()


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], int, float, float]:
    """(status, headers, body bytes on the wire, ms to first byte, ms in all) of one GET on a new connection.

    The first byte is when the status line and headers have arrived (``getresponse``):
    the server's work and the compression are done before it sends them."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.connect()  # time to first byte is measured from the request, not the TCP handshake
    started = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    first = (time.perf_counter() - started) * 1000
    body = response.read()
    total = (time.perf_counter() - started) * 1000
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, len(body), first, total


def page_assets(port: int, path: str) -> list[str]:
    """The CSS, JS and preloaded font URLs a page links to (what a first view downloads besides the HTML)."""
    import re

    _, body = fetch(http.client.HTTPConnection("127.0.0.1", port, timeout=60), path)
    text = body.decode("utf-8", "replace")
    found = re.findall(r'<(?:link[^>]+href|script[^>]+src)="(/[^"]+\.(?:css|js|woff2)[^"]*)"', text)
    return list(dict.fromkeys(url.replace("&amp;", "&") for url in found))


def measure_weight(port: int, pages: dict[str, str], ttfb_requests: int) -> None:
    """Print bytes per encoding, time to first byte, and what a repeat view costs."""
    print(f"\n{'page':<9} {'plain KB':>9} {'gzip KB':>8} {'br KB':>7} {'TTFB ms':>8} {'TTFB br':>8} "
          f"{'assets KB':>10} {'assets br':>10} {'repeat':>18}")
    for name, path in pages.items():
        sizes = {}
        for encoding in ("identity", "gzip", "br"):
            status, headers, size, _, _ = get(port, path, {"Accept-Encoding": encoding})
            sizes[encoding] = size if status == 200 else float("nan")
        plain_ttfb = [get(port, path, {"Accept-Encoding": "identity"})[3] for _ in range(ttfb_requests)]
        br_ttfb = [get(port, path, {"Accept-Encoding": "br"})[3] for _ in range(ttfb_requests)]
        assets = page_assets(port, path)
        asset_plain = sum(get(port, url, {"Accept-Encoding": "identity"})[2] for url in assets)
        asset_br = sum(get(port, url, {"Accept-Encoding": "br, gzip"})[2] for url in assets)
        cached = all("max-age=" in get(port, url, {})[1].get("cache-control", "") for url in assets)
        _, headers, _, _, _ = get(port, path, {"Accept-Encoding": "br"})
        etag = headers.get("etag")
        if etag:
            status, again, size, _, total = get(port, path, {"Accept-Encoding": "br", "If-None-Match": etag})
            repeat = f"{status} {size} B {total:.1f} ms" + ("" if cached else " (assets refetched)")
        else:
            repeat = "no ETag"
        print(f"{name:<9} {sizes['identity'] / 1024:>9.1f} {sizes['gzip'] / 1024:>8.1f} {sizes['br'] / 1024:>7.1f} "
              f"{percentile(plain_ttfb, 50):>8.1f} {percentile(br_ttfb, 50):>8.1f} {asset_plain / 1024:>10.1f} "
              f"{asset_br / 1024:>10.1f} {repeat:>18}")


def article_paths(port: int) -> list[str]:
    """Public article URLs, from the site's own sitemap (so drafts are excluded as customers see them)."""
    status, body = fetch(http.client.HTTPConnection("127.0.0.1", port, timeout=60), "/sitemap.xml")
    if status != 200:
        raise SystemExit(f"/sitemap.xml answered {status}")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [el.text or "" for el in ElementTree.fromstring(body).findall("s:url/s:loc", ns)]
    return [urlsplit(loc).path for loc in locs if "/articles/" in loc]


def category_paths(port: int) -> list[str]:
    status, body = fetch(http.client.HTTPConnection("127.0.0.1", port, timeout=60), "/sitemap.xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [el.text or "" for el in ElementTree.fromstring(body).findall("s:url/s:loc", ns)] if status == 200 else []
    return [urlsplit(loc).path for loc in locs if "/categories/" in loc]


def plan(kind: str, count: int, articles: list[str], rng: random.Random) -> list[str]:
    if kind == "home":
        return ["/"] * count
    if kind == "search":
        return ["/search?q=" + quote(rng.choice(QUERIES)) for _ in range(count)]
    return [rng.choice(articles) for _ in range(count)]


def run(port: int, paths: list[str], clients: int) -> tuple[list[float], int, float]:
    """Fetch every path (split over `clients` threads); returns latencies (ms), failures, wall time."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    chunks = [paths[i::clients] for i in range(clients)]

    def worker(chunk: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for path in chunk:
            started = time.perf_counter()
            try:
                status, _ = fetch(conn, path)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 0
            mine.append((time.perf_counter() - started) * 1000)
            if status != 200:
                with lock:
                    failures[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks if chunk]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures[0], time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "bench-data" / "corpus-1k", help="articles folder")
    parser.add_argument("--index-dir", type=Path, default=None,
                        help="index folder built with 'kb index' (default: bench-data/index-1k for corpus-1k, and so on)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page type")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4], help="client thread counts to run")
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--startup-timeout", type=float, default=300.0)
    parser.add_argument("--no-weight", dest="weight", action="store_false",
                        help="skip the page weight, time-to-first-byte and repeat-view table")
    parser.add_argument("--ttfb-requests", type=int, default=20, help="requests per page for time to first byte")
    parser.add_argument("--no-latency", dest="latency", action="store_false", help="skip the latency table")
    args = parser.parse_args()
    args.corpus = args.corpus.resolve()
    default_index = ROOT / "bench-data" / args.corpus.name.replace("corpus-", "index-", 1)
    args.index_dir = (args.index_dir or default_index).resolve()

    from kb.search.store import IndexStore

    if IndexStore(args.index_dir).current() is None:
        print(f"No index in {args.index_dir}. Build it first (slow at 10k articles: embeddings):\n"
              f"  kb --articles-dir {args.corpus} --index-dir {args.index_dir} index", file=sys.stderr)
        return 2

    rng = random.Random(args.seed)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        server = start_server(args, port, Path(tmp))
        try:
            started = time.monotonic()
            wait_until_ready(port, server, args.startup_timeout)
            print(f"server ready in {time.monotonic() - started:.1f} s (waitress, {args.threads} threads, port {port})")
            articles = article_paths(port)
            print(f"{len(articles)} public articles in {args.corpus}")
            warmup = ["/", *["/search?q=" + quote(q) for q in QUERIES], *articles[:20]]
            run(port, warmup, 1)
            failed = 0
            if args.weight:
                category = next((p for p in category_paths(port)), None)
                pages = {"home": "/", "faq": "/faq", "article": articles[0],
                         "search": "/search?q=" + quote(QUERIES[0]), **({"category": category} if category else {})}
                measure_weight(port, pages, args.ttfb_requests)
            if not args.latency:
                return 0

            print(f"\n{'page':<8} {'clients':>7} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'req/s':>7} {'fail':>5}")
            for clients in args.clients:
                for kind in ("home", "search", "article"):
                    paths = plan(kind, args.requests, articles, rng)
                    latencies, failures, wall = run(port, paths, clients)
                    failed += failures
                    print(f"{kind:<8} {clients:>7} {len(latencies):>8} {percentile(latencies, 50):>8.1f} "
                          f"{percentile(latencies, 95):>8.1f} {max(latencies):>8.1f} {len(latencies) / wall:>7.1f} "
                          f"{failures:>5}")
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
