"""The loopback cluster: PostgreSQL + nginx in front of 3 ``kb serve`` nodes on this machine.

Each node is what one machine runs (its own articles, index and data folders) and the
nodes share only the database, as docs/deploy.md describes; nginx balances them with the
configuration the guide gives.  Staff sign in and publish through nginx; the article is
found through every node; a node killed with -9 during traffic is routed around
and no acknowledged publish is lost; restarted, it catches up; two editors saving one
article on two nodes get the conflict.

Real processes, real PostgreSQL (tests/pg_cluster.py), real nginx; the nodes start from a
copy of the session's built index (reconciled, not re-embedded), so the module takes
seconds, not minutes.  Marked slow.
"""

from __future__ import annotations

import threading
import time

import pytest

from cluster_harness import Browser
from cluster_harness import KbNode
from cluster_harness import Nginx
from cluster_harness import clean_environment
from cluster_harness import create_staff_user
from cluster_harness import nginx_binary
from cluster_harness import prepare_node_folders
from cluster_harness import search_slugs
from cluster_harness import wait_for

pytestmark = pytest.mark.slow

# How long a test waits for a change to reach every node: generous, for a loaded CI machine.
# The 2 s target is measured by scripts/bench_cluster.py (publish to searchable on the
# other nodes, p50 and max), not asserted here: timing is a benchmark's job, never a test's.
WITHIN = 30.0
EDITOR = ("editor@example.com", "a long editor password 1")
SECOND_EDITOR = ("second@example.com", "a long editor password 2")


@pytest.fixture(scope="module")
def loopback(session_kb, pg_server, pg_template, tmp_path_factory):
    """A database, 3 nodes started together on it, nginx in front; all stopped at the end."""
    if nginx_binary() is None:
        pytest.fail("nginx is not installed: scripts/setup.sh --test installs it (apt-get install nginx-light)",
                    pytrace=False)
    root = tmp_path_factory.mktemp("loopback")
    url = pg_server.new_database(pg_template)
    nodes = []
    for number in (1, 2, 3):
        base = root / f"node{number}"
        prepare_node_folders(base, session_kb.articles_dir, session_kb.store.root)
        env = clean_environment(KB_DATABASE_URL=url, KB_NODE_ID=f"node{number}", KB_TRUSTED_PROXIES="1",
                                KB_SITE_RATE_LIMIT="1000000", KB_API_RATE_LIMIT="1000000")
        nodes.append(KbNode(f"node{number}", base, env))
    nginx = Nginx(root / "nginx", [node.port for node in nodes])
    try:
        for node in nodes:  # together: the race-free first start on one database
            node.start()
        for node in nodes:
            node.wait_ready()
        nginx.start()
        create_staff_user(nodes[0], *EDITOR)
        create_staff_user(nodes[0], *SECOND_EDITOR)
        yield nodes, nginx
    finally:
        nginx.stop()
        for node in nodes:
            node.stop()


def seconds_until_found(nodes, slug: str, word: str, timeout: float = WITHIN) -> dict[str, float]:
    """For each node, the time from now (the publish acknowledged) to the sending of the first
    search that found `slug` there (each node polled by its own thread, so a slow answer from
    one does not delay the others); a node still without it after `timeout` s is missing."""
    started = time.monotonic()
    found: dict[str, float] = {}

    def poll(node) -> None:
        while True:
            sent = time.monotonic() - started
            if sent > timeout:
                return
            if slug in search_slugs(node.url, word):
                found[node.name] = sent
                return
            time.sleep(0.02)

    threads = [threading.Thread(target=poll, args=(node,)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    missing = [node.name for node in nodes if node.name not in found]
    assert not missing, f"{slug} not found on {missing} within {timeout} s of the acknowledgement (found: {found})"
    return found


def found_everywhere(nodes, slug: str, word: str) -> bool:
    return all(slug in search_slugs(node.url, word) for node in nodes)


def test_publish_through_nginx_is_found_on_every_node(loopback):
    """GIVEN 3 nodes behind nginx, no secret_key set (the nodes share the database's)
    WHEN an editor signs in and publishes through nginx (each request may reach another node)
    THEN the article is found by search on every node (how fast: scripts/bench_cluster.py)."""
    nodes, nginx = loopback
    browser = Browser(nginx.url)
    assert browser.sign_in(*EDITOR).status == 302
    for _ in range(3):  # round robin: the session cookie works on every node
        assert browser.get("/staff/account").status == 200
    response = browser.publish_new("loopback-first", "مقال الحلقة الأولى", "كلمة نادرة: قرنفلية.")
    assert response.status == 302, response.text[:500]
    assert set(seconds_until_found(nodes, "loopback-first", "قرنفلية")) == {node.name for node in nodes}


def test_kill_9_during_traffic_loses_no_acknowledged_publish_and_the_node_catches_up(loopback):
    """GIVEN publishes and searches running through nginx
    WHEN one node is killed with -9 in the middle
    THEN searches keep answering (nginx routes around it), every publish acknowledged is on the
    other nodes, and the node, restarted, catches up with all of them."""
    nodes, nginx = loopback
    victim = nodes[1]
    browser = Browser(nginx.url)
    assert browser.sign_in(*EDITOR).status == 302
    acknowledged: list[str] = []
    search_errors: list[int] = []
    stop = threading.Event()

    def publish() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            slug = f"traffic-{number}"
            try:
                response = browser.publish_new(slug, f"مقال حركة رقم {number}", f"كلمة الحركة: زعفرانية{number}.")
            except OSError:
                continue  # not acknowledged
            if response.status == 302:
                acknowledged.append(slug)

    def search() -> None:
        while not stop.is_set():
            status = Browser(nginx.url).get("/api/v1/search?q=%D8%B4%D9%83%D9%88%D9%89").status
            if status != 200:
                search_errors.append(status)

    threads = [threading.Thread(target=publish), threading.Thread(target=search)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: len(acknowledged) >= 3, 30, "3 publishes before the kill")
        victim.kill()
        killed_at = len(acknowledged)
        wait_for(lambda: len(acknowledged) >= killed_at + 3, 30, "3 publishes after the kill")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert search_errors == [], "nginx let searches fail while a node was down"
    survivors = [node for node in nodes if node is not victim]
    for number, slug in enumerate(acknowledged, 1):
        word = f"زعفرانية{slug.rsplit('-', 1)[1]}"
        wait_for(lambda: found_everywhere(survivors, slug, word), WITHIN, f"{slug} on the nodes left")
    victim.start().wait_ready()
    for slug in acknowledged:
        word = f"زعفرانية{slug.rsplit('-', 1)[1]}"
        wait_for(lambda: slug in search_slugs(victim.url, word), 10, f"{slug} on the restarted node")
    wait_for(lambda: victim.health().get("replication", {}).get("changes_behind") == 0, WITHIN, "no lag in /health")


def test_two_editors_on_two_nodes_get_the_conflict(loopback):
    """GIVEN two editors who opened the same article, one on node 1, one on node 3
    WHEN both save it
    THEN the first save stands and the second gets the conflict page (409), its text kept."""
    nodes, _ = loopback
    first, second = Browser(nodes[0].url), Browser(nodes[2].url)
    assert first.sign_in(*EDITOR).status == 302
    assert second.sign_in(*SECOND_EDITOR).status == 302
    created = first.publish_new("loopback-conflict", "مقال التعارض", "النص الأول.")
    assert created.status == 302
    wait_for(lambda: second.get("/staff/articles/loopback-conflict/edit").status == 200, WITHIN, "the article on node 3")
    mine, theirs = first.open_for_edit("loopback-conflict"), second.open_for_edit("loopback-conflict")
    assert first.save("loopback-conflict", {**mine, "body": "نص المحرر الأول: سماقية."}).status == 302
    response = second.save("loopback-conflict", {**theirs, "body": "نص المحرر الثاني: حبهانية."})
    assert response.status == 409
    assert "حبهانية" in response.text  # the second editor's text is on the conflict page, not lost
    wait_for(lambda: found_everywhere(nodes, "loopback-conflict", "سماقية"), WITHIN, "the first save everywhere")
