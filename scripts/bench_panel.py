"""Benchmark the agent panel's suggestion latency: over HTTP, and in Chromium as Chatwoot embeds it.

Copies a corpus and its prebuilt index into ``--work`` (the server may update an index it
serves, and the original belongs to someone else), starts ``kb serve`` (waitress) there,
creates a panel link whose allowed origin is a harness page on another local port, then:

1. HTTP: one client sends each customer message of scripts/data/messages.jsonl (with its
   earlier messages as context) to ``POST /agent/api/suggest`` with the panel token;
   latency p50/p95 as the client saw it, and the server's own ``took_ms``.
2. Browser: the harness page frames ``/agent`` and, like Chatwoot, posts an ``appContext``
   JSON string with a new conversation for each message; the time is from the
   ``postMessage`` call to the panel's list showing the suggestions (a MutationObserver in
   the panel, both clocks as ``performance.timeOrigin + now()``).

    .venv/bin/python scripts/bench_panel.py                        # launch articles, bench-data/index-launch
    .venv/bin/python scripts/bench_panel.py --corpus bench-data/corpus-1k --index-dir bench-data/index-1k-standin

Needs Chromium (/usr/bin/chromium) and playwright for the browser part (``--no-browser`` skips it).
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import shutil
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_api import free_port  # noqa: E402
from bench_api import start_server  # noqa: E402
from bench_api import stop_server  # noqa: E402
from bench_api import wait_until_ready  # noqa: E402
from benchlib import percentile  # noqa: E402
from benchlib import standin_warning  # noqa: E402
from kb import panel_links  # noqa: E402
from kb.config import ensure_secret_key  # noqa: E402
from kb.config import load_settings  # noqa: E402
from kb.store.db import Database  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HARNESS = """<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>harness</title></head>
<body><iframe id="panel" src="%(src)s" style="width:360px;height:800px;border:0"></iframe>
<script>
  window.postContext = function (context) {
    var sent = performance.timeOrigin + performance.now();
    document.getElementById("panel").contentWindow.postMessage(
      JSON.stringify({event: "appContext", data: context}), %(panel_origin)s);
    return sent;
  };
</script></body></html>
"""
# Installed in the panel: the time the list changed after a "looking for answers" state ended.
WATCH = """() => {
  const root = document.getElementById("agent-panel");
  const loading = JSON.parse(root.dataset.strings).loading;
  const status = document.getElementById("panel-status");
  let sawLoading = false;
  window.__rendered = 0;
  new MutationObserver(() => {
    if (status.textContent === loading) { sawLoading = true; return; }
    if (sawLoading) { window.__rendered = performance.timeOrigin + performance.now(); sawLoading = false; }
  }).observe(root, {childList: true, subtree: true, characterData: true, attributes: true});
}"""


def load_messages(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def chatwoot_context(number: int, message: dict) -> dict:
    """A Chatwoot appContext for one message: its earlier messages from the contact, then it."""
    earlier = [text if isinstance(text, str) else text.get("text", "") for text in message.get("conversation", [])]
    texts = earlier + [message["message"]]
    messages = [{"id": i, "content": text, "message_type": 0, "private": False, "created_at": 1764930000 + i}
                for i, text in enumerate(texts)]
    return {"conversation": {"id": 10_000 + number, "messages": messages}, "contact": {"name": "عميل"},
            "currentAgent": {"name": "وكيل"}}


def http_pass(port: int, token: str, messages: list[dict]) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    client_ms, server_ms, empty, errors = [], [], 0, 0
    for message in messages:
        body = json.dumps({"message": message["message"], "conversation": message.get("conversation", [])},
                          ensure_ascii=False).encode()
        started = time.perf_counter()
        connection.request("POST", "/agent/api/suggest", body=body, headers=headers)
        response = connection.getresponse()
        payload = json.loads(response.read())
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            errors += 1
            continue
        client_ms.append(elapsed)
        server_ms.append(payload["took_ms"])
        empty += not payload["suggestions"]
    connection.close()
    return {"requests": len(messages), "errors": errors, "no_suggestions": empty,
            "p50_ms": round(percentile(client_ms, 50), 1), "p95_ms": round(percentile(client_ms, 95), 1),
            "server_took_p50_ms": round(percentile(server_ms, 50), 1)}


def browser_pass(panel_base: str, link, token: str, messages: list[dict], work: Path, database_path: Path) -> dict:
    from playwright.sync_api import sync_playwright

    folder = work / "harness"
    folder.mkdir(exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    harness_origin = f"http://127.0.0.1:{server.server_port}"
    database = Database(database_path).connection()
    database.execute("UPDATE panel_links SET origins = ? WHERE id = ?", (harness_origin, link.id))
    (folder / "index.html").write_text(HARNESS % {
        "src": f"{panel_base}/agent?panel={link.public_id}#token={token}", "panel_origin": json.dumps(panel_base)},
        encoding="utf-8")
    latencies = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda entry: errors.append(entry.text) if entry.type == "error" else None)
            page.goto(harness_origin + "/index.html")
            frame = next(f for f in _wait_frames(page) if f.url.startswith(panel_base))
            frame.wait_for_selector("#agent-panel")
            frame.evaluate(WATCH)
            for number, message in enumerate(messages):
                sent = page.evaluate("context => window.postContext(context)", chatwoot_context(number, message))
                try:
                    frame.wait_for_function("sent => window.__rendered > sent", arg=sent, timeout=60000)
                except Exception as exc:
                    raise SystemExit(f"the panel showed no suggestions within 60 s; browser errors: {errors}") from exc
                latencies.append(frame.evaluate("window.__rendered") - sent)
            browser.close()
    finally:
        server.shutdown()
    return {"conversations": len(latencies), "p50_ms": round(percentile(latencies, 50), 1),
            "p95_ms": round(percentile(latencies, 95), 1), "max_ms": round(max(latencies), 1)}


def _wait_frames(page):
    for _ in range(200):
        if len(page.frames) > 1 and page.frames[1].url.startswith("http"):
            return page.frames
        page.wait_for_timeout(50)
    raise SystemExit("the panel frame did not load")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "articles")
    parser.add_argument("--index-dir", type=Path, default=ROOT / "bench-data" / "index-launch")
    parser.add_argument("--messages", type=Path, default=ROOT / "scripts" / "data" / "messages.jsonl")
    parser.add_argument("--browser-messages", type=int, default=30, help="Conversations posted in the browser pass.")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--work", type=Path, help="Working folder (default: a temporary one, removed after).")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args(argv)
    if not (args.index_dir / "CURRENT").exists():
        raise SystemExit(f"no index in {args.index_dir}: build it with kb --articles-dir {args.corpus} "
                         f"--index-dir {args.index_dir} index")
    messages = load_messages(args.messages)
    work = (args.work or Path(tempfile.mkdtemp(prefix="bench-panel-"))).resolve()  # the server runs in work/data
    shutil.rmtree(work / "articles", ignore_errors=True)
    shutil.rmtree(work / "index", ignore_errors=True)
    shutil.copytree(args.corpus, work / "articles")
    shutil.copytree(args.index_dir, work / "index", ignore=shutil.ignore_patterns("write.lock"))
    (work / "data").mkdir(parents=True, exist_ok=True)
    # The server reads this kb.toml (its working folder): no rate limit gets in the way of the load.
    (work / "data" / "kb.toml").write_text("api_rate_limit = 100000\n", encoding="utf-8")
    settings = load_settings({"articles_dir": work / "articles", "index_dir": work / "index",
                              "data_dir": work / "data"}, environ={})
    secret = ensure_secret_key(settings)
    link, token = panel_links.create_link(Database.from_settings(settings).connection(), "bench", "", secret)
    port = free_port()
    log_path = work / "server.log"
    process = start_server(work / "articles", work / "index", work / "data", port, log_path)
    try:
        health = wait_until_ready(process, port, log_path)
        print(f"kb serve on 127.0.0.1:{port}: {health.get('articles')} articles, semantic={health.get('semantic')}")
        warning = standin_warning(args.index_dir)
        if warning:
            print(warning)
        http_pass(port, token, messages[:5])  # warm-up: model, index and caches
        results = {"corpus": str(args.corpus), "articles": health.get("articles"),
                   "http": http_pass(port, token, messages)}
        print("HTTP  POST /agent/api/suggest:", json.dumps(results["http"]))
        if not args.no_browser:
            results["browser"] = browser_pass(f"http://127.0.0.1:{port}", link, token,
                                              messages[:args.browser_messages], work, settings.database_path)
            print("Chromium appContext -> suggestions shown:", json.dumps(results["browser"]))
    finally:
        stop_server(process)
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
