"""Crash tests against the real server: ``kb serve`` in a subprocess, killed with SIGKILL.

The publish test signs in as an editor from three threads, each publishing its own
article again and again through the editor's HTTP form, and kills the server at a random
moment.  The next start (reconcile, clean-up, vector worker) must show every publish that
was acknowledged (the editor's redirect after "نشر"): on disk, in the revision history,
found by search with its latest text while the text it replaced is not, and no temp file
left.  A publish in flight when the server died may or may not have happened, but if its
file reached the disk, search must agree with the file.

The build test kills ``kb index --full`` at random moments: the old index keeps serving,
and the next start removes the half-built generation.

Trials: ``KB_CRASH_TRIALS`` (default 30) and ``KB_BUILD_KILL_TRIALS`` (default 6).  The real
model is used (the background embedding of publishes is part of what is killed); the
search checks are keyword searches, the promise a publish acknowledgement makes.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest
import requests

from conftest import make_settings
from kb import KnowledgeBase
from kb.store import users
from kb.store.db import Database
from kb.search.store import IndexStore
from staff_fixtures import article_text
from staff_fixtures import csrf_from
from staff_fixtures import form_fields

pytestmark = pytest.mark.slow

TRIALS = int(os.environ.get("KB_CRASH_TRIALS", "30"))
BUILD_KILL_TRIALS = int(os.environ.get("KB_BUILD_KILL_TRIALS", "6"))
WRITERS = 3
EDITOR = ("crash-editor@example.com", "crash-editor-password-1")
SLUGS = [f"crash-{n}" for n in range(WRITERS)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def token(trial: int, writer: int, n: int) -> str:
    """A word no article holds, made of letters only (digits would be split off).

    Consecutive tokens differ in most of their letters: with a counter they were one letter
    apart, and typo tolerance rightly found an article by its previous token ("...aae" is
    one dropped letter from "...aag" once the English stemmer takes the final e off)."""
    digits = str(int(hashlib.sha256(f"{trial}/{writer}/{n}".encode()).hexdigest(), 16))[:12]
    return "kbcrash" + "".join("abcdefghij"[int(d)] for d in digits)


class Server:
    """``kb serve`` on a free port, over one folder (articles, index, data)."""

    def __init__(self, base: Path):
        self.base = base
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = base / "server.log"

    def start(self, timeout: float = 60.0) -> None:
        env = {**os.environ, "KB_SECRET_KEY": "crash-test-secret", "KB_SEARCH_MODE": "keyword", "KB_THREADS": "6",
               "KB_SITE_RATE_LIMIT": "1000000", "KB_API_RATE_LIMIT": "1000000", "KB_CONFIG": str(self.base / "kb.toml")}
        command = [sys.executable, "-c", "from kb.cli import cli; cli()", "--articles-dir", str(self.base / "articles"),
                   "--index-dir", str(self.base / "index"), "--data-dir", str(self.base / "data"),
                   "serve", "--port", str(self.port)]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.base)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server exited: {self.log.read_text(encoding='utf-8')[-3000:]}"
            try:
                if requests.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise AssertionError(f"the server did not start in {timeout} s")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def search(self, word: str) -> list[str]:
        response = requests.get(f"{self.url}/api/v1/search", params={"q": word, "limit": 20}, timeout=10)
        assert response.status_code == 200, response.text
        return [hit["slug"] for hit in response.json()["results"]]


@dataclass
class Log:
    """One writer's article: the texts acknowledged (in order) and the one in flight at the kill."""

    slug: str
    acknowledged: list[str] = field(default_factory=list)
    in_flight: str | None = None
    unexpected: list[str] = field(default_factory=list)


def sign_in(server: Server) -> requests.Session:
    session = requests.Session()
    csrf = csrf_from(session.get(f"{server.url}/staff/login", timeout=10).text)
    response = session.post(f"{server.url}/staff/login", allow_redirects=False, timeout=10,
                            data={"email": EDITOR[0], "password": EDITOR[1], "csrf_token": csrf})
    assert response.status_code == 302, response.text[:500]
    return session


def publish_until_killed(server: Server, session: requests.Session, log: Log, trial: int, writer: int) -> None:
    """Open the editor, change the body, press "نشر"; again and again until the server is gone."""
    n = 0
    while True:
        try:
            page = session.get(f"{server.url}/staff/articles/{log.slug}/edit", timeout=30)
        except requests.RequestException:
            return
        if page.status_code != 200:
            log.unexpected.append(f"editor answered {page.status_code}")
            return
        form = form_fields(page.text)
        word = token(trial, writer, n)
        n += 1
        form.update(body=f"## التحديث\n\nنص هذه النسخة: {word}.\n", action="publish", csrf_token=csrf_from(page.text))
        log.in_flight = word
        try:
            response = session.post(f"{server.url}/staff/articles/{log.slug}/edit", data=form, allow_redirects=False,
                                    timeout=30)
        except requests.RequestException:
            return  # killed with this publish in flight: unacknowledged
        if response.status_code == 302 and response.headers["Location"].endswith(f"/staff/articles/{log.slug}/edit"):
            log.acknowledged.append(word)
            log.in_flight = None
        else:
            log.unexpected.append(f"publish answered {response.status_code}: {response.text[:300]}")
            return


@pytest.fixture
def crash_dir(session_kb, tmp_path) -> Path:
    """The test articles plus one article per writer, indexed, and an editor account."""
    base = tmp_path / "crash"
    shutil.copytree(session_kb.articles_dir, base / "articles")
    shutil.copytree(session_kb.store.root, base / "index")
    for slug in SLUGS:
        (base / "articles" / "communication" / f"{slug}.md").write_text(
            article_text(f"مقال اختبار الانهيار {slug}", "## التحديث\n\nالنسخة الأولى."), encoding="utf-8")
    (base / "kb.toml").write_text("# defaults: the servers get their settings from KB_* variables\n", encoding="utf-8")
    settings = make_settings(base)
    knowledge = KnowledgeBase.from_settings(settings, embedder=session_kb.embedder)
    knowledge.index()
    knowledge.close()
    database = Database(settings.database_path)
    original = users.PASSWORD_METHOD
    users.PASSWORD_METHOD = "scrypt:1024:8:1"  # the hash names its cost: the server checks it as stored
    try:
        users.create_user(database.connection(), *EDITOR, role="editor")
    finally:
        users.PASSWORD_METHOD = original
    return base


def temp_files(base: Path) -> list[Path]:
    """Temp files of atomic writes anywhere under articles/ and the index (checked while
    holding the index's write lock, so a writer at work cannot be mistaken for debris)."""
    with IndexStore(base / "index").write_lock():
        found = [p for p in (base / "articles").rglob("*.tmp")]
        found += [p for p in (base / "index").rglob(".*.tmp")]
    return found


def check_after_restart(server: Server, base: Path, logs: list[Log], previous: dict[str, str]) -> dict[str, str]:
    """Every acknowledged publish survived; search agrees with each file.  Returns slug -> word live now."""
    db = sqlite3.connect(base / "data" / "kb.sqlite3")
    live: dict[str, str] = {}
    try:
        for log in logs:
            assert not log.unexpected, log.unexpected
            text = (base / "articles" / "communication" / f"{log.slug}.md").read_text(encoding="utf-8")
            on_disk = (re.findall(r"kbcrash[a-j]+", text) or [None])[0]
            # The last acknowledged text, or the one in flight if its file write landed
            # (without any acknowledgement this trial: what was live before it).
            promised = log.acknowledged[-1] if log.acknowledged else previous.get(log.slug)
            assert on_disk in (promised, log.in_flight), f"{log.slug}: file has {on_disk}, expected {promised} or {log.in_flight}"
            if on_disk is None:
                continue  # still the text the fixture wrote: nothing was ever acknowledged
            word = on_disk
            live[log.slug] = word
            history = "\n".join(row[0] for row in db.execute(
                "SELECT text FROM revisions WHERE slug = ? AND state = 'published'", (log.slug,)))
            for acknowledged in log.acknowledged:
                assert acknowledged in history, f"{log.slug}: acknowledged publish {acknowledged} not in the revision history"
            assert server.search(word) == [log.slug], f"{log.slug}: {word} (on disk) is not found"
            replaced = [w for w in (*log.acknowledged[-3:], previous.get(log.slug)) if w and w != word]
            for old in replaced:
                assert log.slug not in server.search(old), f"{log.slug}: replaced text {old} still matches"
    finally:
        db.close()
    assert temp_files(base) == []
    generations = sorted(p.name for p in (base / "index").glob("gen-*"))
    assert len(generations) <= 2, generations
    return {**previous, **live}


def test_kill_9_during_concurrent_publishes_loses_no_acknowledged_publish(crash_dir):
    rng = random.Random(int(os.environ.get("KB_CRASH_SEED", "19")))
    server = Server(crash_dir)
    live: dict[str, str] = {}
    totals = {"trials": 0, "acknowledged": 0, "in_flight": 0}
    logs: list[Log] = []
    started = time.monotonic()
    try:
        for trial in range(TRIALS):
            server.start()
            live = check_after_restart(server, crash_dir, logs, live)
            sessions = [sign_in(server) for _ in range(WRITERS)]
            logs = [Log(slug) for slug in SLUGS]
            writers = [threading.Thread(target=publish_until_killed, args=(server, sessions[i], logs[i], trial, i), daemon=True)
                       for i in range(WRITERS)]
            for writer in writers:
                writer.start()
            time.sleep(rng.uniform(0.05, 1.5))  # sometimes mid-publish, sometimes between two
            server.kill()
            for writer in writers:
                writer.join(30)
                assert not writer.is_alive()
            totals["trials"] += 1
            totals["acknowledged"] += sum(len(log.acknowledged) for log in logs)
            totals["in_flight"] += sum(1 for log in logs if log.in_flight)
        server.start()
        check_after_restart(server, crash_dir, logs, live)
    finally:
        server.stop()
    print(f"\ncrash test: {totals['trials']} kills, {totals['acknowledged']} acknowledged publishes (all kept), "
          f"{totals['in_flight']} in flight at a kill, {time.monotonic() - started:.0f} s")
    assert totals["trials"] == TRIALS and totals["acknowledged"] > TRIALS  # the kills did land among publishes


def number(generation: Path) -> int:
    return int(generation.name.removeprefix("gen-"))


def test_kill_9_during_kb_index_full_leaves_the_old_index_serving(crash_dir, session_kb):
    """`kb index --full` killed at random moments (loading, building, swapping): CURRENT names a
    complete generation every time, search answers, and the next start removes the debris."""
    rng = random.Random(int(os.environ.get("KB_CRASH_SEED", "19")))
    root = crash_dir / "index"
    command = [sys.executable, "-c", "from kb.cli import cli; cli()", "--articles-dir", str(crash_dir / "articles"),
               "--index-dir", str(root), "--data-dir", str(crash_dir / "data"), "index", "--full"]
    env = {**os.environ, "KB_SECRET_KEY": "crash-test-secret", "KB_CONFIG": str(crash_dir / "kb.toml")}
    mid_build = 0
    for trial in range(BUILD_KILL_TRIALS):
        before = IndexStore(root).current()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if trial % 2:
            time.sleep(rng.uniform(0.5, 4.0))  # anywhere: start-up, embedding, building, swapping
        else:  # inside the build: once the new generation's folder exists
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None and \
                    not [p for p in root.glob("gen-*") if number(p) > number(before)]:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.5))
        building = [p for p in root.glob("gen-*") if number(p) > number(before)]  # the new generation, half-built or done
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        current = IndexStore(root).current()
        mid_build += any(p != current for p in building)
        assert current is not None and (current / "manifest.json").exists()
        reader = KnowledgeBase.from_settings(make_settings(crash_dir), embedder=session_kb.embedder)
        assert [hit.slug for hit in reader.search("الشحن", mode="keyword")] == ["سياسة-الاسترداد"]
        assert reader.search("أريد أموالي", mode="semantic")
        started = reader.start()
        reader.close()
        for path in building:  # (it may have become CURRENT between the look and the kill)
            assert path == current or not path.exists(), f"half-built {path.name} was not removed"
        numbers = sorted(number(p) for p in root.glob("gen-*"))
        assert numbers[-1] == number(current) and len(numbers) <= 2, numbers
    print(f"\nkb index --full kill test: {BUILD_KILL_TRIALS} kills, {mid_build} while a new generation was being written")
