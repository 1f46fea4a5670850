"""Benchmark the help-center pages over HTTP against the production server.

    kb --articles-dir bench-data/corpus-10k --index-dir bench-data/index-10k index   # first, once (slow at 10k)
    python scripts/bench_site.py --corpus bench-data/corpus-10k --index-dir bench-data/index-10k

Starts ``kb serve`` (waitress) as a subprocess on a free loopback port with a throw-away
data dir, waits until it answers, warms it up (the first search loads the embedding model),
then times the home page, search result pages and article pages: N sequential requests
each over one keep-alive connection, and optionally the same again from several client
threads.  Prints p50/p95/max per page type and exits non-zero if any request failed.
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


def article_paths(port: int) -> list[str]:
    """Public article URLs, from the site's own sitemap (so drafts are excluded as customers see them)."""
    status, body = fetch(http.client.HTTPConnection("127.0.0.1", port, timeout=60), "/sitemap.xml")
    if status != 200:
        raise SystemExit(f"/sitemap.xml answered {status}")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [el.text or "" for el in ElementTree.fromstring(body).findall("s:url/s:loc", ns)]
    return [urlsplit(loc).path for loc in locs if "/articles/" in loc]


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

            print(f"\n{'page':<8} {'clients':>7} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'req/s':>7} {'fail':>5}")
            failed = 0
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
