"""Benchmark the help widget: its weight, and how fast it answers in a real Chromium.

    python scripts/bench_widget.py --corpus articles --index-dir bench-data/index-launch --runs 20

Starts ``kb serve`` (waitress, as in production) on a free loopback port with a throw-away
data dir whose allowed widget origins name a host page served on another port with a strict
Content-Security-Policy (as tests/test_widget_browser.py does).  Then it prints:

- weight: ``/widget.js`` and the ``widget.css`` it loads, raw, gzip -9 and as the server
  sends them with ``Accept-Encoding: gzip`` and ``br`` (the issue's budget: the script at
  most 30 KB gzipped);
- in headless Chromium, per run a fresh host page with its own title (so no answer is a
  repeat): page load to the widget's button ready; click to the panel interactive (shown,
  search box focused, measured in the page right after the click handler) and to its next
  frame; click to the first suggestions for the page on screen; and a typed question to
  its answers (150 ms of that is the pause the widget waits for before it searches).
  p50/p95/max over ``--runs``; the first run (a cold browser cache) is shown on its own.

The server's rate limits are lifted (all requests come from one address).  It refuses to
start without a built index, as scripts/bench_site.py does; the index is only read.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_site import QUERIES  # noqa: E402
from bench_site import free_port  # noqa: E402
from bench_site import wait_until_ready  # noqa: E402
from benchlib import percentile  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BUDGET_GZIP_BYTES = 30 * 1024
NONCE = "bench-nonce"
PAGE = """<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} — متجر المثال</title>
<style nonce="{nonce}">body {{ font: 16px serif; }}</style></head>
<body><h1>متجر المثال</h1><p>صفحة من موقع الشركة.</p>
<script src="{help}/widget.js" data-lang="ar" defer></script></body></html>"""
MEASURE = """async () => {
  const root = document.querySelector('kb-help-widget').shadowRoot;
  const list = root.querySelector('.kbw-list');
  const results = () => new Promise(resolve => {
    const seen = () => list.querySelector('.kbw-result');
    if (seen()) return resolve();
    new MutationObserver((_, observer) => { if (seen()) { observer.disconnect(); resolve(); } })
      .observe(list, {childList: true, subtree: true});
  });
  const started = performance.now();
  root.querySelector('.kbw-launcher').click();
  const interactive = performance.now() - started;
  const ok = !root.querySelector('.kbw-panel').hidden && root.activeElement === root.querySelector('#kbw-q');
  await new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve)));
  const frame = performance.now() - started;
  await results();
  const suggestions = performance.now() - started;
  list.textContent = '';
  const input = root.querySelector('#kbw-q');
  const typed = performance.now();
  input.value = QUESTION;
  input.dispatchEvent(new Event('input'));
  await results();
  return {ok, interactive, frame, suggestions, answers: performance.now() - typed,
          ready: KBHelpWidget.ready()};
}"""


def host_server(help_url: str) -> ThreadingHTTPServer:
    csp = "; ".join([
        "default-src 'none'", f"script-src {help_url}", f"style-src 'nonce-{NONCE}' {help_url}",
        f"connect-src {help_url}", f"img-src {help_url}", "base-uri 'none'", "object-src 'none'",
        "require-trusted-types-for 'script'", "trusted-types 'none'",
    ])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            number = int(self.path.strip("/").split(".")[0] or 0)
            title = QUERIES[number % len(QUERIES)]
            body = PAGE.format(title=title, nonce=NONCE, help=help_url).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", csp)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def sent_bytes(port: int, path: str, encoding: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers={"Accept-Encoding": encoding})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        raise SystemExit(f"GET {path} answered {response.status}")
    return len(body), body


def measure_weight(port: int) -> None:
    css_path = "/widget.css"
    print(f"\n{'file':<12} {'raw B':>8} {'gzip -9 B':>10} {'sent gzip B':>12} {'sent br B':>10}")
    for name, path in (("widget.js", "/widget.js"), ("widget.css", css_path)):
        raw_size, raw = sent_bytes(port, path, "identity")
        gzip_size = len(gzip.compress(raw, 9))
        print(f"{name:<12} {raw_size:>8} {gzip_size:>10} {sent_bytes(port, path, 'gzip')[0]:>12} "
              f"{sent_bytes(port, path, 'br')[0]:>10}")
        if name == "widget.js":
            verdict = "within" if gzip_size <= BUDGET_GZIP_BYTES else "OVER"
            print(f"{'':<12} budget {BUDGET_GZIP_BYTES} B gzipped: {verdict} ({gzip_size / BUDGET_GZIP_BYTES:.0%})")


def measure_browser(help_url: str, host_url: str, runs: int, question: str) -> int:
    from playwright.sync_api import sync_playwright

    rows, failures = [], 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ar")
        for run in range(runs):
            page = context.new_page()
            started = time.perf_counter()
            page.goto(f"{host_url}/{run}.html")
            page.locator("kb-help-widget .kbw-launcher").wait_for(state="visible", timeout=30_000)
            load_ms = (time.perf_counter() - started) * 1000
            result = page.evaluate(MEASURE.replace("QUESTION", repr(question)))
            failures += not result["ok"]
            rows.append({**result, "load": load_ms})
            page.close()
        browser.close()
    columns = (("load", "page load → button ready"), ("interactive", "click → panel interactive"),
               ("frame", "click → next frame"), ("suggestions", "click → first suggestions"),
               ("answers", "typed question → answers"))
    print(f"\n{'in Chromium, ms':<28} {'cold':>7} {'p50':>7} {'p95':>7} {'max':>7}   (runs: {len(rows)}, "
          f"first run cold, the others warm)")
    for key, label in columns:
        warm = [row[key] for row in rows[1:]] or [rows[0][key]]
        print(f"{label:<28} {rows[0][key]:>7.1f} {percentile(warm, 50):>7.1f} {percentile(warm, 95):>7.1f} "
              f"{max(warm):>7.1f}")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "articles", help="articles folder")
    parser.add_argument("--index-dir", type=Path, required=True, help="its built index (read only)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--question", default="كيف أتعامل مع عميل غاضب")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if not (args.index_dir / "CURRENT").exists():
        raise SystemExit(f"{args.index_dir} holds no built index: run `kb --articles-dir {args.corpus} "
                         f"--index-dir {args.index_dir} index` first")
    from kb.store.db import Database
    from kb.widget_origins import WidgetOrigins

    with tempfile.TemporaryDirectory(prefix="bench-widget-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        help_url = f"http://127.0.0.1:{port}"
        host = host_server(help_url)
        host_url = f"http://127.0.0.1:{host.server_port}"
        WidgetOrigins(Database(data_dir / "kb.sqlite3").connection()).add(host_url, "benchmark")
        env = dict(os.environ, KB_SITE_RATE_LIMIT="1000000", KB_API_RATE_LIMIT="1000000", KB_THREADS=str(args.threads))
        command = [sys.executable, "-c", "from kb.cli import cli; cli()", "--articles-dir", str(args.corpus),
                   "--index-dir", str(args.index_dir), "--data-dir", str(data_dir), "serve", "--host", "127.0.0.1",
                   "--port", str(port)]
        with open(data_dir / "server.log", "wb") as log:
            server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_until_ready(port, server, timeout=180)
                sent_bytes(port, "/api/v1/search?q=" + "%D8%B7%D9%84%D8%A8", "identity")  # loads the model
                measure_weight(port)
                failures = measure_browser(help_url, host_url, args.runs, args.question)
            finally:
                server.terminate()
                server.wait(timeout=30)
                host.shutdown()
    if failures:
        raise SystemExit(f"{failures} runs did not find the panel interactive right after the click")


if __name__ == "__main__":
    main()
