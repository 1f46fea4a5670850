"""Benchmark a question asked again under ``kb serve --workers N``: does the other worker read it again?

The widget counts a search by asking the same text again 1.5 s after it showed the results;
the site's next page, a filter or the back button ask again too.  Each worker process
remembers what the model read of recent questions (``kb.search.question_memo``), and the
workers of one server share those readings through a file (``kb.search.shared_readings``).

This script starts ``kb serve --workers N`` (from this checkout, or ``--root`` another one,
to compare with code from before the shared file) on a prebuilt corpus and index, then from
C concurrent clients sends each question twice, the second time after the first answered
(the widget's pattern), and prints the latency of first and second requests, and the model's
readings the workers report in ``/api/v1/health`` (misses: read by the model; hits, shared
hits: taken from the process's own memo, or from another worker's).

    .venv/bin/python scripts/bench_repeats.py --corpus bench-data/corpus-1k --index-dir bench-data/index-1k-standin
    .venv/bin/python scripts/bench_repeats.py ... --root /tmp/kb-before   # a worktree of older code

The index must exist; the script never builds one.  Timings on a shared 2-core machine are
noisy: compare runs made one after the other.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from benchlib import load_questions  # noqa: E402
from benchlib import percentile  # noqa: E402
from bench_api import stop_server  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(root: Path, corpus: Path, index_dir: Path, data_dir: Path, port: int, workers: int, log: Path):
    code = f"import sys; sys.path.insert(0, {str(root)!r}); from kb.cli import cli; cli()"
    command = [sys.executable, "-c", code, "--articles-dir", str(corpus), "--index-dir", str(index_dir),
               "--data-dir", str(data_dir), "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env["KB_SITE_RATE_LIMIT"] = env["KB_API_RATE_LIMIT"] = "1000000"  # the load is not one client's
    with log.open("w") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=data_dir, env=env,
                                start_new_session=True)


def get(port: int, path: str, timeout: float = 60) -> tuple[int, dict, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    ms = (time.perf_counter() - started) * 1000
    return response.status, (json.loads(body) if body[:1] == b"{" else {}), ms


def wait_ready(process, port: int, workers: int, log: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"kb serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if get(port, "/api/v1/health", 5)[0] == 200 and log.read_text().count("kb is serving") >= workers:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"kb serve not ready within {timeout:.0f} s; log: {log}")


def worker_memos(port: int, workers: int, tries: int = 60) -> list[dict]:
    """Each worker's question_memo (health answers come from either worker; told apart by their
    counts, which no search changes now)."""
    seen: dict[str, dict] = {}
    for _ in range(tries):
        memo = get(port, "/api/v1/health")[1].get("question_memo") or {}
        seen[json.dumps(memo, sort_keys=True)] = memo
        if len(seen) >= workers:
            break
    return list(seen.values())


def run(args, root: Path) -> dict:
    questions = [q for q in load_questions()][: args.questions]
    with tempfile.TemporaryDirectory(prefix="kb-bench-repeats-") as scratch:
        data_dir = Path(scratch)
        port = free_port()
        log = data_dir / "serve.log"
        process = start(root, args.corpus.resolve(), args.index_dir.resolve(), data_dir, port, args.workers, log)
        try:
            wait_ready(process, port, args.workers, log)
            for text in ["تجربة", "warm up", "سؤال للتسخين"]:
                get(port, "/api/v1/search?q=" + urllib.parse.quote(text))
            first: list[float] = []
            again: list[float] = []
            errors = []
            lock = threading.Lock()
            pending = iter(enumerate(questions))

            def client() -> None:
                while True:
                    with lock:
                        item = next(pending, None)
                    if item is None:
                        return
                    _, text = item
                    path = "/api/v1/search?q=" + urllib.parse.quote(text)
                    timings = []
                    for _ in range(2):
                        status, _, ms = get(port, path)
                        if status != 200:
                            errors.append(status)
                        timings.append(ms)
                    with lock:
                        first.append(timings[0])
                        again.append(timings[1])

            started = time.perf_counter()
            threads = [threading.Thread(target=client) for _ in range(args.clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
            memos = worker_memos(port, args.workers)
        finally:
            stop_server(process)
    totals = {key: sum(memo.get(key, 0) for memo in memos) for key in ("hits", "shared_hits", "misses")}
    return {"root": str(root), "questions": len(questions), "clients": args.clients, "workers": args.workers,
            "seconds": seconds, "errors": len(errors), "first": first, "again": again, "memos": memos, **totals}


def report(results: list[dict]) -> str:
    lines = ["| server code | questions × 2 | first ask p50 / p95 ms | asked again p50 / p95 ms | requests/s | "
             "model readings (misses) | own memo hits | other worker's (shared hits) | workers reporting | errors |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r['root']} | {r['questions']} | {percentile(r['first'], 50):.1f} / {percentile(r['first'], 95):.1f} | "
            f"{percentile(r['again'], 50):.1f} / {percentile(r['again'], 95):.1f} | "
            f"{2 * r['questions'] / r['seconds']:.2f} | {r['misses']} | {r['hits']} | {r['shared_hits']} | "
            f"{len(r['memos'])} of {r['workers']} | {r['errors']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "bench-data" / "corpus-1k")
    parser.add_argument("--index-dir", type=Path, default=ROOT / "bench-data" / "index-1k-standin")
    parser.add_argument("--root", type=Path, action="append", default=[],
                        help="checkout whose kb serves (repeatable: run one after the other; default this one)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--questions", type=int, default=120)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = []
    for root in args.root or [ROOT]:
        print(f"kb serve --workers {args.workers} from {root}: {args.questions} questions, each twice, "
              f"{args.clients} clients ...", flush=True)
        results.append(run(args, root.resolve()))
    print()
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if any(r["errors"] for r in results):
        raise SystemExit("some requests failed (see the errors column)")


if __name__ == "__main__":
    main()
